package dev.collab.run;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.collab.ops.ShutdownOrder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Leases keep "who runs this run" true: this instance renews the leases of its runs every
 * third of {@code collab.runner.lease}; every instance ends runs whose lease expired
 * (their instance died) as {@code lost} with {@code error runner-lost}, so a session
 * never stays RUNNING forever.
 * <p>
 * A lifecycle at {@link ShutdownOrder#RUN_UPKEEP}, below {@link ShutdownOrder#RUNS}:
 * leases are renewed through the whole shutdown until the runs have recorded their end,
 * however long the web server's drain takes. Otherwise a peer would reap a run that is
 * still running here as lost, and accept a new send into a workspace its agent still
 * writes to.
 * <p>
 * Why a thread of its own, not Spring's task scheduler: that scheduler runs every
 * fixed-delay job on one shared thread and shuts it down when the context starts closing
 * ({@code ContextClosedEvent}, before the drain). Lease renewal must go on during the
 * drain, and a slow job on the shared thread (a retention batch of up to 10,000 ends, a
 * query hung on a lost connection) must not hold it up past the lease.
 */
@Component
class RunLeases implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(RunLeases.class);

    private final Runs runs;

    /**
     * Through a provider, not injected: Spring stops a lifecycle bean's dependents before
     * it, whatever their phases, so a plain dependency on the runner would stop this when
     * the runs start stopping instead of after them.
     */
    private final ObjectProvider<AgentRunner> runner;

    private final Duration period;

    private @Nullable ScheduledExecutorService executor;

    RunLeases(Runs runs, ObjectProvider<AgentRunner> runner, RunnerProperties properties) {
        this.runs = runs;
        this.runner = runner;
        this.period = Duration.ofMillis(Math.max(100, properties.lease().toMillis() / 3));
    }

    @Override
    public synchronized void start() {
        if (executor == null) {
            ScheduledExecutorService leases = Executors
                .newSingleThreadScheduledExecutor(Thread.ofVirtual().name("run-leases").factory());
            leases.scheduleWithFixedDelay(this::tick, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
            executor = leases;
        }
    }

    /**
     * After the runs stopped: no tick starts any more; one under way finishes on its own
     * (a renewal of runs that are no longer RUNNING changes nothing).
     */
    @Override
    public synchronized void stop() {
        if (executor != null) {
            executor.shutdown();
            executor = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return executor != null;
    }

    @Override
    public int getPhase() {
        return ShutdownOrder.RUN_UPKEEP;
    }

    void tick() {
        try {
            var mine = runner.getObject().activeRunIds();
            var renewed = runs.renew(mine);
            if (renewed.size() < mine.size()) {
                runner.getObject().stopUnrenewed(mine, renewed);
            }
            for (UUID expired : runs.expired()) {
                if (runner.getObject().activeRunIds().contains(expired)) {
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
