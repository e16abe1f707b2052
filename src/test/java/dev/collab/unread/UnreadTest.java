package dev.collab.unread;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.collab.event.EventLog;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Unread counts over real HTTP with real logins: they move with messages, finished runs
 * and requests for permission, not with output; {@code PUT .../read} moves a person's
 * position forward only; each person sees their own counts in the list; the event log's
 * three append statements keep {@code sessions.notable_count} right.
 */
@IntegrationTest
class UnreadTest {

    static final String PASSWORD = "correct horse battery";

    @Autowired
    Api api;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    EventLog eventLog;

    @Autowired
    org.springframework.transaction.PlatformTransactionManager transactions;

    private Api member(String project, String role) {
        String login = "reader-" + Long.toString(System.nanoTime(), 36);
        UUID id = api.createUser(login, PASSWORD, false);
        if (role != null) {
            jdbc.sql("insert into project_members (project_key, user_id, role) values (:p, :u, :r)")
                .param("p", project)
                .param("u", id)
                .param("r", role)
                .update();
        }
        return api.as(login, PASSWORD);
    }

    private void append(UUID session, String type) {
        eventLog.append(session, type, Map.of("text", type));
    }

    private static JsonNode listed(Api as, String project, UUID session) {
        for (JsonNode item : as.get("/api/projects/" + project + "/sessions").json().path("items")) {
            if (item.path("id").asString().equals(session.toString())) {
                return item;
            }
        }
        throw new AssertionError("not listed: " + session);
    }

    @Test
    void countsMoveWithNotableEventsOnlyAndEachPersonSeesTheirOwn() {
        String project = api.newProject("unread");
        UUID session = api.newSession(project);
        Api ann = member(project, "viewer");
        Api bob = member(project, "member");
        assertThat(listed(ann, project, session).path("unread").asInt()).isZero();

        append(session, "message");
        append(session, "output");
        append(session, "run.started");
        append(session, "run.finished");
        append(session, "approval.requested");
        append(session, "approval.decided");
        eventLog.appendAll(session, List.of(new EventLog.NewEvent("output", Map.of("text", "a")),
                new EventLog.NewEvent("message", Map.of("text", "b")), new EventLog.NewEvent("output", Map.of())));
        long head = api.get("/api/sessions/" + session).json().path("headSeq").asLong();
        assertThat(head).isEqualTo(10);

        assertThat(listed(ann, project, session).path("unread").asInt()).isEqualTo(4);
        assertThat(listed(bob, project, session).path("unread").asInt()).isEqualTo(4);

        // Ann reads up to the run's end (seq 5: message, run.finished before it).
        Api.Response read = ann.put("/api/sessions/" + session + "/read", "{\"seq\":5}");
        assertThat(read.status()).isEqualTo(200);
        assertThat(read.json().path("readSeq").asLong()).isEqualTo(5);
        assertThat(read.json().path("unread").asInt()).isEqualTo(2);
        JsonNode annSees = listed(ann, project, session);
        assertThat(annSees.path("unread").asInt()).isEqualTo(2);
        assertThat(annSees.path("readSeq").asLong()).isEqualTo(5);
        JsonNode bobSees = bob.get("/api/sessions/" + session).json();
        assertThat(bobSees.path("unread").asInt()).isEqualTo(4);
        assertThat(bobSees.path("readSeq").asLong()).isZero();

        // Output moves nothing; a new message does.
        append(session, "output");
        assertThat(listed(ann, project, session).path("unread").asInt()).isEqualTo(2);
        append(session, "message");
        assertThat(listed(ann, project, session).path("unread").asInt()).isEqualTo(3);
        assertThat(listed(bob, project, session).path("unread").asInt()).isEqualTo(5);
    }

    @Test
    void aReadPositionNeverMovesBackwardsAndStaysWithinTheLog() {
        String project = api.newProject("unread");
        UUID session = api.newSession(project);
        Api ann = member(project, "viewer");
        append(session, "message");
        append(session, "message");
        append(session, "message");

        assertThat(ann.put("/api/sessions/" + session + "/read", "{\"seq\":4}").json().path("unread").asInt()).isZero();
        Api.Response backwards = ann.put("/api/sessions/" + session + "/read", "{\"seq\":2}");
        assertThat(backwards.status()).isEqualTo(200);
        assertThat(backwards.json().path("readSeq").asLong()).isEqualTo(4);
        assertThat(backwards.json().path("unread").asInt()).isZero();
        assertThat(ann.put("/api/sessions/" + session + "/read", "{\"seq\":0}").json().path("readSeq").asLong())
            .isEqualTo(4);

        for (String body : List.of("{\"seq\":5}", "{\"seq\":-1}", "{}", "{\"seq\":null}")) {
            Api.Response answer = api.put("/api/sessions/" + session + "/read", body);
            assertThat(answer.status()).as(body).isEqualTo(400);
            assertThat(answer.json().path("code").asString()).as(body).isEqualTo("validation-failed");
        }

        // Not a number at all: the strict JSON reading's 400.
        assertThat(api.put("/api/sessions/" + session + "/read", "{\"seq\":\"x\"}").status()).isEqualTo(400);

        Api stranger = member(project, null);
        assertThat(stranger.put("/api/sessions/" + session + "/read", "{\"seq\":1}").status()).isEqualTo(404);
        assertThat(stranger.put("/api/sessions/" + UUID.randomUUID() + "/read", "{\"seq\":1}").status()).isEqualTo(404);
    }

    @Test
    void aNotableEventTheCountMissedHidesNoLaterOne() {
        String project = api.newProject("unread");
        UUID session = api.newSession(project);
        Api ann = member(project, "viewer");
        append(session, "message");
        // Appended as the previous version did during a rolling deploy: the head moves,
        // notable_count does not.
        jdbc.sql("""
                with bumped as (update sessions set head_seq = head_seq + 1 where id = :id returning head_seq)
                insert into events (session_id, seq, type, data, created_at)
                select :id, head_seq, 'message', '{}'::jsonb, now() from bumped
                """).param("id", session).update();
        long head = api.get("/api/sessions/" + session).json().path("headSeq").asLong();
        Api.Response read = ann.put("/api/sessions/" + session + "/read", "{\"seq\":" + head + "}");
        assertThat(read.json().path("unread").asInt()).isZero();
        append(session, "message");
        assertThat(listed(ann, project, session).path("unread").asInt()).isEqualTo(1);
        // Read back to before the missed one: both messages after it are unread.
        Api bob = member(project, "viewer");
        assertThat(bob.put("/api/sessions/" + session + "/read", "{\"seq\":" + (head - 1) + "}")
            .json()
            .path("unread")
            .asInt()).isEqualTo(2);
    }

    @Test
    void unreadStopsAtTheCap() {
        String project = api.newProject("unread");
        UUID session = api.newSession(project);
        List<EventLog.NewEvent> many = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            many.add(new EventLog.NewEvent("message", Map.of("n", i)));
        }
        eventLog.appendAll(session, many);
        assertThat(api.get("/api/sessions/" + session).json().path("unread").asInt()).isEqualTo(100);
    }

    @Test
    void everyAppendStatementKeepsTheNotableCount() throws Exception {
        UUID session = api.newSession(api.newProject("notable"));
        String[] types = { "message", "output", "run.finished", "tool.call", "approval.requested" };
        // Concurrent appends outside a transaction: the group commit's statement.
        try (ExecutorService writers = Executors.newFixedThreadPool(8)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int offset = t;
                done.add(writers.submit(() -> {
                    for (int i = 0; i < 25; i++) {
                        append(session, types[(offset + i) % types.length]);
                    }
                }));
            }
            for (Future<?> future : done) {
                future.get();
            }
        }
        // appendAll, and appends in a transaction (the single statement).
        // U+0000 in a payload (stripped to U+FFFD) changes nothing to the counting.
        eventLog.appendAll(session,
                List.of(new EventLog.NewEvent("message", Map.of("text", "a\u0000b")),
                        new EventLog.NewEvent("output", Map.of("text", "\u0000")),
                        new EventLog.NewEvent("approval.requested", Map.of())));
        new TransactionTemplate(transactions).executeWithoutResult(status -> {
            append(session, "run.finished");
            append(session, "output");
        });
        eventLog.append(session, "message", Map.of("text", "\u0000"));
        long counted = jdbc
            .sql("select count(*) from events where session_id = :id"
                    + " and type in ('message', 'run.finished', 'approval.requested')")
            .param("id", session)
            .query(Long.class)
            .single();
        long kept = jdbc.sql("select notable_count from sessions where id = :id")
            .param("id", session)
            .query(Long.class)
            .single();
        assertThat(counted).isEqualTo(120 + 2 + 1 + 1);
        assertThat(kept).isEqualTo(counted);
    }

}
