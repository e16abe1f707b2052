package dev.collab.stream;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import dev.collab.ops.ShutdownOrder;
import dev.collab.session.Session;
import dev.collab.session.SessionListChanged;
import dev.collab.session.SessionView;
import dev.collab.session.SessionViews;
import dev.collab.session.Sessions;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * The live session lists of this instance: which projects are watched, by whom, and what
 * changed since the last tick. Every 250 ms (the coalescing tick: at most one update per
 * session per tick), the sessions that moved (the log's append wake-ups, local and from
 * other instances, which carry session ids only) or whose presence or read position
 * changed ({@link SessionListChanged}) are read in ONE query for all watched projects,
 * their shared fields computed once per project ({@link SessionViews#shared}), their
 * per-user fields once per distinct watching user ({@link SessionViews#forUser}), and the
 * JSON serialised once per user and handed to each of that user's streams.
 */
@Component
class SessionListHub implements SmartLifecycle {

    static final Duration TICK = Duration.ofMillis(250);

    /**
     * A resume also sends the sessions active this long before the client's version was
     * handed out (or before now, if earlier): list versions come from a sequence, taken
     * when a row changes, but transactions commit in another order. A change with version
     * 5 may commit after one with version 7 that a client already has (id 7); resuming
     * after 7 would miss 5 for good. Every append moves last_activity_at, and no append
     * transaction stays open anywhere near 10 s, so the rows still committing behind a
     * version are among those active in the 10 s before it. Measured from the version,
     * not from the resume: a client away for a minute comes back long after (see
     * {@link Sessions#changedSince}).
     */
    static final Duration RESUME_OVERLAP = Duration.ofSeconds(10);

    /** Session→project memory is forgotten past this (it is refilled by one query). */
    private static final int MAX_KNOWN_SESSIONS = 200_000;

    /**
     * At most this many sessions per watched project are re-read after lost notifications
     * (the most recently active).
     */
    private static final int MAX_RESYNC = 1_000;

    private static final Logger log = LoggerFactory.getLogger(SessionListHub.class);

    private final Sessions sessions;

    private final SessionViews views;

    private final StreamReads reads;

    private final JsonMapper json;

    private final Clock clock;

    private final Map<String, Set<ListStream>> watched = new ConcurrentHashMap<>();

    /**
     * The project of each session seen (of watched projects and others): wake-ups of
     * sessions of unwatched projects are dropped without a query.
     */
    private final Map<UUID, String> projectOf = new ConcurrentHashMap<>();

    /** Sessions whose log moved since the last tick (their row changed). */
    private final Set<UUID> moved = ConcurrentHashMap.newKeySet();

    /** Sessions whose presence changed for everyone since the last tick. */
    private final Set<UUID> presence = ConcurrentHashMap.newKeySet();

    /** Sessions whose per-user fields changed for one user (read position). */
    private final Map<UUID, Set<UUID>> ofUser = new ConcurrentHashMap<>();

    /**
     * The highest list version handed to the streams of each watched project: where a
     * re-read starts when notifications may have been lost.
     */
    private final Map<String, Long> handedOut = new ConcurrentHashMap<>();

    /**
     * The LISTEN connection came back: the next tick re-reads what changed in every
     * watched project since {@link #handedOut} (notifications sent meanwhile are lost).
     */
    private volatile boolean resync;

    /** First-page reads under way, per project and limit (see {@link Flight}). */
    private final Map<String, Flight> flights = new ConcurrentHashMap<>();

    private volatile ScheduledThreadPoolExecutor ticker = newTicker();

    private volatile boolean running;

    /**
     * CPU time of the ticks (the tick thread's: query, views, JSON, hand-over; not the
     * streams' own writes), for the benchmark and operators.
     */
    private final java.util.concurrent.atomic.AtomicLong tickCpuNanos = new java.util.concurrent.atomic.AtomicLong();

    private final io.micrometer.core.instrument.Timer ticks;

    private final io.micrometer.core.instrument.Counter bytesOffered;

    SessionListHub(Sessions sessions, SessionViews views, StreamReads reads, JsonMapper json, Clock clock,
            EventPublisher publisher, io.micrometer.core.instrument.MeterRegistry registry) {
        this.sessions = sessions;
        this.views = views;
        this.reads = reads;
        this.json = json;
        this.clock = clock;
        publisher.onLocalAppend(event -> moved(event.sessionId()));
        publisher.onRemoteMoves((sessionId, seq) -> moved(sessionId), this::movedAll);
        schedule(ticker);
        this.ticks = io.micrometer.core.instrument.Timer.builder("collab.session.list.tick")
            .description("Live session lists: one coalescing tick (read, views, JSON for every watcher)")
            .register(registry);
        this.bytesOffered = io.micrometer.core.instrument.Counter.builder("collab.session.list.bytes")
            .description("Live session lists: bytes of updates handed to streams")
            .baseUnit("bytes")
            .register(registry);
        io.micrometer.core.instrument.FunctionCounter
            .builder("collab.session.list.tick.cpu", tickCpuNanos, nanos -> nanos.get() / 1e9)
            .description("Live session lists: CPU seconds of the coalescing ticks")
            .baseUnit("seconds")
            .register(registry);
        registry.gauge("collab.session.list.streams", this, SessionListHub::watchers);
    }

    private void schedule(ScheduledThreadPoolExecutor executor) {
        executor.scheduleWithFixedDelay(this::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static ScheduledThreadPoolExecutor newTicker() {
        return new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().daemon().name("session-list-tick").factory());
    }

    void moved(UUID sessionId) {
        if (watched.isEmpty()) {
            return;
        }
        String project = projectOf.get(sessionId);
        if (project == null || watched.containsKey(project)) {
            moved.add(sessionId);
        }
    }

    /**
     * Notifications may have been lost (the LISTEN connection came back): every session
     * of a watched project that this instance knows is read again, and the next tick asks
     * each watched project what changed since the version its streams have (a session
     * this instance never saw — created on another instance meanwhile, or beyond the
     * first page — is not in {@link #projectOf}).
     */
    private void movedAll() {
        projectOf.forEach((session, project) -> {
            if (watched.containsKey(project)) {
                moved.add(session);
            }
        });
        resync = true;
    }

    @EventListener
    void listChanged(SessionListChanged change) {
        if (!watched.containsKey(change.project())) {
            return;
        }
        projectOf.put(change.sessionId(), change.project());
        UUID user = change.userId();
        if (user == null) {
            presence.add(change.sessionId());
        }
        else {
            ofUser.computeIfAbsent(user, u -> ConcurrentHashMap.newKeySet()).add(change.sessionId());
        }
    }

    /**
     * Registers a stream before its first page is read: every change from then on reaches
     * it (at worst twice).
     */
    void watch(ListStream stream) {
        watched.computeIfAbsent(stream.project, p -> ConcurrentHashMap.newKeySet()).add(stream);
    }

    void unwatch(ListStream stream) {
        watched.computeIfPresent(stream.project, (p, streams) -> {
            streams.remove(stream);
            if (streams.isEmpty()) {
                handedOut.remove(p);
                return null;
            }
            return streams;
        });
    }

    int watchers() {
        return watched.values().stream().mapToInt(Set::size).sum();
    }

    List<ListStream> streams() {
        return watched.values().stream().flatMap(Set::stream).toList();
    }

    /**
     * The {@code snapshot} message for a registered stream: the first page as the list
     * gives it to the stream's user, and the project's version read before it.
     */
    ListStream.Message snapshot(ListStream stream, int limit) {
        Shared page = firstPage(stream.project, limit);
        handedOut.merge(stream.project, page.version(), Math::max);
        // Through the streams' reads, as every read of an opening stream: the per-user
        // fields are queries too (read positions), and a storm of opening lists must not
        // borrow as many pooled connections at once.
        List<SessionView> items = reads.read("session-list", () -> views.forUser(page.drafts(), stream.userId));
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("items", items);
        data.put("nextCursor", page.nextCursor());
        return new ListStream.Message(encode("snapshot", data), page.version());
    }

    /**
     * What changed after list version {@code after} (see {@link #RESUME_OVERLAP}), as one
     * {@code sessions} message, or null when more than a page changed (the client gets a
     * snapshot instead).
     */
    ListStream.@Nullable Message resume(ListStream stream, long after, int limit) {
        long version = reads.read("session-list", () -> sessions.listVersion(stream.project));
        List<Sessions.Versioned> changed = reads.read("session-list",
                () -> sessions.changedSince(stream.project, after, clock.instant(), RESUME_OVERLAP, limit + 1));
        if (changed.size() > limit) {
            return null;
        }
        changed.forEach(row -> projectOf.put(row.session().id(), stream.project));
        handedOut.merge(stream.project, Math.max(version, after), Math::max);
        if (changed.isEmpty()) {
            return new ListStream.Message(new byte[0], -1);
        }
        List<SessionView> items = reads.read("session-list",
                () -> views.views(changed.stream().map(Sessions.Versioned::session).toList(), stream.userId));
        return new ListStream.Message(encode("sessions", Map.of("items", items)), Math.max(version, after));
    }

    /**
     * The first page's shared part: streams of the project opening together share one
     * read (a {@link Flight} they joined before it started), where the user does not
     * matter.
     */
    private Shared firstPage(String project, int limit) {
        String key = project + "\n" + limit;
        while (true) {
            Flight flight = flights.computeIfAbsent(key, k -> new Flight());
            if (flight.join()) {
                boolean mine = flight.claimRead();
                if (mine) {
                    try {
                        flight.result.complete(reads.read("session-list", () -> {
                            // Started now: whoever joins from here on waits for the next
                            // flight (it registered after this read began).
                            flight.start();
                            flights.remove(key, flight);
                            Sessions.FirstPage page = sessions.firstPage(project, limit);
                            page.items().forEach(row -> projectOf.put(row.id(), project));
                            return new Shared(page.version(), views.shared(page.items()), page.nextCursor());
                        }));
                    }
                    catch (RuntimeException e) {
                        flights.remove(key, flight);
                        flight.result.completeExceptionally(e);
                    }
                }
                try {
                    return flight.result.join();
                }
                catch (java.util.concurrent.CompletionException e) {
                    if (e.getCause() instanceof RuntimeException cause) {
                        throw cause;
                    }
                    throw e;
                }
            }
            flights.remove(key, flight); // started already: a new one for this stream
        }
    }

    private record Shared(long version, List<SessionView.Draft> drafts, @Nullable String nextCursor) {
    }

    /**
     * One first-page read that streams may join until it starts (then a change committed
     * after a joiner registered could be missing from the page and from its updates).
     */
    private static final class Flight {

        final CompletableFuture<Shared> result = new CompletableFuture<>();

        private boolean started;

        private boolean reading;

        synchronized boolean join() {
            return !started;
        }

        synchronized boolean claimRead() {
            if (reading) {
                return false;
            }
            reading = true;
            return true;
        }

        synchronized void start() {
            started = true;
        }

    }

    /**
     * The coalescing tick: everything that changed since the last one, one message per
     * watcher.
     */
    void tick() {
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpu = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        try {
            deliver();
        }
        catch (RuntimeException e) {
            log.debug("Session list tick failed: {}", e.toString());
        }
        finally {
            if (!watched.isEmpty()) {
                ticks.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            }
            if (cpu >= 0) {
                tickCpuNanos.addAndGet(threads.getCurrentThreadCpuTime() - cpu);
            }
        }
    }

    private void deliver() {
        if (watched.isEmpty()) {
            moved.clear();
            presence.clear();
            ofUser.clear();
            return;
        }
        Set<UUID> movedNow = drain(moved);
        Set<UUID> presenceNow = drain(presence);
        Map<UUID, Set<UUID>> ofUserNow = new HashMap<>();
        for (UUID user : List.copyOf(ofUser.keySet())) {
            Set<UUID> ids = ofUser.remove(user);
            if (ids != null) {
                ofUserNow.put(user, ids);
            }
        }
        boolean resyncNow = resync;
        resync = false;
        try {
            if (resyncNow) {
                for (String project : List.copyOf(watched.keySet())) {
                    long since = handedOut.getOrDefault(project, 0L);
                    reads
                        .read("session-list",
                                () -> sessions.changedSince(project, since, clock.instant(), RESUME_OVERLAP,
                                        MAX_RESYNC))
                        .forEach(row -> {
                            projectOf.put(row.session().id(), project);
                            movedNow.add(row.session().id());
                        });
                }
            }
            Set<UUID> ids = new HashSet<>(movedNow);
            ids.addAll(presenceNow);
            ofUserNow.values().forEach(ids::addAll);
            ids.removeIf(id -> {
                String project = projectOf.get(id);
                return project != null && !watched.containsKey(project);
            });
            if (ids.isEmpty()) {
                return;
            }
            List<Sessions.Versioned> rows = reads.read("session-list", () -> sessions.versioned(ids));
            if (projectOf.size() > MAX_KNOWN_SESSIONS) {
                projectOf.clear();
            }
            Map<String, List<Sessions.Versioned>> byProject = new HashMap<>();
            for (Sessions.Versioned row : rows) {
                String project = row.session().project();
                projectOf.put(row.session().id(), project);
                if (watched.containsKey(project)) {
                    byProject.computeIfAbsent(project, p -> new ArrayList<>()).add(row);
                }
            }
            byProject
                .forEach((project, projectRows) -> deliver(project, projectRows, movedNow, presenceNow, ofUserNow));
        }
        catch (RuntimeException e) {
            if (resyncNow) {
                resync = true;
            }
            // Tried again at the next tick: the read, and the views' reads (the
            // SessionDetails modules query too) fail alike when the database does; had
            // these been dropped, the streams would miss the changes for good (their
            // version may even reach them later with another session's). A project
            // handed over before the failure gets its sessions again: the client
            // upserts.
            moved.addAll(movedNow);
            presence.addAll(presenceNow);
            ofUserNow
                .forEach((user, set) -> ofUser.computeIfAbsent(user, u -> ConcurrentHashMap.newKeySet()).addAll(set));
            throw e;
        }
    }

    private void deliver(String project, List<Sessions.Versioned> rows, Set<UUID> movedNow, Set<UUID> presenceNow,
            Map<UUID, Set<UUID>> ofUserNow) {
        Set<ListStream> streams = watched.get(project);
        if (streams == null || streams.isEmpty()) {
            return;
        }
        long version = -1;
        Set<UUID> forEveryone = new HashSet<>();
        for (Sessions.Versioned row : rows) {
            UUID id = row.session().id();
            if (movedNow.contains(id)) {
                forEveryone.add(id);
                version = Math.max(version, row.version());
            }
            else if (presenceNow.contains(id)) {
                forEveryone.add(id);
            }
        }
        // Newest activity first, as the list: a client that does not re-sort still shows
        // them right.
        List<Session> ordered = rows.stream()
            .map(Sessions.Versioned::session)
            .sorted(java.util.Comparator.comparing(Session::lastActivityAt).thenComparing(Session::id).reversed())
            .toList();
        List<SessionView.Draft> shared = views.shared(ordered);
        if (version >= 0) {
            handedOut.merge(project, version, Math::max);
        }
        Map<UUID, List<ListStream>> byUser = new HashMap<>();
        for (ListStream stream : streams) {
            if (!stream.closed()) {
                byUser.computeIfAbsent(stream.userId, u -> new ArrayList<>()).add(stream);
            }
        }
        for (Map.Entry<UUID, List<ListStream>> entry : byUser.entrySet()) {
            Set<UUID> own = ofUserNow.getOrDefault(entry.getKey(), Set.of());
            List<SessionView.Draft> drafts = shared.stream()
                .filter(draft -> forEveryone.contains(draft.id()) || own.contains(draft.id()))
                .toList();
            if (drafts.isEmpty()) {
                continue;
            }
            List<SessionView> items = views.forUser(drafts, entry.getKey());
            ListStream.Message message = new ListStream.Message(encode("sessions", Map.of("items", items)), version);
            entry.getValue().forEach(stream -> stream.offer(message));
            bytesOffered.increment((double) message.body().length * entry.getValue().size());
        }
    }

    private static Set<UUID> drain(Set<UUID> set) {
        Set<UUID> taken = new HashSet<>();
        for (UUID id : List.copyOf(set)) {
            if (set.remove(id)) {
                taken.add(id);
            }
        }
        return taken;
    }

    private byte[] encode(String event, Object data) {
        return ("event: " + event + "\ndata: " + json.writeValueAsString(data) + "\n\n")
            .getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void start() {
        if (ticker.isShutdown()) {
            ticker = newTicker();
            schedule(ticker);
        }
        running = true;
    }

    /**
     * Shutdown, with the session streams ({@link ShutdownOrder#STREAMS}): every list
     * stream ends now; clients resume on another instance with Last-Event-ID.
     */
    @Override
    public void stop() {
        List<ListStream> open = streams();
        open.forEach(ListStream::close);
        if (!open.isEmpty()) {
            log.info("Closed {} live session lists for shutdown; their clients resume on another instance",
                    open.size());
        }
        ticker.shutdownNow();
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

}
