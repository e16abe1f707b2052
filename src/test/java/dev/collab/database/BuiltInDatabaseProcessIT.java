package dev.collab.database;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import dev.collab.support.Api;
import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Built-in mode as an operator runs it, in a separate JVM: data survives restarts, a
 * {@code kill -9} leaves a postmaster behind that the next start deals with, and SIGTERM
 * drains in-flight requests before PostgreSQL stops, then exits cleanly.
 */
class BuiltInDatabaseProcessIT {

    @Test
    void survivesKillNineDrainsOnSigtermAndKeepsData() {
        Path dataDir = TempDirectories.create("builtin-");
        String project;
        String session;

        try (ServerProcess first = ServerProcess.start(dataDir).awaitReady()) {
            Api api = first.api();
            project = api.newProject("kept");
            session = api.post("/api/projects/" + project + "/sessions", "{\"title\":\"survivor\"}")
                .json()
                .get("id")
                .asString();
            ProcessHandle leftover = first.postmaster().orElseThrow();

            first.kill();
            assertThat(ServerProcess.isRunning(leftover)).as("kill -9 leaves the postmaster running").isTrue();

            try (ServerProcess second = ServerProcess.start(dataDir, "--collab.test.endpoints=true").awaitReady()) {
                assertThat(ServerProcess.isRunning(leftover)).as("the leftover postmaster was stopped").isFalse();
                Api again = second.api();
                assertThat(again.get("/api/projects/" + project).status()).isEqualTo(200);
                assertThat(again.get("/api/sessions/" + session).json().get("title").asString()).isEqualTo("survivor");
                assertThat(second.output()).contains("left running by a previous server");
                ProcessHandle postmaster = second.postmaster().orElseThrow();

                // A request that holds a database connection while SIGTERM arrives must
                // complete.
                CompletableFuture<Api.Response> inFlight = CompletableFuture
                    .supplyAsync(() -> again.send(HttpRequest.newBuilder(again.uri("/test/slow?seconds=2")).GET()));
                await().atMost(Duration.ofSeconds(30)).until(() -> activeSleeps(again) || inFlight.isDone());
                int exit = second.terminate(Duration.ofSeconds(60));

                Api.Response response = inFlight.join();
                assertThat(response.status()).isEqualTo(200);
                assertThat(response.text()).contains("done after 2");
                assertThat(exit).isIn(0, 143);
                assertThat(ServerProcess.isRunning(postmaster)).as("PostgreSQL stopped with the server").isFalse();
                String output = second.output();
                assertThat(output.indexOf("Stopping the built-in PostgreSQL"))
                    .as("PostgreSQL stops only after the web server drained")
                    .isGreaterThan(output.indexOf("Graceful shutdown complete"));
                assertThat(Files.exists(dataDir.resolve("postgres/postmaster.pid"))).isFalse();
            }
        }

        try (ServerProcess third = ServerProcess.start(dataDir).awaitReady()) {
            assertThat(third.api().get("/api/sessions/" + session).status()).isEqualTo(200);
            assertThat(third.output()).doesNotContain("left running by a previous server");
            assertThat(third.terminate(Duration.ofSeconds(60))).isIn(0, 143);
        }
    }

    /**
     * True once the slow request is inside PostgreSQL (visible in pg_stat_activity
     * through the app's own pool).
     */
    private static boolean activeSleeps(Api api) {
        return api.get("/actuator/prometheus")
            .text()
            .lines()
            .filter(line -> line.startsWith("hikaricp_connections_active"))
            .anyMatch(line -> !line.endsWith(" 0.0"));
    }

}
