package dev.collab.stream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import dev.collab.event.EventLog;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.SseClient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The recent events of all watched sessions together stay within
 * {@code collab.stream.recent-events-total-size}: the least recently used sessions'
 * memory goes, and their streams still get every event (from the log).
 */
@IntegrationTest
@TestPropertySource(properties = { "collab.stream.recent-events-size=8KB",
        // Room for about one and a half sessions' memory (each event counts twice: frame
        // and JSON).
        "collab.stream.recent-events-total-size=24KB" })
class StreamMemoryBudgetTest {

    static final Duration WAIT = Duration.ofSeconds(60);

    @Autowired
    Api api;

    @Autowired
    EventLog eventLog;

    @Autowired
    StreamHub hub;

    @Test
    void manyWatchedSessionsStayWithinTheBudgetAndEveryStreamGetsEveryEvent() {
        String project = api.newProject("budget");
        List<UUID> sessions = new ArrayList<>();
        List<SseClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                UUID session = api.newSession(project);
                append(session, 6, 1000);
                sessions.add(session);
                long head = eventLog.head(session).orElseThrow();
                SseClient client = stream(api, session, head);
                assertThat(client.status()).isEqualTo(200);
                clients.add(client);
                await().atMost(WAIT).untilAsserted(() -> assertThat(hub.recentHeld()).isLessThanOrEqualTo(24 * 1024));
            }
            // The first session's memory went (least recently used): a stream from its
            // beginning
            // replays from the log, exactly once each, then live.
            UUID first = sessions.getFirst();
            long head = eventLog.head(first).orElseThrow();
            try (SseClient late = stream(api, first, 0)) {
                assertThat(late.status()).isEqualTo(200);
                assertConsecutive(late.take((int) head, WAIT), 1, head);
                append(first, 1, 1000);
                assertConsecutive(late.take(1, WAIT), head + 1, head + 1);
                assertConsecutive(clients.getFirst().take(1, WAIT), head + 1, head + 1);
            }
            assertThat(hub.recentHeld()).isLessThanOrEqualTo(24 * 1024);
        }
        finally {
            clients.forEach(SseClient::close);
        }
    }

    private static SseClient stream(Api api, UUID session, long cursor) {
        return Streams.open(api, session, cursor);
    }

    private void append(UUID session, int count, int size) {
        Streams.appendOutput(eventLog, session, count, size);
    }

    private static void assertConsecutive(List<SseClient.Message> messages, long from, long to) {
        Streams.assertConsecutive(messages, from, to);
    }

}
