package dev.collab.event;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Supplier;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Commits appends that arrive outside a transaction (agent output, mostly) together: whatever is
 * waiting when a writer is free goes into one transaction of two statements. Under load that
 * turns hundreds of single-event transactions a second, each with its own statement, session
 * update and WAL flush, into a few batches, which is what lets one PostgreSQL take thousands of
 * events a second; with no load a batch is one event and adds only a thread hand-off.
 *
 * <p>Seqs stay gap-free and in order: the batch locks its sessions' rows (in id order, so
 * concurrent batches on any instance never deadlock), numbers each session's events after its
 * head in arrival order, and moves the head by their count. A caller waits for its own event's
 * commit, so its appends keep their order, and nothing is acknowledged before it is durable.
 */
@Component
class GroupCommit implements SmartLifecycle {

    /** More events per transaction stop paying off and hold the session rows longer. */
    static final int MAX_BATCH = 256;
    private static final int WRITERS = 2;
    private static final Logger log = LoggerFactory.getLogger(GroupCommit.class);

    private final JdbcClient jdbc;
    private final EventPublisher publisher;
    private final TransactionTemplate transaction;
    private final DistributionSummary batchSizes;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>(10_000);
    private final List<Thread> writers = new ArrayList<>();
    private volatile boolean running;

    GroupCommit(JdbcClient jdbc, EventPublisher publisher, PlatformTransactionManager transactions,
            MeterRegistry registry) {
        this.jdbc = jdbc;
        this.publisher = publisher;
        this.transaction = new TransactionTemplate(transactions);
        this.batchSizes = DistributionSummary.builder("collab.events.append.batch")
                .description("Events committed together in one transaction by the group commit")
                .register(registry);
    }

    /** One event to append: its session, type, JSON payload and time. */
    record Append(UUID sessionId, String type, String payload, OffsetDateTime at) {
    }

    private record Pending(Append append, CompletableFuture<Event> result) {
    }

    /**
     * Appends the event in a shared transaction and returns it once committed, or runs
     * {@code alone} (the one-event path) when the writers are not running.
     */
    Event append(Append append, Supplier<Event> alone) {
        if (!running) {
            return alone.get();
        }
        CompletableFuture<Event> result = new CompletableFuture<>();
        Pending pending = new Pending(append, result);
        try {
            queue.put(pending);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while appending to session " + append.sessionId(), e);
        }
        if (!running && queue.remove(pending)) {
            return alone.get(); // stopped meanwhile: the writers may have left without seeing it
        }
        try {
            return result.get();
        } catch (InterruptedException e) {
            // The append may still commit; the caller learns of it from the log, like after a timeout.
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while appending to session " + append.sessionId(), e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private void writeLoop() {
        List<Pending> batch = new ArrayList<>(MAX_BATCH);
        while (running || !queue.isEmpty()) {
            try {
                Pending first = queue.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                write(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                batch.forEach(pending -> pending.result().completeExceptionally(e));
                return;
            } catch (RuntimeException | Error e) {
                batch.forEach(pending -> pending.result().completeExceptionally(e));
            } finally {
                batch.clear();
            }
        }
    }

    private void write(List<Pending> batch) {
        Map<Pending, Event> written;
        try {
            written = transaction.execute(status -> insert(batch));
        } catch (RuntimeException e) {
            if (batch.size() == 1) {
                throw e;
            }
            // One bad event must not fail the others: each is tried on its own.
            log.debug("Batch of {} appends failed ({}); retrying them one by one", batch.size(), e.toString());
            for (Pending pending : batch) {
                try {
                    write(List.of(pending));
                } catch (RuntimeException single) {
                    pending.result().completeExceptionally(single);
                }
            }
            return;
        }
        batchSizes.record(batch.size());
        written.values().forEach(publisher::appended);
        written.forEach((pending, event) -> pending.result().complete(event));
    }

    /** In the batch's transaction: locks, numbers and inserts; the events by request, or a failure recorded. */
    private Map<Pending, Event> insert(List<Pending> batch) {
        Set<UUID> ids = new HashSet<>();
        batch.forEach(pending -> ids.add(pending.append().sessionId()));
        Map<UUID, Boolean> closedById = new HashMap<>();
        jdbc.sql("select id, log_closed from sessions where id = any(cast(:ids as uuid[])) order by id for update")
                .param("ids", ids.stream().map(UUID::toString).toArray(String[]::new))
                .query((rs, row) -> closedById.put(rs.getObject("id", UUID.class), rs.getBoolean("log_closed")))
                .list();

        Map<UUID, Long> counts = new LinkedHashMap<>();
        List<Pending> open = new ArrayList<>(batch.size());
        for (Pending pending : batch) {
            UUID id = pending.append().sessionId();
            Boolean closed = closedById.get(id);
            if (closed == null) {
                pending.result().completeExceptionally(new IllegalArgumentException("No session " + id));
            } else if (closed) {
                pending.result().completeExceptionally(new LogClosedException(id));
            } else {
                open.add(pending);
                counts.merge(id, 1L, Long::sum);
            }
        }
        if (open.isEmpty()) {
            return Map.of();
        }
        OffsetDateTime now = open.stream().map(pending -> pending.append().at()).max(OffsetDateTime::compareTo)
                .orElseThrow();
        Map<UUID, Long> heads = new HashMap<>();
        jdbc.sql("""
                        update sessions s
                           set head_seq = s.head_seq + c.n, last_activity_at = greatest(s.last_activity_at, :now)
                          from unnest(cast(:ids as uuid[]), cast(:counts as bigint[])) as c(id, n)
                         where s.id = c.id
                        returning s.id, s.head_seq - c.n as base
                        """)
                .param("ids", counts.keySet().stream().map(UUID::toString).toArray(String[]::new))
                .param("counts", counts.values().toArray(Long[]::new))
                .param("now", now)
                .query((rs, row) -> heads.put(rs.getObject("id", UUID.class), rs.getLong("base")))
                .list();

        int size = open.size();
        String[] sessions = new String[size];
        long[] seqs = new long[size];
        String[] types = new String[size];
        String[] payloads = new String[size];
        String[] times = new String[size];
        Map<Pending, Event> events = new LinkedHashMap<>();
        for (int i = 0; i < size; i++) {
            Append append = open.get(i).append();
            long seq = heads.merge(append.sessionId(), 1L, Long::sum);
            sessions[i] = append.sessionId().toString();
            seqs[i] = seq;
            types[i] = append.type();
            payloads[i] = append.payload();
            times[i] = append.at().toString();
            events.put(open.get(i), new Event(seq, append.sessionId(), append.type(), append.at().toInstant(),
                    append.payload()));
        }
        jdbc.sql("""
                        insert into events (session_id, seq, type, data, created_at)
                        select session_id, seq, type, cast(data as jsonb), created_at
                          from unnest(cast(:sessions as uuid[]), cast(:seqs as bigint[]), cast(:types as text[]),
                                      cast(:payloads as text[]), cast(:times as timestamptz[]))
                               as e(session_id, seq, type, data, created_at)
                        """)
                .param("sessions", sessions).param("seqs", seqs).param("types", types)
                .param("payloads", payloads).param("times", times)
                .update();
        return events;
    }

    @Override
    public void start() {
        running = true;
        for (int i = 1; i <= WRITERS; i++) {
            writers.add(Thread.ofPlatform().daemon().name("event-append-" + i).start(this::writeLoop));
        }
    }

    /**
     * New appends go the one-event way from now on; the writers commit what is queued, then end
     * (not interrupted: that could cut a statement in flight).
     */
    @Override
    public void stop() {
        running = false;
        for (Thread writer : writers) {
            try {
                writer.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        writers.clear();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops last of all lifecycles (the runners append while they stop), before the pool closes. */
    @Override
    public int getPhase() {
        return Integer.MIN_VALUE + 1000;
    }
}
