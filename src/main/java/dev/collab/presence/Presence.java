package dev.collab.presence;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import dev.collab.cluster.ClusterNotifications;
import dev.collab.ops.ShutdownOrder;
import dev.collab.session.SessionListChanged;
import dev.collab.session.SessionPresence;
import dev.collab.stream.SessionStreams;
import dev.collab.stream.StreamWatch;
import dev.collab.stream.StreamWatchers;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Who is watching which session, across instances. This instance's streams that open and
 * close are queued and written every {@link #BATCH} (one INSERT and one DELETE for all of
 * them), then announced with one NOTIFY on {@link #CHANNEL} that names the sessions
 * ({@code sessionId:project}, split to stay under NOTIFY's payload limit). Every instance
 * that hears it publishes {@link SessionListChanged} locally and, for the sessions it has
 * streams of, reads who is watching and sends it to them, at most once per session per
 * {@link #PUSH_EVERY} (coalesced). Every heartbeat the instance renews its rows and
 * deletes anyone's rows past the expiry (an instance that died), announcing those too.
 * <p>
 * Its own single thread does all of it (batches, heartbeat, reads for the pushes): the
 * work is a few statements per tick, and one thread keeps a batch's INSERT before the
 * DELETE of a stream that closed quickly. A lifecycle in
 * {@link ShutdownOrder#BACKGROUND}: after the streams closed (their closes are queued),
 * it writes the last batch and deletes this instance's rows.
 */
@Component
class Presence implements StreamWatchers, SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(Presence.class);

    static final String CHANNEL = "collab_presence";

    /** How often opens and closes of this instance are written. */
    static final Duration BATCH = Duration.ofMillis(100);

    /** At most one read and push per session this often. */
    static final Duration PUSH_EVERY = Duration.ofMillis(250);

    /** Watchers on a session stream's presence message. */
    static final int STREAM_WATCHERS = 50;

    /** NOTIFY's payload limit is 8,000 bytes: a margin. */
    private static final int MAX_PAYLOAD = 7_500;

    private final JdbcClient jdbc;

    private final ClusterNotifications notifications;

    private final SessionStreams streams;

    private final ApplicationEventPublisher events;

    private final JsonMapper json;

    private final Clock clock;

    private final PresenceProperties properties;

    /** This process: its rows are renewed by it and deleted when it stops. */
    private final UUID instanceId = UUID.randomUUID();

    private final ConcurrentLinkedQueue<Opened> opened = new ConcurrentLinkedQueue<>();

    /**
     * This instance's open streams: written again by the heartbeat when their rows went
     * (another instance expired them while this one could not reach the database).
     */
    private final Map<UUID, Opened> local = new ConcurrentHashMap<>();

    private final ConcurrentLinkedQueue<StreamWatch> closed = new ConcurrentLinkedQueue<>();

    /** Sessions with a push scheduled (coalescing), and when each was last pushed. */
    private final Set<UUID> pushScheduled = ConcurrentHashMap.newKeySet();

    private final Map<UUID, Long> lastPush = new ConcurrentHashMap<>();

    /**
     * Changes written but not announced (the NOTIFY failed: the database went away after
     * the write): announced with the next batch, so that no instance keeps showing
     * someone who left (nor misses someone who came, or went idle) until the session's
     * next change.
     */
    private final Set<String> unannounced = ConcurrentHashMap.newKeySet();

    /**
     * What was last sent to this instance's streams of each watched session: a stream
     * that opens gets it at once ({@link #greeting}), not at the next push. Kept and
     * dropped with {@link #lastPush}.
     */
    private final Map<UUID, PresenceView> lastSent = new ConcurrentHashMap<>();

    private volatile ScheduledThreadPoolExecutor worker = newWorker();

    private volatile boolean running;

    Presence(JdbcClient jdbc, ClusterNotifications notifications, SessionStreams streams,
            ApplicationEventPublisher events, JsonMapper json, Clock clock, PresenceProperties properties) {
        this.jdbc = jdbc;
        this.notifications = notifications;
        this.streams = streams;
        this.events = events;
        this.json = json;
        this.clock = clock;
        this.properties = properties;
        notifications.listen(CHANNEL, this::notified);
        notifications.onReconnect(this::reconnected);
    }

    private record Opened(StreamWatch watch, Instant at) {
    }

    // StreamWatchers: on the streams' threads, only queued.

    /**
     * What this instance last sent the session's streams, with the newcomer in it (their
     * new stream is active; someone new is the newest): no database read on the stream's
     * thread. Sent before the open is queued, so the push that follows the open's batch
     * (read after its row is written) comes later and replaces it. When the list sent was
     * cut at {@link #STREAM_WATCHERS} and does not name them, whether they were already
     * counted is unknown: sent as it was, that push corrects it.
     */
    @Override
    public StreamWatchers.@Nullable Message greeting(StreamWatch watch) {
        PresenceView last = lastSent.get(watch.sessionId());
        if (last == null) {
            return null; // nothing sent here lately: the push after the batch comes at
                         // once
        }
        return new StreamWatchers.Message("presence", json.writeValueAsString(withNewcomer(last, watch)));
    }

    static PresenceView withNewcomer(PresenceView last, StreamWatch watch) {
        List<SessionPresence.Watcher> watchers = new ArrayList<>(last.watchers());
        for (int i = 0; i < watchers.size(); i++) {
            SessionPresence.Watcher known = watchers.get(i);
            if (known.login().equals(watch.user().login())) {
                watchers.set(i,
                        new SessionPresence.Watcher(known.login(), known.displayName(), known.since(), "active"));
                return new PresenceView(last.sessionId(), last.count(), watchers);
            }
        }
        if (last.count() > watchers.size()) {
            return last;
        }
        watchers.addFirst(
                new SessionPresence.Watcher(watch.user().login(), watch.user().displayName(), watch.since(), "active"));
        if (watchers.size() > STREAM_WATCHERS) {
            watchers.removeLast();
        }
        return new PresenceView(last.sessionId(), last.count() + 1, watchers);
    }

    @Override
    public void opened(StreamWatch watch) {
        Opened open = new Opened(watch, watch.since());
        local.put(watch.connectionId(), open);
        opened.add(open);
    }

    @Override
    public void closed(StreamWatch watch) {
        // Out of `local` before the close is queued: a heartbeat that still re-inserts it
        // runs before the flush that deletes it (one thread for both).
        local.remove(watch.connectionId());
        closed.add(watch);
    }

    /**
     * Writes the queued opens and closes: the closes are taken first, then the opens, so
     * that every close taken has its open taken now or before (its row is inserted before
     * it is deleted: a stream that closed quickly leaves no row behind).
     */
    void flush() {
        List<StreamWatch> closes = drain(closed);
        List<Opened> opens = drain(opened);
        if (closes.isEmpty() && opens.isEmpty()) {
            if (!unannounced.isEmpty()) {
                announce(Set.of());
            }
            return;
        }
        Set<String> touched = new LinkedHashSet<>();
        try {
            if (!opens.isEmpty()) {
                insert(opens);
                opens.forEach(open -> touched.add(entry(open.watch().sessionId(), open.watch().project())));
            }
            if (!closes.isEmpty()) {
                jdbc.sql("delete from presence where connection_id = any(:ids)")
                    .param("ids", closes.stream().map(StreamWatch::connectionId).toArray(UUID[]::new))
                    .update();
                closes.forEach(close -> touched.add(entry(close.sessionId(), close.project())));
            }
        }
        catch (RuntimeException e) {
            // The database is away: tried again next tick, in the same order.
            log.debug("Could not write presence: {}", e.toString());
            requeue(opens, closes);
            return;
        }
        announce(touched);
    }

    private void requeue(List<Opened> opens, List<StreamWatch> closes) {
        List<Opened> laterOpens = drain(opened);
        opened.addAll(opens);
        opened.addAll(laterOpens);
        List<StreamWatch> laterCloses = drain(closed);
        closed.addAll(closes);
        closed.addAll(laterCloses);
    }

    private static <T> List<T> drain(ConcurrentLinkedQueue<T> queue) {
        List<T> all = new ArrayList<>();
        for (T item; (item = queue.poll()) != null;) {
            all.add(item);
        }
        return all;
    }

    private void insert(List<Opened> opens) {
        int n = opens.size();
        UUID[] connections = new UUID[n];
        UUID[] sessions = new UUID[n];
        String[] projects = new String[n];
        UUID[] users = new UUID[n];
        String[] logins = new String[n];
        String[] names = new String[n];
        Timestamp[] since = new Timestamp[n];
        for (int i = 0; i < n; i++) {
            StreamWatch watch = opens.get(i).watch();
            connections[i] = watch.connectionId();
            sessions[i] = watch.sessionId();
            projects[i] = watch.project();
            users[i] = watch.user().id();
            logins[i] = watch.user().login();
            names[i] = watch.user().displayName();
            since[i] = Timestamp.from(opens.get(i).at());
        }
        jdbc.sql("""
                insert into presence (connection_id, session_id, project_key, user_id, login, display_name,
                                      instance_id, since, seen_at)
                select c, s, p, u, l, d, :instance, t, now()
                  from unnest(:connections::uuid[], :sessions::uuid[], :projects::text[], :users::uuid[],
                              :logins::text[], :names::text[], :since::timestamptz[]) as x(c, s, p, u, l, d, t)
                on conflict (connection_id) do nothing
                """)
            .param("instance", instanceId)
            .param("connections", connections)
            .param("sessions", sessions)
            .param("projects", projects)
            .param("users", users)
            .param("logins", logins)
            .param("names", names)
            .param("since", since)
            .update();
    }

    /**
     * Every heartbeat: this instance's rows are renewed, and anyone's past the expiry
     * deleted (their instance died) and announced.
     */
    void heartbeat() {
        // What was sent to sessions no longer watched here (their last close's
        // notification missed): dropped, not kept nor greeted with later.
        lastSent.keySet().removeIf(id -> !streams.watched(id));
        lastPush.keySet().removeIf(id -> !streams.watched(id));
        try {
            // Liveness on the database's clock, the one clock all instances share (theirs
            // may drift apart); the injected Clock dates what users see (since).
            int renewed = jdbc.sql("update presence set seen_at = now() where instance_id = :instance")
                .param("instance", instanceId)
                .update();
            List<Opened> open = List.copyOf(local.values());
            if (renewed < open.size()) {
                // Some not written yet (the next batch), or deleted by another instance
                // as
                // expired after this one lost the database for a while: written again.
                insert(open);
                announce(new LinkedHashSet<>(
                        open.stream().map(o -> entry(o.watch().sessionId(), o.watch().project())).toList()));
            }
            List<String> gone = jdbc.sql("""
                    delete from presence where seen_at < now() - make_interval(secs => :expiry)
                    returning session_id, project_key
                    """)
                .param("expiry", properties.expiry().toMillis() / 1000.0)
                .query((rs, row) -> entry(rs.getObject(1, UUID.class), rs.getString(2)))
                .list();
            announce(new LinkedHashSet<>(gone));
        }
        catch (RuntimeException e) {
            log.debug("Presence heartbeat failed: {}", e.toString());
        }
    }

    private static String entry(UUID sessionId, String project) {
        return sessionId + ":" + project;
    }

    /**
     * One NOTIFY naming the sessions (more when they do not fit in one), with those not
     * announced before; when it fails they wait for the next batch (never thrown: what it
     * announces is written already).
     */
    private void announce(Set<String> changed) {
        Set<String> entries = new LinkedHashSet<>(changed);
        for (String entry : List.copyOf(unannounced)) {
            if (unannounced.remove(entry)) {
                entries.add(entry);
            }
        }
        try {
            send(entries);
        }
        catch (RuntimeException e) {
            // Sent again whole: a notification heard twice only reads presence again.
            unannounced.addAll(entries);
            log.debug("Could not announce presence changes ({} sessions): {}", entries.size(), e.toString());
        }
    }

    private void send(Set<String> entries) {
        StringBuilder payload = new StringBuilder();
        for (String entry : entries) {
            if (payload.length() + entry.length() + 1 > MAX_PAYLOAD) {
                notifications.send(CHANNEL, payload.toString());
                payload.setLength(0);
            }
            if (!payload.isEmpty()) {
                payload.append(',');
            }
            payload.append(entry);
        }
        if (!payload.isEmpty()) {
            notifications.send(CHANNEL, payload.toString());
        }
    }

    /** A NOTIFY from any instance (this one too), on the LISTEN thread: kept short. */
    void notified(String payload) {
        for (String entry : payload.split(",")) {
            int colon = entry.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            UUID sessionId;
            try {
                sessionId = UUID.fromString(entry.substring(0, colon));
            }
            catch (IllegalArgumentException e) {
                continue;
            }
            events.publishEvent(new SessionListChanged(entry.substring(colon + 1), sessionId, null));
            changed(sessionId);
        }
    }

    /**
     * The notifications' connection is back: whatever was missed meanwhile, every watched
     * session here is read again (the live lists re-read on their own).
     */
    private void reconnected() {
        for (UUID sessionId : lastPush.keySet()) {
            changed(sessionId);
        }
    }

    /**
     * Who watches the session changed: its streams here get it, at most once per
     * {@link #PUSH_EVERY}.
     */
    void changed(UUID sessionId) {
        if (!streams.watched(sessionId)) {
            forget(sessionId);
            return;
        }
        if (!pushScheduled.add(sessionId)) {
            return;
        }
        long last = lastPush.getOrDefault(sessionId, 0L);
        long delay = Math.max(0, last + PUSH_EVERY.toNanos() - System.nanoTime());
        try {
            worker.schedule(() -> push(sessionId), delay, TimeUnit.NANOSECONDS);
        }
        catch (RejectedExecutionException e) {
            pushScheduled.remove(sessionId); // stopping
        }
    }

    private void push(UUID sessionId) {
        pushScheduled.remove(sessionId); // first: a change from now on schedules another
        lastPush.put(sessionId, System.nanoTime());
        if (!streams.watched(sessionId)) {
            forget(sessionId);
            return;
        }
        try {
            PresenceView view = read(sessionId, STREAM_WATCHERS);
            lastSent.put(sessionId, view);
            streams.send(sessionId, "presence", json.writeValueAsString(view));
        }
        catch (RuntimeException e) {
            log.debug("Could not send the presence of session {}: {}", sessionId, e.toString());
        }
    }

    /** No stream of the session here any more: nothing kept for it. */
    private void forget(UUID sessionId) {
        lastPush.remove(sessionId);
        lastSent.remove(sessionId);
    }

    /**
     * Who watches the session: each user once (since: their first stream; active when any
     * of their streams is), newest first, up to {@code limit} of them, with the count of
     * all. One indexed read.
     */
    PresenceView read(UUID sessionId, int limit) {
        List<Row> rows = jdbc.sql("""
                select session_id, login, display_name, since, active, count(*) over () as total
                  from (select session_id, user_id, min(login) as login, min(display_name) as display_name,
                               min(since) as since, bool_or(active) as active
                          from presence where session_id = :session group by session_id, user_id) as w
                 order by since desc, login
                 limit :limit
                """).param("session", sessionId).param("limit", limit).query(Presence::row).list();
        return new PresenceView(sessionId, rows.isEmpty() ? 0 : rows.getFirst().total(),
                rows.stream().map(Row::watcher).toList());
    }

    private record Row(UUID sessionId, SessionPresence.Watcher watcher, int total) {
    }

    @SuppressWarnings("NullAway") // the columns read are NOT NULL
    private static Row row(ResultSet rs, int row) throws SQLException {
        return new Row(rs.getObject("session_id", UUID.class),
                new SessionPresence.Watcher(rs.getString("login"), rs.getString("display_name"),
                        rs.getObject("since", java.time.OffsetDateTime.class).toInstant(),
                        rs.getBoolean("active") ? "active" : "idle"),
                rs.getInt("total"));
    }

    /**
     * Marks the user's streams of the session, on any instance, active or idle; announced
     * when that changed anything.
     * @return whether the user has a stream of the session
     */
    boolean mark(UUID sessionId, String project, UUID userId, boolean active) {
        // On the worker, after the batch in hand: the user's streams opened in the last
        // moments are written first, and flushes stay on one thread (see flush()).
        java.util.concurrent.Future<Integer> marking;
        try {
            marking = worker.submit(() -> {
                flush();
                return jdbc.sql("""
                        update presence set active = :active
                         where session_id = :session and user_id = :user and active <> :active
                        """).param("active", active).param("session", sessionId).param("user", userId).update();
            });
        }
        catch (RejectedExecutionException e) {
            throw new dev.collab.web.DatabaseBusyException("Shutting down; retry on another instance.");
        }
        int changed;
        try {
            changed = marking.get(10, TimeUnit.SECONDS);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new dev.collab.web.DatabaseBusyException("Interrupted while marking presence.");
        }
        catch (java.util.concurrent.TimeoutException e) {
            marking.cancel(true);
            throw new dev.collab.web.DatabaseBusyException("Presence could not be written in time; retry shortly.");
        }
        catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException failure) {
                throw failure;
            }
            throw new IllegalStateException(e.getCause());
        }
        if (changed > 0) {
            announce(Set.of(entry(sessionId, project)));
        }
        return changed > 0;
    }

    @Override
    public void start() {
        if (worker.isShutdown()) {
            worker = newWorker();
        }
        long heartbeat = properties.heartbeat().toMillis();
        worker.scheduleWithFixedDelay(this::flushQuietly, BATCH.toMillis(), BATCH.toMillis(), TimeUnit.MILLISECONDS);
        worker.scheduleWithFixedDelay(this::heartbeat, heartbeat, heartbeat, TimeUnit.MILLISECONDS);
        running = true;
    }

    private void flushQuietly() {
        try {
            flush();
        }
        catch (RuntimeException e) {
            log.debug("Presence flush failed: {}", e.toString());
        }
    }

    /**
     * After the streams closed (their closes are queued): the last batch, then this
     * instance's rows go (a restart must not show its old streams until they expire).
     */
    @Override
    public void stop() {
        running = false;
        worker.shutdownNow();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            flush();
            List<String> gone = jdbc
                .sql("delete from presence where instance_id = :instance returning session_id, project_key")
                .param("instance", instanceId)
                .query((rs, row) -> entry(rs.getObject(1, UUID.class), rs.getString(2)))
                .list();
            announce(new LinkedHashSet<>(gone));
        }
        catch (RuntimeException e) {
            log.info("Could not remove this instance's presence ({}); it expires within {}", e.toString(),
                    properties.expiry());
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return ShutdownOrder.BACKGROUND;
    }

    private static ScheduledThreadPoolExecutor newWorker() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("presence").factory());
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    /** The one thread that writes batches and pushes (tests hold it up). */
    ScheduledThreadPoolExecutor worker() {
        return worker;
    }

    /** This instance's id in the {@code presence} table (tests). */
    UUID instanceId() {
        return instanceId;
    }

}
