package dev.collab.stream;

import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.collab.event.EventLog;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.SseClient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The event log's history and its SSE stream over real HTTP, read by a spec-following SSE
 * parser.
 */
@IntegrationTest
class EventStreamTest {

    static final Duration WAIT = Duration.ofSeconds(20);

    @Autowired
    EventLog eventLog;

    @Autowired
    Api api;

    private UUID newSession() {
        String project = api.newProject("events");
        return UUID.fromString(
                api.post("/api/projects/" + project + "/sessions", "{\"title\":\"t\"}").json().get("id").asString());
    }

    private void append(UUID session, int count) {
        for (int i = 0; i < count; i++) {
            eventLog.append(session, "output",
                    Map.of("runId", session.toString(), "stream", "stdout", "text", "line " + i));
        }
    }

    private SseClient stream(UUID session, String query, String lastEventId) {
        return SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream" + query), lastEventId);
    }

    @Test
    void historyPagesTheLog() {
        UUID session = newSession();
        append(session, 5);
        JsonNode page = api.get("/api/sessions/" + session + "/events?after=2&limit=2").json();
        assertThat(page.get("headSeq").asLong()).isEqualTo(6);
        assertThat(page.get("items")).hasSize(2);
        JsonNode first = page.get("items").get(0);
        assertThat(first.get("seq").asLong()).isEqualTo(3);
        assertThat(first.get("sessionId").asString()).isEqualTo(session.toString());
        assertThat(first.get("type").asString()).isEqualTo("output");
        assertThat(first.get("data").get("text").asString()).isEqualTo("line 1");
        assertThat(first.get("at").asString()).endsWith("Z");
        JsonNode all = api.get("/api/sessions/" + session + "/events").json().get("items");
        assertThat(all.get(0).get("type").asString()).isEqualTo("session.created");
        assertThat(all.get(0).get("data").get("title").asString()).isEqualTo("t");
        assertThat(api.get("/api/sessions/" + UUID.randomUUID() + "/events").status()).isEqualTo(404);
        for (String bad : List.of("after=-1", "after=x", "limit=0", "limit=1001")) {
            assertThat(api.get("/api/sessions/" + session + "/events?" + bad).status()).as(bad).isEqualTo(400);
        }
    }

    @Test
    void replaysThenStreamsLiveInOrder() {
        UUID session = newSession();
        append(session, 3);
        try (SseClient client = stream(session, "", null)) {
            assertThat(client.status()).isEqualTo(200);
            assertThat(client.contentType()).startsWith("text/event-stream");
            List<SseClient.Message> replay = client.take(4, WAIT);
            assertThat(replay).extracting(SseClient.Message::seq).containsExactly(1L, 2L, 3L, 4L);
            assertThat(replay.getFirst().event()).isEqualTo("session.created");
            assertThat(replay.get(1).event()).isEqualTo("output");
            assertThat(replay.get(1).json().get("seq").asLong()).isEqualTo(2);
            assertThat(client.retry()).isEqualTo(3000L);

            append(session, 3);
            assertThat(client.take(3, WAIT)).extracting(SseClient.Message::seq).containsExactly(5L, 6L, 7L);
            assertThat(client.next(Duration.ofMillis(200))).isNull();
        }
    }

    @Test
    void resumesFromLastEventIdOrAfterAndTheHeaderWins() {
        UUID session = newSession();
        append(session, 9);
        try (SseClient client = stream(session, "?after=4", null)) {
            assertThat(client.take(6, WAIT)).extracting(SseClient.Message::seq)
                .containsExactly(5L, 6L, 7L, 8L, 9L, 10L);
        }
        try (SseClient client = stream(session, "", "7")) {
            assertThat(client.take(3, WAIT)).extracting(SseClient.Message::seq).containsExactly(8L, 9L, 10L);
        }
        try (SseClient client = stream(session, "?after=2", "8")) {
            assertThat(client.take(2, WAIT)).extracting(SseClient.Message::seq).containsExactly(9L, 10L);
        }
        assertThat(api
            .send(HttpRequest.newBuilder(api.uri("/api/sessions/" + session + "/events/stream"))
                .header("Last-Event-ID", "abc")
                .GET())
            .status()).isEqualTo(400);
    }

    @Test
    void farBehindGetsAGapThenExactlyTheLastMaxReplayEvents() {
        UUID session = newSession();
        append(session, 449); // head = 450
        try (SseClient client = stream(session, "?after=10", null)) {
            SseClient.Message gap = client.take(1, WAIT).getFirst();
            assertThat(gap.event()).isEqualTo("gap");
            assertThat(gap.id()).isEqualTo("250");
            assertThat(gap.json().get("from").asLong()).isEqualTo(11);
            assertThat(gap.json().get("to").asLong()).isEqualTo(250);
            List<SseClient.Message> replay = client.take(200, WAIT);
            assertThat(replay.getFirst().seq()).isEqualTo(251);
            assertThat(replay.getLast().seq()).isEqualTo(450);
            assertThat(client.next(Duration.ofMillis(300))).isNull();
        }
        try (SseClient client = stream(session, "?after=250", null)) {
            assertThat(client.take(1, WAIT).getFirst().seq()).as("200 behind: no gap").isEqualTo(251);
        }
    }

    @Test
    void heartbeatsKeepAnIdleStreamAlive() {
        UUID session = newSession();
        try (SseClient client = stream(session, "", null)) {
            client.take(1, WAIT);
            await().atMost(WAIT).until(() -> client.comments().stream().filter("ping"::equals).count() >= 3);
            // Still open and live after several heartbeats.
            append(session, 1);
            assertThat(client.take(1, WAIT)).hasSize(1);
        }
    }

    @Test
    void anEndedSessionReplaysAndClosesAndThenAnswers204() {
        UUID session = newSession();
        append(session, 2);
        try (SseClient live = stream(session, "", null)) {
            live.take(3, WAIT);
            assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
            SseClient.Message ended = live.take(1, WAIT).getFirst();
            assertThat(ended.event()).isEqualTo("session.ended");
            assertThat(ended.seq()).isEqualTo(4);
            await().atMost(WAIT).until(live::ended);
        }
        try (SseClient behind = stream(session, "?after=1", null)) {
            assertThat(behind.take(3, WAIT)).extracting(SseClient.Message::event)
                .containsExactly("output", "output", "session.ended");
            await().atMost(WAIT).until(behind::ended);
        }
        try (SseClient caughtUp = stream(session, "", "4")) {
            assertThat(caughtUp.status()).isEqualTo(204);
        }
    }

    @Test
    void unknownSessionIsA404Problem() {
        Api.Response response = api.get("/api/sessions/" + UUID.randomUUID() + "/events/stream");
        assertThat(response.status()).isEqualTo(404);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.json().get("code").asString()).isEqualTo("not-found");
    }

    @Test
    void streamsAreMeasuredAndReported() {
        UUID session = newSession();
        try (SseClient client = stream(session, "", null)) {
            client.take(1, WAIT);
            append(session, 2);
            client.take(2, WAIT);
            await().atMost(WAIT).untilAsserted(() -> {
                JsonNode streams = api.get("/actuator/health").json().get("components").get("streams");
                assertThat(streams.get("status").asString()).isEqualTo("UP");
                assertThat(streams.get("details").get("subscribers").asLong()).isPositive();
                assertThat(streams.get("details").get("listener").asString()).isEqualTo("CONNECTED");
            });
            String metrics = api.get("/actuator/prometheus").text();
            assertThat(metrics).contains("collab_stream_subscribers", "collab_events_appended_total",
                    "collab_events_delivered_total", "collab_stream_slow_clients_closed_total",
                    "collab_stream_delivery_latency_seconds_count", "collab_stream_listener_connected",
                    "collab_stream_fanout_reads_total");
        }
    }

    @Test
    void everyAppendMovesHeadSeqAndLastActivity() {
        UUID session = newSession();
        JsonNode before = api.get("/api/sessions/" + session).json();
        append(session, 1);
        JsonNode after = api.get("/api/sessions/" + session).json();
        assertThat(after.get("headSeq").asLong()).isEqualTo(before.get("headSeq").asLong() + 1);
        assertThat(java.time.Instant.parse(after.get("lastActivityAt").asString()))
            .isAfterOrEqualTo(java.time.Instant.parse(before.get("lastActivityAt").asString()));
    }

}
