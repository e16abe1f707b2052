package dev.collab.run;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Output of one stream of a run waiting to be appended. A batch stays here until its append
 * succeeded: if the database is unavailable, the text is appended later, not lost. The wait is
 * bounded: past {@code maxPendingChars} the oldest waiting text (not the batch being appended) is
 * dropped, and the next batch starts with one marker line saying how many bytes were dropped
 * there (docs/runner.md), so a gap is never silent.
 */
final class PendingOutput {

    /** A batch being appended: its text (marker first, if any) and what it takes out when done. */
    record Batch(String text, int chars, long droppedBytes) {
    }

    final String stream;
    private final int maxPendingChars;
    private final StringBuilder waiting = new StringBuilder();
    private final ReentrantLock lock = new ReentrantLock();
    /** Leading chars of {@code waiting} in a batch being appended: never dropped under it. */
    private int inFlight;
    private long droppedBytes;
    private long droppedTotal;

    PendingOutput(String stream, int maxPendingChars) {
        this.stream = stream;
        this.maxPendingChars = maxPendingChars;
    }

    /** Adds what the agent printed; returns how many chars are waiting now. */
    int add(CharSequence chars) {
        lock.lock();
        try {
            waiting.append(chars);
            int over = waiting.length() - maxPendingChars;
            if (over > 0) {
                dropOldest(over);
            }
            return waiting.length();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The next batch, at most {@code maxChars} of output (plus the marker of a gap before it), left
     * in place until {@link #appended}; null when nothing waits. One batch at a time (the caller
     * holds the run's flush lock).
     */
    Batch next(int maxChars) {
        lock.lock();
        try {
            if (waiting.isEmpty() && droppedBytes == 0) {
                return null;
            }
            int chars = Math.min(maxChars, waiting.length());
            if (chars > 0 && chars < waiting.length() && Character.isHighSurrogate(waiting.charAt(chars - 1))) {
                chars--;   // never split a character between two events
            }
            inFlight = chars;
            String marker = droppedBytes == 0 ? ""
                    : "[collab-server: " + droppedBytes + " bytes of output dropped here; the database could not "
                            + "take them in time]\n";
            return new Batch(marker + waiting.substring(0, chars), chars, droppedBytes);
        } finally {
            lock.unlock();
        }
    }

    /** The batch is in the log: it leaves the buffer. */
    void appended(Batch batch) {
        lock.lock();
        try {
            waiting.delete(0, batch.chars());
            droppedBytes -= batch.droppedBytes();
            inFlight = 0;
        } finally {
            lock.unlock();
        }
    }

    /** The append failed: the batch stays, to be appended with the next attempt. */
    void failed() {
        lock.lock();
        try {
            inFlight = 0;
        } finally {
            lock.unlock();
        }
    }

    /** Gives up on what waits (the run's log is closed); returns how many chars that was. */
    int discard() {
        lock.lock();
        try {
            int chars = waiting.length();
            waiting.setLength(0);
            droppedBytes = 0;
            inFlight = 0;
            return chars;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes (UTF-8) dropped so far because the bound was reached. */
    long droppedTotal() {
        lock.lock();
        try {
            return droppedTotal;
        } finally {
            lock.unlock();
        }
    }

    int waitingChars() {
        lock.lock();
        try {
            return waiting.length();
        } finally {
            lock.unlock();
        }
    }

    /** Drops the oldest {@code chars} after the batch in flight, on a character boundary. */
    private void dropOldest(int chars) {
        int from = inFlight;
        int to = Math.min(waiting.length(), from + chars);
        if (to < waiting.length() && Character.isLowSurrogate(waiting.charAt(to))) {
            to++;
        }
        if (to <= from) {
            return;
        }
        long bytes = waiting.substring(from, to).getBytes(StandardCharsets.UTF_8).length;
        waiting.delete(from, to);
        droppedBytes += bytes;
        droppedTotal += bytes;
    }
}
