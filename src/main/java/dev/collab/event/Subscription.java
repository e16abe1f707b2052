package dev.collab.event;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One stream's inbox: batches of consecutive events handed over by the hub, bounded by a
 * number of events. The hub never waits on it: a stream that falls that far behind is marked
 * overflowed and closed, and resumes later with Last-Event-ID.
 * <p>
 * Single consumer (the stream's own thread), many producers. Lock-free: a producer appends to the
 * queue and unparks the consumer only when it is parked (it publishes itself in {@code waiter}
 * before its last look at the queue, so a batch offered meanwhile is either seen or unparks it).
 */
final class Subscription {

    final UUID sessionId;
    private final int capacity;
    private final ConcurrentLinkedQueue<List<Frame>> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private volatile Thread waiter;
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
            wakeUp();
            return false;
        }
        inbox.offer(batch);
        wakeUp();
        return true;
    }

    private void wakeUp() {
        Thread parked = waiter;
        if (parked != null) {
            LockSupport.unpark(parked);
        }
    }

    /**
     * Every batch queued so far, as one list in order, waiting up to {@code timeout} for one;
     * an empty list after the timeout (time for a heartbeat), when closed or when overflowed.
     */
    List<Frame> poll(long timeout, TimeUnit unit) throws InterruptedException {
        List<Frame> batch = takeAll();
        if (batch != null) {
            return batch;
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        waiter = Thread.currentThread();
        try {
            while (true) {
                batch = takeAll();
                if (batch != null) {
                    return batch;
                }
                if (closed || overflowed) {
                    return List.of();
                }
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return List.of();
                }
                LockSupport.parkNanos(this, remaining);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
        } finally {
            waiter = null;
        }
    }

    /** What is queued, or null when nothing is (or the stream overflowed: it ends, nothing more is written). */
    private List<Frame> takeAll() {
        if (overflowed) {
            return null;
        }
        List<Frame> first = inbox.poll();
        if (first == null) {
            return null;
        }
        List<Frame> next = inbox.poll();
        if (next == null) {
            queued.addAndGet(-first.size());
            return first;
        }
        List<Frame> all = new ArrayList<>(first.size() + next.size());
        all.addAll(first);
        do {
            all.addAll(next);
        } while ((next = inbox.poll()) != null);
        queued.addAndGet(-all.size());
        return all;
    }

    boolean overflowed() {
        return overflowed;
    }

    boolean closed() {
        return closed;
    }

    void close() {
        closed = true;
        wakeUp();
    }
}
