package dev.collab.event;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Appends outside a transaction are committed in shared batches: seqs stay 1..N per session in
 * each writer's order, every event is in the log exactly once with its head moved, and an
 * unknown or closed session fails only its own append.
 */
@IntegrationTest
class GroupCommitTest {

    @LocalServerPort
    int port;
    @Autowired
    EventLog eventLog;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    MeterRegistry registry;

    @Test
    void concurrentWritersShareBatchesAndKeepEverySessionGapFree() throws Exception {
        Api api = new Api(port);
        String project = api.newProject("group");
        List<UUID> sessions = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            sessions.add(UUID.fromString(api.post("/api/projects/" + project + "/sessions", "{}").json()
                    .get("id").asString()));
        }
        int writersPerSession = 8;
        int eventsPerWriter = 60;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<List<Long>>> writers = new ArrayList<>();
            for (UUID session : sessions) {
                for (int w = 0; w < writersPerSession; w++) {
                    int writer = w;
                    writers.add(pool.submit(() -> {
                        List<Long> seqs = new ArrayList<>();
                        for (int i = 0; i < eventsPerWriter; i++) {
                            seqs.add(eventLog.append(session, "output",
                                    Map.of("runId", session.toString(), "stream", "stdout", "text", writer + ":" + i)).seq());
                        }
                        return seqs;
                    }));
                }
            }
            for (Future<List<Long>> writer : writers) {
                assertThat(writer.get()).as("one writer's appends keep their order").isSorted();
            }
        }
        long perSession = 1 + (long) writersPerSession * eventsPerWriter; // session.created + output
        for (UUID session : sessions) {
            assertThat(jdbc.sql("select seq from events where session_id = :id order by seq").param("id", session)
                    .query(Long.class).list())
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, perSession).boxed().toList());
            assertThat(jdbc.sql("select head_seq from sessions where id = :id").param("id", session)
                    .query(Long.class).single()).isEqualTo(perSession);
            for (int w = 0; w < writersPerSession; w++) {
                List<String> texts = jdbc.sql("""
                                select data->>'text' from events
                                where session_id = :id and type = 'output' and data->>'text' like :prefix order by seq
                                """)
                        .param("id", session).param("prefix", w + ":%").query(String.class).list();
                int writer = w;
                assertThat(texts).as("writer %d's events in its order", w).containsExactlyElementsOf(
                        java.util.stream.IntStream.range(0, eventsPerWriter).mapToObj(i -> writer + ":" + i).toList());
            }
        }
        assertThat(registry.get("collab.events.append.batch").summary().max())
                .as("some appends were committed together").isGreaterThan(1);
    }

    @Test
    void anUnknownOrClosedSessionFailsOnlyItsOwnAppend() throws Exception {
        Api api = new Api(port);
        String project = api.newProject("group-fail");
        UUID open = UUID.fromString(api.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString());
        UUID ended = UUID.fromString(api.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString());
        assertThat(api.delete("/api/sessions/" + ended).status()).isEqualTo(204);
        UUID unknown = UUID.randomUUID();

        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Event>> good = new ArrayList<>();
            List<Future<?>> bad = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                good.add(pool.submit(() -> eventLog.append(open, "output", Map.of("text", "ok"))));
                bad.add(pool.submit(() -> eventLog.append(ended, "output", Map.of("text", "late"))));
                bad.add(pool.submit(() -> eventLog.append(unknown, "output", Map.of("text", "nobody"))));
            }
            for (Future<Event> append : good) {
                assertThat(append.get().sessionId()).isEqualTo(open);
            }
            for (Future<?> append : bad) {
                assertThatThrownBy(append::get).cause()
                        .isInstanceOfAny(LogClosedException.class, IllegalArgumentException.class);
            }
        }
        assertThat(eventLog.read(open, 0, 1000)).extracting(Event::seq)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, 51).boxed().toList());
        assertThat(eventLog.read(ended, 0, 1000)).extracting(Event::type).containsExactly("session.created", "session.ended");
    }
}
