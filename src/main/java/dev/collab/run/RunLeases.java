package dev.collab.run;

import java.time.Duration;
import java.util.UUID;

import dev.collab.ops.ShutdownOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * Leases keep "who runs this run" true: this instance renews the leases of its runs every
 * third of {@code collab.runner.lease}; every instance ends runs whose lease expired
 * (their instance died) as {@code lost} with {@code error runner-lost}, so a session
 * never stays RUNNING forever (ending a run starts the session's next queued message, on
 * the instance that ends it: {@link WaitingMessages}). As a safety net, each tick of a
 * running instance also starts the next queued message of any IDLE session that has one
 * (an instance that was stopping when a run ended leaves it to the others).
 * <p>
 * A lifecycle at {@link ShutdownOrder#RUN_UPKEEP}, below {@link ShutdownOrder#RUNS}:
 * leases are renewed through the whole shutdown until the runs have recorded their end,
 * however long the web server's drain takes. Otherwise a peer would reap a run that is
 * still running here as lost, and accept a new send into a workspace its agent still
 * writes to.
 * <p>
 * On a thread of its own ({@link RunUpkeep}): a slow job on Spring's shared scheduler
 * thread (a retention batch of up to 10,000 ends, a query hung on a lost connection) must
 * not hold renewal up past the lease.
 */
@Component
class RunLeases extends RunUpkeep {

    private static final Logger log = LoggerFactory.getLogger(RunLeases.class);

    private final Runs runs;

    /** Through a provider: see {@link RunUpkeep}. */
    private final ObjectProvider<AgentRunner> runner;

    /** Through a provider: the message module implements it (the queue's safety net). */
    private final ObjectProvider<WaitingMessages> waiting;

    RunLeases(Runs runs, ObjectProvider<AgentRunner> runner, RunnerProperties properties,
            ObjectProvider<WaitingMessages> waiting) {
        super("run-leases", Duration.ofMillis(Math.max(100, properties.lease().toMillis() / 3)));
        this.waiting = waiting;
        this.runs = runs;
        this.runner = runner;
    }

    @Override
    void runOnce() {
        tick();
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
            WaitingMessages next = waiting.getIfAvailable();
            if (next != null && runner.getObject().isRunning()) {
                next.startStranded();
            }
        }
        catch (RuntimeException e) {
            log.warn("Lease check failed: {}", e.toString());
        }
    }

}
