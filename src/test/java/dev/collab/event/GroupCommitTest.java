package dev.collab.event;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.core.simple.JdbcClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Appends outside a transaction are committed in shared batches: seqs stay 1..N per
 * session in each writer's order, every event is in the log exactly once with its head
 * moved, and an unknown or closed session, or an event the database rejects, fails only
 * its own append.
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

    @Autowired
    GroupCommit groupCommit;

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
                            seqs.add(eventLog
                                .append(session, "output",
                                        Map.of("runId", session.toString(), "stream", "stdout", "text",
                                                writer + ":" + i))
                                .seq());
                        }
                        return seqs;
                    }));
                }
            }
            for (Future<List<Long>> writer : writers) {
                assertThat(writer.get()).as("one writer's appends keep their order").isSorted();
            }
        }
        long perSession = 1 + (long) writersPerSession * eventsPerWriter; // session.created
                                                                          // + output
        for (UUID session : sessions) {
            assertThat(jdbc.sql("select seq from events where session_id = :id order by seq")
                .param("id", session)
                .query(Long.class)
                .list()).containsExactlyElementsOf(LongStream.rangeClosed(1, perSession).boxed().toList());
            assertThat(jdbc.sql("select head_seq from sessions where id = :id")
                .param("id", session)
                .query(Long.class)
                .single()).isEqualTo(perSession);
            for (int w = 0; w < writersPerSession; w++) {
                List<String> texts = jdbc.sql("""
                        select data->>'text' from events
                        where session_id = :id and type = 'output' and data->>'text' like :prefix order by seq
                        """).param("id", session).param("prefix", w + ":%").query(String.class).list();
                int writer = w;
                assertThat(texts).as("writer %d's events in its order", w)
                    .containsExactlyElementsOf(java.util.stream.IntStream.range(0, eventsPerWriter)
                        .mapToObj(i -> writer + ":" + i)
                        .toList());
            }
        }
        assertThat(registry.get("collab.events.append.batch").summary().max())
            .as("some appends were committed together")
            .isGreaterThan(1);
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
        assertThat(eventLog.read(ended, 0, 1000)).extracting(Event::type)
            .containsExactly("session.created", "session.ended");
    }

    @Test
    void anEventTheDatabaseRejectsFailsOnlyItsOwnAppendInABatch() throws Exception {
        String project = api.newProject("group-bad-data");
        UUID session = api.newSession(project);
        // One session per append: two batches never contend for a session row (that would
        // send
        // an append the plain way, which this test keeps busy).
        List<UUID> goodSessions = new ArrayList<>();
        List<UUID> badSessions = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            goodSessions.add(api.newSession(project));
            badSessions.add(api.newSession(project));
        }
        double fallbacksBefore = registry.get("collab.events.append.batch.fallbacks").counter().count();
        CountDownLatch directTaken = new CountDownLatch(GroupCommit.MAX_DIRECT);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        try {
            // Hold every plain (direct) slot, so that what follows is committed in shared
            // batches.
            for (int i = 0; i < GroupCommit.MAX_DIRECT; i++) {
                pool.submit(() -> groupCommit.append(append(session, "{}"), () -> {
                    directTaken.countDown();
                    awaitQuietly(release);
                    return null;
                }));
            }
            assertThat(directTaken.await(60, TimeUnit.SECONDS)).isTrue();
            List<Future<Event>> good = new ArrayList<>();
            List<Future<Event>> bad = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                UUID goodSession = goodSessions.get(i);
                UUID badSession = badSessions.get(i);
                good.add(pool.submit(() -> groupCommit.append(append(goodSession, "{\"text\": \"ok\"}"),
                        GroupCommitTest::notAlone)));
                // Not JSON: PostgreSQL rejects the cast (SQLSTATE 22P02), a fault of this
                // one event.
                bad.add(pool
                    .submit(() -> groupCommit.append(append(badSession, "{not json"), GroupCommitTest::notAlone)));
            }
            for (int i = 0; i < 20; i++) {
                assertThat(good.get(i).get(60, TimeUnit.SECONDS).sessionId()).isEqualTo(goodSessions.get(i));
            }
            for (Future<Event> append : bad) {
                assertThatThrownBy(() -> append.get(60, TimeUnit.SECONDS)).cause()
                    .isInstanceOf(DataIntegrityViolationException.class);
            }
        }
        finally {
            release.countDown(); // else closing the pool would wait for the held slots
                                 // forever
            pool.close();
        }
        assertThat(registry.get("collab.events.append.batch.fallbacks").counter().count())
            .as("a batch with a bad event was committed in halves")
            .isGreaterThan(fallbacksBefore);
        for (int i = 0; i < 20; i++) {
            assertThat(eventLog.read(goodSessions.get(i), 0, 1000)).extracting(Event::seq).containsExactly(1L, 2L);
            assertThat(eventLog.read(badSessions.get(i), 0, 1000)).extracting(Event::seq).containsExactly(1L);
        }
    }

    private static GroupCommit.Append append(UUID session, String payload) {
        return new GroupCommit.Append(session, "output", payload, OffsetDateTime.now(ZoneOffset.UTC));
    }

    private static Event notAlone() {
        throw new AssertionError("an append queued while no other batch holds its session is committed in a batch");
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aSessionLockedElsewhereHoldsUpOnlyItsOwnAppends() throws Exception {
        String project = api.newProject("group-lock");
        UUID locked = api.newSession(project);
        List<UUID> others = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            others.add(api.newSession(project));
        }

        // An operator's open transaction holds the row lock of one session (say, a psql
        // session).
        try (java.sql.Connection admin = dataSource.getConnection();
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            admin.setAutoCommit(false);
            try (var lock = admin.prepareStatement("select 1 from sessions where id = ? for update")) {
                lock.setObject(1, locked);
                lock.executeQuery().close();
            }
            List<Future<Event>> stuck = new ArrayList<>();
            // More than run the plain way at once: the rest queue up, and batches meet
            // the lock too.
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
