package dev.collab.run;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import dev.collab.event.EventLog;
import dev.collab.workspace.Workspaces;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Runs the agent command for a message: no shell, the workspace as working directory, the
 * message on stdin, an allow-listed environment ({@code collab.runner.environment}) plus
 * {@code COLLAB_SESSION_ID} and {@code COLLAB_RUN_ID}.
 * Its stdout and stderr become {@code output} events, batched, never split inside a UTF-8
 * character. However the run ends (exit 0, non-zero, cannot start, timeout, interrupt, shutdown)
 * it ends with {@code run.finished}, the session goes back to IDLE and watchers see why.
 */
@Component
public class AgentRunner {

    private static final Logger log = LoggerFactory.getLogger(AgentRunner.class);
    private static final int STDERR_TAIL_LINES = 20;
    private static final int STDERR_TAIL_CHARS = 4_000;

    enum StopReason { INTERRUPT, TIMEOUT, SHUTDOWN }

    private final RunnerProperties properties;
    private final AgentCommand agentCommand;
    private final Runs runs;
    private final EventLog eventLog;
    private final Workspaces workspaces;
    private final ControlChannel control;
    private final Map<UUID, ActiveRun> active = new ConcurrentHashMap<>();
    /** Launched, process not started yet: an interrupt arriving now is remembered, not lost. */
    private final java.util.Set<UUID> launching = ConcurrentHashMap.newKeySet();
    private final Map<UUID, StopReason> earlyStops = new ConcurrentHashMap<>();
    private final Timer duration;
    private final Counter appendFailures;
    private final Counter droppedBytes;
    /** The output all runs hold while the database does not take it, together. */
    private final OutputBudget outputBudget;
    private volatile boolean shuttingDown;

    AgentRunner(RunnerProperties properties, AgentCommand agentCommand, Runs runs, EventLog eventLog,
            Workspaces workspaces, ControlChannel control, MeterRegistry registry) {
        this.properties = properties;
        this.agentCommand = agentCommand;
        this.runs = runs;
        this.eventLog = eventLog;
        this.workspaces = workspaces;
        this.control = control;
        this.duration = Timer.builder("collab.run.duration").description("How long runs took").register(registry);
        this.appendFailures = Counter.builder("collab.run.output.append.failures")
                .description("Appends of agent output that failed (the output is kept and appended later)")
                .register(registry);
        this.droppedBytes = Counter.builder("collab.run.output.dropped").baseUnit("bytes")
                .description("Agent output dropped because it could not be appended in time (a marker line says where)")
                .register(registry);
        this.outputBudget = new OutputBudget(properties.outputMaxPendingChars());
        registry.gauge("collab.run.output.pending", List.of(), outputBudget, OutputBudget::used);
        registry.gaugeMapSize("collab.runs.active", List.of(), active);
        control.onCommand(this::onControlCommand);
    }

    /** Starts the run in the background (after the send committed). */
    public void launch(UUID runId, UUID sessionId, String message) {
        launching.add(runId);
        Thread.ofVirtual().name("run-" + runId).start(() -> run(runId, sessionId, message));
    }

    /** The ids of the runs in progress on this instance (their leases are renewed). */
    java.util.Set<UUID> activeRunIds() {
        java.util.Set<UUID> ids = new java.util.HashSet<>(active.keySet());
        ids.addAll(launching);
        return ids;
    }

    /**
     * Runs of ours whose lease was not renewed (another instance ended them as lost): stop them
     * here. Only the runs the lease check asked about ({@code mine}, its snapshot): a run launched
     * after it was not renewed because nobody asked. A run this runner is finishing itself is not
     * renewed either, since it is no longer RUNNING: that is no lost lease.
     */
    void stopUnrenewed(java.util.Set<UUID> mine, java.util.Set<UUID> renewed) {
        for (UUID runId : mine) {
            if (renewed.contains(runId)) {
                continue;
            }
            ActiveRun run = active.get(runId);
            if (run == null || run.finishing) {
                continue;
            }
            run.closeOutput();
            // Every tick sees the run unrenewed until its agent is gone: say so once, stop once.
            if (run.leaseLost.compareAndSet(false, true)) {
                log.warn("Run {} lost its lease (ended elsewhere as lost); stopping its agent", runId);
            }
            run.stop(StopReason.INTERRUPT);
        }
    }

    /**
     * Interrupts the run in progress in the session, wherever it runs: here directly, on another
     * instance through the control channel. Never throws.
     *
     * @return the run that was asked to stop, or null when none was running
     */
    public @Nullable UUID interrupt(UUID sessionId) {
        try {
            var running = runs.running(sessionId);
            if (running.isEmpty()) {
                return null;
            }
            UUID runId = running.get().runId();
            if (!stopLocal(runId, StopReason.INTERRUPT)) {
                if (running.get().leaseExpired()) {
                    // Its instance is gone: nobody would act on the message; end the run here.
                    runs.finish(runId, new Runs.Outcome("interrupted", null, null, null));
                } else {
                    runs.interruptElsewhere(runId);
                }
            }
            return runId;
        } catch (RuntimeException e) {
            log.warn("Interrupting the run of session {} failed: {}", sessionId, e.toString());
            return null;
        }
    }

    /** Stops a run of this instance; false when it does not run here. */
    boolean stopLocal(UUID runId, StopReason reason) {
        ActiveRun run = active.get(runId);
        if (run == null) {
            if (launching.contains(runId)) {
                earlyStops.putIfAbsent(runId, reason);
                run = active.get(runId);
                if (run == null) {
                    return true;
                }
            } else {
                return false;
            }
        }
        run.stop(reason);
        return true;
    }

    private void onControlCommand(String command) {
        if (command.startsWith("interrupt:")) {
            try {
                UUID runId = UUID.fromString(command.substring("interrupt:".length()));
                Thread.ofVirtual().start(() -> stopLocal(runId, StopReason.INTERRUPT));
            } catch (IllegalArgumentException e) {
                log.debug("Ignoring control command {}", command);
            }
        }
    }

    private void run(UUID runId, UUID sessionId, String message) {
        Timer.Sample sample = Timer.start();
        List<String> command = agentCommand.command();
        Process process;
        if (shuttingDown) {
            launching.remove(runId);
            earlyStops.remove(runId);
            finish(runId, new Runs.Outcome("interrupted", null, "instance-shutdown",
                    "The server shut down before the agent started; send the message again."));
            sample.stop(duration);
            return;
        }
        try {
            Path workspace = workspaces.create(sessionId);
            ProcessBuilder builder = new ProcessBuilder(command).directory(workspace.toFile());
            agentEnvironment(builder.environment(), System.getenv(), sessionId, runId);
            process = builder.start();
        } catch (IOException | RuntimeException e) {
            launching.remove(runId);
            earlyStops.remove(runId);
            log.warn("Run {}: the agent command could not start: {}", runId, e.getMessage());
            finish(runId, new Runs.Outcome("failed", null, "runner-unavailable",
                    "The agent could not be started; an operator should check collab.runner.command (details in the server log)."));
            sample.stop(duration);
            return;
        }
        ActiveRun run = new ActiveRun(runId, sessionId, process);
        active.put(runId, run);
        launching.remove(runId);
        StopReason early = earlyStops.remove(runId);
        if (early != null) {
            run.stop(early);
        }
        if (shuttingDown) {
            run.stop(StopReason.SHUTDOWN);
        }
        try {
            Thread stdin = Thread.ofVirtual().start(() -> feed(process, message));
            Thread stdout = Thread.ofVirtual().start(() -> run.pump(process.getInputStream(), run.stdout));
            Thread stderr = Thread.ofVirtual().start(() -> run.pump(process.getErrorStream(), run.stderr));
            boolean exited = waitWithFlushes(run, process, properties.timeout());
            if (!exited) {
                run.stop(StopReason.TIMEOUT);
                if (!process.waitFor(properties.interruptGrace().plusSeconds(10).toMillis(), TimeUnit.MILLISECONDS)) {
                    log.warn("Run {}: the agent did not die after SIGKILL", runId);
                }
            }
            run.killLeftovers();
            stdout.join(Duration.ofSeconds(5));
            stderr.join(Duration.ofSeconds(5));
            if (stdout.isAlive() || stderr.isAlive()) {
                // Something the agent started still holds its pipes: stop reading them.
                closeQuietly(process.getInputStream());
                closeQuietly(process.getErrorStream());
            }
            stdin.join(Duration.ofSeconds(1));
            run.flushRemaining();
            run.closeOutput();
            run.finishing = true;
            finish(runId, run.outcome(process.isAlive() ? null : process.exitValue()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            run.stop(StopReason.SHUTDOWN);
            run.finishing = true;
            finish(runId, run.outcome(null));
        } catch (RuntimeException e) {
            log.warn("Run {} failed inside the runner: {}", runId, e.toString());
            run.killTree();
            run.finishing = true;
            finish(runId, new Runs.Outcome("failed", null, "runner-failed",
                    "The run failed inside the server (details in the server log)."));
        } finally {
            active.remove(runId);
            // Whatever is still held (the log closed, the runner failed) leaves the server's budget.
            run.stdout.discard();
            run.stderr.discard();
            long dropped = run.stdout.droppedTotal() + run.stderr.droppedTotal();
            if (dropped > 0) {
                log.warn("Run {}: {} bytes of output were dropped while the database was unavailable "
                        + "(marker lines in the log say where)", runId, dropped);
            }
            sample.stop(duration);
        }
    }

    /**
     * The agent runs code from users: it gets the allow-listed variables of the server's
     * environment and its run's ids, never the rest (database credentials, settings).
     */
    void agentEnvironment(Map<String, String> target, Map<String, String> server, UUID sessionId, UUID runId) {
        target.clear();
        for (String name : properties.environment()) {
            String value = server.get(name);
            if (value != null) {
                target.put(name, value);
            }
        }
        target.put("COLLAB_SESSION_ID", sessionId.toString());
        target.put("COLLAB_RUN_ID", runId.toString());
    }

    /** Waits for the process, flushing batched output every {@code output-flush}; false on timeout. */
    private boolean waitWithFlushes(ActiveRun run, Process process, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long tick = Math.max(1, properties.outputFlush().toMillis());
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            if (process.waitFor(Math.min(tick, TimeUnit.NANOSECONDS.toMillis(left) + 1), TimeUnit.MILLISECONDS)) {
                return true;
            }
            run.rememberDescendants();
            run.flushQuietly();
        }
    }

    private static void closeQuietly(InputStream stream) {
        try {
            stream.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    private static void feed(Process process, String message) {
        try (OutputStream stdin = process.getOutputStream()) {
            stdin.write(message.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // The agent did not read its input (or exited early): not an error of the run.
        }
    }

    /** Finishing never throws: a failure here is logged, and the lease reaper ends the run later. */
    private void finish(UUID runId, Runs.Outcome outcome) {
        try {
            runs.finish(runId, outcome);
        } catch (RuntimeException e) {
            log.error("Could not record the end of run {} ({}); its lease will expire and it ends as lost", runId,
                    outcome.status(), e);
        }
    }

    /** Shutdown: every run in progress ends as interrupted, with the reason, before the database goes. */
    @EventListener(ContextClosedEvent.class)
    void stopAll() {
        shuttingDown = true;
        active.values().forEach(run -> run.stop(StopReason.SHUTDOWN));
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while ((!active.isEmpty() || !launching.isEmpty()) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** One run in progress: its process, its batched output, why it was stopped. */
    private final class ActiveRun {

        final UUID runId;
        final UUID sessionId;
        final Process process;
        final PendingOutput stdout = new PendingOutput("stdout", outputBudget, () -> this.appendFailing,
                droppedBytes::increment);
        final PendingOutput stderr = new PendingOutput("stderr", outputBudget, () -> this.appendFailing,
                droppedBytes::increment);
        final ReentrantLock flushing = new ReentrantLock();
        private final Deque<String> stderrTail = new ArrayDeque<>();
        private final StringBuilder partialStderr = new StringBuilder();
        /** The agent's descendants as last seen: after it exits, they are reparented and invisible. */
        private volatile List<ProcessHandle> lastDescendants = List.of();
        /** Set once the run is finished (or its log closed): late output is dropped. */
        private volatile boolean outputClosed;
        /** Appends fail (the database is unavailable): said once, and the pumps stop trying. */
        private volatile boolean appendFailing;
        /** The runner is recording the end itself: a lease check that no longer renews it is no loss. */
        volatile boolean finishing;
        /** Its lease was found lost (logged once, however many lease checks see it). */
        final java.util.concurrent.atomic.AtomicBoolean leaseLost = new java.util.concurrent.atomic.AtomicBoolean();
        private final StopRequest stopRequest = new StopRequest(kill -> Thread.ofVirtual().start(kill));

        ActiveRun(UUID runId, UUID sessionId, Process process) {
            this.runId = runId;
            this.sessionId = sessionId;
            this.process = process;
        }

        /** Reads a stream of the agent to its end, decoding UTF-8 across reads. */
        void pump(InputStream in, PendingOutput output) {
            CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
            ByteBuffer bytes = ByteBuffer.allocate(8192);
            CharBuffer chars = CharBuffer.allocate(8192);
            try (in) {
                int n;
                while ((n = in.read(bytes.array(), bytes.position(), bytes.remaining())) >= 0) {
                    bytes.position(bytes.position() + n);
                    bytes.flip();
                    decoder.decode(bytes, chars, false);
                    bytes.compact();   // an incomplete character waits for the next read
                    chars.flip();
                    if (output == stderr) {
                        rememberStderr(chars);
                    }
                    if (output.add(chars) >= properties.outputMaxChars()) {
                        flushFromPump();
                    }
                    chars.clear();
                }
                bytes.flip();
                decoder.decode(bytes, chars, true);
                decoder.flush(chars);
                chars.flip();
                if (output == stderr) {
                    rememberStderr(chars);
                }
                output.add(chars);
            } catch (IOException e) {
                // the process is gone
            }
        }

        /**
         * Appends what is waiting as {@code output} events, in batches of at most
         * {@code output-max-chars}. A batch leaves its buffer only once it is in the log: when an
         * append fails (the database is unavailable) it stays and this throws.
         */
        void flush() {
            flushing.lock();
            try {
                appendWaiting();
            } finally {
                flushing.unlock();
            }
        }

        private void appendWaiting() {
            for (PendingOutput output : List.of(stdout, stderr)) {
                // What waits now, not what the agent keeps printing meanwhile: the caller gets back.
                int batches = output.batchesWaiting(properties.outputMaxChars());
                for (int i = 0; i < batches && !outputClosed; i++) {
                    PendingOutput.Batch batch = output.next(properties.outputMaxChars());
                    if (batch == null) {
                        break;
                    }
                    try {
                        eventLog.append(sessionId, "output", Map.of("runId", runId.toString(), "stream", output.stream,
                                "text", batch.text()));
                    } catch (dev.collab.event.LogClosedException e) {
                        // The session ended (its log is closed): what the agent still prints is dropped.
                        outputClosed = true;
                    } catch (RuntimeException e) {
                        output.failed();
                        throw e;
                    }
                    output.appended(batch);
                    if (appendFailing) {
                        // At once, not after the backlog: from now on the pumps wait for appends again.
                        appendFailing = false;
                        log.info("Run {}: output is appended again", runId);
                    }
                }
                if (outputClosed) {
                    output.discard();
                }
            }
        }

        /** From the flush tick: a failed append is counted and said once; the output waits for the next tick. */
        void flushQuietly() {
            try {
                flush();
            } catch (RuntimeException e) {
                appendFailed(e);
            }
        }

        /**
         * From a pump with a full batch. While appends work, the pump waits for the flush lock and
         * appends: it stops reading meanwhile, the agent's pipe fills up and the agent waits for the
         * database (backpressure, nothing dropped, however much it prints). While appends are failing
         * it does not wait: it keeps reading, the output waits here within the server's budget
         * (past it the oldest goes, with a marker), and the flush tick keeps retrying.
         */
        void flushFromPump() {
            if (appendFailing) {
                return;
            }
            flushing.lock();
            try {
                if (!appendFailing) {   // the flush we waited for may just have failed
                    appendWaiting();
                }
            } catch (RuntimeException e) {
                appendFailed(e);
            } finally {
                flushing.unlock();
            }
        }

        /**
         * After the agent exited: what waits is appended before {@code run.finished}. While the
         * database is unavailable this retries for up to {@code collab.runner.lease}; after that
         * what waits is dropped (counted, and a marker tried once more before {@code run.finished}).
         */
        void flushRemaining() throws InterruptedException {
            long deadline = System.nanoTime() + properties.lease().toNanos();
            while (true) {
                try {
                    flush();
                    return;
                } catch (RuntimeException e) {
                    appendFailed(e);
                    if (System.nanoTime() > deadline) {
                        // Counted as dropped like any gap; its marker is what still waits, tried once more
                        // right before run.finished (both need the database back).
                        long bytes = stdout.dropAll() + stderr.dropAll();
                        log.warn("Run {}: {} bytes of output could not be appended before the run ended; they are dropped",
                                runId, bytes);
                        flushQuietly();
                        return;
                    }
                    Thread.sleep(Math.max(100, properties.outputFlush().toMillis()));
                }
            }
        }

        private void appendFailed(RuntimeException e) {
            appendFailures.increment();
            if (!appendFailing) {
                appendFailing = true;
                log.warn("Run {}: output could not be appended ({}); it is kept (all runs together up to {} "
                        + "characters) and appended when the database answers again", runId, e.toString(),
                        properties.outputMaxPendingChars());
            } else {
                log.debug("Run {}: output still cannot be appended: {}", runId, e.toString());
            }
        }

        void rememberDescendants() {
            try {
                List<ProcessHandle> now = process.descendants().toList();
                if (!now.isEmpty()) {
                    lastDescendants = now;
                }
            } catch (RuntimeException e) {
                // the process is gone
            }
        }

        /** After the agent exited: whatever it started and left behind is stopped too. */
        void killLeftovers() {
            for (ProcessHandle leftover : lastDescendants) {
                if (leftover.isAlive()) {
                    leftover.destroyForcibly();
                }
            }
        }

        void closeOutput() {
            outputClosed = true;
        }

        /** From the stderr pump, as read: the tail is right even when output could not be appended. */
        private synchronized void rememberStderr(CharSequence chars) {
            String[] pieces = chars.toString().split("\n", -1);
            for (int i = 0; i < pieces.length; i++) {
                partialStderr.append(pieces[i]);
                if (partialStderr.length() > STDERR_TAIL_CHARS) {
                    partialStderr.delete(0, partialStderr.length() - STDERR_TAIL_CHARS);
                }
                boolean complete = i < pieces.length - 1;   // every piece but the last ended with a newline
                if (complete) {
                    stderrTail.addLast(partialStderr.toString());
                    partialStderr.setLength(0);
                    while (stderrTail.size() > STDERR_TAIL_LINES) {
                        stderrTail.pollFirst();
                    }
                }
            }
        }

        synchronized String stderrTail() {
            String tail = (String.join("\n", stderrTail) + (partialStderr.isEmpty() ? "" : "\n" + partialStderr)).strip();
            return tail.length() > STDERR_TAIL_CHARS ? tail.substring(tail.length() - STDERR_TAIL_CHARS) : tail;
        }

        Runs.Outcome outcome(@Nullable Integer exitCode) {
            StopReason reason = stopRequest.reason();
            if (reason == StopReason.TIMEOUT) {
                return new Runs.Outcome("interrupted", exitCode, "runner-timeout",
                        "The run took longer than " + properties.timeout() + " and was stopped.");
            }
            if (reason == StopReason.SHUTDOWN) {
                return new Runs.Outcome("interrupted", exitCode, "instance-shutdown",
                        "The server shut down during the run; send the message again.");
            }
            if (reason == StopReason.INTERRUPT) {
                return new Runs.Outcome("interrupted", exitCode, null, null);
            }
            if (exitCode != null && exitCode == 0) {
                return new Runs.Outcome("succeeded", 0, null, null);
            }
            String tail = stderrTail();
            return new Runs.Outcome("failed", exitCode, "runner-failed",
                    "The agent exited with code " + exitCode + (tail.isEmpty() ? "." : ":\n" + tail));
        }

        /**
         * Stops the agent and everything it started: polite first, forcibly after the grace period.
         * The first reason is the one recorded; the kill starts once.
         *
         * @return true when this call's reason was recorded (the run was not being stopped yet)
         */
        boolean stop(StopReason reason) {
            return stopRequest.request(reason, this::killTree);
        }

        void killTree() {
            try {
                List<ProcessHandle> tree = process.descendants().toList();
                // The agent first (it may stop its own children cleanly), then whatever it started.
                process.destroy();
                tree.forEach(ProcessHandle::destroy);
                long deadline = System.nanoTime() + properties.interruptGrace().toNanos();
                while (System.nanoTime() < deadline && (process.isAlive() || tree.stream().anyMatch(ProcessHandle::isAlive))) {
                    Thread.sleep(20);
                }
                tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                // already gone, or not ours to signal: nothing more to do
                log.debug("Stopping run {}: {}", runId, e.toString());
            }
        }
    }
}
