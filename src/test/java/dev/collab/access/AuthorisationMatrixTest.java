package dev.collab.access;

import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Stream;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.MutableClock;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.TestPropertySource;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The authorisation matrix (issue 13): every {@code /api/**} endpoint × every kind of
 * caller → the expected status and problem code, generated from {@link #TABLE}, one row
 * per endpoint. {@link #everyApiEndpointIsInTheTable()} fails when the running app has an
 * endpoint the table lacks (or the table one the app lacks), so a new endpoint cannot be
 * forgotten. Callers are real users with real logins and tokens made through the API;
 * their project roles are rows of {@code project_members}. A denied write must change
 * nothing: each denied cell of a write compares the project, its sessions and members,
 * the users and the tokens before and after. The run timeout is long here, so that a run
 * in progress stays in progress for as long as a cell looks at it, however slow the
 * machine. That context of its own is closed after the class: cached, its pooled
 * connections pushed the test database past its connection limit in the full suite.
 */
@IntegrationTest
@TestPropertySource(properties = "collab.runner.timeout=10m")
@DirtiesContext
class AuthorisationMatrixTest {

    static final String PASSWORD = "correct horse battery";

    /** The kinds of caller, each a column of the matrix. */
    enum Caller {

        ANONYMOUS, EXPIRED_TOKEN, REVOKED_TOKEN, DISABLED_USER, NON_MEMBER, VIEWER, MEMBER, PROJECT_ADMIN,
        ADMIN_OF_ANOTHER_PROJECT, SERVER_ADMIN;

        /** Its role in the matrix's project; null for none or no user at all. */
        Role role() {
            return switch (this) {
                case VIEWER -> Role.VIEWER;
                case MEMBER -> Role.MEMBER;
                case PROJECT_ADMIN, SERVER_ADMIN -> Role.ADMIN;
                default -> null;
            };
        }

        boolean authenticated() {
            return switch (this) {
                case ANONYMOUS, EXPIRED_TOKEN, REVOKED_TOKEN, DISABLED_USER -> false;
                default -> true;
            };
        }

    }

    /** Who may call an endpoint, and what a permitted caller gets. */
    sealed interface Rule {

        /**
         * Anyone without credentials or with good ones (login, setup); credentials that
         * are no longer good (an expired or revoked token, a disabled user) are refused
         * with 401 even here, as everywhere.
         */
        record Anyone(int status, String code) implements Rule {
        }

        /** Any authenticated user. */
        record AnyUser(int status) implements Rule {
        }

        /** Server admins; another user gets 403 forbidden. */
        record ServerAdmin(int status) implements Rule {
        }

        /**
         * At least this role in the project; a non-member gets 404 not-found, too low a
         * role 403 forbidden.
         */
        record ProjectRole(Role needed, int status) implements Rule {
        }

    }

    static Rule anyone(int status, String code) {
        return new Rule.Anyone(status, code);
    }

    static Rule anyUser(int status) {
        return new Rule.AnyUser(status);
    }

    static Rule serverAdmin(int status) {
        return new Rule.ServerAdmin(status);
    }

    static Rule viewer(int status) {
        return new Rule.ProjectRole(Role.VIEWER, status);
    }

    static Rule member(int status) {
        return new Rule.ProjectRole(Role.MEMBER, status);
    }

    static Rule admin(int status) {
        return new Rule.ProjectRole(Role.ADMIN, status);
    }

    /**
     * One endpoint: its method and path template as Spring maps it, who may call it, the
     * body it is sent, and what its path variables are for a caller ({@code {key}} is the
     * matrix's project, {@code {id}} a session unless {@code target} says otherwise).
     */
    record Row(String method, String path, Rule rule, Function<Cell, String> body, Target target) {

        String endpoint() {
            return method + " " + path;
        }

    }

    /** What a row's {@code {id}} stands for. */
    enum Target {

        /** The shared IDLE session (a cell that changes nothing). */
        SESSION,
        /** A new IDLE session for each permitted caller (the cell changes it). */
        FRESH_SESSION,
        /** A session that has ended (its stream replays and ends). */
        ENDED_SESSION,
        /**
         * A new session with a run in progress for every cell: a permitted caller stops
         * it (202 with its run id); after a denied one it is still running, and the first
         * stop is the server admin's that follows.
         */
        RUNNING_SESSION,
        /**
         * A new IDLE session for each permitted caller; for a denied one, a new session
         * with a run in progress: the role is checked before busy (a viewer's send to a
         * busy session is 403, not 409), and the run goes on.
         */
        IDLE_OR_BUSY_SESSION,
        /**
         * {@code {id}} a new session with a run in progress (as
         * {@link #RUNNING_SESSION}), {@code {approvalId}} a request of that run waiting
         * for its decision.
         */
        PENDING_APPROVAL,
        /**
         * {@code {id}} a new session with a run in progress (as {@link #RUNNING_SESSION})
         * of the matrix's project (busy policy {@code queue}), {@code {messageId}} a
         * message the server admin queued in it (so a member who is not its author may
         * not cancel it). Denied: it is cancelled (by the server admin) before the run is
         * stopped, so that it never starts.
         */
        QUEUED_MESSAGE,
        /** A new token of the caller for each permitted caller. */
        OWN_TOKEN,
        /** A user for the server admin to change. */
        USER,
        /**
         * {@code {login}}: a new user, not a member, for each permitted caller (an
         * existing one otherwise).
         */
        NEW_LOGIN,
        /**
         * {@code {login}}: a new viewer of the project for each permitted caller (an
         * existing user otherwise).
         */
        NEW_MEMBER,
        /** No path variable or only {@code {key}}. */
        NONE

    }

    static Row row(String method, String path, Rule rule, String body, Target target) {
        return new Row(method, path, rule, cell -> body, target);
    }

    /**
     * A row whose body depends on the cell (a new login each time, the caller's name).
     */
    static Row rowWithBody(String method, String path, Rule rule, Function<Cell, String> body, Target target) {
        return new Row(method, path, rule, body, target);
    }

    /**
     * THE table: one row per {@code /api/**} endpoint. Adding an endpoint is adding one
     * line here.
     */
    static final List<Row> TABLE = List.of(
    // @formatter:off
            rowWithBody("POST", "/api/auth/login", anyone(200, null),
                    cell -> Api.json(Map.of("login", cell.fixture.loginUser, "password", PASSWORD)), Target.NONE),
            row("POST", "/api/auth/setup", anyone(404, "not-found"),
                    "{\"token\":\"no-such-token\",\"login\":\"setup-x\",\"password\":\"a long enough password\"}", Target.NONE),
            row("POST", "/api/auth/logout", anyUser(204), "", Target.NONE),
            row("GET", "/api/me", anyUser(200), null, Target.NONE),
            row("GET", "/api/tokens", anyUser(200), null, Target.NONE),
            row("POST", "/api/tokens", anyUser(201), "{\"name\":\"matrix\",\"expiresAt\":null}", Target.NONE),
            row("DELETE", "/api/tokens/{id}", anyUser(204), null, Target.OWN_TOKEN),
            row("GET", "/api/users", serverAdmin(200), null, Target.NONE),
            rowWithBody("POST", "/api/users", serverAdmin(201), cell -> Api.json(Map.of("login", unique("made"),
                    "displayName", "Made", "password", PASSWORD, "admin", false)), Target.NONE),
            row("PATCH", "/api/users/{id}", serverAdmin(200), "{\"displayName\":\"Changed\"}", Target.USER),
            row("GET", "/api/projects", anyUser(200), null, Target.NONE),
            row("GET", "/api/projects/{key}", viewer(200), null, Target.NONE),
            rowWithBody("PUT", "/api/projects/{key}", admin(200),
                    cell -> "{\"name\":\"renamed by " + cell.caller + "\",\"repoUrl\":null}", Target.NONE),
            row("GET", "/api/projects/{key}/sessions", viewer(200), null, Target.NONE),
            row("GET", "/api/projects/{key}/sessions/stream", viewer(200), null, Target.NONE),
            row("POST", "/api/projects/{key}/sessions", member(201), "{\"title\":\"matrix\"}", Target.NONE),
            row("GET", "/api/sessions/{id}", viewer(200), null, Target.SESSION),
            row("DELETE", "/api/sessions/{id}", admin(204), null, Target.FRESH_SESSION),
            row("GET", "/api/sessions/{id}/events", viewer(200), null, Target.SESSION),
            row("GET", "/api/sessions/{id}/events/stream", viewer(200), null, Target.ENDED_SESSION),
            row("POST", "/api/sessions/{id}/messages", member(202), "{\"text\":\"hi\"}", Target.IDLE_OR_BUSY_SESSION),
            row("POST", "/api/sessions/{id}/interrupt", member(202), "", Target.RUNNING_SESSION),
            row("GET", "/api/sessions/{id}/diff", viewer(200), null, Target.SESSION),
            row("GET", "/api/sessions/{id}/approvals", viewer(200), null, Target.SESSION),
            row("GET", "/api/sessions/{id}/presence", viewer(200), null, Target.SESSION),
            row("PUT", "/api/sessions/{id}/presence", viewer(204), "{\"state\":\"idle\"}", Target.SESSION),
            row("PUT", "/api/sessions/{id}/read", viewer(200), "{\"seq\":1}", Target.SESSION),
            row("POST", "/api/sessions/{id}/approvals/{approvalId}", member(200), "{\"decision\":\"allow\"}",
                    Target.PENDING_APPROVAL),
            row("GET", "/api/sessions/{id}/queue", viewer(200), null, Target.SESSION),
            row("DELETE", "/api/sessions/{id}/queue/{messageId}", admin(204), null, Target.QUEUED_MESSAGE),
            row("POST", "/api/sessions/{id}/queue/{messageId}/move-to-front", admin(200), "",
                    Target.QUEUED_MESSAGE),
            row("GET", "/api/projects/{key}/members", viewer(200), null, Target.NONE),
            row("PUT", "/api/projects/{key}/members/{login}", admin(201), "{\"role\":\"viewer\"}", Target.NEW_LOGIN),
            row("DELETE", "/api/projects/{key}/members/{login}", admin(204), null, Target.NEW_MEMBER),
            row("GET", "/api/audit", serverAdmin(200), null, Target.NONE),
            row("GET", "/api/auth/config", anyone(200, null), null, Target.NONE),
            // Filter endpoints (OIDC is not configured here: both are 404 for everyone).
            row("GET", OidcLogin.START, anyone(404, "not-found"), null, Target.NONE),
            row("GET", OidcLogin.CALLBACK, anyone(404, "not-found"), null, Target.NONE)
    // @formatter:on
    );

    @Autowired
    Api api;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    dev.collab.run.ApprovalGate approvals;

    @Autowired
    MutableClock clock;

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    RequestMappingHandlerMapping mappings;

    static final Duration WAIT = Duration.ofSeconds(30);

    static String unique(String prefix) {
        return prefix + "-" + Long.toString(System.nanoTime(), 36);
    }

    @Test
    void everyApiEndpointIsInTheTable() {
        Set<String> served = new TreeSet<>();
        mappings.getHandlerMethods().keySet().forEach(info -> {
            Set<String> methods = new TreeSet<>();
            info.getMethodsCondition().getMethods().forEach(method -> methods.add(method.name()));
            if (methods.isEmpty()) {
                methods.add("ANY");
            }
            for (String path : info.getPatternValues()) {
                if (path.startsWith("/api/")) {
                    methods.forEach(method -> served.add(method + " " + path));
                }
            }
        });
        // Endpoints served by Spring Security filters rather than handler methods (the
        // OIDC
        // login's start and callback): no handler mapping lists them, so they are named
        // here,
        // from the constants the security configuration itself uses.
        served.add("GET " + OidcLogin.START);
        served.add("GET " + OidcLogin.CALLBACK);
        Set<String> table = new TreeSet<>();
        TABLE.forEach(row -> table.add(row.endpoint()));
        assertThat(table).as("the endpoints of the table vs. those the app serves").isEqualTo(served);
    }

    @TestFactory
    Stream<DynamicTest> everyEndpointForEveryCaller() {
        Fixture fixture = new Fixture();
        List<DynamicTest> cells = new ArrayList<>();
        for (Row row : TABLE) {
            for (Caller caller : Caller.values()) {
                cells.add(DynamicTest.dynamicTest(row.endpoint() + " as " + caller,
                        () -> new Cell(fixture, row, caller).check()));
            }
        }
        return cells.stream();
    }

    /** What the cells share: one project, users of every kind, a session. */
    final class Fixture {

        final String project = api.newProject("matrix");

        final String otherProject = api.newProject("matrix-other");

        final UUID session = api.newSession(project);

        final UUID endedSession = api.newSession(project);

        final String loginUser = unique("login");

        final UUID targetUser;

        final Map<Caller, Api> clients = new EnumMap<>(Caller.class);

        Fixture() {
            assertThat(api.delete("/api/sessions/" + endedSession).status()).isEqualTo(204);
            api.createUser(loginUser, PASSWORD, false);
            targetUser = api.createUser(unique("target"), PASSWORD, false);
            clients.put(Caller.ANONYMOUS, api.anonymous());
            clients.put(Caller.SERVER_ADMIN, api);
            clients.put(Caller.NON_MEMBER, tokenOf(newUser(null, null)));
            clients.put(Caller.VIEWER, tokenOf(newUser(project, "viewer")));
            clients.put(Caller.MEMBER, tokenOf(newUser(project, "member")));
            clients.put(Caller.PROJECT_ADMIN, tokenOf(newUser(project, "admin")));
            clients.put(Caller.ADMIN_OF_ANOTHER_PROJECT, tokenOf(newUser(otherProject, "admin")));

            // Each of the refused ones is a project admin: only their credentials fail.
            Api revokedOwner = newUser(project, "admin");
            Api.Response revoked = revokedOwner.post("/api/tokens", "{\"name\":\"revoked\"}");
            assertThat(revokedOwner.delete("/api/tokens/" + revoked.json().get("id").asString()).status())
                .isEqualTo(204);
            clients.put(Caller.REVOKED_TOKEN, api.withToken(revoked.json().get("token").asString()));

            // Made an hour in the past, valid for half an hour: expired now.
            Api expiredOwner = newUser(project, "admin");
            Instant now = Instant.now();
            clock.freezeAt(now.minus(Duration.ofHours(1)));
            try {
                Api.Response expired = expiredOwner.post("/api/tokens",
                        Api.json(Map.of("name", "expired", "expiresAt", now.minus(Duration.ofMinutes(30)).toString())));
                assertThat(expired.status()).as(expired.toString()).isEqualTo(201);
                clients.put(Caller.EXPIRED_TOKEN, api.withToken(expired.json().get("token").asString()));
            }
            finally {
                clock.release();
            }

            String disabledLogin = unique("disabled");
            UUID disabledId = api.createUser(disabledLogin, PASSWORD, false);
            member(project, disabledId, "admin");
            Api disabled = tokenOf(api.as(disabledLogin, PASSWORD));
            Api.Response patched = api.send(HttpRequest.newBuilder(api.uri("/api/users/" + disabledId))
                .header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"disabled\":true}")));
            assertThat(patched.status()).isEqualTo(200);
            clients.put(Caller.DISABLED_USER, disabled);
        }

        /** A user with this role in this project, logged in (a browser session). */
        private Api newUser(String inProject, String role) {
            String login = unique("m");
            UUID id = api.createUser(login, PASSWORD, false);
            if (inProject != null) {
                member(inProject, id, role);
            }
            return api.as(login, PASSWORD);
        }

        private void member(String inProject, UUID user, String role) {
            jdbc.sql("insert into project_members (project_key, user_id, role) values (:p, :u, :r)")
                .param("p", inProject)
                .param("u", user)
                .param("r", role)
                .update();
        }

        /** The user's personal access token, made through the API, as a client. */
        private Api tokenOf(Api browser) {
            Api.Response created = browser.post("/api/tokens", "{\"name\":\"matrix\"}");
            assertThat(created.status()).as(created.toString()).isEqualTo(201);
            return api.withToken(created.json().get("token").asString());
        }

    }

    /** One cell: an endpoint called by one kind of caller. */
    final class Cell {

        final Fixture fixture;

        final Row row;

        final Caller caller;

        /** The session with a run in progress that this cell targets, and its run. */
        UUID running;

        String runId;

        /** The {@code {approvalId}} of a {@code PENDING_APPROVAL} cell. */
        String approvalId = "";

        /** The {@code {messageId}} of a {@code QUEUED_MESSAGE} cell. */
        String messageId = "";

        Cell(Fixture fixture, Row row, Caller caller) {
            this.fixture = fixture;
            this.row = row;
            this.caller = caller;
        }

        /** The status and problem code this caller gets (null code: a success). */
        Expected expected() {
            return switch (row.rule()) {
                case Rule.Anyone anyone -> caller.authenticated() || caller == Caller.ANONYMOUS
                        ? new Expected(anyone.status(), anyone.code()) : new Expected(401, "unauthenticated");
                case Rule.AnyUser any ->
                    caller.authenticated() ? new Expected(any.status(), null) : new Expected(401, "unauthenticated");
                case Rule.ServerAdmin admin ->
                    !caller.authenticated() ? new Expected(401, "unauthenticated") : caller == Caller.SERVER_ADMIN
                            ? new Expected(admin.status(), null) : new Expected(403, "forbidden");
                case Rule.ProjectRole role -> !caller.authenticated() ? new Expected(401, "unauthenticated")
                        : caller.role() == null ? new Expected(404, "not-found") : caller.role().includes(role.needed())
                                ? new Expected(role.status(), null) : new Expected(403, "forbidden");
            };
        }

        void check() {
            Expected expected = expected();
            Api client = fixture.clients.get(caller);
            String path = row.path()
                .replace("{key}", fixture.project)
                .replace(row.target() == Target.NEW_LOGIN || row.target() == Target.NEW_MEMBER ? "{login}" : "{id}",
                        id(client, expected))
                .replace("{approvalId}", approvalId)
                .replace("{messageId}", messageId);
            String body = row.body().apply(this);
            HttpRequest.Builder request = HttpRequest.newBuilder(client.uri(path));
            if (body == null) {
                request.method(row.method(), HttpRequest.BodyPublishers.noBody());
            }
            else {
                request.header("Content-Type", "application/json")
                    .method(row.method(), HttpRequest.BodyPublishers.ofString(body));
            }
            boolean deniedWrite = expected.code() != null && !row.method().equals("GET");
            String before = deniedWrite ? snapshot() : null;
            // The live session list never ends by itself: read up to its snapshot.
            Api.Response response = row.path().endsWith("/sessions/stream")
                    ? client.sendUntil(request, "event: snapshot") : client.send(request);
            assertThat(response.status()).as(row.endpoint() + " as " + caller + ": " + response)
                .isEqualTo(expected.status());
            if (expected.code() != null) {
                AccessTest.assertProblem(response, expected.status(), expected.code());
                if (deniedWrite) {
                    assertThat(snapshot()).as("nothing changed by " + row.endpoint() + " as " + caller)
                        .isEqualTo(before);
                }
                if (!messageId.isEmpty()) {
                    assertThat(api.delete("/api/sessions/" + running + "/queue/" + messageId).status()).isEqualTo(204);
                }
                if (running != null) {
                    stillRunning();
                }
            }
            else {
                assertThat(response.contentType()).doesNotStartWith("application/problem+json");
                happened(path, response);
            }
        }

        /** The path's {@code {id}} for this cell. */
        private String id(Api client, Expected expected) {
            boolean permitted = expected.code() == null;
            return switch (row.target()) {
                case SESSION -> fixture.session.toString();
                case FRESH_SESSION ->
                    permitted ? api.newSession(fixture.project).toString() : fixture.session.toString();
                case ENDED_SESSION -> fixture.endedSession.toString();
                case RUNNING_SESSION -> startRun().toString();
                case PENDING_APPROVAL -> {
                    UUID session = startRun();
                    approvalId = approvals
                        .request(session, UUID.fromString(runId), "Bash", Api.JSON.readTree("{\"command\":\"ls\"}"))
                        .approvalId()
                        .toString();
                    yield session.toString();
                }
                case QUEUED_MESSAGE -> {
                    UUID session = startRun();
                    Api.Response queued = api.sendMessage(session, "queued by the matrix", null);
                    assertThat(queued.json().get("queued").asBoolean()).as(queued.toString()).isTrue();
                    messageId = queued.json().get("messageId").asString();
                    yield session.toString();
                }
                case IDLE_OR_BUSY_SESSION ->
                    permitted ? api.newSession(fixture.project).toString() : startRun().toString();
                case OWN_TOKEN ->
                    permitted ? client.post("/api/tokens", "{\"name\":\"to revoke\"}").json().get("id").asString()
                            : UUID.randomUUID().toString();
                case USER -> fixture.targetUser.toString();
                case NEW_LOGIN -> permitted ? newLogin() : fixture.loginUser;
                case NEW_MEMBER -> {
                    if (!permitted) {
                        yield fixture.loginUser;
                    }
                    String login = newLogin();
                    fixture.member(fixture.project, userId(login), "viewer");
                    yield login;
                }
                case NONE -> "";
            };
        }

        /**
         * A new session of the project whose run ({@code sleep}) is in progress and has
         * printed its one line before the sleep, so nothing is appended to it meanwhile.
         */
        private UUID startRun() {
            running = api.newSession(fixture.project);
            Api.Response sent = api.sendMessage(running, "sleep 600", null);
            assertThat(sent.status()).as(sent.toString()).isEqualTo(202);
            runId = sent.json().get("runId").asString();
            await().atMost(WAIT).until(() -> head(running) >= 4);
            return running;
        }

        private long head(UUID session) {
            return jdbc.sql("select head_seq from sessions where id = :id")
                .param("id", session)
                .query(Long.class)
                .single();
        }

        private List<String> eventTypes(UUID session) {
            return jdbc.sql("select type from events where session_id = :id order by seq")
                .param("id", session)
                .query(String.class)
                .list();
        }

        /**
         * After a denied cell: the run goes on, and the server admin's interrupt is its
         * first stop (the denied caller's was never recorded), which also ends it.
         */
        private void stillRunning() {
            assertThat(api.get("/api/sessions/" + running).json().get("state").asString()).isEqualTo("RUNNING");
            assertThat(eventTypes(running)).doesNotContain("run.finished");
            Api.Response stopped = api.interrupt(running);
            assertThat(stopped.status()).as(stopped.toString()).isEqualTo(202);
            assertThat(stopped.json().get("runId").asString()).isEqualTo(runId);
            assertThat(awaitFinished().get("by").asString()).isEqualTo(Api.ADMIN_LOGIN);
        }

        /** The {@code run.finished} of the cell's run, once it is in the log. */
        private tools.jackson.databind.JsonNode awaitFinished() {
            await().atMost(WAIT).until(() -> eventTypes(running).contains("run.finished"));
            tools.jackson.databind.JsonNode finished = null;
            for (tools.jackson.databind.JsonNode event : api.get("/api/sessions/" + running + "/events?limit=1000")
                .json()
                .get("items")) {
                if (event.get("type").asString().equals("run.finished")) {
                    finished = event.get("data");
                }
            }
            assertThat(finished).isNotNull();
            assertThat(finished.get("runId").asString()).isEqualTo(runId);
            assertThat(finished.get("status").asString()).isEqualTo("interrupted");
            return finished;
        }

        /**
         * What a denied write must leave as it was: the project, its sessions (state and
         * head), its members, the users and the tokens.
         */
        private String snapshot() {
            return jdbc.sql("""
                    select concat_ws(' | ',
                        (select name || ':' || coalesce(repo_url, '') from projects where key = :key),
                        (select string_agg(id::text || ':' || state || ':' || head_seq, ',' order by id)
                           from sessions where project_key = :key),
                        (select string_agg(user_id::text || ':' || role, ',' order by user_id)
                           from project_members where project_key = :key),
                        (select count(*) || ':' || string_agg(id::text || ':' || display_name || ':' || admin
                                || ':' || disabled, ',' order by id) from users),
                        (select count(*) || ':' || count(revoked_at) from access_tokens))
                    """).param("key", fixture.project).query(String.class).single();
        }

        private String newLogin() {
            String login = unique("mm");
            api.createUser(login, PASSWORD, false);
            return login;
        }

        private UUID userId(String login) {
            return jdbc.sql("select id from users where login = :login")
                .param("login", login)
                .query(UUID.class)
                .single();
        }

        private @org.jspecify.annotations.Nullable String roleOf(String login) {
            return jdbc.sql("""
                    select m.role from project_members m join users u on u.id = m.user_id
                    where m.project_key = :key and u.login = :login
                    """)
                .param("key", fixture.project)
                .param("login", login)
                .query(String.class)
                .optional()
                .orElse(null);
        }

        /** A permitted write really happened. */
        private void happened(String path, Api.Response response) {
            switch (row.endpoint()) {
                case "PUT /api/projects/{key}" ->
                    assertThat(api.get("/api/projects/" + fixture.project).json().get("name").asString())
                        .isEqualTo("renamed by " + caller);
                case "DELETE /api/sessions/{id}" ->
                    assertThat(api.get(path).json().get("state").asString()).isEqualTo("ENDED");
                case "POST /api/sessions/{id}/messages" -> {
                    assertThat(api.get(path.replace("/messages", "")).json().get("headSeq").asLong())
                        .isGreaterThanOrEqualTo(3);
                    // Its run ends before the next cell, which may compare the sessions.
                    await().atMost(WAIT)
                        .until(() -> api.get(path.replace("/messages", ""))
                            .json()
                            .get("state")
                            .asString()
                            .equals("IDLE"));
                }
                case "POST /api/sessions/{id}/approvals/{approvalId}" -> {
                    assertThat(response.json().get("decision").asString()).isEqualTo("allow");
                    assertThat(eventTypes(running)).contains("approval.decided");
                    // The run had nothing to do with the request: the server admin ends
                    // it.
                    assertThat(api.interrupt(running).status()).isEqualTo(202);
                    awaitFinished();
                }
                case "DELETE /api/sessions/{id}/queue/{messageId}" -> {
                    assertThat(eventTypes(running)).contains("message.cancelled");
                    assertThat(api.interrupt(running).status()).isEqualTo(202);
                    awaitFinished();
                }
                case "POST /api/sessions/{id}/queue/{messageId}/move-to-front" -> {
                    assertThat(response.json().get("items").get(0).get("messageId").asString()).isEqualTo(messageId);
                    assertThat(eventTypes(running)).contains("message.moved");
                    assertThat(api.delete("/api/sessions/" + running + "/queue/" + messageId).status()).isEqualTo(204);
                    assertThat(api.interrupt(running).status()).isEqualTo(202);
                    awaitFinished();
                }
                case "POST /api/sessions/{id}/interrupt" -> {
                    assertThat(response.json().get("runId").asString()).isEqualTo(runId);
                    awaitFinished();
                }
                case "POST /api/projects/{key}/sessions" ->
                    assertThat(api.get("/api/sessions/" + response.json().get("id").asString()).status())
                        .isEqualTo(200);
                case "PUT /api/projects/{key}/members/{login}" ->
                    assertThat(roleOf(path.substring(path.lastIndexOf('/') + 1))).isEqualTo("viewer");
                case "DELETE /api/projects/{key}/members/{login}" ->
                    assertThat(roleOf(path.substring(path.lastIndexOf('/') + 1))).isNull();
                case "GET /api/sessions/{id}/events/stream" ->
                    assertThat(response.text()).contains("event: session.ended");
                case "GET /api/projects/{key}/sessions/stream" ->
                    assertThat(response.text()).contains("event: snapshot").contains("\"items\"");
                case "GET /api/projects" -> {
                    // Only the caller's projects.
                    if (caller.role() != null) {
                        assertThat(response.json().toString()).contains("\"" + fixture.project + "\"");
                    }
                    else {
                        assertThat(response.json().toString()).doesNotContain("\"" + fixture.project + "\"");
                    }
                }
                default -> {
                }
            }
        }

    }

    record Expected(int status, String code) {
    }

}
