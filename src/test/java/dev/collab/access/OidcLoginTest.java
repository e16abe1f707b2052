package dev.collab.access;

import java.io.IOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.util.UriComponentsBuilder;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * OIDC login against a real provider ({@link OidcTestProvider}: Spring Authorization
 * Server on a random port): the whole redirect flow with a real HTTP client that keeps
 * cookies and follows redirects, the provider's login form posted like a browser does.
 * Nothing mocked: the server discovers the provider, exchanges the code (with the PKCE
 * verifier), checks the ID token and maps its claims to a user in PostgreSQL.
 */
@IntegrationTest
@ExtendWith(OutputCaptureExtension.class)
class OidcLoginTest extends OidcProviderTestBase {

    @LocalServerPort
    int port;

    @Autowired
    Api api;

    @Autowired
    JdbcClient jdbc;

    /**
     * The server as the browser reaches it: 127.0.0.1 (a loopback redirect URI the
     * provider accepts on any port), not the provider's host (localhost), so the two keep
     * their cookies apart as two sites would.
     */
    private String server() {
        return "http://127.0.0.1:" + port;
    }

    private static String unique(String prefix) {
        return prefix + Long.toString(System.nanoTime(), 36);
    }

    private static void provides(String username, String preferredUsername, String name, String email) {
        provides(username, preferredUsername, name, email, true);
    }

    static void provides(String username, @org.jspecify.annotations.Nullable String preferredUsername, String name,
            String email, boolean emailVerified) {
        Map<String, Object> claims = new HashMap<>();
        if (preferredUsername != null) {
            claims.put("preferred_username", preferredUsername);
        }
        claims.put("name", name);
        claims.put("email", email);
        claims.put("email_verified", emailVerified);
        OidcTestProvider.CLAIMS.put(username, claims);
    }

    /** {@code collab_auth_logins_total} with this outcome, scraped. */
    private double logins(String outcome) {
        String sample = "collab_auth_logins_total{application=\"collab-server\",outcome=\"" + outcome + "\"} ";
        return api.get("/actuator/prometheus")
            .text()
            .lines()
            .filter(line -> line.startsWith(sample))
            .mapToDouble(line -> Double.parseDouble(line.substring(sample.length())))
            .findFirst()
            .orElseThrow();
    }

    @Test
    void aFirstLoginCreatesTheUserFromTheClaimsAndSetsTheSessionCookie() throws Exception {
        String username = unique("alice");
        provides(username, "Alice." + username, "Alice Example", username + "@example.com");
        Browser browser = new Browser();
        double succeeded = logins("succeeded");
        double failed = logins("failed");

        Flow flow = browser.logIn(server(), "", username);
        assertThat(logins("succeeded")).as("an OIDC login is a login").isEqualTo(succeeded + 1);
        assertThat(logins("failed")).isEqualTo(failed);

        // PKCE: the authorization request carries an S256 challenge.
        Map<String, String> authorize = query(flow.authorizationRequest());
        assertThat(authorize).containsEntry("code_challenge_method", "S256")
            .containsKey("code_challenge")
            .containsEntry("response_type", "code")
            // Spring checks the ID token's nonce against this one.
            .containsKey("nonce")
            .containsEntry("client_id", OidcTestProvider.CLIENT_ID)
            .containsEntry("redirect_uri", server() + "/api/auth/oidc/callback");
        assertThat(authorize.get("scope")).contains("openid", "profile", "email");
        assertThat(flow.landed().getPath()).isEqualTo("/");
        assertThat(browser.cookie(server(), "COLLAB_SESSION")).isNotNull();

        HttpResponse<String> me = browser.get(URI.create(server() + "/api/me"));
        assertThat(me.statusCode()).isEqualTo(200);
        var json = Api.JSON.readTree(me.body());
        assertThat(json.get("login").asString()).isEqualTo("alice." + username);
        assertThat(json.get("displayName").asString()).isEqualTo("Alice Example");
        assertThat(json.get("email").asString()).isEqualTo(username + "@example.com");
        assertThat(json.get("admin").asBoolean()).isFalse();

        Map<String, Object> row = jdbc
            .sql("select oidc_issuer, oidc_subject, password_hash from users where login = :login")
            .param("login", "alice." + username)
            .query()
            .singleRow();
        assertThat(row.get("oidc_issuer")).isEqualTo(OidcTestProvider.issuer());
        assertThat(row.get("oidc_subject")).isEqualTo(username);
        assertThat(row.get("password_hash")).isNull();
        assertThat(audited("login.oidc", "user:alice." + username)).isEqualTo(1);
    }

    @Test
    void aSecondLoginUpdatesDisplayNameAndEmailAndKeepsTheUser() throws Exception {
        String username = unique("carol");
        provides(username, username, "Carol Before", username + "@before.example");
        new Browser().logIn(server(), "", username);
        UUID first = userId(username);

        provides(username, "renamed-" + username, "Carol After", username + "@after.example");
        Browser second = new Browser();
        second.logIn(server(), "", username);

        assertThat(userId(username)).isEqualTo(first);
        assertThat(jdbc.sql("select count(*) from users where oidc_subject = :subject")
            .param("subject", username)
            .query(Integer.class)
            .single()).isEqualTo(1);
        var me = Api.JSON.readTree(second.get(URI.create(server() + "/api/me")).body());
        // The login stays (it names the user in roles and the audit log); the rest
        // follows
        // the provider.
        assertThat(me.get("login").asString()).isEqualTo(username);
        assertThat(me.get("displayName").asString()).isEqualTo("Carol After");
        assertThat(me.get("email").asString()).isEqualTo(username + "@after.example");
    }

    @Test
    void aTakenOrInvalidLoginIsMappedToADeterministicUniqueOneAndNeverTakesOverAPasswordUser() throws Exception {
        String taken = unique("dave");
        UUID passwordUser = api.createUser(taken, "a password user's password", false);
        String username = unique("dave-oidc");
        provides(username, taken, "Dave Impostor", username + "@example.com");

        Browser browser = new Browser();
        browser.logIn(server(), "", username);

        String expected = OidcAccounts.suffixed(taken, OidcTestProvider.issuer(), username, 8);
        var me = Api.JSON.readTree(browser.get(URI.create(server() + "/api/me")).body());
        assertThat(me.get("login").asString()).isEqualTo(expected).matches(Users.LOGIN_PATTERN);
        assertThat(me.get("id").asString()).isNotEqualTo(passwordUser.toString());
        assertThat(jdbc.sql("select display_name from users where id = :id")
            .param("id", passwordUser)
            .query(String.class)
            .single()).isEqualTo(taken);

        // Not a valid login at all: made valid, the same way every time, the domain kept
        // (alice of one domain is not alice of another).
        assertThat(OidcAccounts.baseLogin("  Ëve Smith@corp.example", null)).isEqualTo("ve-smith-corp.example");
        assertThat(OidcAccounts.baseLogin(null, "Frank.O'Neil@example.com")).isEqualTo("frank.o-neil-example.com");
        assertThat(OidcAccounts.baseLogin("alice@contoso.example", null))
            .isNotEqualTo(OidcAccounts.baseLogin("alice@fabrikam.example", null));
        assertThat(OidcAccounts.baseLogin("__", null)).isEqualTo("user");
        assertThat(OidcAccounts.suffixed("x".repeat(64), "i", "s", 8)).hasSize(64).matches(Users.LOGIN_PATTERN);
    }

    @Test
    void anUnverifiedEmailIsNeitherTheLoginNorTheUsersEmail() throws Exception {
        String username = unique("mallory");
        String victim = unique("victim");
        provides(username, null, "Mallory", victim + "@example.com", false);

        Browser browser = new Browser();
        browser.logIn(server(), "", username);

        var me = Api.JSON.readTree(browser.get(URI.create(server() + "/api/me")).body());
        assertThat(me.get("login").asString()).doesNotContain(victim).startsWith("user");
        assertThat(me.get("email") == null || me.get("email").isNull()).as("email %s", me.get("email")).isTrue();

        // Verified, the same email is the login's source (with its domain).
        String verified = unique("victor");
        provides(verified, null, "Victor", verified + "@example.com", true);
        Browser second = new Browser();
        second.logIn(server(), "", verified);
        var victor = Api.JSON.readTree(second.get(URI.create(server() + "/api/me")).body());
        assertThat(victor.get("login").asString()).isEqualTo(verified + "-example.com");
        assertThat(victor.get("email").asString()).isEqualTo(verified + "@example.com");
    }

    @Test
    void loginsRegisteredInAdvanceForAnIdentityNeverLockItOut() throws Exception {
        // Someone who knows the victim's sub registers the login the victim would ask for
        // and both suffixes derived from the identity (review 13b-oidc #4).
        String wanted = unique("hal");
        String username = unique("hal-oidc");
        for (String login : List.of(wanted, OidcAccounts.suffixed(wanted, OidcTestProvider.issuer(), username, 8),
                OidcAccounts.suffixed(wanted, OidcTestProvider.issuer(), username, 16))) {
            api.createUser(login, "a squatter's password", false);
        }
        provides(username, wanted, "Hal", username + "@example.com");

        Browser browser = new Browser();
        Flow flow = browser.logIn(server(), "", username);

        assertThat(flow.landed().getPath()).isEqualTo("/");
        var me = Api.JSON.readTree(browser.get(URI.create(server() + "/api/me")).body());
        assertThat(me.get("login").asString()).matches(java.util.regex.Pattern.quote(wanted) + "-[0-9a-f]{16}")
            .isNotEqualTo(OidcAccounts.suffixed(wanted, OidcTestProvider.issuer(), username, 16))
            .matches(Users.LOGIN_PATTERN);
        assertThat(OidcAccounts.randomSuffixed("x".repeat(64))).hasSize(64).matches(Users.LOGIN_PATTERN);
    }

    @Test
    void theSessionIdChangesAtTheLogin() throws Exception {
        String username = unique("ivan");
        provides(username, username, "Ivan", username + "@example.com");
        Browser browser = new Browser();

        Flow flow = browser.logIn(server(), "", username);

        assertThat(flow.sessionAtStart()).as("the started login's session").isNotNull();
        assertThat(browser.cookie(server(), "COLLAB_SESSION")).isNotNull().isNotEqualTo(flow.sessionAtStart());
        assertThat(browser.get(URI.create(server() + "/api/me")).statusCode()).isEqualTo(200);
    }

    @Test
    void aCallbackFromAnotherBrowsersLoginIsRefused() throws Exception {
        // Login CSRF: the attacker's own code and state, opened in the victim's browser,
        // must not log the victim in as the attacker.
        String attacker = unique("judy");
        provides(attacker, attacker, "Judy", attacker + "@example.com");
        URI attackersCallback = new Browser().callback(server(), "", attacker);
        assertThat(attackersCallback.getQuery()).contains("code=", "state=");

        Browser victim = new Browser();
        assertThat(victim.get(URI.create(server() + "/api/auth/oidc")).statusCode()).isEqualTo(302);
        HttpResponse<String> answer = victim.get(attackersCallback);

        assertThat(answer.statusCode()).isEqualTo(302);
        assertThat(answer.headers().firstValue("Location").orElseThrow()).endsWith("/login?error=oidc");
        assertThat(victim.get(URI.create(server() + "/api/me")).statusCode()).isEqualTo(401);
        // Nor without any session of its own.
        Browser fresh = new Browser();
        assertThat(fresh.get(attackersCallback).headers().firstValue("Location").orElseThrow())
            .endsWith("/login?error=oidc");
        assertThat(fresh.get(URI.create(server() + "/api/me")).statusCode()).isEqualTo(401);
    }

    @Test
    void aDisabledUserIsRefused() throws Exception {
        String username = unique("erin");
        provides(username, username, "Erin", username + "@example.com");
        new Browser().logIn(server(), "", username);
        UUID id = userId(username);
        assertThat(api
            .send(java.net.http.HttpRequest.newBuilder(api.uri("/api/users/" + id))
                .header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"disabled\": true}")))
            .status()).isEqualTo(200);

        double succeeded = logins("succeeded");
        double failed = logins("failed");
        Browser browser = new Browser();
        Flow flow = browser.logIn(server(), "", username);

        assertThat(flow.landed().getPath()).isEqualTo("/login");
        assertThat(flow.landed().getQuery()).isEqualTo("error=disabled");
        assertThat(browser.get(URI.create(server() + "/api/me")).statusCode()).isEqualTo(401);
        assertThat(audited("login.oidc.failed", "user:" + username)).isEqualTo(1);
        assertThat(logins("failed")).isEqualTo(failed + 1);
        assertThat(logins("succeeded")).isEqualTo(succeeded);
    }

    @Test
    void aWrongStateOrAProviderErrorAtTheCallbackIsRefusedWithoutAnErrorLog(CapturedOutput output) throws Exception {
        Browser browser = new Browser();
        HttpResponse<String> started = browser.get(URI.create(server() + "/api/auth/oidc"));
        assertThat(started.statusCode()).isEqualTo(302);
        String state = query(URI.create(started.headers().firstValue("Location").orElseThrow())).get("state");

        int unaudited = jdbc.sql("""
                select count(*) from audit_log
                where action = 'login.oidc.failed' and details ->> 'reason' = 'authorization_request_not_found'
                """).query(Integer.class).single();
        double failed = logins("failed");
        HttpResponse<String> forged = browser
            .get(URI.create(server() + "/api/auth/oidc/callback?code=stolen&state=forged-" + state));
        assertThat(forged.statusCode()).isEqualTo(302);
        assertThat(forged.headers().firstValue("Location").orElseThrow()).endsWith("/login?error=oidc");

        // Without any started login (no session at all).
        HttpResponse<String> stray = new Browser()
            .get(URI.create(server() + "/api/auth/oidc/callback?code=stolen&state=" + state));
        assertThat(stray.headers().firstValue("Location").orElseThrow()).endsWith("/login?error=oidc");

        // Anybody's requests, not failed logins: no audit rows (review 13b-oidc #6).
        assertThat(jdbc.sql("""
                select count(*) from audit_log
                where action = 'login.oidc.failed' and details ->> 'reason' = 'authorization_request_not_found'
                """).query(Integer.class).single()).isEqualTo(unaudited);
        assertThat(logins("failed")).as("nor counted as failed logins").isEqualTo(failed);

        // The provider's own error (the user denied the login), with the right state.
        Browser denied = new Browser();
        HttpResponse<String> again = denied.get(URI.create(server() + "/api/auth/oidc"));
        String deniedState = query(URI.create(again.headers().firstValue("Location").orElseThrow())).get("state");
        HttpResponse<String> error = denied.get(URI.create(
                server() + "/api/auth/oidc/callback?error=access_denied&error_description=no&state=" + deniedState));
        assertThat(error.headers().firstValue("Location").orElseThrow()).endsWith("/login?error=oidc");
        assertThat(logins("failed")).as("a login the provider refused").isEqualTo(failed + 1);

        assertThat(denied.get(URI.create(server() + "/api/me")).statusCode()).isEqualTo(401);
        assertThat(output.getAll().lines().filter(line -> line.contains(" ERROR ") || line.startsWith("\tat ")))
            .as("ERROR lines")
            .isEmpty();
    }

    @Test
    void theLoginReturnsToASafeLocalTargetOnly(CapturedOutput output) throws Exception {
        String username = unique("gail");
        provides(username, username, "Gail", username + "@example.com");

        Flow local = new Browser().logIn(server(), "?redirect=" + encode("/projects/p1?x=1"), username);
        assertThat(local.landed().getPath()).isEqualTo("/projects/p1");
        assertThat(local.landed().getQuery()).isEqualTo("x=1");
        assertThat(local.landed().getHost()).isEqualTo("127.0.0.1");

        // Off-site, or paths that Jetty's normalising of the redirect turns into
        // off-site ones or refuses (review 13b-oidc #1, #2): the login lands on /
        // instead,
        // never with a 500 or an ERROR line.
        for (String open : List.of("//evil.example/x", "https://evil.example/", "/\\evil.example", "evil",
                "/.//evil.example/x", "/./%2F/evil", "/%2e//evil", "/%2E%2E//evil", "/a/..//evil", "/..",
                "/a/../..//evil.example", "/%2F%2Fevil", "%2F%2Fevil", "https:evil", "/x%0d%0aSet-Cookie:%20a=b",
                "/x\r\nSet-Cookie: a=b")) {
            Flow flow = new Browser().logIn(server(), "?redirect=" + encode(open), username);
            assertThat(flow.landed()).as(open).isEqualTo(URI.create(server() + "/"));
        }
        assertThat(output.getAll().lines().filter(line -> line.contains(" ERROR ") || line.startsWith("\tat ")))
            .as("ERROR lines")
            .isEmpty();
    }

    @Test
    void theLoginPageReadsTheProviderBeforeLogin() {
        var config = api.anonymous().get("/api/auth/config");
        assertThat(config.status()).isEqualTo(200);
        assertThat(config.json().get("oidc").get("name").asString()).isEqualTo("Test Provider");
        assertThat(config.json().get("oidc").get("loginUrl").asString()).isEqualTo("/api/auth/oidc");
    }

    private UUID userId(String subject) {
        return jdbc.sql("select id from users where oidc_subject = :subject")
            .param("subject", subject)
            .query(UUID.class)
            .single();
    }

    private int audited(String action, String target) {
        return jdbc.sql("select count(*) from audit_log where action = :action and target = :target")
            .param("action", action)
            .param("target", target)
            .query(Integer.class)
            .single();
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> params = new HashMap<>();
        UriComponentsBuilder.fromUri(uri)
            .build()
            .getQueryParams()
            .forEach((name, values) -> params.put(name,
                    values.get(0) == null ? "" : java.net.URLDecoder.decode(values.get(0), StandardCharsets.UTF_8)));
        return params;
    }

    /**
     * A login: the authorization request the server sent the browser to, and where the
     * server's callback sent it in the end.
     */
    record Flow(URI authorizationRequest, URI landed, @org.jspecify.annotations.Nullable String sessionAtStart) {
    }

    /**
     * A browser: keeps cookies per host, follows redirects one by one (so the test sees
     * each), posts the provider's login form with its CSRF token.
     */
    static final class Browser {

        private final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);

        private final HttpClient client = HttpClient.newBuilder()
            .cookieHandler(cookies)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(10))
            .build();

        HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
            // A browser's Accept: the provider sends a browser (not an API client) to its
            // login page.
            return client.send(HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(30))
                .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
                .GET()
                .build(), HttpResponse.BodyHandlers.ofString());
        }

        HttpResponse<String> postForm(URI uri, Map<String, String> form) throws IOException, InterruptedException {
            StringBuilder body = new StringBuilder();
            form.forEach((name, value) -> body.append(body.isEmpty() ? "" : "&")
                .append(encode(name))
                .append('=')
                .append(encode(value)));
            return client.send(HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build(), HttpResponse.BodyHandlers.ofString());
        }

        @org.jspecify.annotations.Nullable
        String cookie(String site, String name) {
            return cookies.getCookieStore()
                .get(URI.create(site))
                .stream()
                .filter(cookie -> cookie.getName().equals(name))
                .map(java.net.HttpCookie::getValue)
                .findFirst()
                .orElse(null);
        }

        /**
         * Starts the login at the server, logs in at the provider's form when it asks,
         * and follows the redirects back to the server's callback.
         */
        Flow logIn(String server, String query, String username) throws IOException, InterruptedException {
            HttpResponse<String> started = get(URI.create(server + "/api/auth/oidc" + query));
            assertThat(started.statusCode()).as("start").isEqualTo(302);
            URI authorization = location(started);
            String sessionAtStart = cookie(server, "COLLAB_SESSION");
            URI callback = atProvider(authorization, username);
            HttpResponse<String> response = get(callback);
            assertThat(response.statusCode()).as("callback").isEqualTo(302);
            return new Flow(authorization, location(response), sessionAtStart);
        }

        /**
         * Starts the login and logs in at the provider, but stops before the server's
         * callback: its URI, with the provider's code and state.
         */
        URI callback(String server, String query, String username) throws IOException, InterruptedException {
            HttpResponse<String> started = get(URI.create(server + "/api/auth/oidc" + query));
            assertThat(started.statusCode()).as("start").isEqualTo(302);
            return atProvider(location(started), username);
        }

        private URI atProvider(URI authorization, String username) throws IOException, InterruptedException {
            HttpResponse<String> response;
            List<URI> visited = new ArrayList<>();
            URI next = authorization;
            for (int step = 0; step < 10; step++) {
                visited.add(next);
                if (next.getPath().equals("/api/auth/oidc/callback")) {
                    return next;
                }
                response = get(next);
                if (response.statusCode() == 200 && response.body().contains("name=\"username\"")) {
                    Matcher csrf = java.util.regex.Pattern.compile("name=\"_csrf\"[^>]*value=\"([^\"]+)\"")
                        .matcher(response.body());
                    assertThat(csrf.find()).as("the login form's CSRF token").isTrue();
                    response = postForm(next.resolve("/login"), Map.of("username", username, "password",
                            OidcTestProvider.PASSWORD, "_csrf", csrf.group(1)));
                }
                assertThat(response.statusCode()).as("%s: %s", next, response.body()).isBetween(300, 399);
                next = location(response);
            }
            throw new AssertionError("no callback after " + visited);
        }

        private static URI location(HttpResponse<String> response) {
            return response.uri().resolve(response.headers().firstValue("Location").orElseThrow());
        }

    }

}
