package dev.collab.ops;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

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
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The shutdown order of {@link ShutdownOrder}, as an operator sees it: a server in team
 * mode with a live stream and a running agent gets SIGTERM. Its log says, in this order,
 * that intake stopped, the streams were closed, the web server drained, and only then the
 * connection pool closed; the run ended with {@code instance-shutdown} after intake
 * stopped; and its last events are in the shared database, read by this test's own server
 * after the other one exited. (DrainTest covers what intake stop answers;
 * RunsAcrossInstancesTest the run's end.)
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
            int poolClosed = lineOf(log, "collab - Shutdown initiated");
            assertThat(List.of(intakeStopped, streamsClosed, drainBegan, drained, poolClosed))
                .as("intake stops, streams close, the web server drains, the pool closes last:%n%s",
                        String.join("\n", log))
                .isSorted()
                .doesNotHaveDuplicates()
                .doesNotContain(-1);

            // Written by the leaving server while it stopped, read here after it exited:
            // committed.
            List<JsonNode> events = events(here, session);
            JsonNode finished = events.getLast();
            JsonNode error = events.stream()
                .filter(event -> event.get("type").asString().equals("error"))
                .reduce((first, second) -> second)
                .orElseThrow(() -> new AssertionError("no error event: " + events));
            assertThat(error.get("data").get("code").asString()).isEqualTo("instance-shutdown");
            assertThat(finished.get("type").asString()).as("the run's end is the last event").isEqualTo("run.finished");
            assertThat(finished.get("data").get("status").asString()).isEqualTo("interrupted");
            assertThat(Instant.parse(error.get("at").asString()))
                .as("the run ended after intake stopped (same clock: the leaving server's)")
                .isAfterOrEqualTo(loggedAt(log.get(intakeStopped)));
            assertThat(here.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("IDLE");
        }
    }

    private String[] teamArgs() throws java.sql.SQLException {
        var db = TestDatabase.server();
        return new String[] { "--spring.datasource.url=" + dataSource.unwrap(HikariDataSource.class).getJdbcUrl(),
                "--spring.datasource.username=" + db.user(), "--spring.datasource.password=" + db.password(),
                "--collab.sweeper.enabled=false", "--collab.runner.command=sh," + CollabTestInitializer.testAgent(),
                "--collab.runner.interrupt-grace=1s" };
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
