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
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.autoconfigure.context.ConfigurationPropertiesAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Retention: sessions idle for longer than {@code collab.session.end-idle-after} are ended. */
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
                .param("id", UUID.fromString(idle)).update();
        String recent = api.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString();
        var retention = new IdleSessions(jdbc, sessions,
                new SessionProperties(Duration.ofDays(1), Duration.ofMinutes(1), 100), clock);

        assertThat(retention.endIdleSessions()).isGreaterThanOrEqualTo(1);

        assertThat(api.get("/api/sessions/" + idle).json().get("state").asString()).isEqualTo("ENDED");
        assertThat(api.get("/api/sessions/" + recent).json().get("state").asString()).isEqualTo("IDLE");
        var events = api.get("/api/sessions/" + idle + "/events").json().get("items");
        assertThat(events.get(events.size() - 1).get("type").asString()).isEqualTo("session.ended");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> !Files.exists(workspaces.directoryOf(UUID.fromString(idle))));
    }

    @Test
    void retentionIsOffUnlessSetAndRejectsANonPositiveAge() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(ConfigurationPropertiesAutoConfiguration.class,
                        ValidationAutoConfiguration.class))
                .withUserConfiguration(PropertiesOnly.class)
                .run(context -> assertThat(context.getBean(SessionProperties.class).endIdleAfter()).isNull());
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(ConfigurationPropertiesAutoConfiguration.class,
                        ValidationAutoConfiguration.class))
                .withUserConfiguration(PropertiesOnly.class)
                .withPropertyValues("collab.session.end-idle-after=0s")
                .run(context -> assertThat(context).hasFailed());
    }

    @EnableConfigurationProperties(SessionProperties.class)
    static class PropertiesOnly {
    }
}
