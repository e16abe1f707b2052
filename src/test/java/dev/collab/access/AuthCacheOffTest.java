package dev.collab.access;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code collab.auth.cache-ttl=0} turns the token and role cache off: every bearer
 * request reads the token and the caller's membership again, as before the cache (the
 * "before" figure of docs/performance.md, issue 13), and a change made behind the
 * server's back applies at once.
 */
@IntegrationTest
@TestPropertySource(properties = { "collab.auth.cache-ttl=0", AuthCacheTest.SMALL_POOL })
// Its own context: closed after the class, with a small pool (see AuthCacheTest).
@org.springframework.test.annotation.DirtiesContext
class AuthCacheOffTest {

    @Autowired
    Api api;

    @Autowired
    org.springframework.jdbc.core.simple.JdbcClient jdbc;

    @Test
    void withoutTheCacheABearerSessionListIsThreeDatabaseRoundTrips() {
        String project = api.newProject("nocache-trips");
        String login = "nocache-" + Long.toString(System.nanoTime(), 36);
        api.createUser(login, AccessTest.PASSWORD, false);
        assertThat(api.put("/api/projects/" + project + "/members/" + login, "{\"role\":\"viewer\"}").status())
            .isEqualTo(201);
        Api.Response created = api.as(login, AccessTest.PASSWORD)
            .post("/api/tokens", "{\"name\":\"nocache\",\"expiresAt\":null}");
        Api token = api.withToken(created.json().path("token").asString());

        // The token with its user, the membership, then the list's own queries.
        assertThat(AuthCacheTest.roundTripsPerSessionList(api, project, token))
            .isBetween(AuthCacheTest.LIST_ROUND_TRIPS + 1.9, AuthCacheTest.LIST_ROUND_TRIPS + 2.5);

        // Nothing cached: a revocation written in SQL (no invalidation) applies at once.
        jdbc.sql("update access_tokens set revoked_at = now() where id = cast(:id as uuid)")
            .param("id", created.json().path("id").asString())
            .update();
        AccessTest.assertProblem(token.get("/api/projects/" + project + "/sessions"), 401, "unauthenticated");
    }

}
