package dev.collab.access;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The token and role cache ({@link AuthCache}) with the longest TTL allowed: whatever
 * ends or lowers access is refused at the very next request, so these tests prove the
 * eviction, never the TTL. Also counts the database round trips of a bearer session list.
 */
@IntegrationTest
@TestPropertySource(
        properties = { "collab.auth.cache-ttl=60s", AccessHardeningTest.BEHIND_A_PROXY, AuthCacheTest.SMALL_POOL })
// A context of its own (no other class has this TTL): closed after the class, and with a
// small pool, so that it does not hold connections the rest of the suite's contexts need
// (the test PostgreSQL's max_connections).
@org.springframework.test.annotation.DirtiesContext
class AuthCacheTest {

    static final String SMALL_POOL = "spring.datasource.hikari.maximum-pool-size=4";

    @Autowired
    Api api;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    dev.collab.support.MutableClock clock;

    @org.junit.jupiter.api.AfterEach
    void releaseClock() {
        clock.release();
    }

    private static String login(String prefix) {
        return prefix + "-" + Long.toString(System.nanoTime(), 36);
    }

    /** A new non-admin user with the role in the project, and a token of theirs. */
    Member member(String project, String role) {
        String login = login("cached");
        UUID id = api.createUser(login, AccessTest.PASSWORD, false);
        assertThat(api.put("/api/projects/" + project + "/members/" + login, "{\"role\":\"" + role + "\"}").status())
            .isEqualTo(201);
        Api browser = api.as(login, AccessTest.PASSWORD);
        Api.Response created = browser.post("/api/tokens", "{\"name\":\"cached\",\"expiresAt\":null}");
        assertThat(created.status()).isEqualTo(201);
        return new Member(id, login, UUID.fromString(created.json().path("id").asString()),
                api.withToken(created.json().path("token").asString()), browser);
    }

    record Member(UUID id, String login, UUID tokenId, Api token, Api browser) {
    }

    @Test
    void aRevokedTokenIsRefusedAtTheNextRequest() {
        String project = api.newProject("cache-revoke");
        Member member = member(project, "viewer");
        assertThat(member.token().get("/api/projects/" + project + "/sessions").status()).isEqualTo(200);

        assertThat(member.browser().delete("/api/tokens/" + member.tokenId()).status()).isEqualTo(204);

        AccessTest.assertProblem(member.token().get("/api/projects/" + project + "/sessions"), 401, "unauthenticated");
    }

    @Test
    void aDisabledUsersTokenIsRefusedAtTheNextRequest() {
        String project = api.newProject("cache-disable");
        Member member = member(project, "viewer");
        assertThat(member.token().get("/api/projects/" + project + "/sessions").status()).isEqualTo(200);

        assertThat(api
            .send(java.net.http.HttpRequest.newBuilder(api.uri("/api/users/" + member.id()))
                .header("Content-Type", "application/json")
                .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString("{\"disabled\":true}")))
            .status()).isEqualTo(200);

        AccessTest.assertProblem(member.token().get("/api/projects/" + project + "/sessions"), 401, "unauthenticated");
    }

    @Test
    void aServerAdminFlagTakenAwayAppliesAtTheNextRequest() {
        String project = api.newProject("cache-demote");
        String login = login("cached-admin");
        UUID id = api.createUser(login, AccessTest.PASSWORD, true);
        Api browser = api.as(login, AccessTest.PASSWORD);
        Api token = api.withToken(
                browser.post("/api/tokens", "{\"name\":\"a\",\"expiresAt\":null}").json().path("token").asString());
        assertThat(token.get("/api/users").status()).isEqualTo(200);
        assertThat(token.get("/api/projects/" + project + "/sessions").status()).isEqualTo(200);

        assertThat(api
            .send(java.net.http.HttpRequest.newBuilder(api.uri("/api/users/" + id))
                .header("Content-Type", "application/json")
                .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString("{\"admin\":false}")))
            .status()).isEqualTo(200);

        AccessTest.assertProblem(token.get("/api/users"), 403, "forbidden");
        AccessTest.assertProblem(token.get("/api/projects/" + project + "/sessions"), 404, "not-found");
    }

    @Test
    void aRemovedMemberIsRefusedAtTheNextRequest() {
        String project = api.newProject("cache-remove");
        Member member = member(project, "viewer");
        assertThat(member.token().get("/api/projects/" + project + "/sessions").status()).isEqualTo(200);
        assertThat(member.browser().get("/api/projects/" + project + "/sessions").status()).isEqualTo(200);

        assertThat(api.delete("/api/projects/" + project + "/members/" + member.login()).status()).isEqualTo(204);

        AccessTest.assertProblem(member.token().get("/api/projects/" + project + "/sessions"), 404, "not-found");
        AccessTest.assertProblem(member.browser().get("/api/projects/" + project + "/sessions"), 404, "not-found");
    }

    @Test
    void aLoweredRoleAppliesAtTheNextRequest() {
        String project = api.newProject("cache-lower");
        Member member = member(project, "member");
        assertThat(member.token().post("/api/projects/" + project + "/sessions", "{}").status()).isEqualTo(201);

        assertThat(api.put("/api/projects/" + project + "/members/" + member.login(), "{\"role\":\"viewer\"}").status())
            .isEqualTo(200);

        AccessTest.assertProblem(member.token().post("/api/projects/" + project + "/sessions", "{}"), 403, "forbidden");
    }

    @Test
    void aNonMemberWhoCreatesTheProjectIsItsAdminAtOnce() {
        Member member = member(api.newProject("cache-other"), "viewer");
        String key = login("cache-new");
        // Cached as "not a member" first.
        AccessTest.assertProblem(member.token().get("/api/projects/" + key + "/sessions"), 404, "not-found");

        assertThat(member.token().put("/api/projects/" + key, "{\"name\":\"n\",\"repoUrl\":null}").status())
            .isEqualTo(201);

        assertThat(member.token().get("/api/projects/" + key + "/sessions").status()).isEqualTo(200);
    }

    @Test
    void anExpiryIsCheckedOnEveryCachedRequest() {
        String project = api.newProject("cache-expiry");
        Member member = member(project, "viewer");
        assertThat(member.token().get("/api/projects/" + project + "/sessions").status()).isEqualTo(200);

        java.time.Instant now = java.time.Instant.now();
        clock.freezeAt(now);
        Api token = api.withToken(member.browser()
            .post("/api/tokens", "{\"name\":\"short\",\"expiresAt\":\"" + now.plusSeconds(60) + "\"}")
            .json()
            .path("token")
            .asString());
        assertThat(token.get("/api/projects/" + project + "/sessions").status()).isEqualTo(200);

        // The server's clock passes the expiry; the cache entry (whose TTL runs on its
        // own ticker) is still warm.
        clock.freezeAt(now.plusSeconds(61));

        AccessTest.assertProblem(token.get("/api/projects/" + project + "/sessions"), 401, "unauthenticated");
    }

    @Test
    void theLastUseIsStillRecordedOnCachedRequests() {
        String project = api.newProject("cache-used");
        Member member = member(project, "viewer");
        java.time.Instant now = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        clock.freezeAt(now);
        assertThat(member.token().get("/api/projects/" + project + "/sessions").status()).isEqualTo(200);
        assertThat(lastUsed(member.tokenId())).isEqualTo(now);

        // Within the minute: a cache hit, no new write.
        clock.freezeAt(now.plusSeconds(30));
        assertThat(member.token().get("/api/projects/" + project + "/sessions").status()).isEqualTo(200);
        assertThat(lastUsed(member.tokenId())).isEqualTo(now);

        // Past the minute: still a cache hit (the TTL is 60 s on another ticker), and
        // the last use is written again.
        clock.freezeAt(now.plusSeconds(90));
        assertThat(member.token().get("/api/projects/" + project + "/sessions").status()).isEqualTo(200);
        assertThat(lastUsed(member.tokenId())).isEqualTo(now.plusSeconds(90));
    }

    @Test
    void aReconnectOfTheNotificationConnectionClearsTheCache() {
        String project = api.newProject("cache-reconnect");
        Member member = member(project, "viewer");
        assertThat(member.token().get("/api/projects/" + project + "/sessions").status()).isEqualTo(200);
        // A revocation whose notification this replica missed: written behind the
        // server's back.
        jdbc.sql("update access_tokens set revoked_at = now() where id = :id").param("id", member.tokenId()).update();
        assertThat(member.token().get("/api/projects/" + project + "/sessions").status())
            .as("cached: the missed revocation is not seen")
            .isEqualTo(200);

        // Kill the LISTEN connection; it reconnects and calls the reconnect hooks.
        jdbc.sql(
                "select pg_terminate_backend(pid) from pg_stat_activity where application_name = :name and datname = current_database()")
            .param("name", "collab-listener")
            .query((rs, row) -> 1)
            .list();

        org.awaitility.Awaitility.await()
            .atMost(java.time.Duration.ofSeconds(30))
            .until(() -> member.token().get("/api/projects/" + project + "/sessions").status() == 401);
    }

    /**
     * The figure of docs/performance.md: database round trips (the driver's Sync
     * messages, on any thread) per bearer session list, cache warm.
     */
    @Test
    void aCachedBearerSessionListIsOneDatabaseRoundTrip() {
        String project = api.newProject("cache-trips");
        Member member = member(project, "viewer");
        double perRequest = roundTripsPerSessionList(api, project, member.token());
        // The list's own queries only (LIST_ROUND_TRIPS), no look-up of the caller; a
        // little slack for the background jobs of the server (lease renewals, the
        // listener's probe) that run meanwhile.
        assertThat(perRequest).isLessThan(LIST_ROUND_TRIPS + 0.5);
    }

    /**
     * What a session list costs without its caller's look-ups: the page, with the fields
     * other modules add to the sessions' JSON (issue 16: {@code queueLength},
     * {@code presence}, the caller's {@code unread} and {@code readSeq}) computed in the
     * same query (session.SessionDetails): one round trip, as before them.
     */
    static final int LIST_ROUND_TRIPS = 1;

    /**
     * Database round trips per bearer {@code GET /api/projects/{key}/sessions} of a
     * project with sessions (an empty page looks the project up too), after one request
     * that warms whatever is cached.
     */
    static double roundTripsPerSessionList(Api admin, String project, Api token) {
        admin.newSession(project);
        assertThat(token.get("/api/projects/" + project + "/sessions").status()).isEqualTo(200);
        int requests = 50;
        int trips = countRoundTrips(() -> {
            for (int i = 0; i < requests; i++) {
                assertThat(token.get("/api/projects/" + project + "/sessions?limit=50").status()).isEqualTo(200);
            }
        });
        double perRequest = (double) trips / requests;
        System.out.printf("bearer session list: %d round trips for %d requests (%.2f per request)%n", trips, requests,
                perRequest);
        return perRequest;
    }

    /**
     * Round trips to PostgreSQL while {@code work} runs: the driver's Sync messages (one
     * per round trip), on any thread of this JVM.
     */
    static int countRoundTrips(Runnable work) {
        Logger driver = Logger.getLogger("org.postgresql.core.v3.QueryExecutorImpl");
        Level before = driver.getLevel();
        AtomicInteger syncs = new AtomicInteger();
        Handler counter = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getMessage() != null && record.getMessage().contains("FE=> Sync")) {
                    syncs.incrementAndGet();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        counter.setLevel(Level.ALL);
        driver.addHandler(counter);
        driver.setLevel(Level.FINEST);
        try {
            work.run();
        }
        finally {
            driver.setLevel(before);
            driver.removeHandler(counter);
        }
        return syncs.get();
    }

    private java.time.Instant lastUsed(UUID token) {
        return jdbc.sql("select last_used_at from access_tokens where id = :id")
            .param("id", token)
            .query(java.time.OffsetDateTime.class)
            .optional()
            .map(java.time.OffsetDateTime::toInstant)
            .orElse(null);
    }

}
