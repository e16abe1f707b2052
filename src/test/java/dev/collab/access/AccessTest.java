package dev.collab.access;

import java.net.http.HttpRequest;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Identity and access over real HTTP on real PostgreSQL: login, logout, {@code /api/me},
 * the session cookie, CSRF and Origin, personal access tokens, disabled users,
 * throttling, security headers, and the problems of every refusal.
 */
@IntegrationTest
@org.springframework.test.context.TestPropertySource(properties = AccessHardeningTest.BEHIND_A_PROXY)
@org.junit.jupiter.api.extension.ExtendWith(org.springframework.boot.test.system.OutputCaptureExtension.class)
class AccessTest {

    static final String PASSWORD = "correct horse battery";

    @Autowired
    JdbcClient jdbc;

    @Autowired
    MutableClock clock;

    @Autowired
    Api api;

    @AfterEach
    void releaseClock() {
        clock.release();
    }

    private String newLogin(String prefix) {
        return prefix + "-" + Long.toString(System.nanoTime(), 36);
    }

    /**
     * A request from its own client address (X-Forwarded-For from a trusted proxy, as
     * behind the ALB), so throttling stays per test.
     */
    private Api.Response login(Api client, String login, String password, String address) {
        return client.send(HttpRequest.newBuilder(client.uri("/api/auth/login"))
            .header("Content-Type", "application/json")
            .header("X-Forwarded-For", address)
            .POST(HttpRequest.BodyPublishers.ofString(Api.json(Map.of("login", login, "password", password)))));
    }

    static void assertProblem(Api.Response response, int status, String code) {
        assertThat(response.status()).as(response.toString()).isEqualTo(status);
        assertThat(response.contentType()).startsWith("application/problem+json");
        JsonNode body = response.json();
        assertThat(body.path("code").asString()).isEqualTo(code);
        assertThat(body.path("type").asString()).isEqualTo("/problems/" + code);
        assertThat(body.path("requestId").asString()).isNotBlank();
        assertThat(response.text()).doesNotContain("Exception", "at org.", "at dev.");
    }

    @Test
    void withoutCredentialsEveryApiCallIsUnauthenticated(org.springframework.boot.test.system.CapturedOutput output) {
        Api anonymous = api.anonymous();
        for (Api.Response response : java.util.List.of(anonymous.get("/api/me"), anonymous.get("/api/projects"),
                anonymous.put("/api/projects/x", "{\"name\":\"x\"}"), anonymous.get("/api/tokens"),
                anonymous.get("/api/users"), anonymous.post("/api/auth/logout", ""))) {
            assertProblem(response, 401, "unauthenticated");
            assertThat(response.header("WWW-Authenticate")).hasValue("Bearer");
        }
        assertProblem(api.withToken("collab_pat_nonsense").get("/api/me"), 401, "unauthenticated");
        assertProblem(api.withToken("not a token at all").get("/api/me"), 401, "unauthenticated");
        // Health needs no credentials (the ALB calls it).
        assertThat(anonymous.get("/actuator/health/liveness").status()).isEqualTo(200);
        // A refusal is the client's doing: no ERROR line, no stack trace.
        assertThat(output.getAll().lines().filter(line -> line.contains(" ERROR ") || line.startsWith("\tat ")))
            .as("ERROR lines")
            .isEmpty();
    }

    @Test
    void loginSetsAnHttpOnlySessionCookieMeKnowsTheUserAndLogoutEndsTheSessionInTheDatabase() {
        String login = newLogin("ada");
        UUID id = api.createUser(login, PASSWORD, false);
        String project = api.newProject("mine");
        // A member row, as part B's member endpoints will write it.
        jdbc.sql("insert into project_members (project_key, user_id, role) values (:p, :u, 'viewer')")
            .param("p", project)
            .param("u", id)
            .update();

        Api browser = api.browser();
        Api.Response loggedIn = login(browser, login, PASSWORD, "10.1.0.1");
        assertThat(loggedIn.status()).as(loggedIn.toString()).isEqualTo(200);
        assertThat(loggedIn.json().path("login").asString()).isEqualTo(login);
        assertThat(loggedIn.json().path("admin").asBoolean()).isFalse();
        assertThat(loggedIn.text()).doesNotContain("password", "$2");
        String setCookie = String.join("\n", loggedIn.raw().headers().allValues("Set-Cookie"));
        assertThat(setCookie).contains("COLLAB_SESSION=")
            .containsIgnoringCase("HttpOnly")
            .containsIgnoringCase("SameSite=Lax")
            .contains("XSRF-TOKEN=");

        JsonNode me = browser.get("/api/me").json();
        assertThat(me.path("id").asString()).isEqualTo(id.toString());
        assertThat(me.path("projects").toString()).contains("{\"key\":\"" + project + "\",\"role\":\"viewer\"}");

        String session = browser.cookie("COLLAB_SESSION").orElseThrow();
        assertThat(jdbc.sql("select count(*) from spring_session where principal_name = :id")
            .param("id", id.toString())
            .query(Integer.class)
            .single()).isEqualTo(1);
        assertThat(browser.post("/api/auth/logout", "").status()).isEqualTo(204);
        assertThat(jdbc.sql("select count(*) from spring_session where principal_name = :id")
            .param("id", id.toString())
            .query(Integer.class)
            .single()).isZero();
        // The old cookie, replayed, is refused.
        Api.Response replayed = api.anonymous()
            .send(HttpRequest.newBuilder(api.uri("/api/me")).header("Cookie", "COLLAB_SESSION=" + session));
        assertProblem(replayed, 401, "unauthenticated");
        assertThat(jdbc.sql("select action from audit_log where target = :t order by id")
            .param("t", "user:" + login)
            .query(String.class)
            .list()).contains("user.created", "login", "logout");
    }

    /**
     * A browser session lives {@code collab.auth.session-timeout} (12 h, the default of
     * AuthProperties, not Spring Session's 30 min) without a request; each request starts
     * the time again.
     */
    @Test
    void aBrowserSessionEndsAfterTheSessionTimeoutWithoutARequest() {
        String login = newLogin("idle");
        UUID id = api.createUser(login, PASSWORD, false);
        Api browser = api.as(login, PASSWORD);
        assertThat(jdbc.sql("select max_inactive_interval from spring_session where principal_name = :id")
            .param("id", id.toString())
            .query(Integer.class)
            .single()).isEqualTo((int) Duration.ofHours(12).toSeconds());

        idleFor(id, Duration.ofHours(12).minusMinutes(1));
        assertThat(browser.get("/api/me").status()).as("idle for less than the timeout").isEqualTo(200);
        idleFor(id, Duration.ofHours(12).plusMinutes(1));
        assertProblem(browser.get("/api/me"), 401, "unauthenticated");
    }

    /**
     * Backdates the user's browser sessions as if their last request was {@code idle}
     * ago.
     */
    private void idleFor(UUID user, Duration idle) {
        jdbc.sql("""
                update spring_session set last_access_time = :at, expiry_time = :at + max_inactive_interval * 1000
                where principal_name = :id
                """).param("at", System.currentTimeMillis() - idle.toMillis()).param("id", user.toString()).update();
    }

    @Test
    void aLoginGetsANewSessionId() {
        String login = newLogin("fix");
        api.createUser(login, PASSWORD, false);
        Api browser = api.browser();
        assertThat(login(browser, login, PASSWORD, "10.1.0.2").status()).isEqualTo(200);
        String first = browser.cookie("COLLAB_SESSION").orElseThrow();
        assertThat(login(browser, login, PASSWORD, "10.1.0.2").status()).isEqualTo(200);
        assertThat(browser.cookie("COLLAB_SESSION").orElseThrow()).isNotEqualTo(first);
        assertThat(browser.get("/api/me").status()).isEqualTo(200);
    }

    @Test
    void aWrongPasswordAndAnUnknownLoginGetTheSameAnswer() {
        String login = newLogin("same");
        api.createUser(login, PASSWORD, false);
        Api.Response wrong = login(api.anonymous(), login, "wrong password!!", "10.1.0.3");
        Api.Response unknown = login(api.anonymous(), newLogin("nobody"), "wrong password!!", "10.1.0.4");
        assertProblem(wrong, 401, "invalid-credentials");
        assertProblem(unknown, 401, "invalid-credentials");
        assertThat(wrong.json().path("detail")).isEqualTo(unknown.json().path("detail"));
        assertThat(wrong.json().path("title")).isEqualTo(unknown.json().path("title"));
    }

    @Test
    void theSixthBadPasswordForALoginIsThrottledWithRetryAfter() {
        String login = newLogin("slow");
        api.createUser(login, PASSWORD, false);
        for (int i = 1; i <= 5; i++) {
            // From five addresses: it is the login's failures that count here.
            assertProblem(login(api.anonymous(), login, "wrong password " + i, "10.2.0." + i), 401,
                    "invalid-credentials");
        }
        Api.Response throttled = login(api.anonymous(), login, "wrong password 6", "10.2.0.6");
        assertProblem(throttled, 429, "too-many-attempts");
        long retryAfter = Long.parseLong(throttled.header("Retry-After").orElseThrow());
        assertThat(retryAfter).isBetween(1L, 300L);
        // Even the right password waits, from an address that failed (a clean address
        // gets
        // one check: AccessHardeningTest).
        assertProblem(login(api.anonymous(), login, PASSWORD, "10.2.0.1"), 429, "too-many-attempts");
    }

    @Test
    void theSixthFailureFromOneAddressIsThrottledWhateverTheLogin() {
        for (int i = 1; i <= 5; i++) {
            assertProblem(login(api.anonymous(), newLogin("guess"), "wrong password", "10.3.0.1"), 401,
                    "invalid-credentials");
        }
        assertProblem(login(api.anonymous(), newLogin("guess"), "wrong password", "10.3.0.1"), 429,
                "too-many-attempts");
        String login = newLogin("other");
        api.createUser(login, PASSWORD, false);
        assertThat(login(api.anonymous(), login, PASSWORD, "10.3.0.2").status()).isEqualTo(200);
    }

    @Test
    void cookieWritesNeedTheXsrfHeaderAndTheirOwnOriginBearerWritesNeither() {
        String login = newLogin("csrf");
        api.createUser(login, PASSWORD, false);
        Api browser = api.browser();
        assertThat(login(browser, login, PASSWORD, "10.4.0.1").status()).isEqualTo(200);
        String xsrf = browser.cookie("XSRF-TOKEN").orElseThrow();

        HttpRequest.Builder withoutHeader = HttpRequest.newBuilder(api.uri("/api/tokens"))
            .header("Content-Type", "application/json")
            .header("X-XSRF-TOKEN", "")
            .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"x\"}"));
        assertProblem(browser.send(withoutHeader), 403, "csrf-failed");
        assertProblem(browser.send(HttpRequest.newBuilder(api.uri("/api/tokens"))
            .header("Content-Type", "application/json")
            .header("X-XSRF-TOKEN", "wrong-" + xsrf)
            .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"x\"}"))), 403, "csrf-failed");
        assertThat(browser.post("/api/tokens", "{\"name\":\"with the header\"}").status()).isEqualTo(201);

        // A foreign Origin, even with the right header.
        assertProblem(browser.send(HttpRequest.newBuilder(api.uri("/api/tokens"))
            .header("Content-Type", "application/json")
            .header("Origin", "https://evil.example")
            .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"x\"}"))), 403, "csrf-failed");
        // Its own origin is fine.
        assertThat(browser
            .send(HttpRequest.newBuilder(api.uri("/api/tokens"))
                .header("Content-Type", "application/json")
                .header("Origin", api.base())
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"own origin\"}")))
            .status()).isEqualTo(201);

        // A bearer write needs no XSRF header, whatever its Origin.
        assertThat(api
            .send(HttpRequest.newBuilder(api.uri("/api/tokens"))
                .header("Content-Type", "application/json")
                .header("Origin", "https://elsewhere.example")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"bearer\"}")))
            .status()).isEqualTo(201);
    }

    @Test
    void aTokenIsShownOnceStoredOnlyAsItsHashAndStopsWorkingWhenRevokedOrExpired() throws Exception {
        String login = newLogin("tok");
        api.createUser(login, PASSWORD, false);
        Api browser = api.as(login, PASSWORD);
        Api.Response created = browser.post("/api/tokens", "{\"name\":\"ci\",\"expiresAt\":null}");
        assertThat(created.status()).isEqualTo(201);
        String token = created.json().path("token").asString();
        UUID id = UUID.fromString(created.json().path("id").asString());
        assertThat(token).startsWith("collab_pat_");
        assertThat(token.length() - "collab_pat_".length()).isGreaterThanOrEqualTo(32);

        JsonNode listed = browser.get("/api/tokens").json();
        assertThat(listed.toString()).contains(id.toString()).doesNotContain(token).doesNotContain("\"token\"");
        byte[] hash = MessageDigest.getInstance("SHA-256")
            .digest(token.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String row = jdbc.sql("select row_to_json(t)::text from access_tokens t where id = :id")
            .param("id", id)
            .query(String.class)
            .single();
        assertThat(row).doesNotContain(token)
            .doesNotContain(token.substring("collab_pat_".length()))
            .contains(HexFormat.of().formatHex(hash));

        Api withToken = api.withToken(token);
        assertThat(withToken.get("/api/me").json().path("login").asString()).isEqualTo(login);
        assertThat(jdbc.sql("select last_used_at is not null from access_tokens where id = :id")
            .param("id", id)
            .query(Boolean.class)
            .single()).isTrue();

        // Someone else's token id is not found; the owner's is revoked at once.
        assertProblem(api.delete("/api/tokens/" + id), 404, "not-found");
        assertThat(withToken.get("/api/me").status()).isEqualTo(200);
        assertThat(browser.delete("/api/tokens/" + id).status()).isEqualTo(204);
        assertProblem(withToken.get("/api/me"), 401, "unauthenticated");

        // An expiring token works until it expires.
        Instant now = Instant.now();
        clock.freezeAt(now);
        Api.Response expiring = browser.post("/api/tokens",
                Api.json(Map.of("name", "short", "expiresAt", now.plus(Duration.ofHours(1)).toString())));
        assertThat(expiring.status()).as(expiring.toString()).isEqualTo(201);
        Api withExpiring = api.withToken(expiring.json().path("token").asString());
        assertThat(withExpiring.get("/api/me").status()).isEqualTo(200);
        clock.advance(Duration.ofHours(2));
        assertProblem(withExpiring.get("/api/me"), 401, "unauthenticated");
    }

    @Test
    void aDisabledUsersSessionAndTokenAreRefusedAtTheNextRequest() {
        String login = newLogin("gone");
        UUID id = api.createUser(login, PASSWORD, false);
        Api browser = api.as(login, PASSWORD);
        Api withToken = api.withToken(browser.post("/api/tokens", "{\"name\":\"t\"}").json().path("token").asString());
        assertThat(browser.get("/api/me").status()).isEqualTo(200);
        assertThat(withToken.get("/api/me").status()).isEqualTo(200);

        Api.Response disabled = api.send(HttpRequest.newBuilder(api.uri("/api/users/" + id))
            .header("Content-Type", "application/json")
            .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"disabled\":true}")));
        assertThat(disabled.status()).as(disabled.toString()).isEqualTo(200);
        assertThat(disabled.json().path("disabled").asBoolean()).isTrue();

        assertProblem(browser.get("/api/me"), 401, "unauthenticated");
        assertProblem(withToken.get("/api/me"), 401, "unauthenticated");
        assertProblem(login(api.anonymous(), login, PASSWORD, "10.5.0.1"), 401, "invalid-credentials");
    }

    @Test
    void onlyServerAdminsManageUsers() {
        String login = newLogin("plain");
        api.createUser(login, PASSWORD, false);
        Api user = api.as(login, PASSWORD);
        assertProblem(user.get("/api/users"), 403, "forbidden");
        assertProblem(user.post("/api/users", "{\"login\":\"x\",\"password\":\"long enough pw\"}"), 403, "forbidden");
        assertThat(api.get("/api/users").json().path("items").toString()).contains("\"login\":\"" + login + "\"");
        assertThat(api.get("/api/users").text()).doesNotContain("password");
        // Validation and the login's uniqueness.
        assertProblem(api.post("/api/users", Api.json(Map.of("login", login, "password", PASSWORD))), 400,
                "validation-failed");
        assertProblem(api.post("/api/users", Api.json(Map.of("login", "Bad Login", "password", PASSWORD))), 400,
                "validation-failed");
        assertProblem(api.post("/api/users", Api.json(Map.of("login", newLogin("short"), "password", "short"))), 400,
                "validation-failed");
    }

    @Test
    void theLastServerAdminCannotBeDisabledOrDemoted() {
        String admins = jdbc.sql("select count(*) from users where admin and not disabled")
            .query(String.class)
            .single();
        UUID first = jdbc.sql("select id from users where login = :l")
            .param("l", Api.ADMIN_LOGIN)
            .query(UUID.class)
            .single();
        if (!admins.equals("1")) {
            return; // Another test of this context made an admin; the rule is the same,
                    // the setup is not.
        }
        assertProblem(api.send(HttpRequest.newBuilder(api.uri("/api/users/" + first))
            .header("Content-Type", "application/json")
            .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"admin\":false}"))), 409, "last-admin");
    }

    @Test
    void everyAnswerHasTheSecurityHeaders() {
        for (Api.Response response : java.util.List.of(api.get("/api/me"), api.anonymous().get("/api/me"))) {
            assertThat(response.header("Content-Security-Policy")).hasValue(SecurityConfiguration.CSP);
            assertThat(response.header("X-Content-Type-Options")).hasValue("nosniff");
            assertThat(response.header("X-Frame-Options")).hasValue("DENY");
            assertThat(response.header("Referrer-Policy")).hasValue("same-origin");
        }
    }

    @Test
    void creatingAProjectMakesTheCreatorItsAdmin() {
        String login = newLogin("maker");
        UUID id = api.createUser(login, PASSWORD, false);
        Api user = api.as(login, PASSWORD);
        String key = "made-" + Long.toString(System.nanoTime(), 36);
        assertThat(user.put("/api/projects/" + key, "{\"name\":\"Made\",\"repoUrl\":null}").status()).isEqualTo(201);
        assertThat(jdbc.sql("select role from project_members where project_key = :p and user_id = :u")
            .param("p", key)
            .param("u", id)
            .query(String.class)
            .single()).isEqualTo("admin");
        assertThat(user.get("/api/me").json().path("projects").toString())
            .contains("{\"key\":\"" + key + "\",\"role\":\"admin\"}");
    }

}
