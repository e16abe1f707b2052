package dev.collab.presence;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.collab.event.EventLog;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.SseClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Who is watching a session, over real HTTP with real logins: the streams people open
 * show on {@code GET /api/sessions/{id}/presence}, on the session stream's
 * {@code presence} messages (without an {@code id:}, so Last-Event-ID is unaffected) and
 * in the session's JSON; a closed stream goes; active and idle.
 */
@IntegrationTest
class PresenceTest {

    static final Duration WAIT = Duration.ofSeconds(20);

    static final String PASSWORD = "correct horse battery";

    @Autowired
    Api api;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    EventLog eventLog;

    @Autowired
    Presence presence;

    private final List<SseClient> clients = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        clients.forEach(SseClient::close);
    }

    record Viewer(UUID id, String login, Api api, String token) {
    }

    private Viewer viewer(String project, String role) {
        String login = "watch-" + Long.toString(System.nanoTime(), 36);
        UUID id = api.createUser(login, PASSWORD, false);
        if (role != null) {
            jdbc.sql("insert into project_members (project_key, user_id, role) values (:p, :u, :r)")
                .param("p", project)
                .param("u", id)
                .param("r", role)
                .update();
        }
        Api as = api.as(login, PASSWORD);
        String token = as.post("/api/tokens", "{\"name\":\"watch\"}").json().path("token").asString();
        return new Viewer(id, login, as, token);
    }

    private SseClient watch(UUID session, Viewer viewer, String lastEventId) {
        SseClient client = SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"), lastEventId,
                "Bearer " + viewer.token());
        clients.add(client);
        assertThat(client.status()).isEqualTo(200);
        return client;
    }

    /** Waits for a presence message on the stream that says {@code count} watch. */
    private static JsonNode presenceWith(SseClient client, int count) {
        JsonNode[] last = new JsonNode[1];
        await().atMost(WAIT).until(() -> {
            SseClient.Message message = client.nextPresence(Duration.ofMillis(200));
            if (message != null) {
                assertThat(message.idLine()).as("a presence message has no id: line").isFalse();
                last[0] = message.json();
            }
            return last[0] != null && last[0].path("count").asInt() == count;
        });
        return last[0];
    }

    private static List<String> logins(JsonNode presence) {
        List<String> logins = new ArrayList<>();
        presence.path("watchers").forEach(watcher -> logins.add(watcher.path("login").asString()));
        return logins;
    }

    @Test
    void twoPeopleWatchingShowEverywhereUntilTheyLeave() {
        String project = api.newProject("presence");
        UUID session = api.newSession(project);
        Viewer ann = viewer(project, "viewer");
        Viewer bob = viewer(project, "member");
        SseClient annStream = watch(session, ann, "0");
        assertThat(annStream.take(1, WAIT).getFirst().event()).isEqualTo("session.created");
        SseClient bobStream = watch(session, bob, "0");
        // Bob's second tab: still one watcher.
        SseClient bobTab = watch(session, bob, "0");

        JsonNode seenByAnn = presenceWith(annStream, 2);
        JsonNode seenByBob = presenceWith(bobStream, 2);
        assertThat(seenByAnn.path("sessionId").asString()).isEqualTo(session.toString());
        assertThat(logins(seenByAnn)).containsExactly(bob.login(), ann.login()); // newest
                                                                                 // first
        assertThat(logins(seenByBob)).containsExactlyInAnyOrder(ann.login(), bob.login());
        presenceWith(bobTab, 2);
        JsonNode watcher = seenByAnn.path("watchers").get(0);
        assertThat(watcher.path("displayName").isString()).isTrue();
        assertThat(watcher.path("since").isString()).isTrue();
        assertThat(watcher.path("state").asString()).isEqualTo("active");

        Api.Response got = ann.api().get("/api/sessions/" + session + "/presence");
        assertThat(got.status()).isEqualTo(200);
        assertThat(got.json().path("count").asInt()).isEqualTo(2);
        assertThat(logins(got.json())).containsExactlyInAnyOrder(ann.login(), bob.login());

        // In the session's JSON, the list's and the one session's.
        JsonNode listed = ann.api().get("/api/projects/" + project + "/sessions").json().path("items").get(0);
        assertThat(listed.path("presence").path("count").asInt()).isEqualTo(2);
        assertThat(logins(listed.path("presence"))).containsExactlyInAnyOrder(ann.login(), bob.login());
        assertThat(ann.api().get("/api/sessions/" + session).json().path("presence").path("count").asInt())
            .isEqualTo(2);

        // One of Bob's tabs closes: he still watches. Then the other: he is gone.
        bobTab.close();
        bobStream.close();
        presenceWith(annStream, 1);
        assertThat(logins(ann.api().get("/api/sessions/" + session + "/presence").json())).containsExactly(ann.login());
        annStream.close();
        await().atMost(WAIT)
            .until(() -> api.get("/api/sessions/" + session + "/presence").json().path("count").asInt() == 0);
        assertThat(api.get("/api/sessions/" + session).json().path("presence").path("count").asInt()).isZero();
    }

    @Test
    void aNewStreamGetsWhoIsWatchingRightAfterItsReplay() throws InterruptedException {
        String project = api.newProject("presence");
        UUID session = api.newSession(project);
        Viewer ann = viewer(project, "viewer");
        Viewer bob = viewer(project, "viewer");
        SseClient annStream = watch(session, ann, "0");
        presenceWith(annStream, 1);
        // The presence thread held up: no batch is written and no push read while Bob's
        // stream opens, so what he gets is what was last sent here, with him in it.
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        presence.worker().execute(() -> {
            held.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        SseClient bobStream;
        try {
            assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
            bobStream = watch(session, bob, "0");
            assertThat(bobStream.take(1, WAIT).getFirst().event()).isEqualTo("session.created");
            SseClient.Message first = bobStream.nextPresence(WAIT);
            assertThat(first).isNotNull();
            assertThat(first.idLine()).isFalse();
            assertThat(first.json().path("count").asInt()).isEqualTo(2);
            assertThat(logins(first.json())).containsExactly(bob.login(), ann.login());
            assertThat(first.json().path("watchers").get(0).path("state").asString()).isEqualTo("active");
            assertThat(jdbc.sql("select count(*) from presence where user_id = :u")
                .param("u", bob.id())
                .query(Integer.class)
                .single()).as("not written yet").isZero();
        }
        finally {
            release.countDown();
        }
        // Then the batch, and everyone hears it from the database.
        presenceWith(annStream, 2);
        await().atMost(WAIT)
            .until(() -> api.get("/api/sessions/" + session + "/presence").json().path("count").asInt() == 2);
    }

    @Test
    void presenceMessagesLeaveLastEventIdAlone() {
        String project = api.newProject("presence");
        UUID session = api.newSession(project);
        Viewer ann = viewer(project, "viewer");
        Viewer bob = viewer(project, "viewer");
        SseClient annStream = watch(session, ann, "0");
        assertThat(annStream.take(1, WAIT).getFirst().event()).isEqualTo("session.created");
        presenceWith(annStream, 1);
        long first = eventLog
            .append(session, "output", Map.of("runId", session.toString(), "stream", "stdout", "text", "one"))
            .seq();
        watch(session, bob, "0");
        presenceWith(annStream, 2);
        long second = eventLog
            .append(session, "output", Map.of("runId", session.toString(), "stream", "stdout", "text", "two"))
            .seq();
        List<SseClient.Message> events = annStream.take(2, WAIT);
        assertThat(events).extracting(SseClient.Message::seq).containsExactly(first, second);
        // Messages with an id: the log's events, in order; presence ones have none.
        for (SseClient.Message message : annStream.all()) {
            assertThat(message.idLine()).as(message.toString()).isEqualTo(!"presence".equals(message.event()));
        }
        // Resumed from the last id seen: nothing twice, and the presence comes again.
        annStream.close();
        SseClient resumed = watch(session, ann, Long.toString(first));
        SseClient.Message next = resumed.next(WAIT);
        assertThat(next.seq()).isEqualTo(second);
        assertThat(resumed.next(Duration.ofMillis(500))).isNull();
        presenceWith(resumed, 2);
    }

    @Test
    void idleAndActive() {
        String project = api.newProject("presence");
        UUID session = api.newSession(project);
        Viewer ann = viewer(project, "viewer");
        SseClient annStream = watch(session, ann, "0");
        presenceWith(annStream, 1);

        Api.Response idle = ann.api().put("/api/sessions/" + session + "/presence", "{\"state\":\"idle\"}");
        assertThat(idle.status()).isEqualTo(204);
        await().atMost(WAIT).until(() -> {
            SseClient.Message message = annStream.nextPresence(Duration.ofMillis(200));
            return message != null && "idle".equals(message.json().path("watchers").get(0).path("state").asString());
        });
        assertThat(ann.api()
            .get("/api/sessions/" + session + "/presence")
            .json()
            .path("watchers")
            .get(0)
            .path("state")
            .asString()).isEqualTo("idle");

        assertThat(ann.api().put("/api/sessions/" + session + "/presence", "{\"state\":\"active\"}").status())
            .isEqualTo(204);
        assertThat(ann.api()
            .get("/api/sessions/" + session + "/presence")
            .json()
            .path("watchers")
            .get(0)
            .path("state")
            .asString()).isEqualTo("active");
    }

    @Test
    void badBodiesAreValidationFailures() {
        String project = api.newProject("presence");
        UUID session = api.newSession(project);
        for (String body : List.of("{\"state\":\"away\"}", "{}", "{\"state\":null}", "{\"state\":1}")) {
            Api.Response answer = api.put("/api/sessions/" + session + "/presence", body);
            assertThat(answer.status()).as(body).isEqualTo(400);
            assertThat(answer.contentType()).startsWith("application/problem+json");
        }
        assertThat(api.put("/api/sessions/" + session + "/presence", "{\"state\":\"away\"}")
            .json()
            .path("code")
            .asString()).isEqualTo("validation-failed");
    }

    @Test
    void aNonMemberGetsTheNotFoundOfAnUnknownSession() {
        String project = api.newProject("presence");
        UUID session = api.newSession(project);
        Viewer stranger = viewer(project, null);
        for (UUID id : List.of(session, UUID.randomUUID())) {
            Api.Response got = stranger.api().get("/api/sessions/" + id + "/presence");
            assertThat(got.status()).isEqualTo(404);
            Api.Response put = stranger.api().put("/api/sessions/" + id + "/presence", "{\"state\":\"idle\"}");
            assertThat(put.status()).isEqualTo(404);
        }
    }

}
