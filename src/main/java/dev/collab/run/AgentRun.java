package dev.collab.run;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

import dev.collab.event.EventLog;
import dev.collab.event.LogClosedException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.retry.RetryException;
import org.springframework.core.retry.RetryListener;
import org.springframework.core.retry.RetryPolicy;
import org.springframework.core.retry.RetryState;
import org.springframework.core.retry.RetryTemplate;
import org.springframework.core.retry.Retryable;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * One run, from launch to {@code run.finished}, on a virtual thread of its own: starts
 * the agent (unless it was stopped before), reads its output into the
 * {@link OutputBatcher}, stops it on timeout, and records how it ended. However it ends
 * (exit 0, non-zero, cannot start, timeout, interrupt, shutdown) it ends with
 * {@code run.finished}, and {@link #done()} completes after that.
 */
final class AgentRun {

    private static final Logger log = LoggerFactory.getLogger(AgentRun.class);

    /**
     * How long the readers get to reach the end of the agent's streams once it has
     * exited.
     */
    private static final Duration READERS_DRAIN = Duration.ofSeconds(5);

    /**
     * Recording the end is retried after this, then twice as long each time, up to
     * {@link #END_RETRY_MAX_DELAY}: a PostgreSQL restart takes a second or two, and the
     * retry should not find it back much later than that.
     */
    private static final Duration END_RETRY_DELAY = Duration.ofMillis(100);

    /** At most this long between attempts (and so late, at most, to see a shutdown). */
    private static final Duration END_RETRY_MAX_DELAY = Duration.ofSeconds(1);

    /** Up to this much more or less: the runs an outage met do not retry in step. */
    private static final Duration END_RETRY_JITTER = Duration.ofMillis(50);

    /** What a run needs from the runner, the same for every run. */
    record Context(AgentLauncher launcher, AgentProtocol protocol, Runs runs, EventLog eventLog,
            RunnerProperties properties, OutputBudget budget, RunnerMetrics metrics, JsonMapper json,
            TransactionTemplate transaction) {
    }

    final UUID runId;

    final UUID sessionId;

    private final String message;

    private final Context context;

    private final OutputBatcher output;

    private final StderrTail stderrTail = new StderrTail();

    private final StopRequest stopRequest = new StopRequest(kill -> Thread.ofVirtual().start(kill));

    private final CompletableFuture<Void> done = new CompletableFuture<>();

    /**
     * Guards starting the agent against a stop arriving meanwhile: either it sees the
     * stop, or the stop sees it. A lock rather than {@code synchronized}: a virtual
     * thread holds it while the process is forked, and on Java 21 {@code synchronized}
     * would pin its carrier meanwhile.
     */
    private final ReentrantLock starting = new ReentrantLock();

    private @Nullable Process process;

    /** The protocol's talk with the agent, once opened. */
    private volatile AgentProtocol.@Nullable AgentConversation conversation;

    /**
     * The agent's descendants as last seen: after it exits, they are reparented and
     * invisible.
     */
    private volatile List<ProcessHandle> lastDescendants = List.of();

    /**
     * The runner is recording the end itself: a lease check that no longer renews it is
     * no loss.
     */
    volatile boolean finishing;

    /** Its lease was found lost (logged once, however many lease checks see it). */
    final AtomicBoolean leaseLost = new AtomicBoolean();

    /**
     * Set at shutdown ({@link #recordEndBy}): when recording the end is given up
     * ({@link System#nanoTime()}).
     */
    private volatile long endDeadline;

    private volatile boolean endDeadlineSet;

    AgentRun(UUID runId, UUID sessionId, String message, Context context) {
        this.runId = runId;
        this.sessionId = sessionId;
        this.message = message;
        this.context = context;
        OutputBatcher.Appender appender = (stream, text) -> {
            if (OutputBatcher.EVENTS.equals(stream)) {
                appendEvents(text);
            }
            else {
                context.eventLog()
                    .append(sessionId, "output", Map.of("runId", runId.toString(), "stream", stream, "text", text));
            }
        };
        this.output = new OutputBatcher(runId, appender, context.properties(), context.budget(),
                context.metrics()::appendFailed, context.metrics()::dropped);
    }

    /**
     * One batch of the typed events' stream: whole JSON lines, one event each, appended
     * in one statement (one round trip and one commit for the batch, and all or nothing:
     * a retry never repeats part of it); or the marker of events dropped during an outage
     * (which becomes {@code output} stdout text, as the marker of dropped output does).
     */
    private void appendEvents(String batch) {
        if (!batch.startsWith("{")) {
            context.eventLog()
                .append(sessionId, "output", Map.of("runId", runId.toString(), "stream", "stdout", "text", batch));
            return;
        }
        context.eventLog().appendAll(sessionId, batch.lines().map(this::event).toList());
    }

    private EventLog.NewEvent event(String line) {
        JsonNode event = context.json().readTree(line);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("runId", runId.toString());
        data.putAll(context.json().convertValue(event.get("data"), DATA));
        return new EventLog.NewEvent(event.get("type").asString(), data);
    }

    private static final TypeReference<Map<String, Object>> DATA = new TypeReference<>() {
    };

    /** A protocol's typed event, queued in order with the rest of the run's output. */
    private void queueEvent(AgentEvent event) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("type", event.type());
        line.put("data", event.data());
        output.addEvent(context.json().writeValueAsString(line));
    }

    /** Completes once the run's end is recorded (or could not be). */
    CompletableFuture<Void> done() {
        return done;
    }

    /** The agent's process once it started. */
    @Nullable ProcessHandle agent() {
        starting.lock();
        try {
            return process == null ? null : process.toHandle();
        }
        finally {
            starting.unlock();
        }
    }

    void rememberDescendants(List<ProcessHandle> descendants) {
        if (!descendants.isEmpty()) {
            lastDescendants = descendants;
        }
    }

    /**
     * Stops the agent and everything it started; before it started, it never starts. The
     * first reason is the one recorded; the kill starts once.
     * @return true when this call's reason was recorded (the run was not being stopped
     * yet)
     */
    boolean stop(StopReason reason) {
        return stopRequest.request(reason, this::killTree);
    }

    /**
     * A user's interrupt: as {@link #stop(StopReason)} with {@code INTERRUPT}, and their
     * login becomes {@code data.by} of {@code run.finished} if theirs is the first stop.
     */
    boolean interrupt(@Nullable String by) {
        return stopRequest.request(StopReason.INTERRUPT, by, this::killTree);
    }

    /** Lets go of the output: nothing more is appended (the lease is lost). */
    void closeOutput() {
        output.close();
    }

    /** Runs to the end; never throws. */
    void run() {
        var sample = context.metrics().startRun();
        try {
            Runs.Outcome outcome = execute();
            closeConversation();
            finish(outcome);
        }
        finally {
            closeConversation();
            long dropped = output.discard();
            if (dropped > 0) {
                log.warn("Run {}: {} bytes of output were dropped while the database was unavailable "
                        + "(marker lines in the log say where)", runId, dropped);
            }
            context.metrics().runEnded(sample);
            done.complete(null);
        }
    }

    private Runs.Outcome execute() {
        // Issue 15 (checkout): the project's repository first; a stop meanwhile is seen
        // below.
        Runs.Outcome notPrepared = context.launcher()
            .prepareWorkspace(sessionId, runId, () -> stopRequest.reason() != null);
        if (notPrepared != null) {
            finishing = true;
            return notPrepared;
        }
        Process agent;
        starting.lock();
        try {
            StopReason early = stopRequest.reason();
            if (early != null) {
                return early == StopReason.SHUTDOWN
                        ? new Runs.Outcome("interrupted", null, "instance-shutdown",
                                "The server shut down before the agent started; send the message again.")
                        : new Runs.Outcome("interrupted", null, null, null);
            }
            AgentProtocol.AgentConversation opened;
            java.nio.file.Path workspace;
            try {
                workspace = context.launcher().workspace(sessionId);
                opened = context.protocol()
                    .open(new AgentProtocol.Conversation(sessionId, runId, message, workspace,
                            new AgentProtocol.AgentOutput() {
                                @Override
                                public void output(String stream, CharSequence text) {
                                    if (stream.equals("stderr")) {
                                        stderrTail.add(text);
                                    }
                                    AgentRun.this.output.add(stream, text);
                                }

                                @Override
                                public void event(AgentEvent event) {
                                    queueEvent(event);
                                }

                                @Override
                                public void flush() {
                                    AgentRun.this.output.flushQuietly();
                                }
                            }, () -> stop(StopReason.ENDED)));
            }
            catch (RuntimeException e) {
                log.warn("Run {}: the agent's conversation could not be prepared: {}", runId, e.toString());
                return new Runs.Outcome("failed", null, "runner-failed",
                        "The agent could not be prepared (details in the server log).");
            }
            conversation = opened;
            try {
                agent = context.launcher().start(sessionId, runId, workspace, opened);
            }
            catch (IOException | RuntimeException e) {
                log.warn("Run {}: the agent command could not start: {}", runId, e.getMessage());
                return new Runs.Outcome("failed", null, "runner-unavailable",
                        "The agent could not be started; an operator should check collab.runner.command (details in the server log).");
            }
            process = agent;
        }
        finally {
            starting.unlock();
        }
        // Known while it runs; gone from the process table once it has exited.
        Instant agentStarted = agent.toHandle().info().startInstant().orElse(Instant.MIN);
        try {
            Thread stdout = readStdout(agent.getInputStream());
            Thread stderr = read(agent.getErrorStream(), "stderr");
            boolean exited = output.flushUntilExit(millis -> agent.waitFor(millis, TimeUnit.MILLISECONDS),
                    context.properties().timeout());
            if (!exited) {
                stop(StopReason.TIMEOUT);
                if (!agent.waitFor(context.properties().interruptGrace().plusSeconds(10).toMillis(),
                        TimeUnit.MILLISECONDS)) {
                    log.warn("Run {}: the agent did not die after SIGKILL", runId);
                }
            }
            // The periodic scan may not have seen a child started in the agent's last
            // second: look once more, now that it has exited, before killing leftovers.
            ProcessTree.killLeftovers(exitScan(agent.pid(), agentStarted));
            stdout.join(READERS_DRAIN);
            stderr.join(READERS_DRAIN);
            if (stdout.isAlive() || stderr.isAlive()) {
                // Something the agent started still holds its pipes: stop reading them.
                closeQuietly(agent.getInputStream());
                closeQuietly(agent.getErrorStream());
            }
            output.flushRemaining();
            output.close();
            finishing = true;
            return outcome(agent.isAlive() ? null : agent.exitValue());
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop(StopReason.SHUTDOWN);
            finishing = true;
            return outcome(null);
        }
        catch (RuntimeException e) {
            log.warn("Run {} failed inside the runner: {}", runId, e.toString());
            killTree();
            finishing = true;
            return new Runs.Outcome("failed", null, "runner-failed",
                    "The run failed inside the server (details in the server log).");
        }
    }

    private List<ProcessHandle> exitScan(long agentPid, Instant agentStarted) {
        List<ProcessHandle> leftovers = new ArrayList<>(lastDescendants);
        try {
            ProcessTree.startedBy(runId, agentPid, agentStarted)
                .stream()
                .filter(handle -> !leftovers.contains(handle))
                .forEach(leftovers::add);
        }
        catch (RuntimeException e) {
            // processes come and go while the table is read: what the scans saw is killed
            log.debug("Run {}: scanning for leftovers failed: {}", runId, e.toString());
        }
        return leftovers;
    }

    private Thread readStdout(InputStream stream) {
        AgentProtocol.AgentConversation talk = conversation;
        return Thread.ofVirtual().name("run-stdout-" + runId).start(() -> {
            if (talk != null) {
                talk.readStdout(stream);
            }
        });
    }

    private Thread read(InputStream stream, String name) {
        return Thread.ofVirtual()
            .name("run-" + name + "-" + runId)
            .start(() -> AgentOutputReader.readAll(stream, text -> {
                if (name.equals("stderr")) {
                    stderrTail.add(text);
                }
                output.add(name, text);
            }));
    }

    private void killTree() {
        ProcessHandle agent = agent();
        if (agent == null) {
            return; // not started: it never will be (execute sees the stop)
        }
        try {
            ProcessTree.stop(agent, context.properties().interruptGrace(), lastDescendants);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        catch (RuntimeException e) {
            // already gone, or not ours to signal: nothing more to do
            log.debug("Stopping run {}: {}", runId, e.toString());
        }
    }

    Runs.Outcome outcome(@Nullable Integer exitCode) {
        StopReason reason = stopRequest.reason();
        if (reason == StopReason.TIMEOUT) {
            return new Runs.Outcome("interrupted", exitCode, "runner-timeout",
                    "The run took longer than " + context.properties().timeout() + " and was stopped.");
        }
        if (reason == StopReason.SHUTDOWN) {
            return new Runs.Outcome("interrupted", exitCode, "instance-shutdown",
                    "The server shut down during the run; send the message again.");
        }
        if (reason == StopReason.INTERRUPT) {
            return new Runs.Outcome("interrupted", exitCode, null, null, stopRequest.by());
        }
        AgentProtocol.AgentConversation talk = conversation;
        String failure = talk == null ? null : talk.failure();
        if (reason == StopReason.ENDED) {
            // The protocol stopped its agent on purpose: the exit code is our signal's.
            return failure == null ? new Runs.Outcome("succeeded", null, null, null)
                    : new Runs.Outcome("failed", null, "runner-failed", failure);
        }
        if (exitCode != null && exitCode == 0 && failure == null) {
            return new Runs.Outcome("succeeded", 0, null, null);
        }
        if (exitCode != null && exitCode == 0) {
            return new Runs.Outcome("failed", 0, "runner-failed", failure);
        }
        String tail = stderrTail.text();
        return new Runs.Outcome("failed", exitCode, "runner-failed",
                "The agent exited with code " + exitCode + (tail.isEmpty() ? "." : ":\n" + tail));
    }

    /**
     * Records the end of the run ({@link Runs#finish}); never throws. The database may be
     * away right then (PostgreSQL restarting, the server's connections terminated): the
     * end is retried with backoff for up to {@code collab.runner.lease}, so a run whose
     * agent finished fine does not end as {@code lost} for a blip. Meanwhile the run
     * stays in progress here ({@link AgentRunner#activeRunIds()}), so its lease is
     * renewed whenever the database answers. Should the lease expire all the same and a
     * reaper end the run as {@code lost} first, this records nothing: {@link Runs#finish}
     * ends a run once, whoever comes first (a conditional update under the session's row
     * lock). Stops retrying when the session's log is closed (ending the session recorded
     * the run's end) and, at shutdown, when the runner's stop stops waiting
     * ({@link #recordEndBy}).
     */
    private void finish(Runs.Outcome outcome) {
        // Whichever way execute() returned: a lease check that no longer renews the run
        // from now on (this recorded its end) is no lost lease.
        finishing = true;
        Duration window = context.properties().lease();
        RetryTemplate retry = new RetryTemplate(RetryPolicy.builder()
            .maxRetries(Long.MAX_VALUE) // bounded by the window
            .timeout(window)
            .delay(END_RETRY_DELAY)
            .jitter(END_RETRY_JITTER)
            .multiplier(2)
            .maxDelay(END_RETRY_MAX_DELAY)
            .predicate(failure -> !(failure instanceof LogClosedException) && !pastEndDeadline())
            .build());
        AtomicBoolean retried = new AtomicBoolean();
        retry.setRetryListener(new RetryListener() {
            @Override
            public void onRetryableExecution(RetryPolicy policy, Retryable<?> retryable, RetryState state) {
                // After the first attempt, when it failed (a successful state has no
                // exception to ask for) and is retried.
                if (state.isSuccessful() || state.getRetryCount() > 0) {
                    return;
                }
                Throwable failure = state.getLastException();
                if (policy.shouldRetry(failure)) {
                    retried.set(true);
                    log.warn("Could not record the end of run {} ({}), retrying for up to {}: {}", runId,
                            outcome.status(), window, failure.toString());
                }
            }
        });
        try {
            boolean recorded = retry.execute(new Retryable<Boolean>() {

                private boolean first = true;

                @Override
                public Boolean execute() {
                    // The first attempt always: a run launched after the stop's deadline
                    // still records its end if the database answers.
                    if (!first && pastEndDeadline()) {
                        throw new ShutdownDeadlinePassed();
                    }
                    first = false;
                    return context.runs().finish(runId, outcome);
                }

                @Override
                public String getName() {
                    return "end of run " + runId;
                }
            });
            if (retried.get()) {
                if (recorded) {
                    log.info("Recorded the end of run {} ({}) once the database answered again", runId,
                            outcome.status());
                }
                else {
                    log.info("Run {} had ended already ({}): its end was recorded once, not by this retry", runId,
                            recordedStatus());
                }
            }
        }
        catch (RetryException e) {
            // The database's last word, not the deadline's marker.
            Throwable failure = e.getExceptions()
                .stream()
                .filter(attempt -> !(attempt instanceof ShutdownDeadlinePassed))
                .reduce((earlier, later) -> later)
                .orElse(e.getLastException());
            if (failure instanceof LogClosedException) {
                // The session ended meanwhile (DELETE or retention): ending it recorded
                // this run's end first, so nothing is missing.
                log.info("Run {} finished after its session ended; the session's end recorded it as interrupted",
                        runId);
            }
            else if (pastEndDeadline()) {
                log.error("Could not record the end of run {} ({}) before the server shut down; its lease will "
                        + "expire and it ends as lost", runId, outcome.status(), failure);
            }
            else {
                log.error("Could not record the end of run {} ({}) within {}; its lease will expire and it ends as "
                        + "lost", runId, outcome.status(), window, failure);
            }
        }
    }

    /**
     * How the run's end was recorded, for the log (an earlier attempt whose commit's
     * answer was lost, a reaper, the session's end).
     */
    private String recordedStatus() {
        try {
            return context.runs().find(runId).map(run -> String.valueOf(run.status())).orElse("unknown");
        }
        catch (RuntimeException e) {
            return "unknown";
        }
    }

    /**
     * At shutdown: the end is given up when the runner's stop stops waiting for the run,
     * so that the shutdown's later phases (the pool closing among them) never wait for
     * it.
     */
    void recordEndBy(long nanoTime) {
        endDeadline = nanoTime;
        endDeadlineSet = true;
    }

    private boolean pastEndDeadline() {
        // Monotonic, as the runner's stop deadline is: the tests' movable clock may stand
        // still.
        return endDeadlineSet && System.nanoTime() - endDeadline >= 0;
    }

    /** Retrying the end past the shutdown deadline: not retried. */
    private static final class ShutdownDeadlinePassed extends RuntimeException {

        private static final long serialVersionUID = 1L;

        ShutdownDeadlinePassed() {
            super("the server is shutting down and its runner stopped waiting for this run", null, false, false);
        }

    }

    private void closeConversation() {
        AgentProtocol.AgentConversation talk = conversation;
        if (talk != null) {
            try {
                talk.close();
            }
            catch (RuntimeException e) {
                log.debug("Run {}: closing the conversation: {}", runId, e.toString());
            }
        }
    }

    private static void closeQuietly(InputStream stream) {
        try {
            stream.close();
        }
        catch (IOException e) {
            // closing anyway
        }
    }

}
