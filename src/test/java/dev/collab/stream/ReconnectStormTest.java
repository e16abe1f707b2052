package dev.collab.stream;

import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import javax.sql.DataSource;

import dev.collab.event.EventLog;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.SseClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reconnect storms (issue 11): many streams of one session opening at once are all
 * served, from one shared read and the hub's memory of the session's recent events, on a
 * pool far smaller than the burst; replays stay exact (seq order, no gaps, no duplicates,
 * the gap rule) whether they come from memory, from the log or from both; an exhausted
 * pool is {@code 503 database-busy}, and readiness stays UP meanwhile.
 */
@IntegrationTest
@TestPropertySource(properties = { "spring.datasource.hikari.maximum-pool-size=4",
        "spring.datasource.hikari.connection-timeout=1000", "collab.stream.max-replay=50",
        // Small, so that big events overflow it: about 40 small events or 6 of 1,000
        // characters.
        "collab.stream.recent-events-size=8KB" })
class ReconnectStormTest {

    static final Duration WAIT = Duration.ofSeconds(60);
    static final List<String> QUERIES = List.of("head", "recent", "replay", "catch-up");

    @Autowired
    EventLog eventLog;

    @Autowired
    MeterRegistry registry;

    @Autowired
    DataSource dataSource;

    @Autowired
    StreamReads reads;

    @Autowired
    StreamHub hub;

    @Autowired
    org.springframework.boot.web.server.servlet.context.ServletWebServerApplicationContext context;

    @Autowired
    Api api;

    @Test
    void aBurstOfStreamsLargerThanThePoolIsServedAndEveryStreamGetsEveryEvent() throws Exception {
        assertThat(reads.limit()).as("stream reads are bounded below the pool of 4").isEqualTo(2);
        UUID session = api.newSession(api.newProject("storm"));
        append(session, 30, 10);
        long head = eventLog.head(session).orElseThrow();
        double queriesBefore = queries();
        double loadsBefore = count("recent");

        int streams = 60;
        int appendedDuring = 10;
        List<SseClient> clients = new ArrayList<>();
        List<Long> cursors = new ArrayList<>();
        // One of the 4 connections is taken (3 left): the streams may use 2 of them at a
        // time, the
        // writer appending while they open needs the third.
        Connection held = dataSource.getConnection();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            CyclicBarrier together = new CyclicBarrier(streams + 1);
            Future<?> writer = threads.submit(() -> {
                together.await();
                append(session, appendedDuring, 10);
                return null;
            });
            List<Future<SseClient>> opening = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                // Fresh viewers (the whole history), viewers at the head and a little
                // behind it.
                long cursor = switch (i % 3) {
                    case 0 -> 0;
                    case 1 -> head;
                    default -> head - 5;
                };
                cursors.add(cursor);
                opening.add(threads.submit(() -> {
                    together.await();
                    return stream(session, cursor);
                }));
            }
            for (Future<SseClient> open : opening) {
                clients.add(open.get());
            }
            writer.get();
        }
        finally {
            held.close();
        }
        try {
            for (SseClient client : clients) {
                assertThat(client.status()).as("every stream opens, none gets a 503").isEqualTo(200);
            }
            assertThat(reads.mostRunning()).as("log reads of streams at once").isLessThanOrEqualTo(reads.limit());
            append(session, 20, 10);
            long last = head + appendedDuring + 20;
            // (Every event, below, also tells a full stream from a retry-later answer,
            // which is a 200 too.)
            for (int i = 0; i < streams; i++) {
                long cursor = cursors.get(i);
                assertConsecutive(clients.get(i).take((int) (last - cursor), WAIT), cursor + 1, last);
            }
            assertThat(count("recent") - loadsBefore).as("the session's recent events were read once for all")
                .isEqualTo(1);
            // Unshared, every stream would query at least once (its head). Events
            // appended while they
            // open make some of them catch up from the log (23 queries in one run), so no
            // tighter bound.
            assertThat(queries() - queriesBefore).as("queries of 60 streams opening at once: shared")
                .isLessThan(streams);
        }
        finally {
            clients.forEach(SseClient::close);
        }
    }

    @Test
    void aStreamAtOrNearTheHeadIsServedFromMemoryWithoutAQuery() {
        UUID session = api.newSession(api.newProject("storm-head"));
        append(session, 30, 10);
        long head = eventLog.head(session).orElseThrow();
        try (SseClient first = stream(session, head)) {
            assertThat(first.status()).isEqualTo(200);
            double before = queries();
            try (SseClient atHead = stream(session, head); SseClient nearHead = stream(session, head - 10)) {
                assertThat(atHead.status()).isEqualTo(200);
                assertThat(nearHead.status()).isEqualTo(200);
                assertConsecutive(nearHead.take(10, WAIT), head - 9, head);
                assertThat(queries() - before).as("head, replay: from the hub's memory").isZero();
                append(session, 3, 10);
                assertConsecutive(atHead.take(3, WAIT), head + 1, head + 3);
                assertConsecutive(nearHead.take(3, WAIT), head + 1, head + 3);
                assertConsecutive(first.take(3, WAIT), head + 1, head + 3);
            }
        }
    }

    @Test
    void aReplayReachingBehindTheMemoryReadsTheRestFromTheLogExactlyOnce() {
        UUID session = api.newSession(api.newProject("storm-behind"));
        append(session, 30, 1000); // about 6 of these fit in the 8 KB of memory
        long head = eventLog.head(session).orElseThrow();
        try (SseClient first = stream(session, head)) {
            assertThat(first.status()).isEqualTo(200);
            double replayReads = count("replay");
            try (SseClient behind = stream(session, head - 25)) {
                assertThat(behind.status()).isEqualTo(200);
                assertConsecutive(behind.take(25, WAIT), head - 24, head);
                assertThat(count("replay") - replayReads).as("the part memory does not hold: one read").isEqualTo(1);
                append(session, 2, 1000);
                assertConsecutive(behind.take(2, WAIT), head + 1, head + 2);
                // Nothing twice: a marker appended now is the very next message.
                append(session, 1, 10);
                assertConsecutive(behind.take(1, WAIT), head + 3, head + 3);
            }
        }
    }

    @Test
    void aClientFurtherBehindThanTheCapGetsTheGapThenTheLastCapEvents() {
        UUID session = api.newSession(api.newProject("storm-gap"));
        append(session, 80, 10);
        long head = eventLog.head(session).orElseThrow(); // 81
        long cap = 50;
        // Without a channel (its first load), then with one (memory and log together): a
        // watcher at
        // the head keeps the channel for the second round, whatever the timing of the
        // first's end.
        for (long cursor : new long[] { 0, 5 }) {
            boolean withChannel = cursor == 5;
            if (!withChannel) {
                assertThat(hub.channelTail(session)).as("no channel yet").isEqualTo(-1);
            }
            try (SseClient watcher = withChannel ? stream(session, head) : null;
                    SseClient client = stream(session, cursor);
                    SseClient second = stream(session, cursor)) {
                if (watcher != null) {
                    assertThat(watcher.status()).isEqualTo(200);
                }
                for (SseClient c : List.of(client, second)) {
                    assertThat(c.status()).isEqualTo(200);
                    SseClient.Message gap = c.take(1, WAIT).getFirst();
                    assertThat(gap.event()).isEqualTo("gap");
                    assertThat(gap.seq()).isEqualTo(head - cap);
                    assertThat(gap.json().get("from").asLong()).isEqualTo(cursor + 1);
                    assertThat(gap.json().get("to").asLong()).isEqualTo(head - cap);
                    assertConsecutive(c.take((int) cap, WAIT), head - cap + 1, head);
                }
            }
        }
    }

    @Test
    void anExhaustedPoolIsDatabaseBusyAndReadinessAndStreamsAtTheHeadStayUp() throws Exception {
        UUID session = api.newSession(api.newProject("storm-busy"));
        append(session, 5, 10);
        UUID unwatched = api.newSession(api.newProject("storm-busy-unwatched"));
        long head = eventLog.head(session).orElseThrow();
        double timeoutsBefore = hikariTimeouts();
        try (SseClient watching = stream(session, head)) {
            assertThat(watching.status()).isEqualTo(200);
            List<Connection> held = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    held.add(dataSource.getConnection());
                }
                java.time.Instant heldSince = java.time.Instant.now();

                Api.Response busy = api.get("/api/sessions/" + session);
                assertThat(busy.status()).isEqualTo(503);
                assertThat(busy.contentType()).startsWith("application/problem+json");
                JsonNode problem = busy.json();
                assertThat(problem.get("code").asString()).isEqualTo("database-busy");
                assertThat(problem.get("type").asString()).isEqualTo("/problems/database-busy");
                assertThat(problem.get("requestId")).isNotNull();
                assertThat(busy.header("Retry-After")).isPresent();
                assertThat(busy.text()).doesNotContain("Exception", "total=", "jdbc");
                assertThat(hikariTimeouts()).as("hikaricp_connections_timeout_total").isGreaterThan(timeoutsBefore);

                // A stream at the head of a watched session needs no connection at all.
                try (SseClient another = stream(session, head)) {
                    assertThat(another.status()).isEqualTo(200);
                }
                // A stream that needs the log gets no 503 (a browser's EventSource would
                // never
                // reconnect): 200, a `retry:` and the end, so that it resumes with
                // Last-Event-ID.
                try (SseClient waiting = stream(unwatched, 0)) {
                    assertThat(waiting.status()).isEqualTo(200);
                    assertThat(waiting.contentType()).startsWith("text/event-stream");
                    await().atMost(WAIT).until(waiting::ended);
                    assertThat(waiting.retry()).as("retry: of the busy answer").isEqualTo(1000L);
                    assertThat(waiting.next(Duration.ZERO)).as("no events").isNull();
                }
                // Readiness checks the database on a connection of its own: UP, from a
                // check made
                // while every pooled connection was taken.
                await().atMost(WAIT).untilAsserted(() -> {
                    Api.Response readiness = api.get("/actuator/health/readiness");
                    JsonNode db = readiness.json().get("components").get("db");
                    assertThat(java.time.Instant.parse(db.get("details").get("checkedAt").asString()))
                        .isAfter(heldSince);
                    assertThat(readiness.status()).isEqualTo(200);
                    assertThat(db.get("status").asString()).isEqualTo("UP");
                });
            }
            finally {
                for (Connection connection : held) {
                    connection.close();
                }
            }
            append(session, 1, 10);
            assertConsecutive(watching.take(1, WAIT), head + 1, head + 1);
        }
    }

    @Test
    void aFailedLoadOfTheRecentEventsNeverLeavesAStreamWaitingAndTheNextStreamLoadsThem() throws Exception {
        UUID session = api.newSession(api.newProject("storm-load-fails"));
        append(session, 5, 10);
        long head = eventLog.head(session).orElseThrow();
        // A channel whose recent events are not loaded yet (as right after a restart).
        Subscription first = hub.subscribe(session, 100, head);
        try {
            List<Connection> held = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    held.add(dataSource.getConnection());
                }
                // Streams keep arriving while every load fails (the pool is taken): each
                // gets an
                // error, none waits for good (a stream arriving while a failed load was
                // being
                // replaced used to wait forever).
                int threads = 6;
                try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
                    CyclicBarrier together = new CyclicBarrier(threads);
                    List<Future<Integer>> waiters = new ArrayList<>();
                    for (int t = 0; t < threads; t++) {
                        waiters.add(pool.submit(() -> {
                            together.await();
                            int failures = 0;
                            for (int attempt = 0; attempt < 3; attempt++) {
                                try {
                                    hub.replay(first, head);
                                }
                                catch (RuntimeException e) {
                                    failures++;
                                }
                            }
                            return failures;
                        }));
                    }
                    for (Future<Integer> waiter : waiters) {
                        assertThat(waiter.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS))
                            .as("every attempt failed: the pool was taken")
                            .isEqualTo(3);
                    }
                }
            }
            finally {
                for (Connection connection : held) {
                    connection.close();
                }
            }
            // The database is back: the next stream loads the memory and is served, then
            // live.
            try (SseClient next = stream(session, head - 3)) {
                assertThat(next.status()).isEqualTo(200);
                assertConsecutive(next.take(3, WAIT), head - 2, head);
                append(session, 1, 10);
                assertConsecutive(next.take(1, WAIT), head + 1, head + 1);
            }
        }
        finally {
            hub.unsubscribe(first);
        }
    }

    @Test
    void anEndedSessionIsNeverTakenForALiveOneWhileItsChannelIsStillLoading() {
        UUID session = api.newSession(api.newProject("storm-ended"));
        append(session, 3, 10);
        assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
        long head = eventLog.head(session).orElseThrow();
        // A channel that has not loaded the session's recent events yet (the first stream
        // of a storm).
        Subscription first = hub.subscribe(session, 10, head);
        try {
            assertThat(hub.sessionHead(session, head)).hasValueSatisfying(known -> {
                assertThat(known.ended()).isTrue();
                assertThat(known.headSeq()).isEqualTo(head);
            });
            try (SseClient client = stream(session, head)) {
                assertThat(client.status()).as("everything of an ended session: 204").isEqualTo(204);
            }
        }
        finally {
            hub.unsubscribe(first);
        }
    }

    @Test
    void theServerListensWithABacklogForAStormOfConnections() {
        var server = ((org.springframework.boot.jetty.JettyWebServer) context.getWebServer()).getServer();
        assertThat(server.getConnectors()).filteredOn(org.eclipse.jetty.server.ServerConnector.class::isInstance)
            .isNotEmpty()
            .allSatisfy(
                    connector -> assertThat(((org.eclipse.jetty.server.ServerConnector) connector).getAcceptQueueSize())
                        .as("not the JDK's 50")
                        .isGreaterThanOrEqualTo(4096));
    }

    private SseClient stream(UUID session, long cursor) {
        return Streams.open(api, session, cursor);
    }

    private void append(UUID session, int count, int size) {
        Streams.appendOutput(eventLog, session, count, size);
    }

    private static void assertConsecutive(List<SseClient.Message> messages, long from, long to) {
        Streams.assertConsecutive(messages, from, to);
    }

    private double count(String purpose) {
        Counter counter = registry.find("collab.stream.reads").tag("purpose", purpose).counter();
        return counter == null ? 0 : counter.count();
    }

    private double queries() {
        return QUERIES.stream().mapToDouble(this::count).sum();
    }

    private double hikariTimeouts() {
        Counter counter = registry.find("hikaricp.connections.timeout").counter();
        return counter == null ? 0 : counter.count();
    }

}
