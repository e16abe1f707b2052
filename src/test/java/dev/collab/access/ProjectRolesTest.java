package dev.collab.access;

import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import static dev.collab.access.AccessTest.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Per-project roles over real HTTP on real PostgreSQL (CONTRACT.md, "Roles per project",
 * "Not a member", "Attribution", "Audit"): what a viewer, a member and a project admin
 * may do, that a non-member cannot tell a project or session from one that does not
 * exist, that the author and {@code data.by} are the caller's, and that each action is
 * audited. Users log in through the API; their memberships are rows of
 * {@code project_members}, as the member endpoints write them.
 */
@IntegrationTest
class ProjectRolesTest {

    static final String PASSWORD = "correct horse battery";

    static final Duration WAIT = Duration.ofSeconds(30);

    @Autowired
    Api api;

    @Autowired
    JdbcClient jdbc;

    /** A user with this role in the project (none: null), logged in through the API. */
    private Caller user(String prefix, String project, String role) {
        String login = prefix + "-" + Long.toString(System.nanoTime(), 36);
        UUID id = api.createUser(login, PASSWORD, false);
        if (role != null) {
            jdbc.sql("insert into project_members (project_key, user_id, role) values (:p, :u, :r)")
                .param("p", project)
                .param("u", id)
                .param("r", role)
                .update();
        }
        return new Caller(login, id, api.as(login, PASSWORD));
    }

    record Caller(String login, UUID id, Api api) {
    }

    private long head(UUID session) {
        return api.get("/api/sessions/" + session).json().get("headSeq").asLong();
    }

    private List<JsonNode> events(UUID session) {
        List<JsonNode> items = new ArrayList<>();
        api.get("/api/sessions/" + session + "/events?limit=1000").json().get("items").forEach(items::add);
        return items;
    }

    private static JsonNode last(List<JsonNode> events, String type) {
        return events.stream().filter(e -> e.get("type").asString().equals(type)).reduce((a, b) -> b).orElseThrow();
    }

    private void awaitIdle(UUID session) {
        await().atMost(WAIT)
            .until(() -> api.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE"));
    }

    private static Api.Response send(Api client, UUID session, String body, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(client.uri("/api/sessions/" + session + "/messages"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            request.header("Idempotency-Key", key);
        }
        return client.send(request);
    }

    @Test
    void aViewerReadsEverythingButCannotCreateSendInterruptChangeOrDelete() {
        String project = api.newProject("roles");
        UUID session = api.newSession(project);
        Caller viewer = user("viewer", project, "viewer");

        assertThat(viewer.api().get("/api/projects/" + project).status()).isEqualTo(200);
        assertThat(viewer.api().get("/api/projects/" + project + "/sessions").json().get("items").size()).isEqualTo(1);
        assertThat(viewer.api().get("/api/sessions/" + session).status()).isEqualTo(200);
        assertThat(viewer.api().get("/api/sessions/" + session + "/events").json().get("headSeq").asLong())
            .isEqualTo(1);
        assertThat(viewer.api().get("/api/projects").json().toString()).contains("\"" + project + "\"");

        assertProblem(viewer.api().sendMessage(session, "hello", null), 403, "forbidden");
        assertProblem(viewer.api().sendMessage(session, "hello", "viewer-key"), 403, "forbidden");
        assertThat(head(session)).as("nothing appended, nothing run").isEqualTo(1);
        assertThat(api.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("IDLE");
        assertProblem(viewer.api().interrupt(session), 403, "forbidden");
        assertProblem(viewer.api().post("/api/projects/" + project + "/sessions", "{}"), 403, "forbidden");
        assertProblem(viewer.api().put("/api/projects/" + project, "{\"name\":\"mine now\"}"), 403, "forbidden");
        assertProblem(viewer.api().delete("/api/sessions/" + session), 403, "forbidden");
        assertThat(api.get("/api/projects/" + project + "/sessions").json().get("items").size()).isEqualTo(1);
        assertThat(api.get("/api/projects/" + project).json().get("name").asString()).isEqualTo("roles");
        assertThat(head(session)).isEqualTo(1);

        // The stream too: an ended session's stream replays what the client lacks and
        // ends.
        api.delete("/api/sessions/" + session);
        Api.Response stream = viewer.api().get("/api/sessions/" + session + "/events/stream?after=0");
        assertThat(stream.status()).isEqualTo(200);
        assertThat(stream.text()).contains("event: session.created", "event: session.ended");
    }

    @Test
    void aMemberCreatesSendsAndInterruptsButCannotChangeTheProjectOrDeleteASession() {
        String project = api.newProject("roles");
        Caller member = user("member", project, "member");

        Api.Response created = member.api().post("/api/projects/" + project + "/sessions", "{\"title\":\"t\"}");
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        UUID session = UUID.fromString(created.json().get("id").asString());
        assertThat(member.api().sendMessage(session, "sleep 30", null).status()).isEqualTo(202);
        Api.Response interrupted = member.api().interrupt(session);
        assertThat(interrupted.status()).as(interrupted.toString()).isEqualTo(202);
        awaitIdle(session);

        assertProblem(member.api().put("/api/projects/" + project, "{\"name\":\"renamed\"}"), 403, "forbidden");
        // Also with the settings it has: the answer about an existing project is its
        // admins'.
        assertProblem(member.api().put("/api/projects/" + project, "{\"name\":\"roles\",\"repoUrl\":null}"), 403,
                "forbidden");
        assertThat(api.get("/api/projects/" + project).json().get("name").asString()).isEqualTo("roles");
        assertProblem(member.api().delete("/api/sessions/" + session), 403, "forbidden");
        assertThat(api.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("IDLE");

        Caller admin = user("padmin", project, "admin");
        assertThat(admin.api().put("/api/projects/" + project, "{\"name\":\"renamed\"}").status()).isEqualTo(200);
        assertThat(admin.api().delete("/api/sessions/" + session).status()).isEqualTo(204);
        assertThat(api.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("ENDED");
        assertThat(api.get("/api/projects/" + project).json().get("name").asString()).isEqualTo("renamed");
    }

    @Test
    void aNonMemberNeverSeesTheProjectAndGetsExactlyTheAnswerOfOneThatDoesNotExist() {
        String project = api.newProject("hidden");
        UUID session = api.newSession(project);
        Caller other = user("outsider", project, null);
        // A member of another project, listing projects: only theirs.
        String theirs = api.newProject("theirs");
        jdbc.sql("insert into project_members (project_key, user_id, role) values (:p, :u, 'viewer')")
            .param("p", theirs)
            .param("u", other.id())
            .update();
        List<String> keys = new ArrayList<>();
        other.api().get("/api/projects").json().get("items").forEach(p -> keys.add(p.get("key").asString()));
        assertThat(keys).containsExactly(theirs);
        List<String> all = new ArrayList<>();
        api.get("/api/projects").json().get("items").forEach(p -> all.add(p.get("key").asString()));
        assertThat(all).contains(project, theirs).isSorted();

        // A key and an id of the same length that do not exist.
        String missingKey = (project.charAt(0) == 'z' ? "y" : "z") + project.substring(1);
        UUID missingId = UUID.randomUUID();
        Api client = other.api();
        record Pair(Api.Response hidden, Api.Response missing) {
        }
        List<Pair> pairs = List.of(
                new Pair(client.get("/api/projects/" + project), client.get("/api/projects/" + missingKey)),
                // The PUT of a missing key creates it (201): a non-member's PUT of an
                // existing key is the 404 of a GET of a missing one.
                new Pair(client.put("/api/projects/" + project, "{\"name\":\"x\"}"),
                        client.get("/api/projects/" + missingKey)),
                new Pair(client.get("/api/projects/" + project + "/sessions"),
                        client.get("/api/projects/" + missingKey + "/sessions")),
                new Pair(client.post("/api/projects/" + project + "/sessions", "{}"),
                        client.post("/api/projects/" + missingKey + "/sessions", "{}")),
                new Pair(client.get("/api/sessions/" + session), client.get("/api/sessions/" + missingId)),
                new Pair(client.get("/api/sessions/" + session + "/events"),
                        client.get("/api/sessions/" + missingId + "/events")),
                new Pair(client.get("/api/sessions/" + session + "/events/stream"),
                        client.get("/api/sessions/" + missingId + "/events/stream")),
                new Pair(client.sendMessage(session, "hi", null), client.sendMessage(missingId, "hi", null)),
                new Pair(client.interrupt(session), client.interrupt(missingId)),
                new Pair(client.delete("/api/sessions/" + session), client.delete("/api/sessions/" + missingId)));
        for (Pair pair : pairs) {
            Api.Response missing = pair.missing();
            assertProblem(pair.hidden(), 404, "not-found");
            assertThat(normalized(pair.hidden(), project, session))
                .as(pair.hidden().raw().request().method() + " " + pair.hidden().raw().uri())
                .isEqualTo(normalized(missing, missingKey, missingId));
            assertThat(headers(pair.hidden())).isEqualTo(headers(missing));
        }
        assertThat(head(session)).as("nothing appended").isEqualTo(1);
        assertThat(api.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("IDLE");
        assertThat(api.get("/api/projects/" + project).json().get("name").asString()).isEqualTo("hidden");
    }

    /**
     * The problem with the key or id replaced and without its request id: what is left
     * must be the same for a hidden thing and a missing one.
     */
    private static String normalized(Api.Response response, String key, UUID id) {
        ObjectNode body = (ObjectNode) response.json();
        assertThat(body.path("requestId").asString()).isNotBlank();
        body.remove("requestId");
        return body.toString().replace(key, "<key>").replace(id.toString(), "<id>");
    }

    /** The headers but the ones that differ per request (date, request id). */
    private static Map<String, List<String>> headers(Api.Response response) {
        Map<String, List<String>> headers = new TreeMap<>(response.raw().headers().map());
        headers.keySet().removeAll(Set.of("date", "x-request-id", "content-length"));
        return headers;
    }

    @Test
    void theAuthorAndDataByAreTheCallersWhateverTheBodySays() {
        String project = api.newProject("author");
        Caller member = user("member", project, "member");
        for (String author : List.of("\"admin (verified)\"", "5", "{\"login\":\"admin\"}", "[\"admin\"]", "null",
                "\"" + "a".repeat(500) + "\"", "true")) {
            UUID session = member.api()
                .post("/api/projects/" + project + "/sessions", "{}")
                .json()
                .get("id")
                .asString()
                .transform(UUID::fromString);
            Api.Response sent = send(member.api(), session, "{\"text\":\"hi\",\"author\":" + author + "}", null);
            assertThat(sent.status()).as(author + ": " + sent).isEqualTo(202);
            await().atMost(WAIT)
                .until(() -> events(session).stream().anyMatch(e -> e.get("type").asString().equals("run.finished")));
            List<JsonNode> events = events(session);
            assertThat(last(events, "message").get("data").get("author").asString()).isEqualTo(member.login());
            assertThat(last(events, "run.started").get("data").get("by").asString()).isEqualTo(member.login());
            // A run that ended by itself names nobody.
            assertThat(last(events, "run.finished").get("data").has("by")).isFalse();
        }
        // No author at all (current clients).
        UUID session = api.newSession(project);
        assertThat(send(member.api(), session, "{\"text\":\"hi\"}", null).status()).isEqualTo(202);
        await().atMost(WAIT)
            .until(() -> events(session).stream().anyMatch(e -> e.get("type").asString().equals("message")));
        assertThat(last(events(session), "message").get("data").get("author").asString()).isEqualTo(member.login());
    }

    @Test
    void anInterruptAndADeleteAreAttributedToTheUserWhoDidThem() {
        String project = api.newProject("by");
        Caller member = user("member", project, "member");
        Caller admin = user("padmin", project, "admin");

        UUID session = api.newSession(project);
        assertThat(member.api().sendMessage(session, "sleep 30", null).status()).isEqualTo(202);
        assertThat(member.api().interrupt(session).status()).isEqualTo(202);
        awaitIdle(session);
        JsonNode finished = last(events(session), "run.finished").get("data");
        assertThat(finished.get("status").asString()).isEqualTo("interrupted");
        assertThat(finished.get("by").asString()).isEqualTo(member.login());

        // DELETE with a run in progress: its run.finished and session.ended name the
        // admin.
        assertThat(member.api().sendMessage(session, "sleep 30", null).status()).isEqualTo(202);
        assertThat(admin.api().delete("/api/sessions/" + session).status()).isEqualTo(204);
        List<JsonNode> events = events(session);
        JsonNode interrupted = last(events, "run.finished").get("data");
        assertThat(interrupted.get("status").asString()).isEqualTo("interrupted");
        assertThat(interrupted.get("by").asString()).isEqualTo(admin.login());
        assertThat(last(events, "session.ended").get("data").get("by").asString()).isEqualTo(admin.login());
        assertThat(events.getLast().get("type").asString()).isEqualTo("session.ended");
    }

    /**
     * A row the previous version wrote (its fingerprint: SHA-256 of the length-prefixed
     * text and body author) still replays a retry with the same text and author, as the
     * contract promises for retries that hit different instances during a rolling deploy;
     * another author is another send there, as it was then.
     */
    @Test
    void aRetryOfASendThePreviousVersionAnsweredIsAReplay() throws Exception {
        String project = api.newProject("idem-old");
        UUID session = api.newSession(project);
        String key = "old-" + UUID.randomUUID();
        String messageId = UUID.randomUUID().toString();
        String stored = "{\"messageId\":\"" + messageId + "\",\"runId\":\"" + UUID.randomUUID() + "\",\"seq\":2}";
        java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
        for (String field : new String[] { "hi", "ada" }) {
            byte[] bytes = field.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            digest.update((bytes.length + ":").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            digest.update(bytes);
        }
        jdbc.sql("""
                insert into idempotency_keys (session_id, key, fingerprint, response, created_at)
                values (:session, :key, :fingerprint, cast(:response as jsonb), now())
                """)
            .param("session", session)
            .param("key", key)
            .param("fingerprint", java.util.HexFormat.of().formatHex(digest.digest()))
            .param("response", stored)
            .update();

        Api.Response retry = send(api, session, "{\"text\":\"hi\",\"author\":\"ada\"}", key);
        assertThat(retry.status()).as(retry.toString()).isEqualTo(202);
        assertThat(retry.header("Idempotent-Replayed")).hasValue("true");
        assertThat(retry.json().get("messageId").asString()).isEqualTo(messageId);
        assertProblem(send(api, session, "{\"text\":\"hi\",\"author\":\"bob\"}", key), 422, "idempotency-key-reused");
        assertProblem(send(api, session, "{\"text\":\"hi\"}", key), 422, "idempotency-key-reused");
        assertThat(head(session)).as("nothing appended").isEqualTo(1);
    }

    @Test
    void anIdempotencyKeyIsPerSessionAndAnotherUsersReuseIsNeverAnsweredWithTheFirstAnswer() {
        String project = api.newProject("idem");
        Caller ada = user("ada", project, "member");
        Caller bob = user("bob", project, "member");
        UUID session = api.newSession(project);
        String key = "key-" + UUID.randomUUID();

        Api.Response first = send(ada.api(), session, "{\"text\":\"hi\",\"author\":\"ada\"}", key);
        assertThat(first.status()).isEqualTo(202);
        // Ada's retry with another (ignored) author is the same send: the first answer.
        Api.Response retry = send(ada.api(), session, "{\"text\":\"hi\",\"author\":\"someone else\"}", key);
        assertThat(retry.status()).isEqualTo(202);
        assertThat(retry.header("Idempotent-Replayed")).hasValue("true");
        assertThat(retry.json()).isEqualTo(first.json());
        // Bob's send with Ada's key and body is not Ada's: never her answer.
        Api.Response bobs = send(bob.api(), session, "{\"text\":\"hi\",\"author\":\"ada\"}", key);
        assertProblem(bobs, 422, "idempotency-key-reused");
        assertThat(bobs.text()).doesNotContain(first.json().get("messageId").asString());
        assertThat(events(session).stream().filter(e -> e.get("type").asString().equals("message"))).hasSize(1);
    }

    @Test
    void everyActionIsAuditedWithItsActorAndNoMessageText() {
        String project = api.newProject("audit");
        Caller admin = user("padmin", project, "admin");
        // A repository the session clones (a local one: the tests allow file://).
        String repoUrl = dev.collab.support.GitRepos
            .url(dev.collab.support.GitRepos.bare("secret-token.git", java.util.Map.of("a.txt", "a\n")));
        assertThat(admin.api()
            .put("/api/projects/" + project, Api.json(java.util.Map.of("name", "audited", "repoUrl", repoUrl)))
            .status()).isEqualTo(200);
        Api.Response created = admin.api().post("/api/projects/" + project + "/sessions", "{}");
        UUID session = UUID.fromString(created.json().get("id").asString());
        String text = "sleep 30 the-secret-text-" + UUID.randomUUID();
        Api.Response sent = admin.api().sendMessage(session, text, null);
        assertThat(sent.status()).isEqualTo(202);
        String runId = sent.json().get("runId").asString();
        assertThat(admin.api().interrupt(session).status()).isEqualTo(202);
        awaitIdle(session);
        // An interrupt that finds nothing running is a request too: audited, runId null.
        assertThat(admin.api().interrupt(session).status()).isEqualTo(204);
        assertThat(admin.api().delete("/api/sessions/" + session).status()).isEqualTo(204);

        record Row(String actor, String action, String target, String details, String requestId) {
        }
        List<Row> rows = jdbc.sql("""
                select actor, action, target, coalesce(details::text, '') as details, request_id from audit_log
                where target in (:project, :session) order by id
                """)
            .param("project", "project:" + project)
            .param("session", "session:" + session)
            .query((rs, n) -> new Row(rs.getString("actor"), rs.getString("action"), rs.getString("target"),
                    rs.getString("details"), rs.getString("request_id")))
            .list();
        assertThat(rows).extracting(Row::action)
            .containsExactly("project.created", "project.updated", "session.created", "message.sent", "run.interrupted",
                    "run.interrupted", "session.deleted");
        assertThat(rows.subList(1, rows.size())).allSatisfy(row -> {
            assertThat(row.actor()).isEqualTo(admin.login());
            assertThat(row.requestId()).isNotBlank();
        });
        assertThat(rows.getFirst().actor()).isEqualTo(Api.ADMIN_LOGIN);
        assertThat(rows.get(1).details()).contains("repoUrl").doesNotContain("secret-token", repoUrl);
        assertThat(rows.get(3).target()).isEqualTo("session:" + session);
        assertThat(rows.get(3).details()).contains(runId).doesNotContain("the-secret-text", "sleep");
        assertThat(rows.get(4).details()).contains(runId);
        assertThat(rows.get(5).details()).isEqualTo("{\"runId\": null}");
        assertThat(rows).extracting(Row::details).noneMatch(details -> details.contains("the-secret-text"));
    }

    @Test
    void aServerAdminIsAdminOfEveryProject() {
        String project = api.newProject("anyone");
        Caller owner = user("owner", project, "admin");
        String theirs = owner.api()
            .put("/api/projects/own-" + Long.toString(System.nanoTime(), 36), "{\"name\":\"own\"}")
            .json()
            .get("key")
            .asString();
        // The first admin is no member of it, yet reads, changes and deletes in it.
        assertThat(api.get("/api/projects/" + theirs).status()).isEqualTo(200);
        assertThat(api.put("/api/projects/" + theirs, "{\"name\":\"changed\"}").status()).isEqualTo(200);
        UUID session = api.newSession(theirs);
        assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
        assertThat(owner.api().get("/api/projects/" + theirs).json().get("name").asString()).isEqualTo("changed");
    }

}
