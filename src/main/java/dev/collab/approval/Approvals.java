package dev.collab.approval;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import dev.collab.access.Audit;
import dev.collab.cluster.ClusterNotifications;
import dev.collab.event.EventLog;
import dev.collab.run.ApprovalGate;
import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Requests for permission and their decisions: the {@link ApprovalGate} of the runner,
 * and what {@code /api/sessions/{id}/approvals} reads and writes.
 * <p>
 * The database decides: a request is a row of {@code approvals}, and its one decision is
 * the one conditional UPDATE ({@code … where decision is null}) that finds it still
 * waiting, on whichever instance; its {@code approval.decided} event commits in the same
 * transaction. The instance running the agent keeps the request's future in memory and
 * completes it from the row: at once when the decision is its own, on a NOTIFY on
 * {@value #CHANNEL} when another instance decided (sent in the deciding transaction, so
 * delivered when it commits), and, since NOTIFY is best effort, by a check of its waiting
 * requests every second, which also denies those past their deadline.
 * <p>
 * Every transaction here locks the session's row before the approval's: the order of
 * {@code Runs.finish}, which closes a run's requests inside its own transaction
 * ({@link #runEnded}); the other order could deadlock with it.
 */
@Service
class Approvals implements ApprovalGate {

    static final String CHANNEL = "collab_approvals";

    static final String REQUESTED = "approval.requested";

    static final String DECIDED = "approval.decided";

    static final String TIMEOUT = "timeout";

    static final String RUN_ENDED = "run-ended";

    /**
     * Longest tool name kept (agents' tool names are short: {@code Bash},
     * {@code mcp__…}).
     */
    static final int MAX_TOOL_CHARS = 200;

    /** {@code GET …/approvals} answers at most the most recent this many. */
    static final int MAX_LISTED = 1_000;

    private static final Logger log = LoggerFactory.getLogger(Approvals.class);

    private final JdbcClient jdbc;

    private final EventLog eventLog;

    private final ClusterNotifications notifications;

    private final Audit audit;

    private final JsonMapper json;

    private final Clock clock;

    private final ApprovalProperties properties;

    private final TransactionTemplate transaction;

    /**
     * The requests this instance's runs wait on, by approval id. Only this instance
     * completes their futures; the others decide in the database and tell it.
     */
    private final Map<UUID, Waiting> waiting = new ConcurrentHashMap<>();

    /**
     * Where futures complete: never on the deciding request's thread or the LISTEN
     * thread, which whatever the runner does next must not hold up.
     */
    private final Executor completions = Executors
        .newThreadPerTaskExecutor(Thread.ofVirtual().name("approval-decided-", 0).factory());

    Approvals(JdbcClient jdbc, EventLog eventLog, ClusterNotifications notifications, Audit audit, JsonMapper json,
            Clock clock, ApprovalProperties properties, PlatformTransactionManager transactions,
            MeterRegistry registry) {
        this.jdbc = jdbc;
        this.eventLog = eventLog;
        this.notifications = notifications;
        this.audit = audit;
        this.json = json;
        this.clock = clock;
        this.properties = properties;
        this.transaction = new TransactionTemplate(transactions);
        notifications.listen(CHANNEL, this::notified);
        notifications.onReconnect(() -> completions.execute(this::completeDecided));
        registry.gaugeMapSize("collab.approvals.waiting", List.of(), waiting);
    }

    private record Waiting(UUID sessionId, UUID runId, Instant deadline, CompletableFuture<Decision> future) {
    }

    private record Pending(UUID approvalId, CompletableFuture<Decision> decision) implements ApprovalGate.Pending {
    }

    @Override
    public ApprovalGate.Pending request(UUID sessionId, UUID runId, String tool, JsonNode input) {
        UUID id = UUID.randomUUID();
        Instant now = now();
        Instant deadline = now.plus(properties.approvalTimeout());
        String name = ApprovalInput
            .withoutNul(tool.length() <= MAX_TOOL_CHARS ? tool : tool.substring(0, MAX_TOOL_CHARS));
        ApprovalInput shown = ApprovalInput.of(input, json);
        CompletableFuture<Decision> future = new CompletableFuture<>();
        // Before the insert: a decision can come the moment it commits.
        waiting.put(id, new Waiting(sessionId, runId, deadline, future));
        Boolean recorded;
        try {
            recorded = transaction.execute(status -> {
                lockSession(sessionId);
                // Only for a run still in progress: once Runs.finish (which holds the
                // session's row while it closes the run's requests) has committed, a
                // request would wait for a decision nobody can make any more.
                int inserted = jdbc.sql("""
                        insert into approvals (id, session_id, run_id, tool, input, requested_at, deadline)
                        select :id, session_id, id, :tool, cast(:input as jsonb), :now, :deadline from runs
                        where id = :run and session_id = :session and state = 'RUNNING'
                        """)
                    .param("id", id)
                    .param("tool", name)
                    .param("input", json.writeValueAsString(shown.input()))
                    .param("now", at(now))
                    .param("deadline", at(deadline))
                    .param("run", runId)
                    .param("session", sessionId)
                    .update();
                if (inserted == 0) {
                    return false;
                }
                Map<String, Object> data = new LinkedHashMap<>();
                data.put("approvalId", id.toString());
                data.put("runId", runId.toString());
                data.put("tool", name);
                shown.addTo(data);
                eventLog.append(sessionId, REQUESTED, data);
                return true;
            });
        }
        catch (RuntimeException e) {
            waiting.remove(id);
            throw e;
        }
        if (!Boolean.TRUE.equals(recorded)) {
            waiting.remove(id);
            future.complete(new Decision(false, null, RUN_ENDED));
        }
        return new Pending(id, future);
    }

    @Override
    @Transactional
    public void runEnded(UUID sessionId, UUID runId) {
        Instant now = now();
        @SuppressWarnings("NullAway") // a single-column query's rows are @Nullable to
                                      // Spring; approvals.id is the primary key
        List<UUID> closed = jdbc.sql("""
                update approvals set decision = 'deny', reason = 'run-ended', decided_at = :now
                where run_id = :run and decision is null
                returning id
                """).param("now", at(now)).param("run", runId).query(UUID.class).list();
        if (closed.isEmpty()) {
            return;
        }
        Decision denied = new Decision(false, null, RUN_ENDED);
        for (UUID id : closed) {
            eventLog.append(sessionId, DECIDED, decidedEvent(id, runId, denied));
            // The run may have ended on another instance than the one running it (a
            // session ended there, a lost run reaped): tell the one waiting.
            notifications.send(CHANNEL, id.toString());
        }
        afterCommit(() -> closed.forEach(id -> complete(id, denied)));
    }

    /** A person's decision, as {@code POST /api/sessions/{id}/approvals/{approvalId}}. */
    record Decided(UUID approvalId, @io.swagger.v3.oas.annotations.media.Schema(allowableValues = {
            "allow", "deny" }) String decision, String by, Instant decidedAt){
    }

    /**
     * Decides a waiting request of the session: allow or deny, by this login. Exactly one
     * decision wins, also when several instances race.
     * @throws ApiException {@code 404 not-found} for an approval the session does not
     * have, {@code 409 approval-decided} for one decided already
     */
    Decided decide(UUID sessionId, UUID approvalId, boolean allow, String by) {
        Instant now = now();
        Decided decided = transaction.execute(status -> {
            lockSession(sessionId);
            Optional<UUID> runId = jdbc.sql("""
                    update approvals set decision = :decision, decided_by = :by, decided_at = :now
                    where id = :id and session_id = :session and decision is null
                    returning run_id
                    """)
                .param("decision", allow ? "allow" : "deny")
                .param("by", by)
                .param("now", at(now))
                .param("id", approvalId)
                .param("session", sessionId)
                .query((rs, row) -> rs.getObject("run_id", UUID.class))
                .optional();
            if (runId.isEmpty()) {
                throw settled(sessionId, approvalId);
            }
            eventLog.append(sessionId, DECIDED, decidedEvent(approvalId, runId.get(), new Decision(allow, by, null)));
            audit.record("approval.decided", "session:" + sessionId,
                    Map.of("approvalId", approvalId.toString(), "decision", allow ? "allow" : "deny"));
            // Delivered when this transaction commits, never for one that rolls back.
            notifications.send(CHANNEL, approvalId.toString());
            return new Decided(approvalId, allow ? "allow" : "deny", by, now);
        });
        // Committed: the run waits here, or another instance hears the NOTIFY.
        complete(approvalId, new Decision(allow, by, null));
        return java.util.Objects.requireNonNull(decided);
    }

    /** Why a decision found nothing to decide: none such, or decided already. */
    private ApiException settled(UUID sessionId, UUID approvalId) {
        Optional<Row> row = find(sessionId, approvalId);
        if (row.isEmpty()) {
            return ApiException.notFound("No approval " + approvalId + " in session " + sessionId + ".");
        }
        String reason = row.get().reason();
        String how = reason == null ? "by " + row.get().decidedBy()
                : TIMEOUT.equals(reason) ? "when nobody decided in time" : "when its run ended";
        return new ApiException(ProblemCode.APPROVAL_DECIDED,
                "Approval " + approvalId + " was decided already (" + row.get().decision() + ", " + how + ").")
            .with("decision", row.get().decision());
    }

    /** The session's approvals in request order (the most recent {@link #MAX_LISTED}). */
    List<Row> list(UUID sessionId, boolean pendingOnly) {
        List<Row> newestFirst = jdbc.sql("""
                select id, run_id, tool, input::text as input, requested_at, deadline, decision, decided_by,
                       reason, decided_at
                from approvals
                where session_id = :session and (not :pending or decision is null)
                order by requested_at desc, id desc
                limit :limit
                """)
            .param("session", sessionId)
            .param("pending", pendingOnly)
            .param("limit", MAX_LISTED)
            .query(this::row)
            .list();
        return newestFirst.reversed();
    }

    private Optional<Row> find(UUID sessionId, UUID approvalId) {
        return jdbc.sql("""
                select id, run_id, tool, input::text as input, requested_at, deadline, decision, decided_by,
                       reason, decided_at
                from approvals where id = :id and session_id = :session
                """).param("id", approvalId).param("session", sessionId).query(this::row).optional();
    }

    /** One approval as the list shows it. */
    record Row(UUID approvalId, UUID runId, String tool, JsonNode input, Instant requestedAt, Instant deadline,
            @Nullable String decision, @Nullable String decidedBy, @Nullable String reason,
            @Nullable Instant decidedAt) {
    }

    private Row row(ResultSet rs, int row) throws SQLException {
        OffsetDateTime decidedAt = rs.getObject("decided_at", OffsetDateTime.class);
        return new Row(rs.getObject("id", UUID.class), rs.getObject("run_id", UUID.class), rs.getString("tool"),
                json.readTree(rs.getString("input")), rs.getObject("requested_at", OffsetDateTime.class).toInstant(),
                rs.getObject("deadline", OffsetDateTime.class).toInstant(), rs.getString("decision"),
                rs.getString("decided_by"), rs.getString("reason"), decidedAt == null ? null : decidedAt.toInstant());
    }

    /**
     * Every second, for the requests this instance waits on: completes those decided
     * elsewhere whose NOTIFY never came, then denies those past their deadline (by this
     * instance's clock). Nothing to do, no query.
     */
    @Scheduled(initialDelay = 1, fixedDelay = 1, timeUnit = TimeUnit.SECONDS)
    void check() {
        if (waiting.isEmpty()) {
            return;
        }
        try {
            completeDecided();
            Instant now = clock.instant();
            for (Map.Entry<UUID, Waiting> entry : waiting.entrySet()) {
                if (!entry.getValue().deadline().isAfter(now)) {
                    timeOut(entry.getKey(), entry.getValue());
                }
            }
        }
        catch (RuntimeException e) {
            // The database is away: the next check tries again, and nothing is decided
            // meanwhile (a request waits longer than its deadline rather than lose its
            // event).
            log.warn("Could not check the approvals this instance waits on: {}", e.toString());
        }
    }

    /** Denies a request past its deadline, unless it was decided meanwhile. */
    private void timeOut(UUID id, Waiting request) {
        Instant now = now();
        Decision denied = new Decision(false, null, TIMEOUT);
        Boolean timedOut = transaction.execute(status -> {
            lockSession(request.sessionId());
            int updated = jdbc.sql("""
                    update approvals set decision = 'deny', reason = 'timeout', decided_at = :now
                    where id = :id and decision is null
                    """).param("now", at(now)).param("id", id).update();
            if (updated == 0) {
                return false;
            }
            eventLog.append(request.sessionId(), DECIDED, decidedEvent(id, request.runId(), denied));
            return true;
        });
        if (Boolean.TRUE.equals(timedOut)) {
            complete(id, denied);
        }
        else {
            completeDecided(List.of(id));
        }
    }

    /**
     * A NOTIFY: an approval was decided somewhere; if this instance waits on it, read it.
     */
    private void notified(String payload) {
        UUID id;
        try {
            id = UUID.fromString(payload);
        }
        catch (IllegalArgumentException e) {
            log.warn("Ignoring approval notification {}: not an approval id", payload);
            return;
        }
        if (waiting.containsKey(id)) {
            // Off the LISTEN thread: it reads the row.
            completions.execute(() -> {
                try {
                    completeDecided(List.of(id));
                }
                catch (RuntimeException e) {
                    log.warn("Could not read the decision of approval {} (the periodic check will): {}", id,
                            e.toString());
                }
            });
        }
    }

    private void completeDecided() {
        completeDecided(List.copyOf(waiting.keySet()));
    }

    /** Completes those of these requests that have their decision in the database. */
    private void completeDecided(Collection<UUID> ids) {
        if (ids.isEmpty()) {
            return;
        }
        jdbc.sql("""
                select id, decision, decided_by, reason from approvals
                where id = any(:ids) and decision is not null
                """)
            .param("ids", ids.toArray(UUID[]::new))
            .query((rs, row) -> Map.entry(rs.getObject("id", UUID.class),
                    new Decision("allow".equals(rs.getString("decision")), rs.getString("decided_by"),
                            rs.getString("reason"))))
            .list()
            .forEach(decided -> complete(decided.getKey(), decided.getValue()));
    }

    /** Hands the decision to the run waiting here, once; nothing if none waits here. */
    private void complete(UUID id, Decision decision) {
        Waiting request = waiting.remove(id);
        if (request != null) {
            request.future().completeAsync(() -> decision, completions);
        }
    }

    private Map<String, @Nullable Object> decidedEvent(UUID approvalId, UUID runId, Decision decision) {
        Map<String, @Nullable Object> data = new LinkedHashMap<>();
        data.put("approvalId", approvalId.toString());
        data.put("runId", runId.toString());
        data.put("decision", decision.allowed() ? "allow" : "deny");
        data.put("by", decision.by());
        data.put("reason", decision.reason());
        return data;
    }

    /**
     * The session's row, in the mode every lock of it takes (Sessions.lock, Runs.finish,
     * ending a session): {@code for no key update}. Not {@code for update}: that waits
     * for the "key share" that rows referencing the session hold (a keyed send's
     * Idempotency-Key from its first statement), so a decision would wait for every send
     * in flight to commit, even one that is itself waiting for a run's end. (The two
     * modes cannot deadlock here, since a decision takes this lock first; they only queue
     * needlessly.)
     */
    private void lockSession(UUID sessionId) {
        jdbc.sql("select 1 from sessions where id = :id for no key update")
            .param("id", sessionId)
            .query(Integer.class)
            .list();
    }

    private static void afterCommit(Runnable action) {
        if (!TransactionSynchronizationManager.isSynchronizationActive()) {
            action.run();
            return;
        }
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCommit() {
                action.run();
            }
        });
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    private static OffsetDateTime at(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }

    /** For tests: whether this instance waits on the request. */
    boolean waitsOn(UUID approvalId) {
        return waiting.containsKey(approvalId);
    }

}
