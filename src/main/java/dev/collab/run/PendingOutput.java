package dev.collab.run;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Output of one stream of a run waiting to be appended. A batch stays here until its
 * append succeeded: if the database is unavailable, the text is appended later, not lost.
 * The wait is bounded by the server's {@link OutputBudget}: past it, and only while this
 * run's appends are failing, the oldest waiting text (not the batch being appended) is
 * dropped, and one marker line takes its place, at the very position of the gap, saying
 * how many bytes were dropped there (docs/runner.md): a gap is never silent.
 * <p>
 * In line mode (a line protocol's typed events, one JSON line each) the waiting text is
 * whole lines only: a batch is whole lines (at least one, as many as fit in the batch
 * size; or one marker alone), and a drop takes whole lines, so an event is appended whole
 * or counted as dropped, never cut.
 */
final class PendingOutput {

    /**
     * A batch being appended: its text (a gap's marker first, if any) and what it takes
     * out when done.
     */
    record Batch(String text, int chars, long markerBytes) {
    }

    /** Output dropped at {@code position} of the waiting text. */
    private static final class Gap {

        int position;

        long bytes;

        /**
         * The text before the gap does not end a line: the marker starts with a line
         * break.
         */
        boolean midLine;

        Gap(int position, boolean midLine) {
            this.position = position;
            this.midLine = midLine;
        }

    }

    /**
     * Line mode: the most lines (events) in one batch. Each is a statement of its own in
     * the batch's transaction, and none shows before the commit: a short batch keeps
     * delivery latency low while a backlog drains.
     */
    static final int MAX_LINES = 16;

    final String stream;

    /** Line mode: batches and drops are whole lines. */
    final boolean lines;

    private final OutputBudget budget;

    private final BooleanSupplier mayDrop;

    private final LongConsumer onDrop;

    private final StringBuilder waiting = new StringBuilder();

    /** In order of position; few (each failed append can leave one). */
    private final List<Gap> gaps = new ArrayList<>();

    private final ReentrantLock lock = new ReentrantLock();

    /**
     * Leading chars of {@code waiting} in a batch being appended: never dropped under it.
     */
    private int inFlight;

    /** What was appended last ended a line (or nothing was appended yet). */
    private boolean atLineStart = true;

    private long droppedTotal;

    /**
     * Given up on for good (the run's log closed, or the run is over): what still arrives
     * is ignored.
     */
    private boolean closed;

    /**
     * @param budget what all runs may hold together
     * @param mayDrop whether this run's appends are failing: only then is its output
     * dropped past the budget (while they work, the pump waits for the database instead,
     * and the agent with it)
     * @param onDrop told the bytes (UTF-8) of every drop, as it happens
     */
    PendingOutput(String stream, OutputBudget budget, BooleanSupplier mayDrop, LongConsumer onDrop) {
        this(stream, false, budget, mayDrop, onDrop);
    }

    /**
     * @param lines line mode: batches and drops are whole lines
     */
    PendingOutput(String stream, boolean lines, OutputBudget budget, BooleanSupplier mayDrop, LongConsumer onDrop) {
        this.stream = stream;
        this.lines = lines;
        this.budget = budget;
        this.mayDrop = mayDrop;
        this.onDrop = onDrop;
    }

    /** Adds what the agent printed; returns how many chars are waiting now. */
    int add(CharSequence chars) {
        lock.lock();
        try {
            if (closed) {
                return 0; // a pump still reading after the run let go of its output: held
                          // by nobody
            }
            waiting.append(chars);
            long over = budget.take(chars.length());
            if (over > 0 && mayDrop.getAsBoolean()) {
                drop(over);
            }
            return waiting.length();
        }
        finally {
            lock.unlock();
        }
    }

    /**
     * The next batch, at most {@code maxChars} of output (after the marker of a gap right
     * before it), never across a gap, left in place until {@link #appended}; null when
     * nothing waits. One batch at a time (the caller holds the run's flush lock).
     */
    @SuppressWarnings("NullAway") // first is not null when marker is true, which NullAway
                                  // cannot follow
    @Nullable Batch next(int maxChars) {
        lock.lock();
        try {
            Gap first = gaps.isEmpty() ? null : gaps.getFirst();
            boolean marker = first != null && first.position == 0;
            if (waiting.isEmpty() && !marker) {
                return null;
            }
            int limit = waiting.length();
            Gap following = marker ? (gaps.size() > 1 ? gaps.get(1) : null) : first;
            if (following != null) {
                limit = Math.min(limit, following.position);
            }
            if (lines && marker) {
                // A marker is a batch of its own: it becomes an output event of its own.
                inFlight = 0;
                return new Batch(marker(first), 0, first.bytes);
            }
            int chars = Math.min(maxChars, limit);
            if (lines) {
                // Whole lines: at most MAX_LINES and maxChars (at least the first line,
                // however long), so that a batch's transaction stays short.
                int bound = Math.min(limit, maxChars);
                int end = waiting.indexOf("\n");
                end = end < 0 || end >= limit ? limit : end + 1;
                for (int n = 1; n < MAX_LINES && end < bound; n++) {
                    int next = waiting.indexOf("\n", end);
                    if (next < 0 || next >= bound) {
                        break;
                    }
                    end = next + 1;
                }
                chars = end;
            }
            else if (chars > 0 && chars < waiting.length() && Character.isHighSurrogate(waiting.charAt(chars - 1))) {
                chars--; // never split a character between two events
            }
            inFlight = chars;
            return new Batch((marker ? marker(first) : "") + waiting.substring(0, chars), chars,
                    marker ? first.bytes : 0);
        }
        finally {
            lock.unlock();
        }
    }

    static String marker(long bytes, boolean midLine) {
        return (midLine ? "\n" : "") + "[collab-server: " + bytes
                + " bytes of output dropped here; the database could not take them in time]\n";
    }

    private static String marker(Gap gap) {
        return marker(gap.bytes, gap.midLine);
    }

    /** The batch is in the log: it leaves the buffer. */
    void appended(Batch batch) {
        lock.lock();
        try {
            if (batch.chars() > 0) {
                atLineStart = waiting.charAt(batch.chars() - 1) == '\n';
            }
            else if (batch.markerBytes() > 0) {
                atLineStart = true;
            }
            waiting.delete(0, batch.chars());
            budget.release(batch.chars());
            if (batch.markerBytes() > 0) {
                Gap written = gaps.getFirst();
                written.bytes -= batch.markerBytes();
                if (written.bytes <= 0) {
                    gaps.removeFirst();
                }
                else {
                    written.midLine = false; // dropped meanwhile, right after the marker
                                             // line just written
                }
            }
            for (Gap gap : gaps) {
                gap.position -= batch.chars();
            }
            inFlight = 0;
        }
        finally {
            lock.unlock();
        }
    }

    /** The append failed: the batch stays, to be appended with the next attempt. */
    void failed() {
        lock.lock();
        try {
            inFlight = 0;
        }
        finally {
            lock.unlock();
        }
    }

    /**
     * Gives up on all waiting output (the run ended and the database still does not
     * answer): it becomes a gap, counted like any other, whose marker is what waits now.
     * @return the bytes dropped
     */
    long dropAll() {
        lock.lock();
        try {
            return drop(waiting.length());
        }
        finally {
            lock.unlock();
        }
    }

    /**
     * Gives up on what waits and on whatever still arrives (the run's log is closed, or
     * the run is over); returns how many chars that was.
     */
    int discard() {
        lock.lock();
        try {
            closed = true;
            int chars = waiting.length();
            waiting.setLength(0);
            budget.release(chars);
            gaps.clear();
            inFlight = 0;
            return chars;
        }
        finally {
            lock.unlock();
        }
    }

    /** Bytes (UTF-8) dropped so far. */
    long droppedTotal() {
        lock.lock();
        try {
            return droppedTotal;
        }
        finally {
            lock.unlock();
        }
    }

    int waitingChars() {
        lock.lock();
        try {
            return waiting.length();
        }
        finally {
            lock.unlock();
        }
    }

    /**
     * How many batches of at most {@code maxChars} what waits now takes (markers
     * included).
     */
    int batchesWaiting(int maxChars) {
        lock.lock();
        try {
            if (lines) {
                int count = 0;
                for (int i = waiting.indexOf("\n"); i >= 0; i = waiting.indexOf("\n", i + 1)) {
                    count++;
                }
                return count + gaps.size() + 1;
            }
            return waiting.length() / maxChars + gaps.size() + 1;
        }
        finally {
            lock.unlock();
        }
    }

    /**
     * Drops up to {@code chars} of the oldest waiting text after the batch in flight, on
     * a character boundary, and records the gap where the text was.
     */
    private long drop(long chars) {
        int from = inFlight;
        int to = (int) Math.min(waiting.length(), from + chars);
        if (lines && to > from && to < waiting.length() && waiting.charAt(to - 1) != '\n') {
            int newline = waiting.indexOf("\n", to);
            to = newline < 0 ? waiting.length() : newline + 1; // whole lines only
        }
        else if (to < waiting.length() && Character.isLowSurrogate(waiting.charAt(to))) {
            to++;
        }
        if (to <= from) {
            return 0;
        }
        long bytes = waiting.substring(from, to).getBytes(StandardCharsets.UTF_8).length;
        boolean midLine = from > 0 ? waiting.charAt(from - 1) != '\n' : !atLineStart;
        waiting.delete(from, to);
        int removed = to - from;
        // Gaps inside the dropped text, or at either end of it, become one.
        Gap here = null;
        for (Iterator<Gap> it = gaps.iterator(); it.hasNext();) {
            Gap gap = it.next();
            if (gap.position < from) {
                continue;
            }
            if (gap.position > to) {
                gap.position -= removed;
            }
            else if (here == null) {
                if (gap.position != from) {
                    gap.position = from;
                    gap.midLine = midLine;
                }
                here = gap;
            }
            else {
                here.bytes += gap.bytes;
                it.remove();
            }
        }
        if (here == null) {
            here = new Gap(from, midLine);
            int index = 0;
            while (index < gaps.size() && gaps.get(index).position < from) {
                index++;
            }
            gaps.add(index, here);
        }
        here.bytes += bytes;
        droppedTotal += bytes;
        budget.release(removed);
        onDrop.accept(bytes);
        return bytes;
    }

}
