package dev.collab.stream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.collab.event.EventLog;
import dev.collab.session.SessionListChanged;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.SseClient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationEventPublisher;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The live session list ({@code GET /api/projects/{key}/sessions/stream}) over real HTTP,
 * read by a spec-following SSE parser: the snapshot, coalesced updates, resume with
 * Last-Event-ID, access, heartbeat and shutdown.
 */
@IntegrationTest
class SessionListStreamTest {

    static final Duration WAIT = Duration.ofSeconds(20);

    @Autowired
    Api api;

    @Autowired
    EventLog eventLog;

    @Autowired
    SessionListHub hub;

    @Autowired
    ApplicationEventPublisher events;

    @Autowired
    StreamAccessCheck accessCheck;

    @org.springframework.boot.test.web.server.LocalServerPort
    int port;

    @Autowired
    javax.sql.DataSource dataSource;

    @Autowired
    org.springframework.jdbc.core.simple.JdbcClient jdbc;

    private SseClient open(String project, String query, String lastEventId) {
        return SseClient.connect(api.uri("/api/projects/" + project + "/sessions/stream" + query), lastEventId);
    }

    private void append(UUID session, int count) {
        for (int i = 0; i < count; i++) {
            eventLog.append(session, "output",
                    Map.of("runId", session.toString(), "stream", "stdout", "text", "line " + i));
        }
    }

    /** Messages until one has the session in this state, failing after WAIT. */
    private static JsonNode awaitSession(SseClient client, UUID session, java.util.function.Predicate<JsonNode> until) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            SseClient.Message message = client.next(Duration.ofMillis(200));
            if (message == null) {
                continue;
            }
            for (JsonNode item : message.json().get("items")) {
                if (item.get("id").asString().equals(session.toString()) && until.test(item)) {
                    return item;
                }
            }
        }
        throw new AssertionError("no update of " + session + " as expected");
    }

    private static List<String> ids(JsonNode items) {
        List<String> ids = new ArrayList<>();
        items.forEach(item -> ids.add(item.get("id").asString()));
        return ids;
    }

    @Test
    void theSnapshotIsTheFirstPageAsTheListGivesIt() {
        String project = api.newProject("live");
        for (int i = 0; i < 3; i++) {
            api.newSession(project);
        }
        JsonNode list = api.get("/api/projects/" + project + "/sessions?limit=2").json();
        try (SseClient client = open(project, "?limit=2", null)) {
            assertThat(client.status()).isEqualTo(200);
            assertThat(client.contentType()).startsWith("text/event-stream");
            SseClient.Message snapshot = client.next(WAIT);
            assertThat(snapshot.event()).isEqualTo("snapshot");
            assertThat(Long.parseLong(snapshot.id())).isPositive();
            assertThat(client.retry()).isEqualTo(3000);
            assertThat(snapshot.json().get("items")).isEqualTo(list.get("items"));
            assertThat(snapshot.json().get("nextCursor").asString()).isEqualTo(list.get("nextCursor").asString());
        }
    }

    @Test
    void aNewSessionAndARunShowAsUpdates() {
        String project = api.newProject("live");
        try (SseClient client = open(project, "", null)) {
            SseClient.Message snapshot = client.next(WAIT);
            assertThat(snapshot.json().get("items")).isEmpty();
            assertThat(snapshot.json().get("nextCursor").isNull()).isTrue();
            UUID session = api.newSession(project);
            JsonNode created = awaitSession(client, session, item -> true);
            assertThat(created.get("state").asString()).isEqualTo("IDLE");
            assertThat(api.sendMessage(session, "hello", null).status()).isEqualTo(202);
            // RUNNING may not show: a run shorter than a tick is coalesced into its end.
            await().atMost(WAIT)
                .until(() -> api.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE"));
            long head = api.get("/api/sessions/" + session).json().get("headSeq").asLong();
            JsonNode finished = awaitSession(client, session, item -> item.get("headSeq").asLong() == head);
            assertThat(finished.get("state").asString()).isEqualTo("IDLE");
        }
    }

    @Test
    void aBurstOfAppendsIsCoalesced() {
        String project = api.newProject("live");
        UUID session = api.newSession(project);
        try (SseClient client = open(project, "", null)) {
            client.next(WAIT);
            long started = System.nanoTime();
            append(session, 200);
            long burst = System.nanoTime() - started;
            long head = eventLog.sessionHead(session).orElseThrow().headSeq();
            List<SseClient.Message> updates = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                SseClient.Message message = client.next(Duration.ofMillis(200));
                if (message == null) {
                    continue;
                }
                updates.add(message);
                if (message.json().get("items").get(0).get("headSeq").asLong() == head) {
                    break;
                }
            }
            assertThat(updates).isNotEmpty();
            assertThat(updates.getLast().json().get("items").get(0).get("headSeq").asLong()).isEqualTo(head);
            // One update per 250 ms tick at most: two for a burst within one tick (it may
            // straddle two ticks), one more for each further tick it took.
            long ticks = burst / SessionListHub.TICK.toNanos();
            assertThat(updates).as("burst of %d ms", burst / 1_000_000).hasSizeLessThanOrEqualTo((int) (2 + ticks));
            assertThat(client.next(Duration.ofMillis(600))).as("nothing after the last").isNull();
        }
    }

    @Test
    void aSessionBeyondTheFirstPageComesToTheTop() {
        String project = api.newProject("live");
        UUID oldest = api.newSession(project);
        api.newSession(project);
        api.newSession(project);
        try (SseClient client = open(project, "?limit=1", null)) {
            SseClient.Message snapshot = client.next(WAIT);
            assertThat(ids(snapshot.json().get("items"))).doesNotContain(oldest.toString());
            append(oldest, 1);
            JsonNode update = awaitSession(client, oldest, item -> true);
            assertThat(update.get("headSeq").asLong()).isEqualTo(2);
        }
    }

    @Test
    void resumingGetsWhatChangedMeanwhile() {
        String project = api.newProject("live");
        UUID first = api.newSession(project);
        api.newSession(project);
        String lastId;
        try (SseClient client = open(project, "", null)) {
            lastId = client.next(WAIT).id();
        }
        append(first, 2);
        UUID created = api.newSession(project);
        try (SseClient client = open(project, "", lastId)) {
            SseClient.Message resumed = client.next(WAIT);
            assertThat(resumed.event()).isEqualTo("sessions");
            assertThat(ids(resumed.json().get("items"))).contains(first.toString(), created.toString());
            assertThat(Long.parseLong(resumed.id())).isGreaterThan(Long.parseLong(lastId));
        }
        // Past a page of changes, and for an id this server never gave: a snapshot.
        try (SseClient client = open(project, "?limit=1", lastId)) {
            assertThat(client.next(WAIT).event()).isEqualTo("snapshot");
        }
        for (String invalid : List.of("abc", "-5", "99999999999999999999")) {
            try (SseClient client = open(project, "", invalid)) {
                assertThat(client.next(WAIT).event()).as(invalid).isEqualTo("snapshot");
            }
        }
    }

    @Test
    void aListThatOverflowsItsBufferIsClosedAndResumesWithoutLoss() throws Exception {
        String project = api.newProject("live");
        UUID active = api.newSession(project);
        UUID later = api.newSession(project);
        try (java.net.Socket stalled = new java.net.Socket()) {
            stalled.setReceiveBufferSize(4096);
            stalled.connect(new java.net.InetSocketAddress("localhost", port));
            stalled.getOutputStream()
                .write(dev.collab.support.RawHttp
                    .authorized(port,
                            "GET /api/projects/" + project + "/sessions/stream HTTP/1.1\r\nHost: localhost\r\n"
                                    + "Accept: text/event-stream\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            // The snapshot's id, as a client has it; then it never reads again.
            var snapshot = java.util.regex.Pattern.compile("id: (\\d+)\nevent: snapshot\ndata: [^\n]*\n\n");
            StringBuilder text = new StringBuilder();
            byte[] buffer = new byte[4096];
            java.util.regex.Matcher matcher;
            stalled.setSoTimeout((int) WAIT.toMillis());
            while (!(matcher = snapshot.matcher(text)).find()) {
                int read = stalled.getInputStream().read(buffer);
                assertThat(read).as("the stream ended before its snapshot").isPositive();
                text.append(new String(buffer, 0, read, java.nio.charset.StandardCharsets.UTF_8));
            }
            String lastId = matcher.group(1);
            ListStream stream = await().atMost(WAIT)
                .until(() -> hub.streams().stream().filter(s -> s.project.equals(project)).findFirst().orElse(null),
                        java.util.Objects::nonNull);
            // Changes while it takes nothing: their updates queue behind what fills its
            // connection.
            append(active, 3);
            UUID created = api.newSession(project);
            // A client that does not keep up, made quick: what a full socket leaves in
            // the queue until more than its 64 messages wait. (The writer blocks on the
            // first few: the client's window is 4 KiB.)
            byte[] filler = (": " + "x".repeat(65_536) + "\n\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            for (int i = 0; i < 1_000 && !stream.closed(); i++) {
                stream.offer(new ListStream.Message(filler, -1));
            }
            assertThat(stream.overflowed()).as("its buffer overflowed").isTrue();
            assertThat(stream.closed()).isTrue();
            // Closed: its connection ends, it no longer counts as a watcher.
            await().atMost(WAIT).until(() -> hub.streams().stream().noneMatch(s -> s == stream));
            append(later, 1);
            // The client resumes with the last id it got: nothing is lost.
            try (SseClient client = open(project, "", lastId)) {
                SseClient.Message resumed = client.next(WAIT);
                assertThat(resumed.event()).isEqualTo("sessions");
                JsonNode items = resumed.json().get("items");
                assertThat(ids(items)).contains(active.toString(), later.toString(), created.toString());
                items.forEach(item -> {
                    if (item.get("id").asString().equals(active.toString())) {
                        assertThat(item.get("headSeq").asLong()).isEqualTo(4);
                    }
                });
                assertThat(Long.parseLong(resumed.id())).isGreaterThan(Long.parseLong(lastId));
            }
        }
    }

    /**
     * A change whose transaction took its version before one the client has, committed
     * only after the client left, and the client back long after: had the resume looked
     * only at the last seconds before now, that change would be lost. (The times are set
     * back by a minute: as if the client had been away that long.)
     */
    @Test
    void aChangeCommittedLateIsResumedHoweverLongTheClientWasAway() throws Exception {
        String project = api.newProject("live");
        UUID late = api.newSession(project);
        UUID other = api.newSession(project);
        String lastId;
        try (java.sql.Connection slow = dataSource.getConnection()) {
            slow.setAutoCommit(false);
            try (var statement = slow.prepareStatement("update sessions set title = 'committed late',"
                    + " last_activity_at = now() - interval '60 seconds' where id = ?")) {
                statement.setObject(1, late);
                assertThat(statement.executeUpdate()).isEqualTo(1);
            }
            // A later version, committed at once...
            try (java.sql.Connection quick = dataSource.getConnection();
                    var statement = quick.prepareStatement("update sessions set title = 'committed first',"
                            + " last_activity_at = now() - interval '59 seconds' where id = ?")) {
                statement.setObject(1, other);
                assertThat(statement.executeUpdate()).isEqualTo(1);
            }
            // ...that the client has, while the first is not committed yet.
            try (SseClient client = open(project, "", null)) {
                SseClient.Message snapshot = client.next(WAIT);
                lastId = snapshot.id();
                assertThat(snapshot.json().toString()).contains("committed first").doesNotContain("committed late");
            }
            slow.commit();
        }
        try (SseClient client = open(project, "", lastId)) {
            SseClient.Message resumed = client.next(WAIT);
            assertThat(resumed.event()).isEqualTo("sessions");
            assertThat(ids(resumed.json().get("items"))).contains(late.toString());
            assertThat(resumed.json().toString()).contains("committed late");
        }
    }

    /**
     * Notifications lost while the LISTEN connection was down (here: a session that came
     * with none, created "elsewhere", that this instance never saw): once the connection
     * is back, the list re-reads what changed since the version it handed out.
     */
    @Test
    void aSessionUnseenWhileNotificationsWereDownShowsOnceTheyAreBack() {
        String project = api.newProject("live");
        api.newSession(project);
        try (SseClient client = open(project, "?limit=1", null)) {
            assertThat(client.next(WAIT).event()).isEqualTo("snapshot");
            UUID unseen = UUID.randomUUID();
            jdbc.sql("""
                    insert into sessions (id, project_key, title, state, created_at, last_activity_at)
                    values (:id, :project, 'made elsewhere', 'IDLE', now(), now())
                    """).param("id", unseen).param("project", project).update();
            String listeners = """
                    select count(pg_terminate_backend(pid)) from pg_stat_activity
                    where application_name = 'collab-listener' and datname = current_database()
                    """;
            await().atMost(WAIT).until(() -> jdbc.sql(listeners).query(Integer.class).single() >= 1);
            JsonNode update = awaitSession(client, unseen, item -> true);
            assertThat(update.get("title").asString()).isEqualTo("made elsewhere");
        }
    }

    @Test
    void presenceAndReadPositionsGoWithoutAnId() throws Exception {
        String project = api.newProject("live");
        UUID session = api.newSession(project);
        UUID me = UUID.fromString(api.get("/api/me").json().get("id").asString());
        // Raw lines: the SSE parser keeps the last id for every later message, as
        // EventSource does; here whether a message has an id line at all is the point.
        var request = java.net.http.HttpRequest.newBuilder(api.uri("/api/projects/" + project + "/sessions/stream"))
            .header("Authorization", Api.adminAuthorization(api.base()))
            .build();
        var response = java.net.http.HttpClient.newHttpClient()
            .send(request, java.net.http.HttpResponse.BodyHandlers.ofInputStream());
        var blocks = new java.util.concurrent.LinkedBlockingQueue<String>();
        var reader = new java.io.BufferedReader(
                new java.io.InputStreamReader(response.body(), java.nio.charset.StandardCharsets.UTF_8));
        Thread.ofVirtual().start(() -> {
            StringBuilder block = new StringBuilder();
            try {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    if (!line.isEmpty()) {
                        block.append(line).append('\n');
                    }
                    else if (block.indexOf("event:") >= 0) {
                        blocks.add(block.toString());
                        block.setLength(0);
                    }
                    else {
                        block.setLength(0);
                    }
                }
            }
            catch (java.io.IOException e) {
                // closed
            }
        });
        try {
            assertThat(blocks.poll(20, java.util.concurrent.TimeUnit.SECONDS)).startsWith("id: ")
                .contains("event: snapshot");
            // The session's creation may still come as an update (at worst twice): let
            // it.
            while (blocks.poll(600, java.util.concurrent.TimeUnit.MILLISECONDS) != null) {
                // skipped
            }
            events.publishEvent(new SessionListChanged(project, session, null));
            String presence = blocks.poll(20, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(presence).startsWith("event: sessions\n").doesNotContain("id: ").contains(session.toString());
            // Someone else's read position: not this user's business.
            events.publishEvent(new SessionListChanged(project, session, UUID.randomUUID()));
            assertThat(blocks.poll(800, java.util.concurrent.TimeUnit.MILLISECONDS)).isNull();
            events.publishEvent(new SessionListChanged(project, session, me));
            String mine = blocks.poll(20, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(mine).startsWith("event: sessions\n").doesNotContain("id: ").contains(session.toString());
        }
        finally {
            response.body().close();
        }
    }

    @Test
    void viewersMayWatchOthersGetTheListsAnswers() {
        String project = api.newProject("live");
        String viewer = "viewer-" + Long.toString(System.nanoTime(), 36);
        api.createUser(viewer, "a long enough password", false);
        assertThat(api.put("/api/projects/" + project + "/members/" + viewer, "{\"role\":\"viewer\"}").status())
            .isEqualTo(201);
        Api asViewer = api.as(viewer, "a long enough password");
        String token = asViewer.post("/api/tokens", "{\"name\":\"live\"}").json().get("token").asString();
        try (SseClient client = SseClient.connect(api.uri("/api/projects/" + project + "/sessions/stream"), null,
                "Bearer " + token)) {
            assertThat(client.status()).isEqualTo(200);
            assertThat(client.next(WAIT).event()).isEqualTo("snapshot");
        }
        String outsider = "outsider-" + Long.toString(System.nanoTime(), 36);
        api.createUser(outsider, "a long enough password", false);
        Api asOutsider = api.as(outsider, "a long enough password");
        assertThat(asOutsider.get("/api/projects/" + project + "/sessions/stream").status()).isEqualTo(404);
        assertThat(api.get("/api/projects/no-such-project/sessions/stream").status()).isEqualTo(404);
        for (String bad : List.of("limit=0", "limit=201", "limit=x")) {
            assertThat(api.get("/api/projects/" + project + "/sessions/stream?" + bad).status()).as(bad).isEqualTo(400);
        }
    }

    @Test
    void aViewerRemovedFromTheProjectIsCutOff() {
        String project = api.newProject("live");
        String viewer = "viewer-" + Long.toString(System.nanoTime(), 36);
        api.createUser(viewer, "a long enough password", false);
        assertThat(api.put("/api/projects/" + project + "/members/" + viewer, "{\"role\":\"viewer\"}").status())
            .isEqualTo(201);
        String token = api.as(viewer, "a long enough password")
            .post("/api/tokens", "{\"name\":\"live\"}")
            .json()
            .get("token")
            .asString();
        try (SseClient client = SseClient.connect(api.uri("/api/projects/" + project + "/sessions/stream"), null,
                "Bearer " + token)) {
            assertThat(client.next(WAIT).event()).isEqualTo("snapshot");
            assertThat(api.delete("/api/projects/" + project + "/members/" + viewer).status()).isEqualTo(204);
            // The periodic check, run now rather than waiting for its interval.
            await().atMost(WAIT).until(() -> accessCheck.check() >= 0 && client.ended());
        }
    }

    @Test
    void heartbeatsKeepAQuietListOpen() {
        String project = api.newProject("live");
        try (SseClient client = open(project, "", null)) {
            client.next(WAIT);
            await().atMost(WAIT).until(() -> client.comments().contains("ping"));
        }
    }

    @Test
    void shutdownClosesTheLists() {
        String project = api.newProject("live");
        try (SseClient client = open(project, "", null)) {
            client.next(WAIT);
            await().atMost(WAIT).until(() -> hub.watchers() > 0);
            hub.stop();
            try {
                await().atMost(WAIT).until(client::ended);
            }
            finally {
                hub.start();
            }
        }
        await().atMost(WAIT).until(() -> hub.streams().stream().noneMatch(stream -> stream.project.equals(project)));
    }

}
