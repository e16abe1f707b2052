package dev.collab.access;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

import static dev.collab.access.AccessTest.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Without {@code collab.auth.trusted-proxies} (the default) a client's own
 * {@code X-Forwarded-For} changes nothing: throttling and the audit log see the
 * connection's address.
 */
@IntegrationTest
class ForwardedHeadersTest {

    @Autowired
    JdbcClient jdbc;

    @Autowired
    Api api;

    @Test
    void aClientSetForwardedForIsIgnoredWithoutATrustedProxy() {
        String login = "nobody-" + Long.toString(System.nanoTime(), 36);
        assertProblem(AccessHardeningTest.login(api.anonymous(), login, "wrong password", "6.6.7.7"), 401,
                "invalid-credentials");
        String recorded = jdbc.sql("select address from audit_log where action = 'login.failed' and target = :target")
            .param("target", "user:" + login)
            .query(String.class)
            .single();
        assertThat(recorded).isIn("127.0.0.1", "0:0:0:0:0:0:0:1", "::1");
        assertThat(
                jdbc.sql("select count(*) from login_failures where value = '6.6.7.7'").query(Integer.class).single())
            .isZero();
    }

}
