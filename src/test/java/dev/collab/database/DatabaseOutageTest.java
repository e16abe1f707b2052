package dev.collab.database;

import java.time.Duration;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.TestPropertySource;

import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The database goes away under a running server: API calls answer 503 service-unavailable
 * (retryable) instead of 500, health keeps answering fast and says db DOWN without
 * leaking hosts or driver text, liveness stays UP, and everything recovers when the
 * database returns.
 */
@IntegrationTest
@DirtiesContext
@TestPropertySource(properties = "spring.datasource.hikari.connection-timeout=1000")
class DatabaseOutageTest {

    @Autowired
    DataSource dataSource;

    @Autowired
    Api api;

    String database;

    JdbcClient admin;

    @BeforeEach
    void setUp() {
        HikariDataSource pool = (HikariDataSource) dataSource;
        String url = pool.getJdbcUrl();
        database = url.substring(url.lastIndexOf('/') + 1);
        var server = dev.collab.support.TestDatabase.server();
        admin = JdbcClient.create(new org.springframework.jdbc.datasource.DriverManagerDataSource(
                server.url("postgres"), server.user(), server.password()));
    }

    @AfterEach
    void restore() {
        admin.sql("alter database " + database + " allow_connections true").update();
    }

    @Test
    void outageIsReportedFastAndRecovers() {
        String project = api.newProject("outage");
        admin.sql("alter database " + database + " allow_connections false").update();
        admin.sql("select pg_terminate_backend(pid) from pg_stat_activity where datname = :db")
            .param("db", database)
            .query()
            .listOfRows();

        // Never a 500: the first request may still hold a connection that the outage
        // kills mid-use.
        java.util.List<Integer> statuses = new java.util.concurrent.CopyOnWriteArrayList<>();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            Api.Response write = api.post("/api/projects/" + project + "/sessions", "{}");
            statuses.add(write.status());
            assertThat(write.status()).isEqualTo(503);
            assertThat(write.json().get("code").asString()).isEqualTo("service-unavailable");
            assertThat(write.header("Retry-After")).isPresent();
        });
        assertThat(statuses).doesNotContain(500);
        assertThat(api.put("/api/projects/" + project, "{\"name\":\"x\"}").status()).isEqualTo(503);
        assertThat(api.get("/api/projects/" + project).status()).isEqualTo(503);
        // The event stream answers no 503 (a browser's EventSource would never
        // reconnect): 200,
        // a `retry:` and the end, so that the client resumes with Last-Event-ID.
        try (dev.collab.support.SseClient stream = dev.collab.support.SseClient
            .connect(api.uri("/api/sessions/" + java.util.UUID.randomUUID() + "/events/stream"), "0")) {
            assertThat(stream.status()).isEqualTo(200);
            assertThat(stream.contentType()).startsWith("text/event-stream");
            await().atMost(Duration.ofSeconds(30)).until(stream::ended);
            assertThat(stream.retry()).isEqualTo(5000L);
        }

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            long started = System.nanoTime();
            Api.Response readiness = api.get("/actuator/health/readiness");
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertThat(readiness.status()).isEqualTo(503);
            assertThat(readiness.json().get("components").get("db").get("status").asString()).isEqualTo("DOWN");
            assertThat(millis).as("health answers from the last background check").isLessThan(1000);
        });
        Api.Response health = api.get("/actuator/health");
        assertThat(health.text()).doesNotContain("localhost", "PSQLException", "Exception", "5432", "jdbc");
        assertThat(api.get("/actuator/health/liveness").status()).isEqualTo(200);

        admin.sql("alter database " + database + " allow_connections true").update();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(api.get("/actuator/health/readiness").status()).isEqualTo(200);
            assertThat(api.post("/api/projects/" + project + "/sessions", "{}").status()).isEqualTo(201);
        });
    }

    @Test
    void aPoolWhoseConnectionsAllHangOnADeadDatabaseIsAnOutageNotBusy() throws Exception {
        String project = api.newProject("outage-held");
        HikariDataSource pool = (HikariDataSource) dataSource;
        java.util.List<java.sql.Connection> held = new java.util.ArrayList<>();
        try {
            // Every pooled connection checked out: the pool's timeout then has no
            // connection failure
            // behind it, exactly like an exhausted pool's.
            for (int i = 0; i < pool.getMaximumPoolSize(); i++) {
                held.add(dataSource.getConnection());
            }
            admin.sql("alter database " + database + " allow_connections false").update();
            admin.sql("select pg_terminate_backend(pid) from pg_stat_activity where datname = :db")
                .param("db", database)
                .query()
                .listOfRows();
            // Once readiness's own check fails, it is an outage: service-unavailable, not
            // database-busy.
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                Api.Response read = api.get("/api/projects/" + project);
                assertThat(read.status()).isEqualTo(503);
                assertThat(read.json().get("code").asString()).isEqualTo("service-unavailable");
            });
        }
        finally {
            for (java.sql.Connection connection : held) {
                try {
                    connection.close();
                }
                catch (java.sql.SQLException e) {
                    // broken by the outage
                }
            }
        }
    }

}
