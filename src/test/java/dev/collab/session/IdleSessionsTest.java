package dev.collab.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.time.Duration;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.MutableClock;
import dev.collab.workspace.Workspaces;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Retention: sessions idle for longer than {@code collab.session.end-idle-after} are
 * ended.
 */
@IntegrationTest
class IdleSessionsTest {

    @Autowired
    JdbcClient jdbc;

    @Autowired
    Sessions sessions;

    @Autowired
    MutableClock clock;

    @Autowired
    Workspaces workspaces;

    @Autowired
    Api api;

    @Test
    void sessionsIdleForLongerThanTheRetentionEndAndTheirWorkspacesGo() {
        String project = api.newProject("retention");
        String idle = api.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString();
        jdbc.sql("update sessions set last_activity_at = last_activity_at - interval '3 days' where id = :id")
            .param("id", UUID.fromString(idle))
            .update();
        String recent = api.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString();
        var retention = new IdleSessions(jdbc, sessions,
                new SessionProperties(Duration.ofDays(1), Duration.ofMinutes(1), 100), clock);

        assertThat(retention.endIdleSessions()).isGreaterThanOrEqualTo(1);

        assertThat(api.get("/api/sessions/" + idle).json().get("state").asString()).isEqualTo("ENDED");
        assertThat(api.get("/api/sessions/" + recent).json().get("state").asString()).isEqualTo("IDLE");
        var events = api.get("/api/sessions/" + idle + "/events").json().get("items");
        assertThat(events.get(events.size() - 1).get("type").asString()).isEqualTo("session.ended");
        // Retention is no user: no data.by, no audit row of a deletion.
        assertThat(events.get(events.size() - 1).get("data").has("by")).isFalse();
        assertThat(jdbc.sql("select count(*) from audit_log where target = :t")
            .param("t", "session:" + idle)
            .query(Long.class)
            .single()).isEqualTo(1); // its creation
        await().atMost(Duration.ofSeconds(30))
            .until(() -> !Files.exists(workspaces.directoryOf(UUID.fromString(idle))));
    }

}
