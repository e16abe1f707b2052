package dev.collab.event;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * This instance's fan-out of new events to its live streams. Read once, fan out many: when a
 * session's log moves, its channel reads the new events once and hands the batch to every
 * stream of that session; ordering and exactly-once per stream come from each stream's own
 * cursor (see {@link EventStreams}), never from the notification, so a lost, late or duplicate
 * wake-up cannot lose or repeat an event. A periodic check of every watched session's head
 * covers notifications that never came.
 */
@Component
class StreamHub implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(StreamHub.class);
    private static final int READ_BATCH = 1_000;
    static final Duration TAIL_CHECK = Duration.ofSeconds(5);
    /** Threads that write one batch to the streams of a session at the same time. */
    private static final int WRITERS = Runtime.getRuntime().availableProcessors();
    /** Fewer streams per thread than this are written by one thread. */
    private static final int MIN_PER_WRITER = 64;
    private static final long UNKNOWN_HEAD = -1;

    private final EventLog eventLog;
    private final JsonMapper json;
    private final JdbcClient jdbc;
    private final Map<UUID, Channel> channels = new ConcurrentHashMap<>();
    private final ExecutorService delivery = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("event-fanout-", 0).factory());
    private final ScheduledExecutorService tailCheck = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("event-tail-check").factory());
    private final AtomicLong subscribers = new AtomicLong();
    private volatile boolean closing;
    private final Counter fanOutReads;

    StreamHub(EventLog eventLog, EventPublisher publisher, JdbcClient jdbc, JsonMapper json, MeterRegistry registry) {
        this.eventLog = eventLog;
        this.json = json;
        this.jdbc = jdbc;
        publisher.onLocalAppend(this::deliverLocal);
        registry.gauge("collab.stream.subscribers", subscribers);
        this.fanOutReads = Counter.builder("collab.stream.fanout.reads")
                .description("Log reads done once for all live streams of a session").register(registry);
        tailCheck.scheduleWithFixedDelay(this::checkTails, TAIL_CHECK.toMillis(), TAIL_CHECK.toMillis(), TimeUnit.MILLISECONDS);
    }

    Subscription subscribe(UUID sessionId, int capacity) {
        Subscription subscription = new Subscription(sessionId, capacity);
        boolean channelWentAway = false;
        while (true) {
            // The head is read outside the map's lock, and only for a new channel; one that is stale
            // by then only means one more read later. A second round always has it: at most two.
            long head = !channelWentAway && channels.containsKey(sessionId) ? UNKNOWN_HEAD
                    : eventLog.head(sessionId).orElse(0);
            Channel joined = channels.compute(sessionId, (id, channel) -> {
                if (channel == null && head == UNKNOWN_HEAD) {
                    // The channel went away meanwhile (its last stream left). Never start one at 0:
                    // it would read the whole log again and overflow every stream with old events.
                    return null;
                }
                Channel target = channel != null ? channel : new Channel(id, head);
                target.subscribers.add(subscription);
                return target;
            });
            if (joined != null) {
                break;
            }
            channelWentAway = true;
        }
        subscribers.incrementAndGet();
        if (closing) {
            // Shutting down (checked after joining, so closeAll cannot miss it): replay and end.
            subscription.close();
        }
        return subscription;
    }

    void unsubscribe(Subscription subscription) {
        channels.computeIfPresent(subscription.sessionId, (id, channel) -> {
            if (channel.subscribers.remove(subscription)) {
                subscribers.decrementAndGet();
            }
            return channel.subscribers.isEmpty() ? null : channel;
        });
    }

    long subscriberCount() {
        return subscribers.get();
    }

    int channelCount() {
        return channels.size();
    }

    /** How far the shared read of the session's channel got, or -1 without a channel (for tests). */
    long channelTail(UUID sessionId) {
        Channel channel = channels.get(sessionId);
        return channel == null ? -1 : channel.tail;
    }

    /** The session's log reached at least {@code seq}: deliver what is new to its streams. */
    void wake(UUID sessionId, long seq) {
        Channel channel = channels.get(sessionId);
        if (channel != null) {
            channel.wake(seq);
        }
    }

    /**
     * An event committed on this instance: handed to the session's streams directly, without
     * reading it back from the log, when it is the next one; otherwise the log is read.
     */
    void deliverLocal(Event event) {
        Channel channel = channels.get(event.sessionId());
        if (channel != null) {
            // Off the committing thread: the request that appended answers without waiting for the fan-out.
            delivery.execute(() -> channel.deliver(event));
        }
    }

    /** Re-read every watched session's tail (after the notification connection came back). */
    void wakeAll() {
        // One past the tail, not "infinity": a real wake-up arriving meanwhile must not be settled away.
        channels.values().forEach(channel -> channel.wake(channel.tail + 1));
    }

    private void checkTails() {
        try {
            if (channels.isEmpty()) {
                return;
            }
            UUID[] ids = channels.keySet().toArray(UUID[]::new);
            jdbc.sql("select id, head_seq from sessions where id = any(:ids)").param("ids", ids)
                    .query((rs, row) -> {
                        wake(rs.getObject(1, UUID.class), rs.getLong(2));
                        return null;
                    }).list();
        } catch (RuntimeException e) {
            log.debug("Tail check failed: {}", e.toString());
        }
    }

    /** Shutdown: every stream ends now, so the graceful drain is not held up by open streams. */
    @EventListener(ContextClosedEvent.class)
    void closeAll() {
        closing = true;
        channels.values().forEach(channel -> channel.subscribers.forEach(Subscription::close));
    }

    @Override
    public void destroy() {
        closeAll();
        tailCheck.shutdownNow();
        delivery.shutdownNow();
    }

    /** The streams of one session on this instance and how far their shared read got. */
    private final class Channel {

        final UUID sessionId;
        final List<Subscription> subscribers = new CopyOnWriteArrayList<>();
        private final AtomicLong wanted;
        private final AtomicBoolean draining = new AtomicBoolean();
        private volatile long tail;

        Channel(UUID sessionId, long head) {
            this.sessionId = sessionId;
            this.tail = head;
            this.wanted = new AtomicLong(head);
        }

        void wake(long seq) {
            wanted.accumulateAndGet(seq, Math::max);
            if (wanted.get() > tail && draining.compareAndSet(false, true)) {
                delivery.execute(this::drain);
            }
        }

        /** The next event in hand (committed here): fan out at once; anything else goes through the log. */
        void deliver(Event event) {
            if (!draining.compareAndSet(false, true)) {
                wake(event.seq());
                return;
            }
            try {
                if (event.seq() == tail + 1) {
                    List<Frame> frames = List.of(Frame.of(event, json));
                    tail = event.seq();
                    offerAll(frames);
                } else {
                    wanted.accumulateAndGet(event.seq(), Math::max);
                }
            } finally {
                draining.set(false);
                if (wanted.get() > tail && draining.compareAndSet(false, true)) {
                    delivery.execute(this::drain);
                }
            }
        }

        /**
         * Hands the frames to every stream; a live stream writes them to its connection right
         * here, on this thread. Many streams are split over one thread per core, and all of them
         * are served before this returns (the next batch must not overtake this one).
         */
        private void offerAll(List<Frame> frames) {
            Subscription[] targets = subscribers.toArray(Subscription[]::new);
            int parts = Math.min(WRITERS, targets.length / MIN_PER_WRITER);
            if (parts <= 1) {
                offer(frames, targets, 0, targets.length);
                return;
            }
            CountDownLatch others = new CountDownLatch(parts - 1);
            int size = (targets.length + parts - 1) / parts;
            for (int part = 1; part < parts; part++) {
                int from = part * size;
                int to = Math.min(targets.length, from + size);
                delivery.execute(() -> {
                    try {
                        offer(frames, targets, from, to);
                    } finally {
                        others.countDown();
                    }
                });
            }
            offer(frames, targets, 0, Math.min(targets.length, size));
            boolean interrupted = false;
            while (true) {
                try {
                    others.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // shutting down: the other parts finish on their own, quickly
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        private static void offer(List<Frame> frames, Subscription[] targets, int from, int to) {
            for (int i = from; i < to; i++) {
                try {
                    targets[i].offer(frames);
                } catch (RuntimeException e) {
                    log.debug("Stream of session {} failed: {}", targets[i].sessionId, e.toString());
                }
            }
        }

        /** One drainer at a time per session: reads the new events once, hands them to every stream. */
        private void drain() {
            try {
                while (true) {
                    long target = wanted.get();
                    if (target <= tail) {
                        break;
                    }
                    List<Event> batch = eventLog.read(sessionId, tail, READ_BATCH);
                    fanOutReads.increment();
                    if (batch.isEmpty()) {
                        // Woken beyond what is committed (a re-read after reconnect): settle at the tail.
                        wanted.compareAndSet(target, tail);
                        continue;
                    }
                    tail = batch.getLast().seq();
                    List<Frame> frames = batch.stream().map(event -> Frame.of(event, json)).toList();
                    offerAll(frames);
                }
            } catch (RuntimeException e) {
                // No immediate retry (that would spin while the database is away): the next wake
                // or the periodic tail check tries again.
                log.warn("Could not read new events of session {}: {}", sessionId, e.toString());
                draining.set(false);
                return;
            }
            draining.set(false);
            if (wanted.get() > tail && draining.compareAndSet(false, true)) {
                delivery.execute(this::drain);
            }
        }
    }
}
