package dev.collab.stream;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import dev.collab.cluster.ClusterNotifications;
import dev.collab.event.AppendObserver;
import dev.collab.event.Event;
import dev.collab.ops.ShutdownOrder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Tells everyone that a session's log moved, after the append committed. Local streams
 * are woken at once; other instances through PostgreSQL NOTIFY, batched: NOTIFY takes a
 * global lock at commit, so one per append would cap appends at about 2,000/s. One
 * publisher thread flushes every few milliseconds a NOTIFY naming every session that
 * moved (ids and head seqs only, never payloads: a notification carries at most 8,000
 * bytes).
 *
 * <p>
 * The publisher thread runs from {@link ShutdownOrder#NOTIFICATIONS} on; at shutdown it
 * stops after the runs did, with a last flush, so other instances hear of the runs' final
 * events.
 */
@Component
class EventPublisher implements AppendObserver, SmartLifecycle {

    static final String CHANNEL = "collab_events";

    /** Payloads stay well under PostgreSQL's 8,000-byte limit. */
    private static final int MAX_PAYLOAD = 7_500;

    private static final long BATCH_WINDOW_MILLIS = 2;

    /**
     * Longest a stop waits for the last flush (one NOTIFY per 7,500 bytes, each a short
     * statement).
     */
    private static final java.time.Duration STOP_WAIT = java.time.Duration.ofSeconds(10);

    private static final Logger log = LoggerFactory.getLogger(EventPublisher.class);

    /**
     * Lets this instance drop its own notifications (it woke its local streams already).
     */
    private final String instanceId = UUID.randomUUID().toString().substring(0, 8);

    private final ClusterNotifications notifications;

    private final Map<UUID, Long> moved = new ConcurrentHashMap<>();

    private final Semaphore signal = new Semaphore(0);

    private volatile @Nullable Thread flusher;

    private volatile boolean running;

    /**
     * The session streams' hub and the live session list: each told of every local
     * append.
     */
    private final List<java.util.function.Consumer<Event>> localDeliveries = new java.util.concurrent.CopyOnWriteArrayList<>();

    EventPublisher(ClusterNotifications notifications) {
        this.notifications = notifications;
    }

    void onLocalAppend(java.util.function.Consumer<Event> delivery) {
        localDeliveries.add(delivery);
    }

    /**
     * Calls {@code wake} with every session that moved on another instance, and
     * {@code wakeAll} when notifications may have been lost (the LISTEN connection came
     * back).
     */
    void onRemoteMoves(BiConsumer<UUID, Long> wake, Runnable wakeAll) {
        notifications.listen(CHANNEL, payload -> dispatch(payload, wake));
        notifications.onReconnect(wakeAll);
    }

    /**
     * {@code <instance>|<session id>:<seq>,…}; this instance's own are skipped (woken
     * locally already).
     */
    private void dispatch(String payload, BiConsumer<UUID, Long> wake) {
        int bar = payload.indexOf('|');
        if (bar < 0 || payload.substring(0, bar).equals(instanceId)) {
            return;
        }
        for (String entry : payload.substring(bar + 1).split(",")) {
            int colon = entry.indexOf(':');
            if (colon < 0) {
                continue;
            }
            try {
                wake.accept(UUID.fromString(entry.substring(0, colon)), Long.parseLong(entry.substring(colon + 1)));
            }
            catch (IllegalArgumentException e) {
                log.debug("Ignoring a malformed notification entry: {}", entry);
            }
        }
    }

    /**
     * Called after an append committed: local streams get the event in hand, other
     * instances a NOTIFY.
     */
    @Override
    public void appended(Event event) {
        for (java.util.function.Consumer<Event> delivery : localDeliveries) {
            try {
                delivery.accept(event);
            }
            catch (RuntimeException e) {
                // Never the appender's problem (the event is committed): streams catch up
                // from the log.
                log.warn("Could not hand event {} of session {} to local streams: {}", event.seq(), event.sessionId(),
                        e.toString());
            }
        }
        moved.merge(event.sessionId(), event.seq(), Math::max);
        signal.release();
    }

    private void flushLoop() {
        while (running) {
            try {
                if (!signal.tryAcquire(1, TimeUnit.SECONDS)) {
                    continue;
                }
                Thread.sleep(BATCH_WINDOW_MILLIS);
                signal.drainPermits();
                flush();
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            catch (RuntimeException e) {
                // Other instances' periodic tail check covers a lost notification.
                log.warn("Could not notify other instances of new events: {}", e.toString());
            }
        }
        try {
            flush(); // what moved since the last flush: the final events of the runs this
                     // instance stopped
        }
        catch (RuntimeException e) {
            log.warn("Could not notify other instances of the last events: {}", e.toString());
        }
    }

    private void flush() {
        List<String> payloads = new ArrayList<>();
        StringBuilder payload = new StringBuilder(instanceId).append('|');
        int start = payload.length();
        for (UUID id : List.copyOf(moved.keySet())) {
            Long seq = moved.remove(id);
            if (seq == null) {
                continue;
            }
            String entry = id + ":" + seq;
            if (payload.length() + entry.length() + 1 > MAX_PAYLOAD) {
                payloads.add(payload.toString());
                payload.setLength(start);
            }
            if (payload.length() > start) {
                payload.append(',');
            }
            payload.append(entry);
        }
        if (payload.length() > start) {
            payloads.add(payload.toString());
        }
        for (String message : payloads) {
            notifications.send(CHANNEL, message);
        }
    }

    /**
     * A dedicated thread, not a scheduled job: it waits for appends and flushes within
     * milliseconds of them, which a periodic job could only do by firing hundreds of
     * times a second for nothing.
     */
    @Override
    public void start() {
        running = true;
        flusher = Thread.ofPlatform().daemon().name("event-notify").start(this::flushLoop);
    }

    /**
     * The thread flushes what is left and ends (not interrupted: that could cut a NOTIFY
     * short).
     */
    @Override
    public void stop() {
        running = false;
        signal.release();
        Thread thread = flusher;
        if (thread != null) {
            try {
                thread.join(STOP_WAIT.toMillis());
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return ShutdownOrder.NOTIFICATIONS;
    }

}
