package dev.collab.stream;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import dev.collab.access.AccessGrant;
import org.jspecify.annotations.Nullable;

/**
 * One stream's inbox: batches of consecutive events handed over by the hub, bounded by a
 * number of events. The hub never waits on it: a stream that falls that far behind is
 * marked overflowed and closed, and resumes later with Last-Event-ID.
 * <p>
 * Lock-free, single consumer. Once the stream is live it registers a listener, which the
 * hub's thread runs after each offer (and {@link #close()} runs too): the stream writes
 * at once what its connection can take (see {@link LiveStream}). Until then batches only
 * queue up.
 */
final class Subscription {

    final UUID sessionId;

    /**
     * What the stream was authorised with when it opened, re-checked periodically
     * ({@link StreamAccessCheck}); null for a subscription that no request opened
     * (tests).
     */
    final @Nullable AccessGrant grant;

    private final int capacity;

    private final ConcurrentLinkedQueue<List<Frame>> inbox = new ConcurrentLinkedQueue<>();

    /**
     * Events offered and not yet {@linkplain #consumed(int) consumed}: queued or taken
     * and still unwritten.
     */
    private final AtomicInteger queued = new AtomicInteger();

    /**
     * Messages without an id (not events of the log: who is watching), the latest of each
     * type, not yet written: replaced, never queued, so they cost a slow stream no
     * memory.
     */
    private final java.util.concurrent.ConcurrentHashMap<String, byte[]> unnumbered = new java.util.concurrent.ConcurrentHashMap<>();

    private volatile @Nullable Runnable listener;

    private volatile boolean overflowed;

    private volatile boolean closed;

    Subscription(UUID sessionId, int capacity) {
        this(sessionId, capacity, null);
    }

    Subscription(UUID sessionId, int capacity, @Nullable AccessGrant grant) {
        this.sessionId = sessionId;
        this.capacity = capacity;
        this.grant = grant;
    }

    /** Non-blocking; false (and overflowed) when the stream is too far behind. */
    boolean offer(List<Frame> batch) {
        if (closed || overflowed) {
            return false;
        }
        if (queued.addAndGet(batch.size()) > capacity) {
            overflowed = true;
            signal();
            return false;
        }
        inbox.offer(batch);
        signal();
        return true;
    }

    /**
     * A message without an id for the stream to write between events; replaces one of the
     * same type it has not written yet.
     */
    void offerUnnumbered(String type, byte[] message) {
        if (closed || overflowed) {
            return;
        }
        unnumbered.put(type, message);
        signal();
    }

    /** A message without an id waiting to be written (taken), or null. */
    byte @Nullable [] takeUnnumbered() {
        for (String type : unnumbered.keySet()) {
            byte[] message = unnumbered.remove(type);
            if (message != null) {
                return message;
            }
        }
        return null;
    }

    /**
     * Runs {@code listener} after every offer and on close from now on (and once now).
     */
    void listen(Runnable listener) {
        this.listener = listener;
        listener.run();
    }

    private void signal() {
        Runnable target = listener;
        if (target != null) {
            target.run();
        }
    }

    /**
     * Every batch queued so far, as one list in order, or null when nothing is (or the
     * stream overflowed: it ends, nothing more is written). The events stay counted
     * against the capacity until {@link #consumed(int)}.
     */
    @Nullable List<Frame> takeAll() {
        if (overflowed) {
            return null;
        }
        List<Frame> first = inbox.poll();
        if (first == null) {
            return null;
        }
        List<Frame> next = inbox.poll();
        if (next == null) {
            return first;
        }
        List<Frame> all = new ArrayList<>(first.size() + next.size());
        all.addAll(first);
        do {
            all.addAll(next);
        }
        while ((next = inbox.poll()) != null);
        return all;
    }

    /** {@code count} taken events were written or skipped. */
    void consumed(int count) {
        queued.addAndGet(-count);
    }

    boolean overflowed() {
        return overflowed;
    }

    boolean closed() {
        return closed;
    }

    void close() {
        closed = true;
        signal();
    }

}
