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
 * one.
 */
@IntegrationTest
@org.springframework.test.context.TestPropertySource(properties = AccessHardeningTest.BEHIND_A_PROXY)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccessTwoInstancesIT {

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
                    "--" + AccessHardeningTest.BEHIND_A_PROXY)
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

    private static Api.Response login(Api replica, String login, String password, String address) {
        Api anonymous = replica.anonymous();
        return anonymous.send(HttpRequest.newBuilder(anonymous.uri("/api/auth/login"))
            .header("Content-Type", "application/json")
            .header("X-Forwarded-For", address)
            .POST(HttpRequest.BodyPublishers.ofString(Api.json(Map.of("login", login, "password", password)))));
    }

}
