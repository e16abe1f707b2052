package dev.collab.run;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import dev.collab.event.EventLog;
import dev.collab.ops.ShutdownOrder;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * The runs of this instance: starts a run for a message, stops runs (interrupt, lost
 * lease, shutdown) here or, through the control channel, on the instance that runs them.
 * Each run is an {@link AgentRun}; this class keeps which are in progress.
 * <p>
 * A lifecycle at {@link ShutdownOrder#RUNS}: it stops after the web server drained (no
 * send is in flight any more) and before the event log, so every run still in progress
 * ends with {@code error instance-shutdown} and {@code run.finished} in the log. A run
 * launched after it stopped (a send whose request outlived the drain) never starts its
 * agent: it ends the same way, and the stop waits for that too. The stop has a deadline
 * of its own ({@code interrupt-grace} + {@link #STOP_MARGIN}), not the whole
 * {@code timeout-per-shutdown-phase}: the phases after it must still fit in the
 * platform's stop timeout (docs/operations.md).
 */
@Component
public class AgentRunner implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(AgentRunner.class);

    /**
     * After the agents' grace, how long their runs get to record their end: the kill
     * (SIGKILL is immediate), the readers' end and the end's transaction, retried while
     * the database is briefly away (an attempt waits up to the pool's 5 s connection
     * timeout); a run still retrying then gives up.
     */
    static final Duration STOP_MARGIN = Duration.ofSeconds(7);

    private final Runs runs;

    private final AgentRun.Context context;

    /** From launch to recorded end, started or not. */
    private final Map<UUID, AgentRun> active = new ConcurrentHashMap<>();

    /**
     * Guards {@link #running} against a launch racing {@link #stop(Runnable)}: a run is
     * either registered before the stop takes its list, or sees the stop.
     */
    private final Object lifecycle = new Object();

    private boolean running;

    /**
     * Once stopped: completes when no run is in progress any more (late ones included).
     */
    private @Nullable CompletableFuture<Void> allEnded;

    private final Duration stopDeadline;

    /**
     * Once stopped: when the stop stops waiting ({@link System#nanoTime()}); the runs
     * give up recording their end then ({@link AgentRun#recordEndBy}).
     */
    private long stopsAt;

    AgentRunner(RunnerProperties properties, AgentLauncher launcher, AgentProtocols protocols, Runs runs,
            EventLog eventLog, ControlChannel control, MeterRegistry registry, JsonMapper json,
            PlatformTransactionManager transactions) {
        this.runs = runs;
        this.stopDeadline = properties.interruptGrace().plus(STOP_MARGIN);
        OutputBudget budget = new OutputBudget(properties.outputMaxPendingChars());
        this.context = new AgentRun.Context(launcher, protocols.selected(), runs, eventLog, properties, budget,
                new RunnerMetrics(registry, budget, active), json, new TransactionTemplate(transactions));
        control.onCommand(this::onControlCommand);
    }

    /** Starts the run in the background (after the send committed). */
    public void launch(UUID runId, UUID sessionId, String message) {
        AgentRun run = new AgentRun(runId, sessionId, message, context);
        synchronized (lifecycle) {
            // Tracked either way, so that a stop under way waits for its end too.
            active.put(runId, run);
            if (!running) {
                if (allEnded != null) { // stopped (not yet started: no deadline)
                    run.recordEndBy(stopsAt);
                }
                run.stop(StopReason.SHUTDOWN); // its agent never starts; it ends as
                                               // instance-shutdown
            }
        }
        Thread.ofVirtual().name("run-" + runId).start(() -> {
            try {
                run.run();
            }
            finally {
                ended(runId);
            }
        });
    }

    private void ended(UUID runId) {
        synchronized (lifecycle) {
            active.remove(runId);
            if (allEnded != null && active.isEmpty()) {
                allEnded.complete(null);
            }
        }
    }

    /** The ids of the runs in progress on this instance (their leases are renewed). */
    Set<UUID> activeRunIds() {
        return new HashSet<>(active.keySet());
    }

    /** The runs in progress (started or about to start). */
    List<AgentRun> inProgress() {
        return List.copyOf(active.values());
    }

    /**
     * Runs of ours whose lease was not renewed (another instance ended them as lost):
     * stop them here. Only the runs the lease check asked about ({@code mine}, its
     * snapshot): a run launched after it was not renewed because nobody asked. A run this
     * runner is finishing itself is not renewed either, since it is no longer RUNNING:
     * that is no lost lease.
     */
    void stopUnrenewed(Set<UUID> mine, Set<UUID> renewed) {
        for (UUID runId : mine) {
            if (renewed.contains(runId)) {
                continue;
            }
            AgentRun run = active.get(runId);
            if (run == null || run.finishing) {
                continue;
            }
            run.closeOutput();
            // Every tick sees the run unrenewed until its agent is gone: say so once,
            // stop once.
            if (run.leaseLost.compareAndSet(false, true)) {
                log.warn("Run {} lost its lease (ended elsewhere as lost); stopping its agent", runId);
            }
            run.stop(StopReason.INTERRUPT);
        }
    }

    /**
     * Interrupts the run in progress in the session, wherever it runs: here directly, on
     * another instance through the control channel. Once the run is found (or found
     * missing), {@code beforeStop} gets its id (null: nothing runs) before anything is
     * stopped, so that the request is audited even when the stop cannot be sent; a
     * database failure there, or in finding the run, is the caller's (nothing was
     * stopped, and a retry does it all). Stopping never throws.
     * @return the run that was asked to stop, or null when none was running
     */
    @Nullable UUID interrupt(UUID sessionId, String by, Consumer<@Nullable UUID> beforeStop) {
        var running = runs.running(sessionId);
        beforeStop.accept(running.map(Runs.RunningRun::runId).orElse(null));
        if (running.isEmpty()) {
            return null;
        }
        UUID runId = running.get().runId();
        try {
            // Before the stop: the instance that runs it finds the user here when it
            // finishes the run (the control command does not say who asked).
            runs.recordInterruptedBy(runId, by);
        }
        catch (RuntimeException e) {
            log.warn("Could not record who interrupted run {} (its run.finished names nobody): {}", runId,
                    e.toString());
        }
        try {
            if (!interruptLocal(runId, by)) {
                if (running.get().leaseExpired()) {
                    // Its instance is gone: nobody would act on the message; end the run
                    // here.
                    runs.finish(runId, new Runs.Outcome("interrupted", null, null, null, by));
                }
                else {
                    runs.interruptElsewhere(runId);
                }
            }
        }
        catch (RuntimeException e) {
            log.warn("Interrupting the run of session {} failed: {}", sessionId, e.toString());
        }
        return runId;
    }

    /** Stops a run of this instance; false when it does not run here. */
    boolean stopLocal(UUID runId, StopReason reason) {
        AgentRun run = active.get(runId);
        if (run == null) {
            return false;
        }
        run.stop(reason);
        return true;
    }

    /** A user's interrupt of a run of this instance; false when it does not run here. */
    boolean interruptLocal(UUID runId, @Nullable String by) {
        AgentRun run = active.get(runId);
        if (run == null) {
            return false;
        }
        run.interrupt(by);
        return true;
    }

    /**
     * {@code interrupt:<runId>} (from {@link Runs#interruptElsewhere(UUID)}, of this
     * version or the previous one). Who asked is not in the command: {@link Runs#finish}
     * reads it from the run's row.
     */
    void onControlCommand(String command) {
        if (command.startsWith("interrupt:")) {
            try {
                UUID runId = UUID.fromString(command.substring("interrupt:".length()));
                Thread.ofVirtual().start(() -> interruptLocal(runId, null));
            }
            catch (IllegalArgumentException e) {
                log.debug("Ignoring control command {}", command);
            }
        }
    }

    @Override
    public void start() {
        synchronized (lifecycle) {
            running = true;
            allEnded = null;
        }
    }

    /**
     * Shutdown: every run in progress is stopped and ends as interrupted
     * ({@code instance-shutdown}); the callback runs once each has recorded its end, or
     * after {@code interrupt-grace} + {@link #STOP_MARGIN} at the latest (a run that has
     * not recorded its end by then, the database being away, stops retrying it and is
     * ended as lost by a peer once its lease expires).
     */
    @Override
    public void stop(Runnable callback) {
        List<AgentRun> stopping;
        CompletableFuture<Void> ended = new CompletableFuture<>();
        long deadline = System.nanoTime() + stopDeadline.toNanos();
        synchronized (lifecycle) {
            running = false;
            allEnded = ended;
            stopsAt = deadline;
            stopping = List.copyOf(active.values());
            if (active.isEmpty()) {
                ended.complete(null);
            }
        }
        stopping.forEach(run -> {
            // Also a run already recording its end (retrying while the database is away).
            run.recordEndBy(deadline);
            run.stop(StopReason.SHUTDOWN);
        });
        ended.copy()
            .completeOnTimeout(null, stopDeadline.toMillis(), TimeUnit.MILLISECONDS)
            .whenComplete((ignored, failure) -> {
                if (ended.isDone()) {
                    log.info("Stopped {} runs for shutdown; their ends are in the log", stopping.size());
                }
                else {
                    log.warn("Stopping runs for shutdown: {} had not recorded their end after {}; "
                            + "they end as lost once their lease expires", activeRunIds().size(), stopDeadline);
                }
                callback.run();
            });
    }

    /**
     * Spring stops a {@link SmartLifecycle} with {@link #stop(Runnable)}; this one does
     * not wait.
     */
    @Override
    public void stop() {
        stop(() -> {
        });
    }

    @Override
    public boolean isRunning() {
        synchronized (lifecycle) {
            return running;
        }
    }

    @Override
    public int getPhase() {
        return ShutdownOrder.RUNS;
    }

}
