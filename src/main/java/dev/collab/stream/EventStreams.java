package dev.collab.stream;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

import dev.collab.access.AccessGrant;
import dev.collab.access.CurrentUser;
import dev.collab.event.Event;
import dev.collab.event.EventLog;
import dev.collab.ops.ShutdownOrder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes one SSE stream: replay from the log after the client's cursor (with a
 * {@code gap} event past the replay cap) on the request's thread, then live events from
 * the hub, heartbeats in between, with non-blocking servlet output ({@link LiveStream}):
 * the hub's threads write each event to every connection that can take it, no thread per
 * stream waits. Each event goes out once and in seq order: the stream keeps its own
 * cursor, skips what it already sent and reads from the log itself whatever a batch from
 * the hub does not connect to.
 */
@Component
class EventStreams implements SmartLifecycle {

    static final String SESSION_ENDED = Event.SESSION_ENDED;

    private static final int REPLAY_PAGE = 500;

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(EventStreams.class);

    private final EventLog eventLog;

    private final StreamHub hub;

    private final StreamReads reads;

    private final StreamProperties properties;

    private final JsonMapper json;

    private final Clock clock;

    /**
     * Who is told of streams opening and closing (the presence module): through a
     * provider, as they live in modules that depend on this one.
     */
    private final org.springframework.beans.factory.ObjectProvider<StreamWatchers> watchers;

    private final Counter delivered;

    private final Counter slowClientsClosed;

    private final Timer latency;

    /**
     * Heartbeats and maximum ages of live streams: one thread for all (each task only
     * signals a stream). Not Spring's task scheduler: that one starts a new thread for
     * every timer that fires (thousands of heartbeats every interval) and keeps a
     * cancelled timer queued until it is due, where a 30-minute age timer of every stream
     * that closed early would pile up during a reconnect storm; here a cancelled timer
     * leaves the queue at once. Made with this bean, as streams go live once the web
     * server runs, before this phase starts; stopped in {@link #stop()}, made again by a
     * {@link #start()} after a stop (a test context that Spring paused and resumes).
     */
    private volatile ScheduledThreadPoolExecutor timers = newTimers();

    private volatile boolean running;

    EventStreams(EventLog eventLog, StreamHub hub, StreamReads reads, StreamProperties properties, JsonMapper json,
            Clock clock, MeterRegistry registry,
            org.springframework.beans.factory.ObjectProvider<StreamWatchers> watchers) {
        this.watchers = watchers;
        this.eventLog = eventLog;
        this.hub = hub;
        this.reads = reads;
        this.properties = properties;
        this.json = json;
        this.clock = clock;
        this.delivered = Counter.builder("collab.events.delivered")
            .description("Events written to streams")
            .register(registry);
        this.slowClientsClosed = Counter.builder("collab.stream.slow.clients.closed")
            .description("Streams closed because the client could not keep up")
            .register(registry);
        this.latency = Timer.builder("collab.stream.delivery.latency")
            .description("From an event's append to its write on a live stream")
            .publishPercentileHistogram()
            .register(registry);
    }

    /**
     * The session's head and state for a stream opening at {@code cursor}, or empty for
     * an unknown session: mostly from the hub's memory, else one query shared by the
     * streams opening together ({@link StreamHub#sessionHead}).
     */
    java.util.Optional<EventLog.SessionHead> sessionHead(UUID sessionId, long cursor) {
        return hub.sessionHead(sessionId, cursor);
    }

    /**
     * The key of the session's project, empty for an unknown session: known without a
     * query while the session has streams here, else read (in turn with the streams'
     * other reads).
     */
    java.util.Optional<String> project(UUID sessionId) {
        return hub.project(sessionId);
    }

    /**
     * Streams the session's events after {@code cursor} until the session ends, the
     * client goes, it falls too far behind, the connection reaches its maximum age, or
     * the server shuts down. The replay is written here, on the request's thread; the
     * live part goes on asynchronously ({@link LiveStream}) after this returns, unless
     * the stream already ended. Nothing is written before the replay's first part is in
     * hand, so a read that cannot get its turn still becomes a problem answer
     * ({@code 503 database-busy}), not a stream cut short.
     */
    void stream(UUID sessionId, long cursor, long head, @Nullable AccessGrant grant, @Nullable CurrentUser user,
            HttpServletRequest request, ServletResponse response) throws IOException {
        int cap = properties.maxReplay();
        String gap = null;
        long gapTo = 0;
        if (head - cursor > cap) {
            gapTo = head - cap;
            gap = json.writeValueAsString(Map.of("from", cursor + 1, "to", gapTo));
            cursor = gapTo;
        }
        // Subscribed first, so nothing appended meanwhile can fall between replay and
        // live.
        Subscription subscription = hub.subscribe(sessionId, properties.bufferEvents(), head, grant);
        boolean live = false;
        boolean stuckUntilTimeout = false;
        Sse sse = null;
        try {
            StreamHub.Replay recent = hub.replay(subscription, cursor);
            long floor = recent.floor();
            // Memory does not reach back to the cursor: the events before it come from
            // the log, in
            // pages, the first one before anything is written.
            List<Frame> older = cursor < floor ? readPage(sessionId, cursor, floor) : List.of();
            ServletOutputStream out = response.getOutputStream();
            sse = new Sse(out);
            sse.retry(3000);
            if (gap != null) {
                sse.event(gapTo, "gap", gap);
            }
            while (!older.isEmpty()) {
                for (Frame frame : older) {
                    if (write(sse, frame)) {
                        return;
                    }
                    cursor = frame.seq();
                }
                sse.flush();
                older = cursor < floor ? readPage(sessionId, cursor, floor) : List.of();
            }
            for (Frame frame : recent.frames()) {
                if (frame.seq() <= cursor) {
                    continue;
                }
                if (write(sse, frame)) {
                    return;
                }
                cursor = frame.seq();
            }
            sse.flush();
            if (subscription.closed() || subscription.overflowed()) {
                return; // shutting down (or already too far behind): replayed, and ends
                        // here
            }
            AsyncContext async = request.startAsync();
            // Told before the stream goes live (it may end at once, and tells its end).
            StreamWatch watch = user != null && grant != null ? new StreamWatch(UUID.randomUUID(), sessionId,
                    grant.projectKey(), user, clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS)) : null;
            if (watch != null) {
                opened(watch, subscription);
            }
            try {
                LiveStream.start(this, subscription, async, out, cursor, properties.heartbeat(),
                        properties.maxConnectionAge(), watch);
                live = true;
            }
            catch (RuntimeException e) {
                // LiveStream.start told the watchers it closed.
                // Not live after all (timers refused during shutdown, say): end the
                // request here.
                log.debug("Stream of session {} could not go live: {}", sessionId, e.toString());
                try {
                    async.complete();
                }
                catch (IllegalStateException completed) {
                    // the container ended it already
                }
            }
        }
        catch (IOException e) {
            stuckUntilTimeout = timedOut(e);
            throw e;
        }
        catch (RuntimeException e) {
            if (sse == null) {
                throw e; // nothing written yet: the client gets a problem answer
            }
            // A read failed mid-replay: the client resumes with Last-Event-ID.
            log.debug("Replay of session {} failed: {}", sessionId, e.toString());
        }
        finally {
            if (!live) {
                hub.unsubscribe(subscription);
                if (subscription.overflowed() || stuckUntilTimeout) {
                    // Too slow: its buffer overflowed, or a write to it was stuck until
                    // the idle timeout.
                    slowClientsClosed.increment();
                }
                if (sse != null) {
                    try {
                        sse.flush();
                    }
                    catch (IOException e) {
                        // the client is gone
                    }
                }
            }
        }
    }

    /**
     * Up to a page of events {@code after < seq <= upTo} from the log, in turn with other
     * streams' reads.
     */
    private List<Frame> readPage(UUID sessionId, long after, long upTo) {
        return reads.read("replay", () -> eventLog.readRange(sessionId, after, Math.min(upTo, after + REPLAY_PAGE)))
            .stream()
            .map(event -> Frame.of(event, json))
            .toList();
    }

    StreamHub hub() {
        return hub;
    }

    /**
     * A stream of this instance goes live: every {@link StreamWatchers} bean is told, and
     * its greeting, if any, queued for this stream alone (written once live, after the
     * replay).
     */
    void opened(StreamWatch watch, Subscription subscription) {
        watchers.orderedStream().forEach(watcher -> {
            try {
                StreamWatchers.Message greeting = watcher.greeting(watch);
                if (greeting != null) {
                    subscription.offerUnnumbered(greeting.type(),
                            SessionStreams.frame(greeting.type(), greeting.json()));
                }
            }
            catch (RuntimeException e) {
                log.warn("A stream watcher's greeting failed: {}", e.toString());
            }
            try {
                watcher.opened(watch);
            }
            catch (RuntimeException e) {
                log.warn("A stream watcher failed on open: {}", e.toString());
            }
        });
    }

    /** A stream that went live ended. */
    void closed(StreamWatch watch) {
        watchers.orderedStream().forEach(watcher -> {
            try {
                watcher.closed(watch);
            }
            catch (RuntimeException e) {
                log.warn("A stream watcher failed on close: {}", e.toString());
            }
        });
    }

    ScheduledExecutorService timers() {
        return timers;
    }

    Instant now() {
        return clock.instant();
    }

    /** A live event was written: counted and its latency from the append measured. */
    void delivered(Frame frame, Instant now) {
        delivered.increment();
        latency.record(Duration.between(frame.event().at(), now));
    }

    void slowClientClosed() {
        slowClientsClosed.increment();
    }

    /**
     * Events {@code after < seq <= upTo}, encoded (a live stream's catch-up; blocks):
     * from the hub's memory when it holds them, else from the log, in turn with other
     * streams' reads.
     */
    List<Frame> framesFromLog(UUID sessionId, long after, long upTo) {
        List<Frame> recent = hub.recentFrames(sessionId, after, upTo);
        if (recent != null) {
            return recent;
        }
        return reads.read("catch-up", () -> eventLog.readRange(sessionId, after, upTo))
            .stream()
            .map(event -> Frame.of(event, json))
            .toList();
    }

    @Override
    public void start() {
        if (timers.isShutdown()) {
            timers = newTimers();
        }
        running = true;
    }

    private static ScheduledThreadPoolExecutor newTimers() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("stream-timers").factory());
        // A closed stream's timers leave the queue at once (not only when due: the age
        // timer is 30 min away).
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    /**
     * Shutdown ({@link ShutdownOrder#STREAMS}, with the hub that closes the streams): the
     * timers go; a stream that would still set one ends without it.
     */
    @Override
    public void stop() {
        timers.shutdownNow();
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
     * A write that failed because it was blocked until the connection's idle timeout, not
     * a hang-up.
     */
    static boolean timedOut(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof java.util.concurrent.TimeoutException
                    || cause instanceof java.net.SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Writes one replayed event; true when the stream must end after it
     * ({@code session.ended}).
     */
    private boolean write(Sse sse, Frame frame) throws IOException {
        Event event = frame.event();
        sse.write(frame.bytes());
        delivered.increment();
        if (SESSION_ENDED.equals(event.type())) {
            sse.flush();
            return true;
        }
        return false;
    }

    /**
     * The SSE wire format (text/event-stream, UTF-8); data is always a single line of
     * JSON.
     */
    private static final class Sse {

        private final OutputStream out;

        Sse(OutputStream out) {
            this.out = out;
        }

        void retry(long millis) throws IOException {
            out.write(("retry: " + millis + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        void event(long id, String type, String data) throws IOException {
            out.write(("id: " + id + "\nevent: " + type + "\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        }

        void write(byte[] encoded) throws IOException {
            out.write(encoded);
        }

        void flush() throws IOException {
            out.flush();
        }

    }

}
