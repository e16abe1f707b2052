package dev.collab.stream;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.collab.access.AccessGrant;
import dev.collab.event.Event;
import dev.collab.event.EventLog;
import dev.collab.ops.ShutdownOrder;
import dev.collab.web.DatabaseBusyException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * This instance's fan-out of new events to its live streams. Read once, fan out many:
 * when a session's log moves, its channel reads the new events once and hands the batch
 * to every stream of that session; ordering and exactly-once per stream come from each
 * stream's own cursor (see {@link EventStreams}), never from the notification, so a lost,
 * late or duplicate wake-up cannot lose or repeat an event. A periodic check of every
 * watched session's head covers notifications that never came.
 *
 * <p>
 * Reconnect storms (thousands of streams of one session opening at once, after a restart)
 * are served from memory: each channel keeps the session's most recent events (at most
 * {@code max-replay} of them, and {@code recent-events-size} bytes), loaded once for all
 * its streams; a stream at or near the head replays from there without a query. Head
 * look-ups of streams opening together share one query (single flight), and every read of
 * the log goes through {@link StreamReads}, so streams never take more than their share
 * of the pool.
 *
 * <p>
 * At shutdown ({@link ShutdownOrder#STREAMS}, before the web server drains) every stream
 * is closed cleanly and its client resumes elsewhere with Last-Event-ID; streams opening
 * later replay and end at once.
 */
@Component
class StreamHub implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(StreamHub.class);

    private static final int READ_BATCH = 1_000;

    /**
     * How often every watched session's head is checked (the {@code @Scheduled} rate of
     * {@link #checkTails}).
     */
    static final long TAIL_CHECK_SECONDS = 5;

    /**
     * How long the recent-events query itself may take before a waiting stream gives up
     * (503 busy).
     */
    private static final Duration RECENT_QUERY_WAIT = Duration.ofSeconds(30);

    /** Threads that write one batch to the streams of a session at the same time. */
    private static final int WRITERS = Runtime.getRuntime().availableProcessors();

    /** Fewer streams per thread than this are written by one thread. */
    private static final int MIN_PER_WRITER = 64;

    private final EventLog eventLog;

    private final JsonMapper json;

    private final JdbcClient jdbc;

    private final StreamReads reads;

    private final int recentEvents;

    private final long recentBytes;

    /**
     * Memory for the recent events of all watched sessions together
     * (collab.stream.recent-events-total-size).
     */
    private final long recentBudget;

    /**
     * What the channels' recent events take on the heap now (estimated: see
     * {@link #heapSize}).
     */
    private final AtomicLong recentHeld = new AtomicLong();

    private final Object evicting = new Object();

    /**
     * Longest a stream waits for its channel's load of recent events: a turn to read,
     * then the query.
     */
    private final Duration recentLoadWait;

    private final Map<UUID, Channel> channels = new ConcurrentHashMap<>();

    /** Head look-ups under way, one per session: streams opening together share it. */
    private final Map<UUID, CompletableFuture<Optional<EventLog.SessionHead>>> headReads = new ConcurrentHashMap<>();

    /** Project look-ups under way, one per session, shared likewise. */
    private final Map<UUID, CompletableFuture<Optional<String>>> projectReads = new ConcurrentHashMap<>();

    /**
     * The fan-out's own virtual threads, not the shared scheduler's or the request's: a
     * batch is written to thousands of connections here and must neither hold up the
     * appender nor queue behind periodic jobs. Made with the hub, not in
     * {@link #start()}: wake-ups arrive from the cluster listener and streams open as
     * soon as the web server runs, both before this phase starts (phases start in the
     * reverse of their stop order). Shut down in {@link #stop()}, made again by a
     * {@link #start()} after a stop (a test context that Spring paused and resumes).
     */
    private volatile ExecutorService delivery = newDelivery();

    private final AtomicLong subscribers = new AtomicLong();

    /**
     * A tail check is under way: a check that hangs (the database is away) is not joined
     * by the next ones.
     */
    private final AtomicBoolean checkingTails = new AtomicBoolean();

    private volatile boolean closing;

    private volatile boolean running;

    private final Counter fanOutReads;

    StreamHub(EventLog eventLog, EventPublisher publisher, JdbcClient jdbc, JsonMapper json, StreamReads reads,
            StreamProperties properties, MeterRegistry registry) {
        this.eventLog = eventLog;
        this.json = json;
        this.jdbc = jdbc;
        this.reads = reads;
        this.recentEvents = properties.maxReplay();
        this.recentBytes = properties.recentEventsSize().toBytes();
        this.recentBudget = properties.recentEventsTotalSize().toBytes();
        this.recentLoadWait = properties.readQueueTimeout().plus(RECENT_QUERY_WAIT);
        publisher.onLocalAppend(this::deliverLocal);
        publisher.onRemoteMoves(this::wake, this::wakeAll);
        registry.gauge("collab.stream.subscribers", subscribers);
        registry.gauge("collab.stream.recent.bytes", recentHeld);
        this.fanOutReads = Counter.builder("collab.stream.fanout.reads")
            .description("Log reads done once for all live streams of a session")
            .register(registry);
    }

    /**
     * The session's head and whether it ended, for a stream opening at {@code cursor}:
     * from the session's channel when there is one (its tail is a head that was true a
     * moment ago, which is all a stream needs), else from the log, one query shared by
     * every stream of the session that opens meanwhile. A shared answer may be older than
     * the client's cursor (an event committed while the query ran, received and resumed
     * from): then it is read again for this stream alone, so that a cursor is never taken
     * for one from the future. Empty for an unknown session.
     */
    Optional<EventLog.SessionHead> sessionHead(UUID sessionId, long cursor) {
        Channel channel = channels.get(sessionId);
        // Only once its recent events are loaded does a channel know whether the session
        // ended
        // (session.ended is the last event); before that its tail is a head, its `ended`
        // not yet.
        if (channel != null && channel.recentLoaded) {
            boolean ended = channel.ended; // read before the tail: ended is set after its
                                           // tail is
            long tail = channel.tail;
            if (cursor <= tail) {
                return Optional.of(new EventLog.SessionHead(tail, ended));
            }
        }
        Optional<EventLog.SessionHead> shared = sharedHead(sessionId);
        if (shared.isEmpty() || cursor <= shared.get().headSeq()) {
            return shared;
        }
        return reads.read("head", () -> eventLog.sessionHead(sessionId));
    }

    private Optional<EventLog.SessionHead> sharedHead(UUID sessionId) {
        CompletableFuture<Optional<EventLog.SessionHead>> mine = new CompletableFuture<>();
        CompletableFuture<Optional<EventLog.SessionHead>> running = headReads.putIfAbsent(sessionId, mine);
        if (running != null) {
            return await(running);
        }
        try {
            mine.complete(reads.read("head", () -> eventLog.sessionHead(sessionId)));
        }
        catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
        }
        finally {
            headReads.remove(sessionId, mine);
        }
        return await(mine);
    }

    /**
     * The result of a shared read, or its failure as it was thrown (a 503 for every
     * stream that waited on it).
     */
    private static <T> T await(CompletableFuture<T> shared) {
        try {
            return shared.join();
        }
        catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException failure) {
                throw failure;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }

    /** Subscribes at the session's head as read now (tests). */
    Subscription subscribe(UUID sessionId, int capacity) {
        return subscribe(sessionId, capacity, eventLog.head(sessionId).orElse(0));
    }

    /**
     * Joins the session's channel; a new channel starts at {@code head}, a head of the
     * session that was true when the stream opened (never 0 for a session with events:
     * that would read the whole log again and overflow every stream with old events). A
     * head that is a little old only means the channel's first load of recent events
     * moves it on.
     */
    Subscription subscribe(UUID sessionId, int capacity, long head) {
        return subscribe(sessionId, capacity, head, null);
    }

    /**
     * Like {@link #subscribe(UUID, int, long)}, for a stream that a request opened with
     * this grant (re-checked periodically: {@link StreamAccessCheck}).
     */
    Subscription subscribe(UUID sessionId, int capacity, long head, @Nullable AccessGrant grant) {
        Subscription subscription = new Subscription(sessionId, capacity, grant);
        channels.compute(sessionId, (id, channel) -> {
            Channel target = channel != null ? channel : new Channel(id, head);
            target.subscribers.add(subscription);
            return target;
        });
        subscribers.incrementAndGet();
        if (closing) {
            // Shutting down (checked after joining, so stop() cannot miss it): replay and
            // end.
            subscription.close();
        }
        return subscription;
    }

    /**
     * What a subscribed stream replays after {@code cursor}: the session's events up to
     * its channel's tail from memory, and {@code floor}, the seq up to which memory does
     * not reach (the caller reads {@code cursor < seq <= floor} from the log when its
     * cursor is below it). Events after the returned ones come to the subscription: it
     * joined before this looked. The first stream of a new channel waits for the
     * channel's one load of recent events (streams arriving meanwhile wait for the same
     * load).
     */
    Replay replay(Subscription subscription, long cursor) {
        Channel channel = channels.get(subscription.sessionId);
        if (channel == null || closing) {
            // Unsubscribed meanwhile, or shutting down (the fan-out that loads memory is
            // stopping):
            // all from the log, on the stream's own thread, and the stream ends after its
            // replay.
            return new Replay(Long.MAX_VALUE, List.of());
        }
        channel.awaitRecent();
        return channel.recentAfter(cursor);
    }

    /**
     * Events {@code after < seq <= upTo} from memory, or null when memory does not hold
     * them all (a stream's catch-up then reads the log).
     */
    @Nullable List<Frame> recentFrames(UUID sessionId, long after, long upTo) {
        Channel channel = channels.get(sessionId);
        return channel == null ? null : channel.recentBetween(after, upTo);
    }

    /**
     * A stream's replay from memory: events after its cursor, and the seq below which
     * memory has none.
     */
    record Replay(long floor, List<Frame> frames) {
    }

    void unsubscribe(Subscription subscription) {
        channels.computeIfPresent(subscription.sessionId, (id, channel) -> {
            if (channel.subscribers.remove(subscription)) {
                subscribers.decrementAndGet();
            }
            if (channel.subscribers.isEmpty()) {
                channel.release();
                return null;
            }
            return channel;
        });
    }

    /**
     * Heap estimate of the recent events (for tests and the gauge
     * {@code collab.stream.recent.bytes}).
     */
    long recentHeld() {
        return recentHeld.get();
    }

    /**
     * An entry's heap cost, estimated: its encoded frame, and the Event it keeps, whose
     * JSON data is about as long as the frame. Twice the frame, not exact, but never the
     * half of it that was counted.
     */
    private static long heapSize(Frame frame) {
        return 2L * frame.bytes().length;
    }

    /**
     * Over the budget for all sessions: the memory of the least recently used channels
     * goes, whole, until it fits (their streams replay from the log; new events fill it
     * again). One evictor at a time; a channel of a session watched right now may go too,
     * which costs queries, never events.
     */
    private void enforceBudget() {
        if (recentHeld.get() <= recentBudget) {
            return;
        }
        synchronized (evicting) {
            List<Channel> byUse = new ArrayList<>(channels.values());
            byUse.sort(java.util.Comparator.comparingLong(channel -> channel.lastUsed));
            for (Channel channel : byUse) {
                if (recentHeld.get() <= recentBudget) {
                    break;
                }
                channel.forget();
            }
        }
    }

    long subscriberCount() {
        return subscribers.get();
    }

    /** Every stream open on this instance now (the access check's snapshot). */
    List<Subscription> subscriptions() {
        List<Subscription> all = new ArrayList<>();
        for (Channel channel : channels.values()) {
            all.addAll(channel.subscribers);
        }
        return all;
    }

    /**
     * The key of the session's project, empty for an unknown session: from a grant of one
     * of its streams here, without a query (a session never moves to another project),
     * else read in turn with the streams' other reads.
     */
    @SuppressWarnings("NullAway") // a single-column query's rows are @Nullable to Spring;
                                  // sessions.project_key is NOT NULL
    Optional<String> project(UUID sessionId) {
        Channel channel = channels.get(sessionId);
        if (channel != null) {
            for (Subscription subscription : channel.subscribers) {
                AccessGrant grant = subscription.grant;
                if (grant != null) {
                    return Optional.of(grant.projectKey());
                }
            }
        }
        // One read shared by the streams of the session that open meanwhile (a reconnect
        // storm of a session not yet watched here), as for the head: unshared, 60 streams
        // opening together on a pool of 4 made 60 reads and starved the requests'
        // authentication of connections (ReconnectStormTest).
        CompletableFuture<Optional<String>> mine = new CompletableFuture<>();
        CompletableFuture<Optional<String>> running = projectReads.putIfAbsent(sessionId, mine);
        if (running != null) {
            return await(running);
        }
        try {
            mine.complete(reads.read("project",
                    () -> jdbc.sql("select project_key from sessions where id = :id")
                        .param("id", sessionId)
                        .query(String.class)
                        .optional()));
        }
        catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
        }
        finally {
            projectReads.remove(sessionId, mine);
        }
        return await(mine);
    }

    /** Whether this instance has a stream of the session. */
    boolean watched(UUID sessionId) {
        return channels.containsKey(sessionId);
    }

    /**
     * A message without an id for every stream of the session here (see
     * {@link SessionStreams#send}): each writes it between events, the latest of a type
     * replacing one not yet written.
     */
    void sendUnnumbered(UUID sessionId, String type, byte[] message) {
        Channel channel = channels.get(sessionId);
        if (channel == null || closing) {
            return;
        }
        for (Subscription subscription : channel.subscribers) {
            subscription.offerUnnumbered(type, message);
        }
    }

    int channelCount() {
        return channels.size();
    }

    /**
     * How far the shared read of the session's channel got, or -1 without a channel (for
     * tests).
     */
    long channelTail(UUID sessionId) {
        Channel channel = channels.get(sessionId);
        return channel == null ? -1 : channel.tail;
    }

    /**
     * The session's log reached at least {@code seq}: deliver what is new to its streams.
     */
    void wake(UUID sessionId, long seq) {
        Channel channel = channels.get(sessionId);
        if (channel != null) {
            channel.wake(seq);
        }
    }

    /**
     * An event committed on this instance: handed to the session's streams directly,
     * without reading it back from the log, when it is the next one; otherwise the log is
     * read.
     */
    void deliverLocal(Event event) {
        Channel channel = channels.get(event.sessionId());
        if (channel != null && !closing) {
            // Off the committing thread: the request that appended answers without
            // waiting for the fan-out.
            try {
                delivery.execute(() -> channel.deliver(event));
            }
            catch (RejectedExecutionException e) {
                // stopped meanwhile: its streams are closed
            }
        }
    }

    /**
     * Re-read every watched session's tail (after the notification connection came back).
     */
    void wakeAll() {
        // One past the tail, not "infinity": a real wake-up arriving meanwhile must not
        // be settled away.
        channels.values().forEach(channel -> channel.wake(channel.tail + 1));
    }

    /**
     * Covers notifications that never came: every watched session's head, read in one
     * query. At a fixed rate, not a fixed delay: Spring's scheduler runs fixed-delay jobs
     * one after the other on its single thread, where a check waiting on an unreachable
     * database would hold up every other job (lease renewal among them); at a fixed rate
     * each check runs on a thread of its own, and one still under way makes the next ones
     * skip.
     */
    @Scheduled(initialDelay = TAIL_CHECK_SECONDS, fixedRate = TAIL_CHECK_SECONDS, timeUnit = TimeUnit.SECONDS)
    void checkTails() {
        if (channels.isEmpty() || !checkingTails.compareAndSet(false, true)) {
            return;
        }
        try {
            UUID[] ids = channels.keySet().toArray(UUID[]::new);
            reads.read("tail-check",
                    () -> jdbc.sql("select id, head_seq from sessions where id = any(:ids)")
                        .param("ids", ids)
                        .query((rs, row) -> {
                            wake(rs.getObject(1, UUID.class), rs.getLong(2));
                            return null;
                        })
                        .list());
        }
        catch (RuntimeException e) {
            log.debug("Tail check failed: {}", e.toString());
        }
        finally {
            checkingTails.set(false);
        }
    }

    @Override
    public void start() {
        if (delivery.isShutdown()) {
            delivery = newDelivery();
        }
        closing = false;
        running = true;
    }

    private static ExecutorService newDelivery() {
        return Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("event-fanout-", 0).factory());
    }

    /**
     * Shutdown: every stream ends now (clients resume on another instance with
     * Last-Event-ID), so the graceful drain is not held up by streams that never end;
     * then the fan-out stops.
     */
    @Override
    public void stop() {
        closing = true;
        int closed = 0;
        for (Channel channel : channels.values()) {
            for (Subscription subscription : channel.subscribers) {
                subscription.close();
                closed++;
            }
        }
        log.info("Closed {} live streams for shutdown; their clients resume on another instance", closed);
        // Not shutdownNow: a read in flight finishes rather than failing the stream that
        // waits on it.
        delivery.shutdown();
        running = false;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return ShutdownOrder.STREAMS;
    }

    /**
     * The streams of one session on this instance, how far their shared read got, and the
     * session's most recent events up to there. One thread at a time (the holder of
     * {@code draining}) reads, moves the tail, fills the memory and hands out; streams
     * read the memory under its lock.
     */
    private final class Channel {

        final UUID sessionId;

        /**
         * A concurrent set, not a copy-on-write list: 5,000 streams joining at once made
         * 5,000 copies of a growing array under the map's lock (8 % of the samples of a
         * 3,000-stream storm).
         */
        final java.util.Set<Subscription> subscribers = ConcurrentHashMap.newKeySet();

        private final AtomicLong wanted;

        private final AtomicBoolean draining = new AtomicBoolean();

        private volatile long tail;

        /**
         * The session.ended event is among those handed out (set after the tail that
         * includes it).
         */
        private volatile boolean ended;

        // The most recent events: consecutive, seq floor+1 .. tail. Guarded by `recent`.
        private final ArrayDeque<Frame> recent = new ArrayDeque<>();

        private long floor;

        private long recentSize;

        /**
         * Left the hub: its memory no longer counts towards the budget. Guarded by
         * `recent`.
         */
        private boolean released;

        /**
         * When a stream last replayed from this memory (System.nanoTime), for eviction by
         * least recent use.
         */
        volatile long lastUsed = System.nanoTime();

        /**
         * The last events of the log were loaded into memory once (later ones are added
         * as they come).
         */
        private volatile boolean recentLoaded;

        private volatile boolean loadWanted;

        private volatile CompletableFuture<Void> recentLoad = new CompletableFuture<>();

        Channel(UUID sessionId, long head) {
            this.sessionId = sessionId;
            this.tail = head;
            this.floor = head;
            this.wanted = new AtomicLong(head);
        }

        void wake(long seq) {
            wanted.accumulateAndGet(seq, Math::max);
            kick();
        }

        private boolean workPending() {
            return wanted.get() > tail || (loadWanted && !recentLoaded);
        }

        private void kick() {
            // Once closing, no stream is left to serve (they are closed, new ones replay
            // from the log).
            if (!closing && workPending() && draining.compareAndSet(false, true)) {
                try {
                    delivery.execute(this::drain);
                }
                catch (RejectedExecutionException e) {
                    draining.set(false); // stopped meanwhile
                }
            }
        }

        /**
         * Waits until the session's last events are in memory: loaded once, by the
         * drainer, for all streams.
         */
        void awaitRecent() {
            if (recentLoaded) {
                return;
            }
            CompletableFuture<Void> load = recentLoad;
            loadWanted = true;
            kick();
            // Bounded: a load that never starts or never ends must not hold the request
            // for good.
            // (get with a timeout, not orTimeout: that would fail the shared load for
            // every stream.)
            try {
                load.get(recentLoadWait.toMillis(), TimeUnit.MILLISECONDS);
            }
            catch (java.util.concurrent.TimeoutException e) {
                throw new DatabaseBusyException("The event log could not be read in time; retry shortly.");
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DatabaseBusyException("Interrupted while waiting for the event log.");
            }
            catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof RuntimeException failure) {
                    throw failure;
                }
                if (e.getCause() instanceof Error error) {
                    throw error;
                }
                throw new IllegalStateException(e.getCause());
            }
        }

        /** Memory's events after {@code cursor}, and where memory begins. */
        Replay recentAfter(long cursor) {
            lastUsed = System.nanoTime();
            synchronized (recent) {
                List<Frame> frames = new ArrayList<>((int) Math.max(0, Math.min(recent.size(), tail - cursor)));
                for (Frame frame : recent) {
                    if (frame.seq() > cursor) {
                        frames.add(frame);
                    }
                }
                return new Replay(floor, frames);
            }
        }

        @Nullable List<Frame> recentBetween(long after, long upTo) {
            lastUsed = System.nanoTime();
            synchronized (recent) {
                if (!recentLoaded || after < floor || upTo > tail) {
                    return null;
                }
                List<Frame> frames = new ArrayList<>((int) (upTo - after));
                for (Frame frame : recent) {
                    if (frame.seq() > after && frame.seq() <= upTo) {
                        frames.add(frame);
                    }
                }
                return frames;
            }
        }

        /**
         * Consecutive frames from tail + 1 on: into memory, and the tail moves (by the
         * drainer only).
         */
        private void advance(List<Frame> frames) {
            boolean endedNow = false;
            synchronized (recent) {
                for (Frame frame : frames) {
                    recent.addLast(frame);
                    added(frame);
                    endedNow |= EventStreams.SESSION_ENDED.equals(frame.event().type());
                }
                trim();
                tail = frames.getLast().seq();
            }
            if (endedNow) {
                ended = true;
            }
            enforceBudget();
        }

        /**
         * Counts a frame into memory, here and (while in the hub) in the budget. Under
         * `recent`'s lock.
         */
        private void added(Frame frame) {
            recentSize += frame.bytes().length;
            if (!released) {
                recentHeld.addAndGet(heapSize(frame));
            }
        }

        private void removed(Frame frame) {
            recentSize -= frame.bytes().length;
            if (!released) {
                recentHeld.addAndGet(-heapSize(frame));
            }
        }

        /**
         * Memory emptied (over the budget): consecutive still, nothing after the floor,
         * the floor at the tail.
         */
        void forget() {
            synchronized (recent) {
                while (!recent.isEmpty()) {
                    removed(recent.removeFirst());
                }
                floor = tail;
            }
        }

        /** The channel left the hub (no streams): its memory is no longer counted. */
        void release() {
            synchronized (recent) {
                forget();
                released = true;
            }
        }

        /** Oldest out first, down to max-replay events and recent-events-size bytes. */
        private void trim() {
            while (!recent.isEmpty() && (recent.size() > recentEvents || recentSize > recentBytes)) {
                Frame oldest = recent.removeFirst();
                removed(oldest);
                floor = oldest.seq();
            }
        }

        /**
         * The log's last events into memory, once per channel, for all its streams;
         * events newer than the tail (the channel started from a head that is a little
         * old) go out to the streams.
         */
        private void loadRecent() {
            List<Frame> latest;
            try {
                latest = reads.read("recent", () -> eventLog.latest(sessionId, recentEvents))
                    .stream()
                    .map(event -> Frame.of(event, json))
                    .toList();
            }
            catch (RuntimeException | Error e) {
                // The waiting streams answer 503; the next stream to arrive tries again.
                // loadWanted
                // is cleared before the new future is published: a stream that takes the
                // new future
                // sets it again, and drain's failure path then starts that stream's load.
                CompletableFuture<Void> failed = recentLoad;
                loadWanted = false;
                recentLoad = new CompletableFuture<>();
                failed.completeExceptionally(e);
                throw e;
            }
            List<Frame> fresh = List.of();
            if (!latest.isEmpty() && latest.getLast().seq() >= tail) {
                long before = tail;
                fresh = latest.stream().filter(frame -> frame.seq() > before).toList();
                boolean endedNow = latest.getLast().event().type().equals(EventStreams.SESSION_ENDED);
                synchronized (recent) {
                    while (!recent.isEmpty()) {
                        removed(recent.removeFirst());
                    }
                    for (Frame frame : latest) {
                        recent.addLast(frame);
                        added(frame);
                    }
                    floor = latest.getFirst().seq() - 1;
                    trim();
                    tail = latest.getLast().seq();
                }
                if (endedNow) {
                    ended = true;
                }
                enforceBudget();
            }
            recentLoaded = true;
            recentLoad.complete(null);
            if (!fresh.isEmpty()) {
                offerAll(fresh);
            }
        }

        /**
         * The next event in hand (committed here): fan out at once; anything else goes
         * through the log.
         */
        void deliver(Event event) {
            if (!draining.compareAndSet(false, true)) {
                wake(event.seq());
                return;
            }
            try {
                if (event.seq() == tail + 1) {
                    List<Frame> frames = List.of(Frame.of(event, json));
                    advance(frames);
                    offerAll(frames);
                }
                else {
                    wanted.accumulateAndGet(event.seq(), Math::max);
                }
            }
            finally {
                draining.set(false);
                kick();
            }
        }

        /**
         * Hands the frames to every stream; a live stream writes them to its connection
         * right here, on this thread. Many streams are split over one thread per core,
         * and all of them are served before this returns (the next batch must not
         * overtake this one).
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
                Runnable share = () -> {
                    try {
                        offer(frames, targets, from, to);
                    }
                    finally {
                        others.countDown();
                    }
                };
                try {
                    delivery.execute(share);
                }
                catch (RejectedExecutionException e) {
                    share.run(); // stopping: this thread serves the share itself
                }
            }
            offer(frames, targets, 0, Math.min(targets.length, size));
            boolean interrupted = false;
            while (true) {
                try {
                    others.await();
                    break;
                }
                catch (InterruptedException e) {
                    interrupted = true; // shutting down: the other parts finish on their
                                        // own, quickly
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
                }
                catch (RuntimeException e) {
                    log.debug("Stream of session {} failed: {}", targets[i].sessionId, e.toString());
                }
            }
        }

        /**
         * One drainer at a time per session: loads the recent events when a stream waits
         * for them, reads the new events once, hands them to every stream.
         */
        private void drain() {
            boolean again;
            try {
                while (true) {
                    if (loadWanted && !recentLoaded) {
                        loadRecent();
                        continue;
                    }
                    long target = wanted.get();
                    if (target <= tail) {
                        break;
                    }
                    List<Event> batch = reads.read("fanout", () -> eventLog.read(sessionId, tail, READ_BATCH));
                    fanOutReads.increment();
                    if (batch.isEmpty()) {
                        // Woken beyond what is committed (a re-read after reconnect):
                        // settle at the tail.
                        wanted.compareAndSet(target, tail);
                        continue;
                    }
                    List<Frame> frames = batch.stream().map(event -> Frame.of(event, json)).toList();
                    advance(frames);
                    offerAll(frames);
                }
                again = true; // what arrived while this drained
            }
            catch (RuntimeException e) {
                // No immediate retry of the same read (that would spin while the database
                // is away):
                // the next wake, stream or the periodic tail check tries again. Only a
                // stream that
                // began waiting for the recent events after a failed load is served now:
                // nothing
                // else would start its load.
                log.warn("Could not read events of session {}: {}", sessionId, e.toString());
                again = loadWanted && !recentLoaded;
            }
            finally {
                // Also on an Error: a drainer that never let go would silence the session
                // for good.
                draining.set(false);
            }
            if (again) {
                kick();
            }
        }

    }

}
