package dev.collab.message;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The queue while busy (issue 16), over real HTTP with the real test agent
 * (src/test/resources/test-agent.sh): a send to a busy session of a {@code queue} project
 * waits, its run starts when the one in progress ends, in acceptance order; cancel, move
 * to the front, idempotent retries, the session's end, the bound. The same context as
 * ApprovalTest: a busy run ({@code sleep 60}) must stay in progress until the test ends
 * it, also on a loaded machine, which the tests' default timeout (4 s) did not let it.
 */
@IntegrationTest
@TestPropertySource(properties = "collab.runner.timeout=5m")
class MessageQueueTest {

    static final Duration WAIT = Duration.ofSeconds(30);

    static final String PASSWORD = "correct horse battery";

    @Autowired
    Api api;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    DataSource dataSource;

    static void assertProblem(Api.Response response, int status, String code) {
        assertThat(response.status()).as(response.toString()).isEqualTo(status);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.json().path("code").asString()).isEqualTo(code);
    }

    /** A session of a new project with the default busy policy ({@code queue}). */
    UUID newSession(String prefix) {
        return api.newSession(api.newProject(prefix));
    }

    /** A run that stays in progress until it is interrupted. */
    String busy(UUID session) {
        Api.Response sent = api.sendMessage(session, "sleep 60", null);
        assertThat(sent.status()).as(sent.toString()).isEqualTo(202);
        assertThat(sent.json().get("queued").asBoolean()).isFalse();
        return sent.json().get("runId").asString();
    }

    Api.Response send(Api as, UUID session, String text) {
        return as.sendMessage(session, text, null);
    }

    List<JsonNode> events(UUID session) {
        List<JsonNode> items = new ArrayList<>();
        api.get("/api/sessions/" + session + "/events?limit=1000").json().get("items").forEach(items::add);
        return items;
    }

    List<JsonNode> events(UUID session, String type) {
        return events(session).stream().filter(e -> e.get("type").asString().equals(type)).toList();
    }

    List<String> queueIds(UUID session) {
        List<String> ids = new ArrayList<>();
        api.get("/api/sessions/" + session + "/queue")
            .json()
            .get("items")
            .forEach(item -> ids.add(item.get("messageId").asString()));
        return ids;
    }

    void awaitRuns(UUID session, int finished) {
        await().atMost(WAIT)
            .until(() -> events(session, "run.finished").size() >= finished
                    && api.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE"));
    }

    /** A user with this role in the project, logged in. */
    Api user(String project, String role) {
        String login = "q-" + role + "-" + Long.toString(System.nanoTime(), 36);
        api.createUser(login, PASSWORD, false);
        Api.Response added = api.put("/api/projects/" + project + "/members/" + login, Api.json(Map.of("role", role)));
        assertThat(added.status()).as(added.toString()).isEqualTo(201);
        return api.anonymous().as(login, PASSWORD);
    }

    @Test
    void aSendToABusySessionIsQueuedAndTheQueueRunsInOrderWithTheSameMessageIds() {
        UUID session = newSession("queue");
        String first = busy(session);
        List<String> queued = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            Api.Response sent = send(api, session, "ticks " + i);
            assertThat(sent.status()).as(sent.toString()).isEqualTo(202);
            JsonNode body = sent.json();
            assertThat(body.get("queued").asBoolean()).isTrue();
            assertThat(body.get("position").asInt()).isEqualTo(i);
            assertThat(body.has("runId")).isFalse();
            queued.add(body.get("messageId").asString());
            JsonNode event = events(session).stream()
                .filter(e -> e.get("seq").asLong() == body.get("seq").asLong())
                .findFirst()
                .orElseThrow();
            assertThat(event.get("type").asString()).isEqualTo("message.queued");
            assertThat(event.get("data").get("messageId").asString()).isEqualTo(body.get("messageId").asString());
            assertThat(event.get("data").get("text").asString()).isEqualTo("ticks " + i);
            assertThat(event.get("data").get("author").asString()).isEqualTo(Api.ADMIN_LOGIN);
            assertThat(event.get("data").get("position").asInt()).isEqualTo(i);
        }
        JsonNode queue = api.get("/api/sessions/" + session + "/queue").json().get("items");
        assertThat(queue).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(queue.get(i).get("messageId").asString()).isEqualTo(queued.get(i));
            assertThat(queue.get(i).get("position").asInt()).isEqualTo(i + 1);
            assertThat(queue.get(i).get("text").asString()).isEqualTo("ticks " + (i + 1));
            assertThat(queue.get(i).get("author").asString()).isEqualTo(Api.ADMIN_LOGIN);
            assertThat(queue.get(i).get("queuedAt").asString()).isNotBlank();
        }
        assertThat(api.get("/api/sessions/" + session).json().get("queueLength").asInt()).isEqualTo(3);
        String project = api.get("/api/sessions/" + session).json().get("project").asString();
        JsonNode listed = api.get("/api/projects/" + project + "/sessions").json().get("items").get(0);
        assertThat(listed.get("queueLength").asInt()).isEqualTo(3);

        assertThat(api.interrupt(session).status()).isEqualTo(202);
        awaitRuns(session, 4);
        // Each queued message: its message (same id, text, author), then its run.started,
        // one run after another.
        List<String> types = events(session).stream()
            .map(e -> e.get("type").asString())
            .filter(t -> t.equals("message") || t.startsWith("run."))
            .toList();
        assertThat(types).containsExactly("message", "run.started", "run.finished", "message", "run.started",
                "run.finished", "message", "run.started", "run.finished", "message", "run.started", "run.finished");
        List<JsonNode> messages = events(session, "message");
        List<JsonNode> started = events(session, "run.started");
        for (int i = 0; i < 3; i++) {
            assertThat(messages.get(i + 1).get("data").get("messageId").asString()).isEqualTo(queued.get(i));
            assertThat(messages.get(i + 1).get("data").get("text").asString()).isEqualTo("ticks " + (i + 1));
            assertThat(messages.get(i + 1).get("data").get("author").asString()).isEqualTo(Api.ADMIN_LOGIN);
            assertThat(started.get(i + 1).get("data").get("messageId").asString()).isEqualTo(queued.get(i));
            assertThat(started.get(i + 1).get("data").get("by").asString()).isEqualTo(Api.ADMIN_LOGIN);
        }
        assertThat(started.get(0).get("data").get("runId").asString()).isEqualTo(first);
        List<JsonNode> finished = events(session, "run.finished");
        assertThat(finished.get(0).get("data").get("status").asString()).isEqualTo("interrupted");
        assertThat(finished.subList(1, 4)).allMatch(f -> f.get("data").get("status").asString().equals("succeeded"));
        assertThat(queueIds(session)).isEmpty();
        assertThat(api.get("/api/sessions/" + session).json().get("queueLength").asInt()).isZero();
    }

    @Test
    void theAuthorOrAProjectAdminCancelsAnotherMemberOrAViewerMayNot() {
        String project = api.newProject("qcancel");
        UUID session = api.newSession(project);
        Api author = user(project, "member");
        Api other = user(project, "member");
        Api viewer = user(project, "viewer");
        Api admin = user(project, "admin");
        busy(session);
        String one = send(author, session, "one").json().get("messageId").asString();
        String two = send(author, session, "two").json().get("messageId").asString();
        String three = send(author, session, "three").json().get("messageId").asString();
        String path = "/api/sessions/" + session + "/queue/";

        assertProblem(other.delete(path + one), 403, "forbidden");
        assertProblem(viewer.delete(path + one), 403, "forbidden");
        assertThat(queueIds(session)).containsExactly(one, two, three);

        assertThat(author.delete(path + one).status()).isEqualTo(204);
        JsonNode cancelled = events(session, "message.cancelled").getLast();
        assertThat(cancelled.get("data").get("messageId").asString()).isEqualTo(one);
        assertThat(cancelled.get("data").get("reason").asString()).isEqualTo("cancelled");
        String authorLogin = author.get("/api/me").json().get("login").asString();
        assertThat(cancelled.get("data").get("by").asString()).isEqualTo(authorLogin);

        assertThat(admin.delete(path + two).status()).isEqualTo(204);
        assertThat(events(session, "message.cancelled").getLast().get("data").get("by").asString())
            .isEqualTo(admin.get("/api/me").json().get("login").asString());
        assertThat(queueIds(session)).containsExactly(three);

        assertProblem(author.delete(path + one), 409, "message-not-queued");
        assertProblem(author.delete(path + UUID.randomUUID()), 404, "not-found");
        Api stranger = api.anonymous().as(newStranger(), PASSWORD);
        assertProblem(stranger.delete(path + three), 404, "not-found");

        // Once its run started, it is no longer queued.
        assertThat(api.interrupt(session).status()).isEqualTo(202);
        await().atMost(WAIT).until(() -> events(session, "run.started").size() == 2);
        assertProblem(author.delete(path + three), 409, "message-not-queued");
        awaitRuns(session, 2);
        assertThat(events(session, "message")).extracting(m -> m.get("data").get("text").asString())
            .containsExactly("sleep 60", "three");
        // Audited: who cancelled in which session (the details hold the ids, never the
        // text).
        List<String> actors = new ArrayList<>();
        api.get("/api/audit?limit=100").json().get("items").forEach(entry -> {
            if (entry.get("action").asString().equals("message.cancelled")
                    && entry.get("target").asString().equals("session:" + session)) {
                actors.add(entry.get("actor").asString());
            }
        });
        assertThat(actors).containsExactlyInAnyOrder(authorLogin, admin.get("/api/me").json().get("login").asString());
    }

    private String newStranger() {
        String login = "q-stranger-" + Long.toString(System.nanoTime(), 36);
        api.createUser(login, PASSWORD, false);
        return login;
    }

    @Test
    void aProjectAdminMovesAMessageToTheFrontAndItRunsNext() {
        String project = api.newProject("qmove");
        UUID session = api.newSession(project);
        Api member = user(project, "member");
        busy(session);
        String a = send(api, session, "a").json().get("messageId").asString();
        String b = send(api, session, "b").json().get("messageId").asString();
        String c = send(member, session, "c").json().get("messageId").asString();
        String path = "/api/sessions/" + session + "/queue/";

        assertProblem(member.post(path + c + "/move-to-front", ""), 403, "forbidden");
        Api.Response moved = api.post(path + c + "/move-to-front", "");
        assertThat(moved.status()).as(moved.toString()).isEqualTo(200);
        JsonNode items = moved.json().get("items");
        assertThat(items).extracting(i -> i.get("messageId").asString()).containsExactly(c, a, b);
        assertThat(items).extracting(i -> i.get("position").asInt()).containsExactly(1, 2, 3);
        JsonNode event = events(session, "message.moved").getLast();
        assertThat(event.get("data").get("messageId").asString()).isEqualTo(c);
        assertThat(event.get("data").get("by").asString()).isEqualTo(Api.ADMIN_LOGIN);
        // A later move goes before an earlier one.
        assertThat(api.post(path + b + "/move-to-front", "").json().get("items"))
            .extracting(i -> i.get("messageId").asString())
            .containsExactly(b, c, a);
        assertProblem(api.post(path + UUID.randomUUID() + "/move-to-front", ""), 404, "not-found");

        assertThat(api.interrupt(session).status()).isEqualTo(202);
        awaitRuns(session, 4);
        assertThat(events(session, "message")).extracting(m -> m.get("data").get("text").asString())
            .containsExactly("sleep 60", "b", "c", "a");
        assertThat(events(session, "run.started").get(2).get("data").get("by").asString())
            .isEqualTo(member.get("/api/me").json().get("login").asString());
        assertProblem(api.post(path + a + "/move-to-front", ""), 409, "message-not-queued");
    }

    @Test
    void aQueuedSendRetriedWithItsKeyIsQueuedOnceAlsoWhenTheRetriesRace() throws Exception {
        UUID session = newSession("qkey");
        busy(session);
        Api.Response first = api.sendMessage(session, "keyed", "key-1");
        assertThat(first.status()).isEqualTo(202);
        assertThat(first.json().get("queued").asBoolean()).isTrue();
        Api.Response again = api.sendMessage(session, "keyed", "key-1");
        assertThat(again.status()).isEqualTo(202);
        assertThat(again.header("Idempotent-Replayed")).contains("true");
        assertThat(again.json()).isEqualTo(first.json());
        assertProblem(api.sendMessage(session, "other text", "key-1"), 422, "idempotency-key-reused");

        List<Api.Response> racing = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(6)) {
            List<Future<Api.Response>> answers = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                answers.add(pool.submit(() -> api.sendMessage(session, "raced", "key-2")));
            }
            for (Future<Api.Response> answer : answers) {
                racing.add(answer.get());
            }
        }
        assertThat(racing).allMatch(r -> r.status() == 202);
        Set<String> ids = new HashSet<>();
        racing.forEach(r -> ids.add(r.json().get("messageId").asString()));
        assertThat(ids).hasSize(1);
        assertThat(racing).filteredOn(r -> r.header("Idempotent-Replayed").isEmpty()).hasSize(1);
        assertThat(racing).allMatch(r -> r.json().get("position").asInt() == 2);
        assertThat(events(session, "message.queued")).hasSize(2);
        assertThat(queueIds(session)).containsExactly(first.json().get("messageId").asString(), ids.iterator().next());
        api.interrupt(session);
        awaitRuns(session, 3);
        assertThat(events(session, "message")).hasSize(3);
    }

    @Test
    void endingTheSessionCancelsTheQueueBeforeSessionEndedAndStartsNothing() {
        UUID session = newSession("qend");
        busy(session);
        String one = send(api, session, "one").json().get("messageId").asString();
        String two = send(api, session, "two").json().get("messageId").asString();
        assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
        List<JsonNode> events = events(session);
        List<String> tail = events.subList(events.size() - 4, events.size())
            .stream()
            .map(e -> e.get("type").asString())
            .toList();
        assertThat(tail).containsExactly("run.finished", "message.cancelled", "message.cancelled", "session.ended");
        List<JsonNode> cancelled = events(session, "message.cancelled");
        assertThat(cancelled).extracting(e -> e.get("data").get("messageId").asString()).containsExactly(one, two);
        assertThat(cancelled).allMatch(e -> e.get("data").get("reason").asString().equals("session-ended")
                && e.get("data").get("by").asString().equals(Api.ADMIN_LOGIN));
        assertThat(events(session, "run.started")).hasSize(1);
        assertThat(queueIds(session)).isEmpty();
        assertProblem(api.delete("/api/sessions/" + session + "/queue/" + one), 409, "message-not-queued");
    }

    @Test
    void aRejectProjectStillAnswersBusyAndSwitchingToQueueQueues() {
        String project = api.newProject("qreject", "reject");
        UUID session = api.newSession(project);
        String run = busy(session);
        Api.Response refused = send(api, session, "hello");
        assertProblem(refused, 409, "session-busy");
        assertThat(refused.json().get("runId").asString()).isEqualTo(run);
        assertThat(events(session, "message.queued")).isEmpty();
        Api.Response changed = api.put("/api/projects/" + project,
                "{\"name\":\"qreject\",\"repoUrl\":null,\"busyPolicy\":\"queue\"}");
        assertThat(changed.json().get("busyPolicy").asString()).isEqualTo("queue");
        assertThat(send(api, session, "hello").json().get("queued").asBoolean()).isTrue();
        api.interrupt(session);
        awaitRuns(session, 2);
    }

    @Test
    void pastMaxQueuedASendIsQueueFull() {
        UUID session = newSession("qfull");
        busy(session);
        for (int i = 1; i <= 50; i++) {
            assertThat(send(api, session, "n" + i).json().get("position").asInt()).isEqualTo(i);
        }
        long head = api.get("/api/sessions/" + session).json().get("headSeq").asLong();
        Api.Response full = send(api, session, "one too many");
        assertProblem(full, 409, "queue-full");
        assertThat(api.get("/api/sessions/" + session).json().get("headSeq").asLong()).isEqualTo(head);
        // Nothing left running: the session's end cancels all 50.
        assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
        assertThat(events(session, "message.cancelled")).hasSize(50);
    }

    /**
     * The safety net: an IDLE session with a waiting message (what an instance that was
     * stopping when a run ended leaves behind; made here with SQL) gets it started by the
     * periodic lease check, once.
     */
    @Test
    void theLeaseCheckStartsAMessageLeftWaitingInAnIdleSession() {
        UUID session = newSession("qstranded");
        UUID author = jdbc.sql("select id from users where login = :login")
            .param("login", Api.ADMIN_LOGIN)
            .query(UUID.class)
            .single();
        UUID messageId = UUID.randomUUID();
        jdbc.sql("""
                insert into queued_messages (id, session_id, text, author_id, author_login, queued_at, order_key)
                values (:id, :session, 'left behind', :author, :login, now(), nextval('queued_messages_order_seq'))
                """)
            .param("id", messageId)
            .param("session", session)
            .param("author", author)
            .param("login", Api.ADMIN_LOGIN)
            .update();
        awaitRuns(session, 1);
        List<JsonNode> messages = events(session, "message");
        assertThat(messages).hasSize(1);
        assertThat(messages.getFirst().get("data").get("messageId").asString()).isEqualTo(messageId.toString());
        assertThat(events(session, "run.started")).hasSize(1);
        assertThat(queueIds(session)).isEmpty();
    }

    /**
     * A send to an IDLE session that still has a message waiting (left by an instance
     * that was stopping; made here with SQL) does not overtake it: the waiting one starts
     * first and the send is queued behind it.
     */
    @Test
    void aSendToAnIdleSessionWithAMessageWaitingQueuesBehindIt() {
        UUID session = newSession("qovertake");
        UUID author = jdbc.sql("select id from users where login = :login")
            .param("login", Api.ADMIN_LOGIN)
            .query(UUID.class)
            .single();
        UUID waiting = UUID.randomUUID();
        jdbc.sql("""
                insert into queued_messages (id, session_id, text, author_id, author_login, queued_at, order_key)
                values (:id, :session, 'sleep 60', :author, :login, now(), nextval('queued_messages_order_seq'))
                """)
            .param("id", waiting)
            .param("session", session)
            .param("author", author)
            .param("login", Api.ADMIN_LOGIN)
            .update();
        Api.Response sent = send(api, session, "after it");
        assertThat(sent.status()).as(sent.toString()).isEqualTo(202);
        assertThat(sent.json().get("queued").asBoolean()).as(sent.toString()).isTrue();
        assertThat(sent.json().get("position").asInt()).isEqualTo(1);
        List<JsonNode> messages = events(session, "message");
        assertThat(messages).extracting(e -> e.get("data").get("messageId").asString())
            .containsExactly(waiting.toString());
        assertThat(queueIds(session)).containsExactly(sent.json().get("messageId").asString());
        api.interrupt(session);
        awaitRuns(session, 2);
        assertThat(events(session, "message")).extracting(e -> e.get("data").get("messageId").asString())
            .containsExactly(waiting.toString(), sent.json().get("messageId").asString());
    }

    /**
     * The session row's locks agree (Sessions.lock, Runs.finish, ending, the approvals:
     * {@code for no key update}): a keyed send holds "key share" on the row (its
     * Idempotency-Key's foreign key) from its first statement; a decision that asked for
     * the row {@code for update} (which "key share" blocks) would wait for every keyed
     * send in flight to commit. Here a send has claimed its key (and waits, holding it):
     * the decision is answered meanwhile.
     */
    @Test
    void aDecisionDoesNotWaitForAKeyedSendThatHoldsOnlyItsKey() throws Exception {
        UUID session = newSession("qlocks");
        try (Connection sending = dataSource.getConnection(); ExecutorService pool = Executors.newFixedThreadPool(1)) {
            sending.setAutoCommit(false);
            update(sending, "insert into idempotency_keys (session_id, key, fingerprint, created_at) "
                    + "values (?, 'holding', 'f', now())", session);
            Future<Api.Response> decision = pool.submit(() -> api
                .post("/api/sessions/" + session + "/approvals/" + UUID.randomUUID(), "{\"decision\":\"allow\"}"));
            try {
                assertProblem(decision.get(10, TimeUnit.SECONDS), 404, "not-found");
            }
            finally {
                sending.rollback();
            }
        }
    }

    static void update(Connection connection, String sql, UUID session) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setObject(1, session);
            statement.execute();
        }
    }

}
