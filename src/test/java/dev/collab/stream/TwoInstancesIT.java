package dev.collab.stream;

import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.LongStream;

import javax.sql.DataSource;

import dev.collab.event.EventLog;
import com.zaxxer.hikari.HikariDataSource;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.ServerProcess;
import dev.collab.support.SseClient;
import dev.collab.support.TempDirectories;
import dev.collab.support.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two instances on one database: this test's server and a second server process. Seqs
 * stay 1..N with writers on both; streams on either instance get every event exactly
 * once, also while clients hop between instances and while the LISTEN connections are
 * killed.
 */
@IntegrationTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TwoInstancesIT {

    @Autowired
    DataSource dataSource;

    @Autowired
    EventLog eventLog;

    @Autowired
    JdbcClient jdbc;

    ServerProcess other;

    @Autowired
    Api here;

    Api there;

    @BeforeAll
    void startSecondInstance() throws java.sql.SQLException {
        var db = TestDatabase.server();
        other = ServerProcess
            .start(TempDirectories.create("second-"),
                    "--spring.datasource.url=" + dataSource.unwrap(HikariDataSource.class).getJdbcUrl(),
                    "--spring.datasource.username=" + db.user(), "--spring.datasource.password=" + db.password(),
                    "--collab.test.endpoints=true", "--collab.sweeper.enabled=false", "--collab.stream.heartbeat=500ms")
            .awaitReady();
    }

    @AfterAll
    void stopSecondInstance() {
        other.close();
    }

    @BeforeEach
    void setUp() {
        there = other.api();
    }

    private UUID newSession() {
        String project = here.newProject("twins");
        return UUID.fromString(here.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString());
    }

    private void appendThere(UUID session, int count) {
        Api.Response response = there
            .send(HttpRequest.newBuilder(there.uri("/test/sessions/" + session + "/events?count=" + count))
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(response.status()).isEqualTo(200);
    }

    private void appendHere(UUID session) {
        eventLog.append(session, "output", Map.of("runId", session.toString(), "stream", "stdout", "text", "x"));
    }

    @Test
    void seqsAreGapFreeWithWritersOnBothInstances() throws Exception {
        UUID session = newSession();
        try (ExecutorService writers = Executors.newFixedThreadPool(10)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                done.add(writers.submit(() -> {
                    for (int i = 0; i < 50; i++) {
                        appendHere(session);
                    }
                }));
            }
            for (int t = 0; t < 4; t++) {
                done.add(writers.submit(() -> {
                    for (int i = 0; i < 5; i++) {
                        appendThere(session, 5);
                    }
                }));
            }
            for (Future<?> future : done) {
                future.get();
            }
        }
        List<Long> seqs = jdbc.sql("select seq from events where session_id = :id order by seq")
            .param("id", session)
            .query(Long.class)
            .list();
        assertThat(seqs).containsExactlyElementsOf(LongStream.rangeClosed(1, 1 + 300 + 100).boxed().toList());
        assertThat(here.get("/api/sessions/" + session).json().get("headSeq").asLong()).isEqualTo(401);
    }

    @Test
    void clientsHoppingBetweenInstancesGetEveryEventExactlyOnce() throws Exception {
        UUID session = newSession();
        int total = 1 + 240;
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            Future<?> writer = pool.submit(() -> {
                for (int i = 0; i < 120; i++) {
                    appendHere(session);
                    appendThere(session, 1);
                }
            });
            List<Future<List<Long>>> clients = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                clients.add(pool.submit(() -> {
                    List<Long> received = new ArrayList<>();
                    long cursor = 0;
                    while (cursor < total && !Thread.currentThread().isInterrupted()) {
                        Api instance = ThreadLocalRandom.current().nextBoolean() ? here : there;
                        int wanted = 1 + ThreadLocalRandom.current().nextInt(40);
                        try (SseClient client = SseClient.connect(
                                instance.uri("/api/sessions/" + session + "/events/stream"),
                                cursor == 0 ? null : Long.toString(cursor))) {
                            for (int i = 0; i < wanted && cursor < total; i++) {
                                SseClient.Message message = client.next(Duration.ofSeconds(2));
                                if (message == null) {
                                    break;
                                }
                                received.add(message.seq());
                                cursor = message.seq();
                            }
                        }
                    }
                    return received;
                }));
            }
            writer.get();
            for (Future<List<Long>> client : clients) {
                List<Long> received = client.get();
                assertThat(received).containsExactlyElementsOf(LongStream.rangeClosed(1, total).boxed().toList());
            }
        }
        finally {
            // The clients read until they have every event: when the test fails first,
            // interrupt them.
            pool.shutdownNow();
        }
    }

    @Test
    void killingTheListenConnectionsLosesNothing() {
        UUID session = newSession();
        ConcurrentLinkedQueue<Long> received = new ConcurrentLinkedQueue<>();
        try (SseClient client = SseClient.connect(there.uri("/api/sessions/" + session + "/events/stream"), null)) {
            received.add(client.take(1, Duration.ofSeconds(20)).getFirst().seq());
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 20; i++) {
                    appendHere(session);
                }
                // Both instances' LISTEN connections are up (again) before they are
                // killed.
                await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.sql("""
                        select count(*) from pg_stat_activity
                        where application_name = 'collab-listener' and datname = current_database()
                        """).query(Integer.class).single() >= 2);
                int killed = jdbc.sql("""
                        select count(pg_terminate_backend(pid)) from pg_stat_activity
                        where application_name = 'collab-listener' and datname = current_database()
                        """).query(Integer.class).single();
                assertThat(killed).isEqualTo(2);
                for (int i = 0; i < 20; i++) {
                    appendHere(session);
                }
            }
            int expected = 1 + 120;
            client.take(expected - 1, Duration.ofSeconds(60)).forEach(message -> received.add(message.seq()));
            List<Long> sorted = new ArrayList<>(received);
            Collections.sort(sorted);
            assertThat(new ArrayList<>(received))
                .containsExactlyElementsOf(LongStream.rangeClosed(1, expected).boxed().toList());
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            var streams = there.get("/actuator/health").json().get("components").get("streams");
            assertThat(streams.get("details").get("listener").asString()).isEqualTo("CONNECTED");
            assertThat(streams.get("details").get("listenerReconnects").asInt()).isGreaterThanOrEqualTo(1);
        });
    }

    /**
     * The live session list across instances: watched on this one, changed on the other,
     * then resumed on the other with the last id: nothing that changed while away is
     * lost.
     */
    @Test
    void aLiveListSeesChangesOnTheOtherInstanceAndResumesThere() {
        String project = here.newProject("twin-list");
        UUID session = UUID
            .fromString(here.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString());
        String lastId;
        try (SseClient client = SseClient.connect(here.uri("/api/projects/" + project + "/sessions/stream"), null)) {
            SseClient.Message snapshot = client.next(Duration.ofSeconds(20));
            assertThat(snapshot.event()).isEqualTo("snapshot");
            lastId = snapshot.id();
            appendThere(session, 3);
            UUID createdThere = UUID
                .fromString(there.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString());
            java.util.Set<String> seen = new java.util.HashSet<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline
                    && !(seen.contains(session + ":4") && seen.contains(createdThere + ":1"))) {
                SseClient.Message message = client.next(Duration.ofMillis(200));
                if (message == null) {
                    continue;
                }
                lastId = message.id();
                message.json()
                    .get("items")
                    .forEach(item -> seen.add(item.get("id").asString() + ":" + item.get("headSeq").asLong()));
            }
            assertThat(seen).contains(session + ":4", createdThere + ":1");
        }
        // Away: changes on the other instance, then back there with the last id.
        appendThere(session, 2);
        UUID createdWhileAway = UUID
            .fromString(there.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString());
        try (SseClient client = SseClient.connect(there.uri("/api/projects/" + project + "/sessions/stream"), lastId)) {
            SseClient.Message resumed = client.next(Duration.ofSeconds(20));
            assertThat(resumed.event()).isEqualTo("sessions");
            java.util.Map<String, Long> heads = new java.util.HashMap<>();
            resumed.json()
                .get("items")
                .forEach(item -> heads.put(item.get("id").asString(), item.get("headSeq").asLong()));
            assertThat(heads).containsEntry(session.toString(), 6L).containsEntry(createdWhileAway.toString(), 1L);
        }
    }

}
