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

    @Autowired
    Api api;
    @Autowired
    EventLog eventLog;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    MeterRegistry registry;
    @Autowired
    javax.sql.DataSource dataSource;

    @Test
    void concurrentWritersShareBatchesAndKeepEverySessionGapFree() throws Exception {
        String project = api.newProject("group");
        List<UUID> sessions = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            sessions.add(api.newSession(project));
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
        String project = api.newProject("group-fail");
        UUID open = api.newSession(project);
        UUID ended = api.newSession(project);
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

    @Test
    void aSessionLockedElsewhereHoldsUpOnlyItsOwnAppends() throws Exception {
        String project = api.newProject("group-lock");
        UUID locked = api.newSession(project);
        List<UUID> others = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            others.add(api.newSession(project));
        }

        // An operator's open transaction holds the row lock of one session (say, a psql session).
        try (java.sql.Connection admin = dataSource.getConnection();
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            admin.setAutoCommit(false);
            try (var lock = admin.prepareStatement("select 1 from sessions where id = ? for update")) {
                lock.setObject(1, locked);
                lock.executeQuery().close();
            }
            List<Future<Event>> stuck = new ArrayList<>();
            // More than run the plain way at once: the rest queue up, and batches meet the lock too.
            for (int i = 0; i < GroupCommit.MAX_DIRECT + 4; i++) {
                stuck.add(pool.submit(() -> eventLog.append(locked, "output", Map.of("text", "waits"))));
            }
            List<Future<Event>> free = new ArrayList<>();
            for (UUID other : others) {
                for (int w = 0; w < 10; w++) {
                    free.add(pool.submit(() -> {
                        Event last = null;
                        for (int i = 0; i < 20; i++) {
                            last = eventLog.append(other, "output", Map.of("text", "flows"));
                        }
                        return last;
                    }));
                }
            }
            for (Future<Event> append : free) {
                assertThat(append.get(60, java.util.concurrent.TimeUnit.SECONDS)).isNotNull();
            }
            assertThat(stuck).as("still waiting for the lock").noneMatch(Future::isDone);
            admin.rollback();
            for (Future<Event> append : stuck) {
                assertThat(append.get(60, java.util.concurrent.TimeUnit.SECONDS).sessionId()).isEqualTo(locked);
            }
        }
        for (UUID other : others) {
            assertThat(eventLog.read(other, 0, 1000)).extracting(Event::seq)
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, 201).boxed().toList());
        }
        assertThat(eventLog.read(locked, 0, 1000)).extracting(Event::seq)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, GroupCommit.MAX_DIRECT + 5).boxed().toList());
    }
}
