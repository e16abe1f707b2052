package dev.collab.run;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;

import dev.collab.event.LogClosedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The output of one run on its way into the log as {@code output} events: batched every
 * {@code collab.runner.output-flush}, or as soon as {@code output-max-chars} are waiting,
 * stdout and stderr apart, and a line protocol's typed events as a third stream (one JSON
 * line per event, {@link #EVENTS}; its appender turns each back into its event), so that
 * they get the same guarantees as output: kept and retried while the database is away,
 * within the budget, and backpressure while it is not. A batch leaves its
 * {@link PendingOutput} only once it is in the log, so a database outage delays output
 * without losing it (within the server's {@link OutputBudget}).
 */
final class OutputBatcher {

    private static final Logger log = LoggerFactory.getLogger(OutputBatcher.class);

    /**
     * Appends one batch of a stream; throws {@link LogClosedException} once the session's
     * log is closed.
     */
    @FunctionalInterface
    interface Appender {

        void append(String stream, String text);

    }

    /** Waits up to {@code millis} for the agent to exit; true once it has. */
    @FunctionalInterface
    interface Exit {

        boolean await(long millis) throws InterruptedException;

    }

    private final UUID runId;

    private final Appender appender;

    private final RunnerProperties properties;

    private final Runnable onAppendFailure;

    private final PendingOutput stdout;

    private final PendingOutput stderr;

    /** The stream name of typed events, each a JSON line {"type", "data"}. */
    static final String EVENTS = "events";

    private final PendingOutput events;

    /**
     * One batch at a time, in order: the flush tick and a reader with a full batch take
     * turns.
     */
    private final ReentrantLock flushing = new ReentrantLock();

    /** Set once the run is finished (or its log closed): late output is dropped. */
    private volatile boolean closed;

    /**
     * Appends fail (the database is unavailable): said once, and the readers stop trying.
     */
    private volatile boolean appendFailing;

    /**
     * @param onAppendFailure told of every failed append
     * @param onDrop told the bytes of every drop past the budget
     */
    OutputBatcher(UUID runId, Appender appender, RunnerProperties properties, OutputBudget budget,
            Runnable onAppendFailure, LongConsumer onDrop) {
        this.runId = runId;
        this.appender = appender;
        this.properties = properties;
        this.onAppendFailure = onAppendFailure;
        this.stdout = new PendingOutput("stdout", budget, () -> this.appendFailing, onDrop);
        this.stderr = new PendingOutput("stderr", budget, () -> this.appendFailing, onDrop);
        this.events = new PendingOutput(EVENTS, true, budget, () -> this.appendFailing, onDrop);
    }

    /**
     * From a reader: what the agent printed on {@code stream}; a full batch is appended
     * at once.
     */
    void add(String stream, CharSequence chars) {
        PendingOutput output = "stderr".equals(stream) ? stderr : stdout;
        if (output.add(chars) >= properties.outputMaxChars()) {
            flushFromReader();
        }
    }

    /**
     * From a line protocol's reader: one typed event as one JSON line (without its line
     * break), in order with the others; appended one by one.
     */
    void addEvent(String jsonLine) {
        if (events.add(jsonLine + "\n") >= properties.outputMaxChars()) {
            flushFromReader();
        }
    }

    /**
     * Until the agent exits: appends what waits every {@code output-flush}, so output
     * that never fills a batch still shows within that time.
     * @return true when the agent exited, false when {@code timeout} passed first
     */
    boolean flushUntilExit(Exit exit, Duration timeout) throws InterruptedException {
        // Monotonic time for a deadline: a wall clock (and the tests' movable one) may
        // jump.
        long deadline = System.nanoTime() + timeout.toNanos();
        long tick = Math.max(1, properties.outputFlush().toMillis());
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            if (exit.await(Math.min(tick, TimeUnit.NANOSECONDS.toMillis(left) + 1))) {
                return true;
            }
            flushQuietly();
        }
    }

    /**
     * Appends what is waiting, in batches of at most {@code output-max-chars}. When an
     * append fails (the database is unavailable) the batch stays and this throws.
     */
    void flush() {
        flushing.lock();
        try {
            appendWaiting();
        }
        finally {
            flushing.unlock();
        }
    }

    private void appendWaiting() {
        int maxChars = properties.outputMaxChars();
        for (PendingOutput output : List.of(stdout, stderr, events)) {
            // What waits now, not what the agent keeps printing meanwhile: the caller
            // gets back.
            int batches = output.batchesWaiting(maxChars);
            for (int i = 0; i < batches && !closed; i++) {
                PendingOutput.Batch batch = output.next(maxChars);
                if (batch == null) {
                    break;
                }
                try {
                    appender.append(output.stream, batch.text());
                }
                catch (LogClosedException e) {
                    // The session ended (its log is closed): what the agent still prints
                    // is dropped.
                    closed = true;
                }
                catch (RuntimeException e) {
                    output.failed();
                    throw e;
                }
                output.appended(batch);
                if (appendFailing) {
                    // At once, not after the backlog: from now on the readers wait for
                    // appends again.
                    appendFailing = false;
                    log.info("Run {}: output is appended again", runId);
                }
            }
            if (closed) {
                output.discard();
            }
        }
    }

    /**
     * From the flush tick: a failed append is counted and said once; the output waits for
     * the next tick.
     */
    void flushQuietly() {
        try {
            flush();
        }
        catch (RuntimeException e) {
            appendFailed(e);
        }
    }

    /**
     * From a reader with a full batch. While appends work, the reader waits for the flush
     * lock and appends: it stops reading meanwhile, the agent's pipe fills up and the
     * agent waits for the database (backpressure, nothing dropped, however much it
     * prints). While appends are failing it does not wait: it keeps reading, the output
     * waits within the server's budget (past it the oldest goes, with a marker), and the
     * flush tick keeps retrying.
     */
    private void flushFromReader() {
        if (appendFailing) {
            return;
        }
        flushing.lock();
        try {
            if (!appendFailing) { // the flush we waited for may just have failed
                appendWaiting();
            }
        }
        catch (RuntimeException e) {
            appendFailed(e);
        }
        finally {
            flushing.unlock();
        }
    }

    /**
     * After the agent exited: what waits is appended before {@code run.finished}. While
     * the database is unavailable this retries for up to {@code collab.runner.lease};
     * after that what waits is dropped (counted, and its marker tried once more before
     * {@code run.finished}).
     */
    void flushRemaining() throws InterruptedException {
        long deadline = System.nanoTime() + properties.lease().toNanos();
        while (true) {
            try {
                flush();
                return;
            }
            catch (RuntimeException e) {
                appendFailed(e);
                if (System.nanoTime() > deadline) {
                    long bytes = stdout.dropAll() + stderr.dropAll() + events.dropAll();
                    log.warn("Run {}: {} bytes of output could not be appended before the run ended; they are dropped",
                            runId, bytes);
                    flushQuietly();
                    return;
                }
                // A retry pause, not a wait for a condition: nothing tells us when the
                // database is back.
                Thread.sleep(Math.max(100, properties.outputFlush().toMillis()));
            }
        }
    }

    private void appendFailed(RuntimeException e) {
        onAppendFailure.run();
        if (!appendFailing) {
            appendFailing = true;
            log.warn(
                    "Run {}: output could not be appended ({}); it is kept (all runs together up to {} "
                            + "characters) and appended when the database answers again",
                    runId, e.toString(), properties.outputMaxPendingChars());
        }
        else {
            log.debug("Run {}: output still cannot be appended: {}", runId, e.toString());
        }
    }

    /** The run is over (or its lease lost): nothing more is appended. */
    void close() {
        closed = true;
    }

    /**
     * Lets go of whatever is still held (the log closed, the runner failed): it leaves
     * the server's budget, and what a reader still gets is ignored.
     * @return the bytes dropped past the budget over the whole run
     */
    long discard() {
        stdout.discard();
        stderr.discard();
        events.discard();
        return stdout.droppedTotal() + stderr.droppedTotal() + events.droppedTotal();
    }

}
