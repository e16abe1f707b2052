package dev.collab.stream;

import java.time.Duration;
import java.util.UUID;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.ServerProcess;
import dev.collab.support.SseClient;
import dev.collab.support.TempDirectories;
import dev.collab.support.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two replicas on one database: access lost through one of them ends the streams open on
 * the other (each replica's check reads the shared database), within the check interval
 * (1 s on both here) plus a margin well under 60 s.
 */
@IntegrationTest
@TestPropertySource(properties = StreamAccessTest.INTERVAL)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamAccessTwoInstancesIT {

    static final Duration CUT_OFF = StreamAccessTest.CUT_OFF;

    @Autowired
    Api here;

    @Autowired
    DataSource dataSource;

    @Autowired
    JdbcClient jdbc;

    ServerProcess other;

    @BeforeAll
    void startSecondInstance() throws java.sql.SQLException {
        var db = TestDatabase.server();
        other = ServerProcess
            .start(TempDirectories.create("second-"),
                    "--spring.datasource.url=" + dataSource.unwrap(HikariDataSource.class).getJdbcUrl(),
                    "--spring.datasource.username=" + db.user(), "--spring.datasource.password=" + db.password(),
                    "--collab.sweeper.enabled=false", "--" + StreamAccessTest.INTERVAL)
            .awaitReady();
    }

    @AfterAll
    void stopSecondInstance() {
        other.close();
    }

    /** A viewer of a new project, logged in on this instance. */
    private Api viewer(String project) {
        String login = "twin-viewer-" + Long.toString(System.nanoTime(), 36);
        UUID id = here.createUser(login, StreamAccessTest.PASSWORD, false);
        jdbc.sql("insert into project_members (project_key, user_id, role) values (:p, :u, 'viewer')")
            .param("p", project)
            .param("u", id)
            .update();
        return here.as(login, StreamAccessTest.PASSWORD);
    }

    private static SseClient opened(SseClient client) {
        assertThat(client.status()).isEqualTo(200);
        assertThat(client.take(1, CUT_OFF).getFirst().event()).isEqualTo("session.created");
        return client;
    }

    @Test
    void aTokenRevokedOnOneReplicaEndsItsStreamOnTheOther() {
        String project = here.newProject("twin-token");
        UUID session = here.newSession(project);
        Api browser = viewer(project);
        JsonNode token = browser.post("/api/tokens", "{\"name\":\"twin\"}").json();
        try (SseClient onA = opened(SseClient.connect(here.uri("/api/sessions/" + session + "/events/stream"), "0",
                "Bearer " + token.path("token").asString()))) {
            Api onB = browser.withCookiesOn(other.api());
            assertThat(onB.delete("/api/tokens/" + token.path("id").asString()).status()).isEqualTo(204);

            await().atMost(CUT_OFF).until(onA::ended);
        }
    }

    @Test
    void aLogoutOnOneReplicaEndsTheBrowserStreamOnTheOther() {
        String project = here.newProject("twin-logout");
        UUID session = here.newSession(project);
        Api browser = viewer(project);
        Api onB = browser.withCookiesOn(other.api());
        try (SseClient streamOnB = opened(
                SseClient.connect(other.api().uri("/api/sessions/" + session + "/events/stream"), "0", "Cookie",
                        "COLLAB_SESSION=" + browser.cookie("COLLAB_SESSION").orElseThrow()))) {
            assertThat(onB.get("/api/me").status()).isEqualTo(200);
            assertThat(browser.post("/api/auth/logout", "").status()).isEqualTo(204);

            await().atMost(CUT_OFF).until(streamOnB::ended);
        }
    }

}
