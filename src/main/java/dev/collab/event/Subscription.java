package dev.collab.event;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One stream's inbox: batches of consecutive events handed over by the hub, bounded by a
 * number of events. The hub never waits on it: a stream that falls that far behind is marked
 * overflowed and closed, and resumes later with Last-Event-ID.
 */
final class Subscription {

    private static final List<Frame> WAKE_UP = List.of();

    final UUID sessionId;
    private final int capacity;
    private final LinkedBlockingQueue<List<Frame>> inbox = new LinkedBlockingQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private volatile boolean overflowed;
    private volatile boolean closed;

    Subscription(UUID sessionId, int capacity) {
        this.sessionId = sessionId;
        this.capacity = capacity;
    }

    /** Non-blocking; false (and overflowed) when the stream is too far behind. */
    boolean offer(List<Frame> batch) {
        if (closed || overflowed) {
            return false;
        }
        if (queued.addAndGet(batch.size()) > capacity) {
            overflowed = true;
            inbox.offer(WAKE_UP);
            return false;
        }
        inbox.offer(batch);
        return true;
    }

    /** The next batch, or an empty list after {@code timeout} (time for a heartbeat) or when closed. */
    List<Frame> poll(long timeout, TimeUnit unit) throws InterruptedException {
        List<Frame> batch = inbox.poll(timeout, unit);
        if (batch == null || batch == WAKE_UP) {
            return List.of();
        }
        queued.addAndGet(-batch.size());
        return batch;
    }

    boolean overflowed() {
        return overflowed;
    }

    boolean closed() {
        return closed;
    }

    void close() {
        closed = true;
        inbox.offer(WAKE_UP);
    }
}
