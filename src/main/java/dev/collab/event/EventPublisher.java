package dev.collab.event;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Tells everyone that a session's log moved, after the append committed. Local streams are
 * woken at once; other instances through PostgreSQL NOTIFY, batched: NOTIFY takes a global lock
 * at commit, so one per append would cap appends at about 2,000/s. One publisher thread flushes
 * every few milliseconds a NOTIFY naming every session that moved (ids and head seqs only, never
 * payloads: a notification carries at most 8,000 bytes).
 */
@Component
class EventPublisher implements DisposableBean {

    static final String CHANNEL = "collab_events";
    /** Payloads stay well under PostgreSQL's 8,000-byte limit. */
    private static final int MAX_PAYLOAD = 7_500;
    private static final long BATCH_WINDOW_MILLIS = 2;

    private static final Logger log = LoggerFactory.getLogger(EventPublisher.class);

    /** Lets listeners drop their own instance's notifications (they woke local streams already). */
    final String instanceId = UUID.randomUUID().toString().substring(0, 8);
    private final JdbcClient jdbc;
    private final Map<UUID, Long> moved = new ConcurrentHashMap<>();
    private final Semaphore signal = new Semaphore(0);
    private final Thread flusher;
    private volatile boolean running = true;
    private volatile java.util.function.Consumer<Event> localDelivery = event -> { };

    EventPublisher(JdbcClient jdbc) {
        this.jdbc = jdbc;
        this.flusher = Thread.ofPlatform().daemon().name("event-notify").start(this::flushLoop);
    }

    void onLocalAppend(java.util.function.Consumer<Event> delivery) {
        this.localDelivery = delivery;
    }

    /** Called after an append committed: local streams get the event in hand, other instances a NOTIFY. */
    void appended(Event event) {
        try {
            localDelivery.accept(event);
        } catch (RuntimeException e) {
            // Never the appender's problem (the event is committed): streams catch up from the log.
            log.warn("Could not hand event {} of session {} to local streams: {}", event.seq(), event.sessionId(),
                    e.toString());
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
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // Other instances' periodic tail check covers a lost notification.
                log.warn("Could not notify other instances of new events: {}", e.toString());
            }
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
            jdbc.sql("select pg_notify(:channel, :payload)").param("channel", CHANNEL).param("payload", message)
                    .query().singleValue();
        }
    }

    @Override
    public void destroy() {
        running = false;
        flusher.interrupt();
    }
}
