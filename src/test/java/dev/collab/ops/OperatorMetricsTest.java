package dev.collab.ops;

import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The metrics that issue 17's alert rules and dashboard read, scraped from
 * {@code /actuator/prometheus} of a real server: the series alerts depend on exist at 0
 * from the start; logins are counted by outcome; readiness is a gauge whose changes are
 * counted; the queue's length is the database's; the request latency has buckets while
 * the active-requests timer keeps its plain series; and with the database gone, scrapes
 * and {@code /actuator/sweeper} still answer at once.
 * <p>
 * A server of its own (no other class has this combination of properties), so that its
 * counters start at 0 here, and the outage (the last test) harms no other class. Logins
 * come from addresses of their own through a trusted "proxy" (as behind the ALB), so that
 * throttling stays per test; runs last until interrupted.
 */
@IntegrationTest
@DirtiesContext
@TestPropertySource(properties = { "collab.auth.trusted-proxies=127.0.0.1/32,::1/128", "collab.runner.timeout=5m" })
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorMetricsTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private static final String PASSWORD = "correct horse battery";

    @Autowired
    Api api;

    @Autowired
    ApplicationContext context;

    @Autowired
    DataSource dataSource;

    @AfterEach
    void acceptTrafficAgain() {
        AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
    }

    /**
     * Before anything else of this server: no login, run, stream or sweep yet. Only
     * Actuator is called (the first {@code /api} call would log the test client in).
     */
    @Test
    @Order(1)
    void theSeriesThatAlertsReadExistAtZeroFromTheStart() {
        String metrics = scrape();
        for (String outcome : List.of("succeeded", "failed", "throttled")) {
            assertThat(value(metrics, "collab_auth_logins_total", Map.of("outcome", outcome))).as(outcome).isZero();
        }
        for (String status : List.of("succeeded", "failed", "interrupted", "lost")) {
            assertThat(value(metrics, "collab_runs_finished_total", Map.of("status", status))).as(status).isZero();
        }
        for (String outcome : List.of("completed", "partial", "blocked", "failed", "locked", "busy")) {
            assertThat(value(metrics, "collab_sweeper_runs_total", Map.of("outcome", outcome))).as(outcome).isZero();
        }
        for (List<String> tags : List.of(List.of("removed", "sweep"), List.of("failed", "sweep"),
                List.of("skipped", "sweep"), List.of("removed", "delete"), List.of("failed", "delete"))) {
            assertThat(value(metrics, "collab_sweeper_workspaces_total",
                    Map.of("result", tags.get(0), "source", tags.get(1))))
                .as(tags.toString())
                .isZero();
        }
        for (String name : List.of("collab_runs_started_total", "collab_stream_slow_clients_closed_total",
                "collab_run_output_append_failures_total", "collab_run_output_dropped_bytes_total",
                "collab_events_append_batch_fallbacks_total", "collab_sweeper_files_deleted_total",
                "collab_sweeper_bytes_freed_total", "collab_health_readiness_changes_total", "collab_messages_queued",
                "collab_sweeper_backlog", "collab_sweeper_last_run_timestamp_seconds")) {
            assertThat(value(metrics, name, Map.of())).as(name).isZero();
        }
        await().atMost(WAIT).until(() -> value(scrape(), "collab_health_readiness", Map.of()) == 1.0);
    }

    @Test
    @Order(2)
    void passwordLoginsAreCountedByOutcomeAndTokensAreNotLogins() {
        String login = "metrics-" + Long.toString(System.nanoTime(), 36);
        api.createUser(login, PASSWORD, false); // the test client's own login comes first
        Map<String, Double> before = logins();

        assertThat(login(login, "wrong password", "10.70.0.1").status()).isEqualTo(401);
        assertThat(login("nobody-" + login, "wrong password", "10.70.0.2").status()).isEqualTo(401);
        assertThat(login(login, PASSWORD, "10.70.0.3").status()).isEqualTo(200);
        assertThat(logins()).containsEntry("failed", before.get("failed") + 2)
            .containsEntry("succeeded", before.get("succeeded") + 1)
            .containsEntry("throttled", before.get("throttled"));

        // Five failures from one address; the sixth attempt is refused before any check.
        for (int i = 0; i < 5; i++) {
            assertThat(login("guess-" + i + "-" + login, "wrong password", "10.70.1.1").status()).isEqualTo(401);
        }
        assertThat(login(login, PASSWORD, "10.70.1.1").status()).isEqualTo(429);
        assertThat(logins()).containsEntry("failed", before.get("failed") + 7)
            .containsEntry("succeeded", before.get("succeeded") + 1)
            .containsEntry("throttled", before.get("throttled") + 1);

        // A personal access token authenticates requests; it is no login.
        Map<String, Double> withTokens = logins();
        for (int i = 0; i < 3; i++) {
            assertThat(api.get("/api/me").status()).isEqualTo(200);
        }
        assertThat(logins()).isEqualTo(withTokens);
        assertThat(scrape().lines().filter(line -> line.startsWith("collab_auth_logins_total")))
            .as("never a login name in a tag")
            .hasSize(3)
            .noneMatch(line -> line.contains(login));
    }

    @Test
    @Order(3)
    void readinessIsAGaugeAndEveryChangeOfItIsCounted() {
        await().atMost(WAIT).until(() -> value(scrape(), "collab_health_readiness", Map.of()) == 1.0);
        double changes = value(scrape(), "collab_health_readiness_changes_total", Map.of());

        AvailabilityChangeEvent.publish(context, ReadinessState.REFUSING_TRAFFIC);
        assertThat(api.get("/actuator/health/readiness").status()).isEqualTo(503);
        String refusing = scrape();
        assertThat(value(refusing, "collab_health_readiness", Map.of())).as("at once, not at the next evaluation")
            .isZero();
        assertThat(value(refusing, "collab_health_readiness_changes_total", Map.of())).isEqualTo(changes + 1);

        AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
        assertThat(api.get("/actuator/health/readiness").status()).isEqualTo(200);
        await().atMost(WAIT).untilAsserted(() -> {
            String accepting = scrape();
            assertThat(value(accepting, "collab_health_readiness", Map.of())).isEqualTo(1.0);
            assertThat(value(accepting, "collab_health_readiness_changes_total", Map.of())).isEqualTo(changes + 2);
        });
    }

    @Test
    @Order(4)
    void theQueuedGaugeCountsTheMessagesWaitingInTheDatabase() {
        UUID session = api.newSession(api.newProject("queued"));
        Api.Response running = api.sendMessage(session, "sleep 60", null);
        assertThat(running.status()).as(running.toString()).isEqualTo(202);
        for (int i = 0; i < 3; i++) {
            Api.Response queued = api.sendMessage(session, "sleep 60", null);
            assertThat(queued.json().get("queued").asBoolean()).as(queued.toString()).isTrue();
        }
        await().atMost(WAIT).until(() -> value(scrape(), "collab_messages_queued", Map.of()) == 3.0);

        // The run ends: the next message starts, two wait.
        assertThat(api.post("/api/sessions/" + session + "/interrupt", "").status()).isEqualTo(202);
        await().atMost(WAIT).until(() -> value(scrape(), "collab_messages_queued", Map.of()) == 2.0);

        // The session ends: its queue is cancelled.
        assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
        await().atMost(WAIT).until(() -> value(scrape(), "collab_messages_queued", Map.of()) == 0.0);
    }

    /**
     * {@code http_server_requests_seconds_bucket} exists (for histogram_quantile), and
     * the requests in flight keep their long-task timer's plain series: the buckets'
     * property matches by prefix, and the drain's tests read
     * {@code http_server_requests_active_seconds_count}.
     */
    @Test
    @Order(5)
    void requestLatencyHasBucketsAndTheActiveRequestsTheirPlainCount() {
        assertThat(api.get("/api/projects").status()).isEqualTo(200);
        String metrics = scrape();
        for (String bound : List.of("0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf")) {
            assertThat(metrics).as(bound)
                .containsPattern("http_server_requests_seconds_bucket\\{[^}]*le=\"" + Pattern.quote(bound) + "\"");
        }
        assertThat(metrics).contains("http_server_requests_active_seconds_count{",
                "http_server_requests_active_seconds_sum{");
        assertThat(metrics).doesNotContain("http_server_requests_active_seconds_gcount",
                "http_server_requests_active_seconds_gsum", "http_server_requests_active_seconds_bucket");
    }

    /**
     * The database goes away: a scrape still answers at once, with the last values of the
     * database's gauges, readiness drops (and that is a change), and
     * {@code /actuator/sweeper} answers 200 at once with this instance only. Last: it
     * takes this server's database away.
     */
    @Test
    @Order(100)
    void withoutTheDatabaseScrapesAndTheSweeperEndpointStillAnswerAtOnce() {
        UUID session = api.newSession(api.newProject("outage"));
        assertThat(api.sendMessage(session, "sleep 60", null).status()).isEqualTo(202);
        assertThat(api.sendMessage(session, "sleep 60", null).json().get("queued").asBoolean()).isTrue();
        await().atMost(WAIT).until(() -> value(scrape(), "collab_messages_queued", Map.of()) == 1.0);
        await().atMost(WAIT)
            .until(() -> "cluster".equals(api.get("/actuator/sweeper").json().get("source").asString()));
        double changes = value(scrape(), "collab_health_readiness_changes_total", Map.of());

        String url = ((HikariDataSource) dataSource).getJdbcUrl();
        String database = url.substring(url.lastIndexOf('/') + 1);
        TestDatabase.Server server = TestDatabase.server();
        JdbcClient admin = JdbcClient
            .create(new DriverManagerDataSource(server.url("postgres"), server.user(), server.password()));
        try {
            admin.sql("alter database " + database + " allow_connections false").update();
            admin.sql("select pg_terminate_backend(pid) from pg_stat_activity where datname = :db")
                .param("db", database)
                .query()
                .listOfRows();

            await().atMost(WAIT).untilAsserted(() -> {
                Timed<Api.Response> sweeper = timed(() -> api.get("/actuator/sweeper"));
                assertThat(sweeper.value().status()).isEqualTo(200);
                assertThat(sweeper.millis()).as("served from memory").isLessThan(1000);
                assertThat(sweeper.value().json().get("source").asString()).isEqualTo("instance");
                assertThat(sweeper.value().json().get("cluster").isNull()).isTrue();
                assertThat(sweeper.value().json().get("instance").asString()).isNotBlank();
                assertThat(sweeper.value().json().has("lastRuns")).isTrue();
            });
            await().atMost(WAIT).untilAsserted(() -> {
                Timed<String> metrics = timed(this::scrape);
                assertThat(metrics.millis()).as("served from memory").isLessThan(1000);
                assertThat(value(metrics.value(), "collab_health_readiness", Map.of())).isZero();
                assertThat(value(metrics.value(), "collab_messages_queued", Map.of())).as("the last value read")
                    .isEqualTo(1.0);
                assertThat(value(metrics.value(), "collab_health_readiness_changes_total", Map.of()))
                    .isEqualTo(changes + 1);
            });
        }
        finally {
            admin.sql("alter database " + database + " allow_connections true").update();
        }
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(api.get("/actuator/sweeper").json().get("source").asString()).isEqualTo("cluster");
            assertThat(value(scrape(), "collab_health_readiness", Map.of())).isEqualTo(1.0);
        });
        assertThat(value(scrape(), "collab_health_readiness_changes_total", Map.of())).isEqualTo(changes + 2);
        assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
    }

    private Api.Response login(String login, String password, String address) {
        return api.anonymous()
            .send(HttpRequest.newBuilder(api.uri("/api/auth/login"))
                .header("Content-Type", "application/json")
                .header("X-Forwarded-For", address)
                .POST(HttpRequest.BodyPublishers.ofString(Api.json(Map.of("login", login, "password", password)))));
    }

    private Map<String, Double> logins() {
        String metrics = scrape();
        return Map.of("succeeded", value(metrics, "collab_auth_logins_total", Map.of("outcome", "succeeded")), "failed",
                value(metrics, "collab_auth_logins_total", Map.of("outcome", "failed")), "throttled",
                value(metrics, "collab_auth_logins_total", Map.of("outcome", "throttled")));
    }

    private String scrape() {
        Api.Response response = api.get("/actuator/prometheus");
        assertThat(response.status()).isEqualTo(200);
        return response.text();
    }

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)\\{([^}]*)\\} (\\S+)$");

    /**
     * The value of the one series of {@code name} that has these tags (and the
     * application's); fails when there is none.
     */
    static double value(String metrics, String name, Map<String, String> tags) {
        Optional<Double> found = metrics.lines()
            .map(SAMPLE::matcher)
            .filter(Matcher::matches)
            .filter(sample -> sample.group(1).equals(name))
            .filter(sample -> tags.entrySet()
                .stream()
                .allMatch(tag -> sample.group(2).contains(tag.getKey() + "=\"" + tag.getValue() + "\"")))
            .map(sample -> Double.parseDouble(sample.group(3)))
            .findFirst();
        assertThat(found).as("series %s%s in the scrape", name, tags).isPresent();
        return found.orElseThrow();
    }

    private record Timed<T>(T value, long millis) {
    }

    private static <T> Timed<T> timed(java.util.function.Supplier<T> call) {
        long started = System.nanoTime();
        T value = call.get();
        return new Timed<>(value, (System.nanoTime() - started) / 1_000_000);
    }

}
