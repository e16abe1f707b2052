package dev.collab.ops;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import dev.collab.support.Api;
import dev.collab.support.CollabTestInitializer;
import dev.collab.support.IntegrationTest;
import dev.collab.support.ServerProcess;
import dev.collab.support.SseClient;
import dev.collab.support.TempDirectories;
import dev.collab.support.TestDatabase;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The shutdown order of {@link ShutdownOrder}, as an operator sees it: a server in team
 * mode with a live stream and a running agent gets SIGTERM. Its log says, in this order,
 * that intake stopped, the streams were closed, the web server drained, and only then the
 * connection pool closed; the run ended with {@code instance-shutdown} after intake
 * stopped; and its last events are in the shared database, read by this test's own server
 * after the other one exited. The runs stop after the drain, before the pool closes; and
 * when the drain lasts longer than the run's lease (a slow request in flight), the lease
 * is still renewed, so the other server never reaps the run as lost. (DrainTest covers
 * what intake stop answers; RunsAcrossInstancesIT the run's end.)
 */
@IntegrationTest
class ShutdownProcessIT {

    @LocalServerPort
    int port;

    @Autowired
    DataSource dataSource;

    @Test
    void sigtermStopsIntakeClosesStreamsDrainsStopsRunsAndCommitsTheirLastEvents() throws Exception {
        Api here = new Api(port);
        UUID session = here.newSession(here.newProject("shutdown"));
        try (ServerProcess leaving = ServerProcess.start(TempDirectories.create("shutdown-"), teamArgs())
            .awaitReady()) {
            Api there = leaving.api();
            try (SseClient stream = SseClient.connect(there.uri("/api/sessions/" + session + "/events/stream"), "0")) {
                assertThat(stream.status()).isEqualTo(200);
                assertThat(there.sendMessage(session, "sleep 300", null).status()).isEqualTo(202);
                await().atMost(Duration.ofSeconds(60)).until(() -> received(stream, "output"));

                assertThat(leaving.terminate(Duration.ofSeconds(90))).isIn(0, 143);
                await().atMost(Duration.ofSeconds(10)).until(stream::ended);
            }

            List<String> log = leaving.outputLines();
            int intakeStopped = lineOf(log, "Refusing writes from now on");
            int streamsClosed = lineOf(log, "Closed 1 live streams for shutdown");
            int drainBegan = lineOf(log, "Commencing graceful shutdown");
            int drained = lineOf(log, "Graceful shutdown complete");
            int runsStopped = lineOf(log, "Stopped 1 runs for shutdown");
            int poolClosed = lineOf(log, "collab - Shutdown initiated");
            assertThat(List.of(intakeStopped, streamsClosed, drainBegan, drained, runsStopped, poolClosed))
                .as("intake stops, streams close, the web server drains, the runs stop, the pool closes last:%n%s",
                        String.join("\n", log))
                .isSorted()
                .doesNotHaveDuplicates()
                .doesNotContain(-1);
            assertRunEndedByTheShutdown(here, session, log, intakeStopped);
        }
    }

    /**
     * A drain that lasts longer than the lease (a slow request in flight at SIGTERM): the
     * leaving server renews its run's lease until the run has ended, so the other server
     * (this test's) never reaps it as lost.
     */
    @Test
    void leasesAreRenewedThroughASlowDrainUntilTheRunsStopped() throws Exception {
        Api here = new Api(port);
        UUID session = here.newSession(here.newProject("slow-drain"));
        Duration lease = Duration.ofSeconds(3);
        try (ServerProcess leaving = ServerProcess
            .start(TempDirectories.create("slow-drain-"), teamArgs("--collab.runner.lease=" + lease.toSeconds() + "s"))
            .awaitReady()) {
            Api there = leaving.api();
            assertThat(there.sendMessage(session, "sleep 300", null).status()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(60))
                .until(() -> events(here, session).stream()
                    .anyMatch(event -> event.get("type").asString().equals("output")));
            UUID run = UUID.fromString(here.get("/api/sessions/" + session).json().get("currentRunId").asString());

            // The slow request: a project whose key this test holds in an uncommitted
            // insert, so the leaving server's insert of the same key waits for it.
            String key = "slow-" + Long.toString(System.nanoTime(), 36);
            try (ExecutorService client = Executors.newVirtualThreadPerTaskExecutor();
                    Connection holding = dataSource.getConnection()) {
                holding.setAutoCommit(false);
                try (PreparedStatement insert = holding.prepareStatement(
                        "insert into projects (key, name, repo_url, created_at) values (?, 'held', null, now())")) {
                    insert.setString(1, key);
                    insert.executeUpdate();
                }
                Future<Api.Response> slow = client
                    .submit(() -> there.put("/api/projects/" + key, "{\"name\":\"slow\",\"repoUrl\":null}"));
                await().atMost(Duration.ofSeconds(30)).until(() -> inFlight(there, "PUT") && waitingForALock());

                ProcessHandle.of(leaving.pid()).orElseThrow().destroy(); // SIGTERM
                leaving.awaitOutput("Commencing graceful shutdown");
                // Twice the lease, while the drain waits for the slow request: the run
                // stays RUNNING with a lease that has not expired, the whole time.
                await().during(lease.multipliedBy(2))
                    .atMost(lease.multipliedBy(10))
                    .until(() -> leaseHolds(run) && !leaving.output().contains("Graceful shutdown complete"));

                holding.rollback();
                assertThat(slow.get(30, TimeUnit.SECONDS).status()).as("the request in flight finished").isEqualTo(201);
            }
            assertThat(leaving.awaitExit(Duration.ofSeconds(90))).isIn(0, 143);

            List<String> log = leaving.outputLines();
            int intakeStopped = lineOf(log, "Refusing writes from now on");
            int drained = lineOf(log, "Graceful shutdown complete");
            int runsStopped = lineOf(log, "Stopped 1 runs for shutdown");
            int poolClosed = lineOf(log, "collab - Shutdown initiated");
            assertThat(List.of(intakeStopped, drained, runsStopped, poolClosed))
                .as("the runs stop after the drain, before the pool closes:%n%s", String.join("\n", log))
                .isSorted()
                .doesNotHaveDuplicates()
                .doesNotContain(-1);
            assertRunEndedByTheShutdown(here, session, log, intakeStopped);
        }
    }

    /** The leaving server's own metric of the requests in progress. */
    private static boolean inFlight(Api api, String method) {
        return api.get("/actuator/prometheus")
            .text()
            .lines()
            .anyMatch(line -> line.startsWith("http_server_requests_active_seconds_count{")
                    && line.contains("method=\"" + method + "\"") && !line.endsWith(" 0.0") && !line.endsWith(" 0"));
    }

    private boolean waitingForALock() {
        return JdbcClient.create(dataSource)
            .sql("select count(*) from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()")
            .query(Integer.class)
            .single() > 0;
    }

    private boolean leaseHolds(UUID run) {
        return Boolean.TRUE.equals(JdbcClient.create(dataSource)
            .sql("select state = 'RUNNING' and lease_expires_at > now() from runs where id = :id")
            .param("id", run)
            .query(Boolean.class)
            .single());
    }

    /**
     * The run ended with instance-shutdown (not runner-lost), after intake stopped, and
     * its last events were written by the leaving server while it stopped and are read
     * here after it exited: committed.
     */
    private static void assertRunEndedByTheShutdown(Api here, UUID session, List<String> log, int intakeStopped) {
        List<JsonNode> events = events(here, session);
        JsonNode finished = events.getLast();
        JsonNode error = events.stream()
            .filter(event -> event.get("type").asString().equals("error"))
            .reduce((first, second) -> second)
            .orElseThrow(() -> new AssertionError("no error event: " + events));
        assertThat(error.get("data").get("code").asString()).isEqualTo("instance-shutdown");
        assertThat(events).as("never reaped as lost by the other server")
            .noneMatch(event -> event.get("type").asString().equals("error")
                    && event.get("data").get("code").asString().equals("runner-lost"));
        assertThat(finished.get("type").asString()).as("the run's end is the last event").isEqualTo("run.finished");
        assertThat(finished.get("data").get("status").asString()).isEqualTo("interrupted");
        assertThat(Instant.parse(error.get("at").asString()))
            .as("the run ended after intake stopped (same clock: the leaving server's)")
            .isAfterOrEqualTo(loggedAt(log.get(intakeStopped)));
        assertThat(here.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("IDLE");
    }

    private String[] teamArgs(String... more) throws java.sql.SQLException {
        var db = TestDatabase.server();
        List<String> args = new ArrayList<>(List.of(
                "--spring.datasource.url=" + dataSource.unwrap(HikariDataSource.class).getJdbcUrl(),
                "--spring.datasource.username=" + db.user(), "--spring.datasource.password=" + db.password(),
                "--collab.sweeper.enabled=false", "--collab.runner.command=sh," + CollabTestInitializer.testAgent(),
                "--collab.runner.interrupt-grace=1s"));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private static boolean received(SseClient stream, String type) {
        SseClient.Message message = stream.next(Duration.ofMillis(200));
        return message != null && type.equals(message.event());
    }

    private static List<JsonNode> events(Api api, UUID session) {
        List<JsonNode> items = new ArrayList<>();
        api.get("/api/sessions/" + session + "/events?limit=1000").json().get("items").forEach(items::add);
        return items;
    }

    /** The index of the first line that contains {@code text}, or -1. */
    private static int lineOf(List<String> lines, String text) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * A log line's time (the default pattern starts with an ISO offset date-time, to the
     * millisecond).
     */
    private static Instant loggedAt(String line) {
        return OffsetDateTime.parse(line.substring(0, line.indexOf(' '))).toInstant();
    }

}
