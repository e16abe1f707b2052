package dev.collab.access;

import java.net.http.HttpRequest;
import java.util.Map;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;
import dev.collab.support.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two replicas on one database: a browser session made on one is accepted by the other
 * and a logout on either ends it on both; failed logins spread over both are throttled as
 * one; a token revoked or a member removed on one replica is refused by the other at
 * once, although both cache them for a minute.
 */
@IntegrationTest
@org.springframework.test.context.TestPropertySource(
        properties = { AccessHardeningTest.BEHIND_A_PROXY, AccessTwoInstancesIT.LONG_CACHE })
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccessTwoInstancesIT {

    /**
     * The longest token and role cache allowed, on both replicas: a refusal within a few
     * seconds proves the invalidation, not the TTL.
     */
    static final String LONG_CACHE = "collab.auth.cache-ttl=60s";

    @Autowired
    Api here;

    @Autowired
    DataSource dataSource;

    ServerProcess other;

    @BeforeAll
    void startSecondInstance() throws java.sql.SQLException {
        var db = TestDatabase.server();
        other = ServerProcess
            .start(TempDirectories.create("second-"),
                    "--spring.datasource.url=" + dataSource.unwrap(HikariDataSource.class).getJdbcUrl(),
                    "--spring.datasource.username=" + db.user(), "--spring.datasource.password=" + db.password(),
                    "--collab.sweeper.enabled=false",
                    // The test's connections come "through the load balancer"
                    // (X-Forwarded-For).
                    "--" + AccessHardeningTest.BEHIND_A_PROXY, "--" + LONG_CACHE)
            .awaitReady();
    }

    @AfterAll
    void stopSecondInstance() {
        other.close();
    }

    @Test
    void aSessionMadeOnOneReplicaWorksOnTheOtherAndALogoutThereEndsItEverywhere() {
        Api a = here;
        Api b = other.api();
        String login = "twin-" + Long.toString(System.nanoTime(), 36);
        a.createUser(login, AccessTest.PASSWORD, false);

        Api onA = a.as(login, AccessTest.PASSWORD);
        Api onB = onA.withCookiesOn(b);
        assertThat(onB.get("/api/me").json().path("login").asString()).isEqualTo(login);
        // A write on B with the session and XSRF cookies of A.
        assertThat(onB.post("/api/tokens", "{\"name\":\"from b\"}").status()).isEqualTo(201);

        assertThat(onB.post("/api/auth/logout", "").status()).isEqualTo(204);
        AccessTest.assertProblem(onA.get("/api/me"), 401, "unauthenticated");
    }

    @Test
    void failedLoginsAlternatingBetweenReplicasAreThrottledTogether() {
        Api a = here;
        Api b = other.api();
        String login = "alt-" + Long.toString(System.nanoTime(), 36);
        a.createUser(login, AccessTest.PASSWORD, false);
        for (int i = 1; i <= 5; i++) {
            Api replica = i % 2 == 0 ? b : a;
            AccessTest.assertProblem(login(replica, login, "wrong password " + i, "10.20.0." + i), 401,
                    "invalid-credentials");
        }
        Api.Response throttled = login(b, login, "wrong password 6", "10.20.0.6");
        AccessTest.assertProblem(throttled, 429, "too-many-attempts");
        assertThat(throttled.header("Retry-After")).isPresent();
        // From an address that failed (a clean one gets one check: AccessHardeningTest).
        AccessTest.assertProblem(login(a, login, AccessTest.PASSWORD, "10.20.0.1"), 429, "too-many-attempts");
    }

    @Test
    void aTokenRevokedOnOneReplicaIsRefusedByTheOtherWellWithinTheCacheTtl() {
        Api a = here;
        Api b = other.api();
        String login = "revoke-" + Long.toString(System.nanoTime(), 36);
        a.createUser(login, AccessTest.PASSWORD, false);
        Api onB = a.as(login, AccessTest.PASSWORD).withCookiesOn(b);
        Api.Response created = onB.post("/api/tokens", "{\"name\":\"twin\",\"expiresAt\":null}");
        assertThat(created.status()).isEqualTo(201);
        Api tokenOnA = a.withToken(created.json().path("token").asString());
        // Cached on A now.
        assertThat(tokenOnA.get("/api/me").status()).isEqualTo(200);

        assertThat(onB.delete("/api/tokens/" + created.json().path("id").asString()).status()).isEqualTo(204);

        org.awaitility.Awaitility.await()
            .atMost(java.time.Duration.ofSeconds(10))
            .until(() -> tokenOnA.get("/api/me").status() == 401);
    }

    @Test
    void aMemberRemovedOnOneReplicaIsRefusedByTheOtherWellWithinTheCacheTtl() {
        Api a = here;
        Api b = other.api();
        String project = a.newProject("twin-members");
        String login = "removed-" + Long.toString(System.nanoTime(), 36);
        a.createUser(login, AccessTest.PASSWORD, false);
        assertThat(a.put("/api/projects/" + project + "/members/" + login, "{\"role\":\"viewer\"}").status())
            .isEqualTo(201);
        Api.Response created = a.as(login, AccessTest.PASSWORD)
            .post("/api/tokens", "{\"name\":\"twin\",\"expiresAt\":null}");
        Api tokenOnA = a.withToken(created.json().path("token").asString());
        // The token and the membership are cached on A now.
        assertThat(tokenOnA.get("/api/projects/" + project + "/sessions").status()).isEqualTo(200);

        assertThat(b.delete("/api/projects/" + project + "/members/" + login).status()).isEqualTo(204);

        org.awaitility.Awaitility.await()
            .atMost(java.time.Duration.ofSeconds(10))
            .until(() -> tokenOnA.get("/api/projects/" + project + "/sessions").status() == 404);
    }

    private static Api.Response login(Api replica, String login, String password, String address) {
        Api anonymous = replica.anonymous();
        return anonymous.send(HttpRequest.newBuilder(anonymous.uri("/api/auth/login"))
            .header("Content-Type", "application/json")
            .header("X-Forwarded-For", address)
            .POST(HttpRequest.BodyPublishers.ofString(Api.json(Map.of("login", login, "password", password)))));
    }

}
