package dev.collab.run;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import dev.collab.event.EventLog;
import dev.collab.session.Sessions;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Runs in the database: the single source of truth for which run is in progress, on which
 * instance, until when its lease holds. Finishing a run (its {@code run.finished} event,
 * the session back to IDLE) happens once, whoever gets there first: the runner, or the
 * reaper of an expired lease.
 */
@Service
public class Runs {

    /** The {@code status} of {@code run.finished} (CONTRACT.md), and of its counter. */
    static final List<String> FINISHED_STATUSES = List.of("succeeded", "failed", "interrupted", "lost");

    private final JdbcClient jdbc;

    private final RunRepository repository;

    private final EventLog eventLog;

    private final Sessions sessions;

    private final RunnerProperties properties;

    private final MeterRegistry registry;

    private final ControlChannel control;

    /**
     * Closes the run's requests for permission when it finishes. Through a provider: the
     * approval module implements it and depends on this one.
     */
    private final ObjectProvider<ApprovalGate> approvals;

    /**
     * Starts a session's next waiting message when its run ends. Through a provider: the
     * message module implements it and depends on this one.
     */
    private final ObjectProvider<WaitingMessages> waiting;

    final String instanceId;

    Runs(JdbcClient jdbc, RunRepository repository, EventLog eventLog, Sessions sessions, RunnerProperties properties,
            MeterRegistry registry, InstanceId instanceId, ControlChannel control,
            ObjectProvider<ApprovalGate> approvals, ObjectProvider<WaitingMessages> waiting) {
        this.waiting = waiting;
        this.control = control;
        this.approvals = approvals;
        this.jdbc = jdbc;
        this.repository = repository;
        this.eventLog = eventLog;
        this.sessions = sessions;
        this.properties = properties;
        this.registry = registry;
        this.instanceId = instanceId.value();
        // Every series from the start, at 0: an alert on lost runs must not wait for the
        // first one (a missing series is no value, not zero).
        registry.counter("collab.runs.started");
        for (String status : FINISHED_STATUSES) {
            registry.counter("collab.runs.finished", "status", status);
        }
    }

    /**
     * Records a new run owned by this instance, with its first lease; in the send's
     * transaction.
     */
    @Transactional
    public void insert(UUID runId, UUID sessionId, UUID messageId) {
        jdbc.sql("""
                insert into runs (id, session_id, message_id, state, instance_id, lease_expires_at, started_at)
                values (:id, :session, :message, 'RUNNING', :instance,
                        now() + make_interval(secs => :lease), now())
                """)
            .param("id", runId)
            .param("session", sessionId)
            .param("message", messageId)
            .param("instance", instanceId)
            .param("lease", properties.lease().toMillis() / 1000.0)
            .update();
        registry.counter("collab.runs.started").increment();
    }

    /** Terminal state of a run, and the error the user is shown with it (if any). */
    record Outcome(String status, @Nullable Integer exitCode, @Nullable String errorCode, @Nullable String errorMessage,
            @Nullable String by) {

        /** An outcome nobody asked for (no {@code data.by}). */
        Outcome(String status, @Nullable Integer exitCode, @Nullable String errorCode, @Nullable String errorMessage) {
            this(status, exitCode, errorCode, errorMessage, null);
        }

    }

    /**
     * Finishes the run if it is still running: appends {@code error} (if any) and
     * {@code run.finished}, and returns the session to IDLE, in one transaction; in the
     * same transaction the session's next waiting message (if any) starts its run, here
     * ({@link WaitingMessages}).
     * @return false when the run had finished already (for example reaped as lost)
     */
    @Transactional
    public boolean finish(UUID runId, Outcome outcome) {
        // The session row first, then the run's: the order in which ending a session
        // (Sessions.end) takes them. In the other order a DELETE racing a finishing run
        // deadlocks, and PostgreSQL aborts one of the two.
        // "No key update" (an UPDATE's lock), as Sessions.lock: a send holds "key share"
        // on the row (its Idempotency-Key's foreign key) while it waits for this lock.
        jdbc.sql("select 1 from sessions where id = (select session_id from runs where id = :id) for no key update")
            .param("id", runId)
            .query(Integer.class)
            .list();
        List<Finished> session = jdbc.sql("""
                update runs set state = 'FINISHED', status = :status, exit_code = :exitCode, finished_at = now()
                where id = :id and state = 'RUNNING'
                returning session_id, interrupted_by
                """)
            .param("id", runId)
            .param("status", outcome.status())
            .param("exitCode", outcome.exitCode())
            .query((rs, row) -> new Finished(rs.getObject("session_id", UUID.class), rs.getString("interrupted_by")))
            .list();
        if (session.isEmpty()) {
            return false;
        }
        UUID sessionId = session.getFirst().sessionId();
        // A user's interrupt (no error: not a timeout or shutdown) names its user: the
        // first one the interrupting requests recorded (served by any instance), else the
        // one given (the user who ended the session).
        String recorded = "interrupted".equals(outcome.status()) && outcome.errorCode() == null
                ? session.getFirst().interruptedBy() : null;
        String by = recorded != null ? recorded : outcome.by();
        if (outcome.errorCode() != null) {
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("runId", runId.toString());
            error.put("code", outcome.errorCode());
            error.put("message", outcome.errorMessage());
            eventLog.append(sessionId, "error", error);
        }
        // Its requests still waiting are denied, with their events, before run.finished.
        ApprovalGate gate = approvals.getIfAvailable();
        if (gate != null) {
            gate.runEnded(sessionId, runId);
        }
        Map<String, Object> finished = new LinkedHashMap<>();
        finished.put("runId", runId.toString());
        finished.put("status", outcome.status());
        finished.put("exitCode", outcome.exitCode());
        if (by != null) {
            finished.put("by", by);
        }
        eventLog.append(sessionId, "run.finished", finished);
        sessions.finishRun(sessionId, runId);
        // Counted once it is committed: a commit that fails is retried (AgentRun.finish),
        // and its run must not count twice.
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCommit() {
                registry.counter("collab.runs.finished", "status", outcome.status()).increment();
            }
        });
        WaitingMessages next = waiting.getIfAvailable();
        if (next != null) {
            next.runEnded(sessionId);
        }
        return true;
    }

    /**
     * Renews the leases of the runs this instance is running; returns the ones still
     * RUNNING.
     */
    java.util.Set<UUID> renew(Collection<UUID> runIds) {
        if (runIds.isEmpty()) {
            return java.util.Set.of();
        }
        return new java.util.HashSet<>(jdbc.sql("""
                update runs set lease_expires_at = now() + make_interval(secs => :lease)
                where id = any(:ids) and state = 'RUNNING' and instance_id = :instance
                returning id
                """)
            .param("lease", properties.lease().toMillis() / 1000.0)
            .param("ids", runIds.toArray(UUID[]::new))
            .param("instance", instanceId)
            .query(UUID.class)
            .list());
    }

    /**
     * Runs whose lease expired (their instance died or hangs): candidates to end as lost.
     */
    @SuppressWarnings("NullAway") // a single-column query's rows are @Nullable to Spring;
                                  // runs.id is the primary key
    List<UUID> expired() {
        return jdbc.sql("select id from runs where state = 'RUNNING' and lease_expires_at < now() limit 100")
            .query(UUID.class)
            .list();
    }

    /** The run in progress in a session and the instance running it. */
    Optional<RunningRun> running(UUID sessionId) {
        return repository.findRunningIn(sessionId);
    }

    /** The run, whatever its state. */
    Optional<Run> find(UUID runId) {
        return repository.findById(runId);
    }

    record RunningRun(UUID runId, String instanceId, boolean leaseExpired) {
    }

    /**
     * Asks whichever instance runs it to stop it (control channel). The command is
     * {@code interrupt:<runId>} and nothing else, as in the previous version, so that an
     * instance of either version stops a run for the other during a rolling deploy; who
     * asked travels in the database ({@link #recordInterruptedBy}).
     */
    void interruptElsewhere(UUID runId) {
        control.send("interrupt:" + runId);
    }

    /**
     * Records the user who interrupts a run still in progress, before the stop is sent;
     * the first one stays. {@link #finish} reads it for a run that ends interrupted, on
     * whichever instance runs it.
     */
    void recordInterruptedBy(UUID runId, String by) {
        jdbc.sql("update runs set interrupted_by = :by where id = :id and state = 'RUNNING' and interrupted_by is null")
            .param("by", by)
            .param("id", runId)
            .update();
    }

    private record Finished(UUID sessionId, @Nullable String interruptedBy) {
    }

}
