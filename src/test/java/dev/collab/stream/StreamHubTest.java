package dev.collab.stream;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import dev.collab.event.EventLog;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.SseClient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The hub's channel of a session starts at the session's head: a stream arriving just as
 * the last one leaves must not start a channel at seq 0, which would read the whole log
 * again and overflow every stream of the session with events they already have.
 */
@IntegrationTest
class StreamHubTest {

    @Autowired
    Api api;

    @Autowired
    StreamHub hub;

    @Autowired
    EventLog eventLog;

    @Autowired
    EventStreams streams;

    /**
     * The streams' lifecycle (phase STREAMS): a stop ends every live stream, and a start
     * serves them again. Spring stops and starts a test context's lifecycles when it
     * pauses and resumes the context, so this is also what keeps the other stream tests
     * working.
     */
    @Test
    void aStopEndsLiveStreamsAndAStartServesThemAgain() {
        UUID session = api.newSession(api.newProject("hub-restart"));
        long head = eventLog.head(session).orElse(0);
        try (SseClient before = Streams.open(api, session, head)) {
            streams.stop();
            hub.stop();
            await().atMost(java.time.Duration.ofSeconds(20)).until(before::ended);
        }
        finally {
            hub.start();
            streams.start();
        }
        try (SseClient after = Streams.open(api, session, head)) {
            eventLog.append(session, "output",
                    Map.of("runId", session.toString(), "stream", "stdout", "text", "again"));
            SseClient.Message live = after.take(1, java.time.Duration.ofSeconds(20)).getFirst();
            assertThat(live.event()).isEqualTo("output");
            assertThat(live.json().get("data").get("text").asString()).isEqualTo("again");
        }
    }

    @Test
    void aStreamArrivingAsTheLastOneLeavesStartsAtTheHead() throws Exception {
        String project = api.newProject("hub-race");
        UUID session = api.newSession(project);
        for (int i = 0; i < 50; i++) {
            eventLog.append(session, "output", Map.of("runId", session.toString(), "stream", "stdout", "text", "x"));
        }
        long head = eventLog.head(session).orElseThrow();

        // Streams come and go on several threads at once, so the session's channel is
        // created and
        // removed over and over, and a subscribe often sees the channel that is about to
        // go away.
        int threads = 8;
        int rounds = 20_000;
        AtomicLong wrongStart = new AtomicLong(-2);
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            CyclicBarrier together = new CyclicBarrier(threads);
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> {
                    together.await();
                    for (int round = 0; round < rounds && wrongStart.get() == -2; round++) {
                        Subscription subscription = hub.subscribe(session, 10);
                        long tail = hub.channelTail(session);
                        if (tail != head) {
                            wrongStart.compareAndSet(-2, tail);
                        }
                        hub.unsubscribe(subscription);
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get();
            }
        }
        assertThat(wrongStart.get()).as("a channel that did not start at the head (-2: none)").isEqualTo(-2);
        assertThat(hub.channelTail(session)).as("no channel left").isEqualTo(-1);
    }

}
