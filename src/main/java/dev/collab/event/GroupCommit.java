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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import dev.collab.ops.ShutdownOrder;
import io.micrometer.core.instrument.Counter;
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
 * Commits appends that arrive outside a transaction (agent output, mostly) together when
 * they pile up. Up to {@link #MAX_DIRECT} appends run at once the plain way, each one
 * statement that commits itself, so a lightly loaded server adds nothing to an append. An
 * append that finds that many already running queues up instead, and a writer commits
 * everything queued in one transaction. Under load that turns hundreds of single-event
 * transactions a second, each with its own statement, session update and WAL flush, into
 * a few batches: with 100 sessions written at once, about three times the events per
 * second (docs/performance.md).
 *
 * <p>
 * Seqs stay gap-free and in order: a batch locks its sessions' rows in id order (so
 * concurrent batches on any instance never deadlock), numbers each session's events after
 * its head in the order the batch took them and moves the head by their count. A caller
 * returns only once its own event is committed, so its appends keep their order and
 * nothing is acknowledged before it is durable. A batch never waits for a row lock: it
 * skips sessions whose row another transaction holds and appends their events the plain
 * way, each on a thread of its own, so a session held for long (an operator's open
 * transaction) holds up only its own appends.
 */
@Component
class GroupCommit implements SmartLifecycle {

    /** Plain appends running at once before further ones queue up for a batch. */
    static final int MAX_DIRECT = 8;

    /** More events per transaction stop paying off and hold the session rows longer. */
    static final int MAX_BATCH = 256;

    /** Threads that commit the queue, each one batch at a time. */
    private static final int QUEUE_WRITERS = 2;

    private static final Logger log = LoggerFactory.getLogger(GroupCommit.class);

    private final JdbcClient jdbc;

    private final List<AppendObserver> observers;

    private final TransactionTemplate transaction;

    private final DistributionSummary batchSizes;

    private final Counter fallbacks;

    private final AtomicInteger direct = new AtomicInteger();

    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();

    private final List<Thread> writers = new ArrayList<>();

    private volatile boolean running;

    GroupCommit(JdbcClient jdbc, List<AppendObserver> observers, PlatformTransactionManager transactions,
            MeterRegistry registry) {
        this.jdbc = jdbc;
        this.observers = List.copyOf(observers);
        this.transaction = new TransactionTemplate(transactions);
        this.batchSizes = DistributionSummary.builder("collab.events.append.batch")
            .description("Events committed together in one transaction")
            .register(registry);
        this.fallbacks = Counter.builder("collab.events.append.batch.fallbacks")
            .description("Batches that failed before commit and were committed one event at a time")
            .register(registry);
    }

    /** One event to append: its session, type, JSON payload and time. */
    record Append(UUID sessionId, String type, String payload, OffsetDateTime at) {
    }

    /** A queued append; {@code alone} commits it by itself (the plain way). */
    private record Pending(Append append, Supplier<Event> alone, CompletableFuture<Event> result) {
    }

    /**
     * Appends the event and returns it once committed. {@code alone} is the plain way
     * (one statement that commits itself), used while few appends run and while stopped.
     */
    Event append(Append append, Supplier<Event> alone) {
        if (!running) {
            return alone.get();
        }
        if (direct.incrementAndGet() <= MAX_DIRECT) {
            try {
                Event event = alone.get();
                batchSizes.record(1);
                return event;
            }
            finally {
                direct.decrementAndGet();
            }
        }
        direct.decrementAndGet();
        Pending pending = new Pending(append, alone, new CompletableFuture<>());
        queue.add(pending);
        if (!running && queue.remove(pending)) {
            return alone.get(); // stopped meanwhile: the writers may have left without
                                // seeing it
        }
        try {
            return pending.result().get();
        }
        catch (InterruptedException e) {
            if (queue.remove(pending)) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while appending to session " + append.sessionId(), e);
            }
            // A writer has it: wait for the outcome (bounded by one statement), so that
            // this
            // caller's next append cannot overtake it.
            try {
                return pending.result().join();
            }
            catch (java.util.concurrent.CompletionException failure) {
                throw failure.getCause() instanceof RuntimeException runtime ? runtime
                        : new IllegalStateException(failure.getCause());
            }
            finally {
                Thread.currentThread().interrupt();
            }
        }
        catch (ExecutionException e) {
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
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, MAX_BATCH - 1);
                    write(List.copyOf(batch));
                }
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                batch.forEach(pending -> pending.result().completeExceptionally(e));
                return;
            }
            catch (RuntimeException | Error e) {
                batch.forEach(pending -> pending.result().completeExceptionally(e)); // none
                                                                                     // left
                                                                                     // waiting
                log.error("Event append writer failed; it goes on", e);
            }
            finally {
                batch.clear();
            }
        }
    }

    /**
     * Commits the batch (one statement, never waiting for a row lock) and completes every
     * request in it: with its event, its failure, or, for a session whose row another
     * transaction holds, by appending it the plain way on a thread of its own, which
     * waits for that lock alone.
     */
    private void write(List<Pending> batch) {
        try {
            Inserted inserted;
            try {
                inserted = transaction.execute(status -> {
                    try {
                        return insert(batch);
                    }
                    catch (RuntimeException e) {
                        throw new RolledBack(e);
                    }
                });
            }
            catch (RolledBack e) {
                if (batch.size() == 1 || !isOneEventsFault(e.getCause())) {
                    throw e.getCause();
                }
                // Rolled back, so nothing of it is in the log: halves, until the bad
                // event fails alone.
                fallbacks.increment();
                log.warn("A batch of {} appends failed before commit ({}); committing it in halves", batch.size(),
                        e.getCause().toString());
                int half = batch.size() / 2;
                write(batch.subList(0, half));
                write(batch.subList(half, batch.size()));
                return;
            }
            if (!inserted.events().isEmpty()) {
                batchSizes.record(inserted.events().size());
            }
            try {
                inserted.events().values().forEach(event -> observers.forEach(observer -> observer.appended(event)));
            }
            finally {
                inserted.events().forEach((pending, event) -> pending.result().complete(event));
            }
            for (Pending pending : inserted.locked()) {
                Thread.ofVirtual().name("event-append-locked").start(() -> writeAlone(pending));
            }
        }
        catch (RuntimeException | Error e) {
            // A failure at commit cannot be retried without risking duplicates: the
            // callers see
            // it, as they would see a failed commit of their own.
            batch.forEach(pending -> pending.result().completeExceptionally(e));
        }
    }

    private void writeAlone(Pending pending) {
        try {
            pending.result().complete(pending.alone().get());
            batchSizes.record(1);
        }
        catch (RuntimeException | Error e) {
            pending.result().completeExceptionally(e);
        }
    }

    /**
     * What a batch statement did: the events written, and the requests whose session row
     * was locked elsewhere.
     */
    private record Inserted(Map<Pending, Event> events, List<Pending> locked) {
    }

    /**
     * Errors that belong to one event, raised before commit, as Spring translates
     * PostgreSQL's: bad data or a constraint (SQLSTATE classes 22 and 23:
     * {@code DataIntegrityViolationException}) or a deadlock (40P01:
     * {@code PessimisticLockingFailureException}). A lost connection
     * ({@code DataAccessResourceFailureException}) fails the whole batch instead:
     * retrying would only wait again.
     */
    private static boolean isOneEventsFault(Throwable failure) {
        return failure instanceof org.springframework.dao.DataIntegrityViolationException
                || failure instanceof org.springframework.dao.PessimisticLockingFailureException;
    }

    /**
     * Marks a failure inside the batch's transaction, which was therefore rolled back.
     */
    private static final class RolledBack extends RuntimeException {

        RolledBack(RuntimeException cause) {
            super(cause);
        }

        @Override
        @SuppressWarnings("NullAway") // made with a cause, never without one
        public synchronized RuntimeException getCause() {
            return (RuntimeException) super.getCause();
        }

    }

    /**
     * In the batch's transaction, one statement: lock the open sessions in id order, move
     * each head by its number of events, insert the events numbered after the old head in
     * batch order. Returns the events by request; requests for unknown or closed sessions
     * are failed.
     */
    private Inserted insert(List<Pending> batch) {
        int size = batch.size();
        String[] sessions = new String[size];
        String[] types = new String[size];
        String[] payloads = new String[size];
        String[] times = new String[size];
        for (int i = 0; i < size; i++) {
            Append append = batch.get(i).append();
            sessions[i] = append.sessionId().toString();
            types[i] = append.type();
            payloads[i] = append.payload();
            times[i] = append.at().toString();
        }
        Map<UUID, List<Long>> seqsBySession = new HashMap<>();
        jdbc.sql("""
                with input as (
                    select * from unnest(cast(:sessions as uuid[]), cast(:types as text[]),
                                         cast(:payloads as text[]), cast(:times as timestamptz[]))
                                  with ordinality as e(session_id, type, data, created_at, ord)
                ),
                counts as (
                    select session_id, count(*) as n, max(created_at) as latest,
                           count(*) filter (where type in\s""" + Event.NOTABLE_TYPES_SQL + """
                           ) as notable
                      from input group by session_id
                ),
                locked as (
                    select id from sessions
                     where id in (select session_id from counts) and not log_closed
                     order by id
                       for no key update skip locked
                ),
                bumped as (
                    update sessions s
                       set head_seq = s.head_seq + c.n,
                           last_activity_at = greatest(s.last_activity_at, c.latest),
                           notable_count = s.notable_count + c.notable
                      from counts c
                     where s.id = c.session_id and s.id in (select id from locked)
                    returning s.id, s.head_seq - c.n as base
                )
                insert into events (session_id, seq, type, data, created_at)
                select i.session_id, b.base + row_number() over (partition by i.session_id order by i.ord),
                       i.type, cast(i.data as jsonb), i.created_at
                  from input i join bumped b on b.id = i.session_id
                returning session_id, seq
                """)
            .param("sessions", sessions)
            .param("types", types)
            .param("payloads", payloads)
            .param("times", times)
            .query((rs, row) -> seqsBySession
                .computeIfAbsent(rs.getObject("session_id", UUID.class), id -> new ArrayList<>())
                .add(rs.getLong("seq")))
            .list();

        // Each session's seqs, ascending, belong to its requests in batch order.
        Map<UUID, java.util.Iterator<Long>> next = new HashMap<>();
        seqsBySession.forEach((id, seqs) -> {
            seqs.sort(null);
            next.put(id, seqs.iterator());
        });
        Map<Pending, Event> events = new LinkedHashMap<>();
        Set<UUID> missing = new HashSet<>();
        for (Pending pending : batch) {
            Append append = pending.append();
            java.util.Iterator<Long> seqs = next.get(append.sessionId());
            if (seqs == null) {
                missing.add(append.sessionId());
                continue;
            }
            events.put(pending, new Event(seqs.next(), append.sessionId(), append.type(), append.at().toInstant(),
                    append.payload()));
        }
        List<Pending> locked = missing.isEmpty() ? List.of() : sortOut(batch, missing);
        return new Inserted(events, locked);
    }

    /**
     * Sessions the statement did not append to: unknown, closed, or locked by another
     * transaction (skipped, not waited for). The first two fail; the rest are returned.
     */
    private List<Pending> sortOut(List<Pending> batch, Set<UUID> missing) {
        Map<UUID, Boolean> closedById = new HashMap<>();
        jdbc.sql("select id, log_closed from sessions where id = any(cast(:ids as uuid[]))")
            .param("ids", missing.stream().map(UUID::toString).toArray(String[]::new))
            .query((rs, row) -> closedById.put(rs.getObject("id", UUID.class), rs.getBoolean("log_closed")))
            .list();
        List<Pending> locked = new ArrayList<>();
        for (Pending pending : batch) {
            UUID id = pending.append().sessionId();
            if (!missing.contains(id)) {
                continue;
            }
            Boolean closed = closedById.get(id);
            if (closed == null) {
                pending.result().completeExceptionally(new IllegalArgumentException("No session " + id));
            }
            else if (closed) {
                pending.result().completeExceptionally(new LogClosedException(id));
            }
            else {
                locked.add(pending);
            }
        }
        return locked;
    }

    /**
     * The writers are threads of their own: they wait on the queue for good, which no
     * scheduled job should.
     */
    @Override
    public void start() {
        running = true;
        for (int i = 1; i <= QUEUE_WRITERS; i++) {
            writers.add(Thread.ofPlatform().daemon().name("event-append-" + i).start(this::writeLoop));
        }
    }

    /**
     * New appends go the one-event way from now on; the writers commit what is queued,
     * then end (not interrupted: that could cut a statement in flight).
     */
    @Override
    public void stop() {
        running = false;
        for (Thread writer : writers) {
            try {
                writer.join(10_000);
            }
            catch (InterruptedException e) {
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

    /**
     * Stops last of all lifecycles (the runners append while they stop), before the pool
     * closes.
     */
    @Override
    public int getPhase() {
        return ShutdownOrder.EVENT_LOG;
    }

}
