package dev.collab.run;

import java.time.Duration;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.SchedulingConfigurer;
import org.springframework.scheduling.config.FixedDelayTask;
import org.springframework.scheduling.config.ScheduledTaskRegistrar;
import org.springframework.stereotype.Component;

/**
 * Leases keep "who runs this run" true: this instance renews the leases of its runs every
 * third of {@code collab.runner.lease}; every instance ends runs whose lease expired
 * (their instance died) as {@code lost} with {@code error runner-lost}, so a session
 * never stays RUNNING forever. A job on Spring's task scheduler (it stops with the
 * scheduler, after the runs).
 */
@Component
class RunLeases implements SchedulingConfigurer {

    private static final Logger log = LoggerFactory.getLogger(RunLeases.class);

    private final Runs runs;

    private final AgentRunner runner;

    private final Duration period;

    RunLeases(Runs runs, AgentRunner runner, RunnerProperties properties) {
        this.runs = runs;
        this.runner = runner;
        this.period = Duration.ofMillis(Math.max(100, properties.lease().toMillis() / 3));
    }

    @Override
    public void configureTasks(ScheduledTaskRegistrar registrar) {
        registrar.addFixedDelayTask(new FixedDelayTask(this::tick, period, period));
    }

    void tick() {
        try {
            var mine = runner.activeRunIds();
            var renewed = runs.renew(mine);
            if (renewed.size() < mine.size()) {
                runner.stopUnrenewed(mine, renewed);
            }
            for (UUID expired : runs.expired()) {
                if (runner.activeRunIds().contains(expired)) {
                    continue; // ours and alive: renewed on the next tick
                }
                if (runs.finish(expired, new Runs.Outcome("lost", null, "runner-lost",
                        "The server running this agent went away; send the message again."))) {
                    log.warn("Run {} lost its instance (lease expired); ended as lost", expired);
                }
            }
        }
        catch (RuntimeException e) {
            log.warn("Lease check failed: {}", e.toString());
        }
    }

}
