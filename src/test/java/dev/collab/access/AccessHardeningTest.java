package dev.collab.access;

import java.net.http.HttpRequest;
import java.util.List;
import java.util.Map;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.TestPropertySource;

import static dev.collab.access.AccessTest.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fixes of the security review of issue 13 part A, over real HTTP on real PostgreSQL:
 * each test fails when its protection is gone.
 */
@IntegrationTest
@TestPropertySource(properties = AccessHardeningTest.BEHIND_A_PROXY)
class AccessHardeningTest {

    /**
     * The tests' own connections come through a "load balancer" on the loopback address.
     */
    static final String BEHIND_A_PROXY = "collab.auth.trusted-proxies=127.0.0.1/32,::1/128";

    @Autowired
    JdbcClient jdbc;

    static final String PASSWORD = "correct horse battery";

    @Autowired
    Api api;

    private static String newLogin(String prefix) {
        return prefix + "-" + Long.toString(System.nanoTime(), 36);
    }

    private Api browser(String login) {
        api.createUser(login, PASSWORD, false);
        return api.as(login, PASSWORD);
    }

    /**
     * The CSRF and Origin checks hold on every spelling of an API path: the raw URI
     * ({@code /%61pi/…}) is not what authorization and Spring MVC match on.
     */
    @Test
    void aCookieWriteWithoutTheXsrfHeaderIsRefusedWhateverTheSpellingOfThePath() {
        Api browser = browser(newLogin("spelling"));
        for (String path : List.of("/%61pi/tokens", "/api/./tokens", "//api/tokens", "/api;x=1/tokens",
                "/api/tokens;x=1", "/%61pi/auth/logout", "/api/%74okens")) {
            for (String origin : new String[] { null, "https://evil.example" }) {
                HttpRequest.Builder request = HttpRequest.newBuilder(api.uri(path))
                    .header("Content-Type", "application/json")
                    // Empty: the test client would otherwise send the right one on /api/
                    // paths.
                    .header("X-XSRF-TOKEN", "")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"sneaky\"}"));
                if (origin != null) {
                    request.header("Origin", origin);
                }
                Api.Response response = browser.send(request);
                assertThat(response.status()).as(path + " from " + origin + ": " + response).isBetween(400, 499);
                if (path.contains("%61pi")) {
                    assertProblem(response, 403, "csrf-failed");
                }
            }
        }
        // Still logged in (the logout was refused) and no token was made.
        assertThat(browser.get("/api/me").status()).isEqualTo(200);
        assertThat(browser.get("/api/tokens").text()).doesNotContain("sneaky");
    }

    /**
     * Behind a trusted proxy the client is the right-most X-Forwarded-For entry: the one
     * the proxy appended, not what the client wrote in front of it.
     */
    @Test
    void behindATrustedProxyTheClientIsTheRightMostForwardedAddress() {
        String login = newLogin("spoof");
        Api.Response failed = login(api.anonymous(), login, "wrong password", "6.6.6.6, 10.9.9.9");
        assertProblem(failed, 401, "invalid-credentials");
        assertThat(jdbc.sql("select address from audit_log where action = 'login.failed' and target = :target")
            .param("target", "user:" + login)
            .query(String.class)
            .list()).containsExactly("10.9.9.9");
        assertThat(jdbc.sql("select count(*) from login_failures where kind = 'address' and value = '6.6.6.6'")
            .query(Integer.class)
            .single()).isZero();
    }

    /**
     * The limit holds under a burst: each attempt is counted and claimed atomically
     * before its password is checked, so 40 wrong passwords at once get at most 5 checks.
     */
    @Test
    void fortyParallelWrongPasswordsForOneLoginGetAtMostFivePasswordChecks() throws Exception {
        String login = newLogin("burst");
        api.createUser(login, PASSWORD, false);
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.Future<Integer>> answers = new java.util.ArrayList<>();
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 40; i++) {
                // Four addresses: each has failed before the login is locked, so none
                // gets the
                // clean-address check (aLockedLoginStillLetsItsOwnerInFromACleanAddress).
                String address = "10.40.0." + (i % 4 + 1);
                answers.add(threads.submit(() -> {
                    start.await();
                    return login(api.anonymous(), login, "wrong password", address).status();
                }));
            }
            start.countDown();
        }
        List<Integer> statuses = new java.util.ArrayList<>();
        for (var answer : answers) {
            statuses.add(answer.get());
        }
        assertThat(statuses).containsOnly(401, 429);
        assertThat(statuses.stream().filter(status -> status == 401).count()).as(statuses.toString()).isBetween(1L, 5L);
    }

    /** A leaked short-lived token cannot mint a token that outlives it. */
    @Test
    void aTokenCannotMakeATokenThatOutlivesIt() {
        Api browser = browser(newLogin("mint"));
        Api.Response parent = browser.post("/api/tokens", "{\"name\":\"ci\",\"expiresAt\":\"2030-01-01T00:00:00Z\"}");
        assertThat(parent.status()).isEqualTo(201);
        Api ci = api.withToken(parent.json().path("token").asString());
        assertProblem(ci.post("/api/tokens", "{\"name\":\"forever\",\"expiresAt\":null}"), 400, "validation-failed");
        assertProblem(ci.post("/api/tokens", "{\"name\":\"later\",\"expiresAt\":\"2030-01-01T00:00:01Z\"}"), 400,
                "validation-failed");
        assertThat(ci.post("/api/tokens", "{\"name\":\"sooner\",\"expiresAt\":\"2029-12-31T00:00:00Z\"}").status())
            .isEqualTo(201);
        assertThat(browser.get("/api/tokens").text()).doesNotContain("forever", "later");
        // A browser session (the user themselves) may still make a token without expiry.
        assertThat(browser.post("/api/tokens", "{\"name\":\"mine\",\"expiresAt\":null}").status()).isEqualTo(201);
    }

    /**
     * A password reset ends the user's browser sessions (tokens stay, docs/api.md); the
     * session a user changes their own password in stays.
     */
    @Test
    void aNewPasswordEndsTheUsersOtherBrowserSessions() {
        String login = newLogin("reset");
        java.util.UUID id = api.createUser(login, PASSWORD, true);
        Api first = api.as(login, PASSWORD);
        Api second = api.as(login, PASSWORD);
        Api token = api.withToken(first.post("/api/tokens", "{\"name\":\"t\"}").json().path("token").asString());

        // An admin resets it: every session of the user ends.
        assertThat(api
            .send(HttpRequest.newBuilder(api.uri("/api/users/" + id))
                .header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"password\":\"a brand new password\"}")))
            .status()).isEqualTo(200);
        assertProblem(first.get("/api/me"), 401, "unauthenticated");
        assertProblem(second.get("/api/me"), 401, "unauthenticated");
        assertThat(token.get("/api/me").status()).isEqualTo(200);

        // The user changes it themselves: the other session ends, this one stays.
        Api here = api.as(login, "a brand new password");
        Api elsewhere = api.as(login, "a brand new password");
        assertThat(here
            .send(HttpRequest.newBuilder(api.uri("/api/users/" + id))
                .header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"password\":\"yet another password\"}")))
            .status()).isEqualTo(200);
        assertThat(here.get("/api/me").status()).isEqualTo(200);
        assertProblem(elsewhere.get("/api/me"), 401, "unauthenticated");
    }

    /**
     * Five wrong passwords for a login every five minutes cannot keep its owner out: an
     * address without failures gets one password check, the attackers' addresses get 429.
     */
    @Test
    void aLockedLoginStillLetsItsOwnerInFromACleanAddress() {
        String login = newLogin("locked");
        api.createUser(login, PASSWORD, true);
        for (int i = 1; i <= 5; i++) {
            assertProblem(login(api.anonymous(), login, "wrong password " + i, "10.60.0.1"), 401,
                    "invalid-credentials");
        }
        // The attacker's own address: 429, even with the right password.
        assertProblem(login(api.anonymous(), login, PASSWORD, "10.60.0.1"), 429, "too-many-attempts");
        // A clean address guessing wrong: 429 as well, and that was its one try.
        Api.Response guessed = login(api.anonymous(), login, "wrong password 6", "10.60.0.2");
        assertProblem(guessed, 429, "too-many-attempts");
        assertThat(guessed.header("Retry-After")).isPresent();
        assertProblem(login(api.anonymous(), login, PASSWORD, "10.60.0.2"), 429, "too-many-attempts");
        // The owner, from a clean address, with the right password: in.
        assertThat(login(api.anonymous(), login, PASSWORD, "10.60.0.3").status()).isEqualTo(200);
    }

    /** Answers that set cookies (the login, /api/me) are never stored by a cache. */
    @Test
    void apiAnswersThatSetCookiesAreNotCacheable() {
        String login = newLogin("cache");
        api.createUser(login, PASSWORD, false);
        Api.Response loggedIn = login(api.browser(), login, PASSWORD, "10.70.0.1");
        assertThat(loggedIn.status()).isEqualTo(200);
        assertThat(loggedIn.raw().headers().allValues("Set-Cookie")).isNotEmpty();
        assertThat(loggedIn.header("Cache-Control"))
            .hasValueSatisfying(value -> assertThat(value).contains("no-store"));
    }

    static Api.Response login(Api client, String login, String password, String forwardedFor) {
        return client.send(HttpRequest.newBuilder(client.uri("/api/auth/login"))
            .header("Content-Type", "application/json")
            .header("X-Forwarded-For", forwardedFor)
            .POST(HttpRequest.BodyPublishers.ofString(Api.json(Map.of("login", login, "password", password)))));
    }

}
