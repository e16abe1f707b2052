package dev.collab.presence;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two instances on one database: this test's server (B) and a second server process (A).
 * A watcher on A shows on B's {@code GET .../presence}, in B's session JSON and on B's
 * streams; a watcher that leaves A disappears from B; when A is killed (SIGKILL: no
 * clean-up) its watchers disappear from B once their rows expire (collab.presence
 * defaults: within 25 s; waited for up to 40 s).
 */
@IntegrationTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PresenceAcrossInstancesIT {

    static final Duration WAIT = Duration.ofSeconds(20);

    static final String PASSWORD = "correct horse battery";

    @Autowired
    DataSource dataSource;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    Api here;

    ServerProcess other;

    private final List<SseClient> clients = new ArrayList<>();

    @BeforeAll
    void startSecondInstance() throws java.sql.SQLException {
        var db = TestDatabase.server();
        other = ServerProcess
            .start(TempDirectories.create("presence-"),
                    "--spring.datasource.url=" + dataSource.unwrap(HikariDataSource.class).getJdbcUrl(),
                    "--spring.datasource.username=" + db.user(), "--spring.datasource.password=" + db.password(),
                    "--collab.sweeper.enabled=false",
                    // A closed stream is noticed at its next write at the latest: 1 s
                    // here.
                    "--collab.stream.heartbeat=1s")
            .awaitReady();
    }

    @AfterAll
    void stopSecondInstance() {
        other.close();
    }

    @AfterEach
    void closeStreams() {
        clients.forEach(SseClient::close);
    }

    /** A viewer of the project, with a token that works on both instances. */
    private String viewerToken(String project, String login) {
        UUID id = here.createUser(login, PASSWORD, false);
        jdbc.sql("insert into project_members (project_key, user_id, role) values (:p, :u, 'viewer')")
            .param("p", project)
            .param("u", id)
            .update();
        return here.as(login, PASSWORD).post("/api/tokens", "{\"name\":\"watch\"}").json().path("token").asString();
    }

    private SseClient watch(Api instance, UUID session, String token) {
        SseClient client = SseClient.connect(instance.uri("/api/sessions/" + session + "/events/stream"), "0",
                "Bearer " + token);
        clients.add(client);
        assertThat(client.status()).isEqualTo(200);
        return client;
    }

    private static void awaitPresence(SseClient client, int count) {
        await().atMost(WAIT).until(() -> {
            SseClient.Message message = client.nextPresence(Duration.ofMillis(200));
            return message != null && message.json().path("count").asInt() == count;
        });
    }

    private int countHere(UUID session) {
        return here.get("/api/sessions/" + session + "/presence").json().path("count").asInt();
    }

    @Test
    void aWatcherOnOneInstanceShowsOnTheOtherAndGoesWhenItDies() {
        String project = here.newProject("presence-twins");
        UUID session = here.newSession(project);
        String annLogin = "ann-" + Long.toString(System.nanoTime(), 36);
        String bobLogin = "bob-" + Long.toString(System.nanoTime(), 36);
        String ann = viewerToken(project, annLogin);
        String bob = viewerToken(project, bobLogin);

        SseClient annHere = watch(here, session, ann);
        awaitPresence(annHere, 1);
        SseClient bobThere = watch(other.api(), session, bob);
        // Bob, on the other instance, shows here: on the stream, GET and the session
        // JSON.
        awaitPresence(annHere, 2);
        awaitPresence(bobThere, 2);
        JsonNode got = here.get("/api/sessions/" + session + "/presence").json();
        List<String> logins = new ArrayList<>();
        got.path("watchers").forEach(watcher -> logins.add(watcher.path("login").asString()));
        assertThat(logins).containsExactly(bobLogin, annLogin);
        assertThat(here.get("/api/sessions/" + session).json().path("presence").path("count").asInt()).isEqualTo(2);

        // Idle marked here, for Bob's stream there.
        assertThat(here.withToken(bob).put("/api/sessions/" + session + "/presence", "{\"state\":\"idle\"}").status())
            .isEqualTo(204);
        await().atMost(WAIT).until(() -> {
            SseClient.Message message = bobThere.nextPresence(Duration.ofMillis(200));
            return message != null && "idle".equals(message.json().path("watchers").get(0).path("state").asString());
        });

        // Bob leaves cleanly: gone here.
        bobThere.close();
        awaitPresence(annHere, 1);

        // Bob again on the other instance, which then dies without a word.
        watch(other.api(), session, bob);
        awaitPresence(annHere, 2);
        long killedAt = System.nanoTime();
        other.kill();
        await().atMost(Duration.ofSeconds(40)).until(() -> countHere(session) == 1);
        awaitPresence(annHere, 1);
        Duration gone = Duration.ofNanos(System.nanoTime() - killedAt);
        assertThat(gone).isLessThan(Duration.ofSeconds(30));
    }

}
