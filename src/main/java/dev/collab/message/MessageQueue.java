package dev.collab.message;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.IntStream;

import dev.collab.access.Audit;
import dev.collab.access.CurrentUser;
import dev.collab.access.ProjectAccess;
import dev.collab.access.Role;
import dev.collab.event.Event;
import dev.collab.event.EventLog;
import dev.collab.run.AgentRunner;
import dev.collab.run.Runs;
import dev.collab.run.WaitingMessages;
import dev.collab.session.Session;
import dev.collab.session.SessionDetails;
import dev.collab.session.SessionEnding;
import dev.collab.session.SessionNotFoundException;
import dev.collab.session.SessionState;
import dev.collab.session.SessionView;
import dev.collab.session.Sessions;
import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A session's queue of messages sent while a run was in progress (the project's
 * {@code queue} busy policy): {@code queued_messages}, in the order of a sequence (the
 * order in which the sends committed, on any instance).
 * <p>
 * Every change takes the session's row lock first, like a send and a run's end
 * ({@link Sessions#lock}): so a message is never queued behind a run that has just ended,
 * never started twice, and never both cancelled and started. When a run ends
 * ({@link #runEnded}, in the transaction that finishes it, on whichever instance that is:
 * the runner's, or the reaper's of a lost run), the next message is claimed, its
 * {@code message} and {@code run.started} are appended and its run is recorded; the agent
 * starts after the commit, on that instance.
 */
@Service
class MessageQueue implements WaitingMessages, SessionEnding, SessionDetails {

    private static final Logger log = LoggerFactory.getLogger(MessageQueue.class);

    private final JdbcClient jdbc;

    private final Sessions sessions;

    private final EventLog eventLog;

    private final Runs runs;

    private final AgentRunner runner;

    private final ProjectAccess access;

    private final Audit audit;

    private final Clock clock;

    private final MessageProperties properties;

    private final TransactionTemplate transactions;

    MessageQueue(JdbcClient jdbc, Sessions sessions, EventLog eventLog, Runs runs, AgentRunner runner,
            ProjectAccess access, Audit audit, Clock clock, MessageProperties properties,
            PlatformTransactionManager transactionManager) {
        this.jdbc = jdbc;
        this.sessions = sessions;
        this.eventLog = eventLog;
        this.runs = runs;
        this.runner = runner;
        this.access = access;
        this.audit = audit;
        this.clock = clock;
        this.properties = properties;
        this.transactions = new TransactionTemplate(transactionManager);
    }

    /** A message accepted into the queue: its place, and the seq of its event. */
    record Queued(int position, long seq) {
    }

    /**
     * Queues the message; the caller holds the session's row lock (a send).
     * @throws ApiException {@code 409 queue-full} past {@code collab.messages.max-queued}
     */
    Queued enqueue(UUID sessionId, UUID messageId, String text, CurrentUser author) {
        int waiting = length(sessionId);
        if (waiting >= properties.maxQueued()) {
            throw new ApiException(ProblemCode.QUEUE_FULL, "This session's queue holds " + waiting
                    + " messages already (the most it takes); wait for its runs or cancel one.");
        }
        jdbc.sql("""
                insert into queued_messages (id, session_id, text, author_id, author_login, queued_at, order_key)
                values (:id, :session, :text, :authorId, :author, :now, nextval('queued_messages_order_seq'))
                """)
            .param("id", messageId)
            .param("session", sessionId)
            .param("text", text)
            .param("authorId", author.id())
            .param("author", author.login())
            .param("now", now())
            .update();
        int position = waiting + 1;
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("messageId", messageId.toString());
        data.put("text", text);
        data.put("author", author.login());
        data.put("position", position);
        Event queued = eventLog.append(sessionId, "message.queued", data);
        return new Queued(position, queued.seq());
    }

    /** One waiting message; {@code position} 1 is the next to start. */
    record Item(UUID messageId, String text, String author, Instant queuedAt, int position) {
    }

    /** The session's waiting messages, next first (project viewer+). */
    @Transactional(readOnly = true)
    List<Item> list(UUID sessionId) {
        sessions.require(sessionId, Role.VIEWER);
        return waiting(sessionId);
    }

    private List<Item> waiting(UUID sessionId) {
        List<Row> rows = jdbc.sql("""
                select id, text, author_login, queued_at from queued_messages
                where session_id = :session and state = 'QUEUED'
                order by order_key
                """)
            .param("session", sessionId)
            .query((rs, row) -> new Row(rs.getObject("id", UUID.class), rs.getString("text"),
                    rs.getString("author_login"), rs.getObject("queued_at", OffsetDateTime.class).toInstant()))
            .list();
        return IntStream.range(0, rows.size())
            .mapToObj(i -> new Item(rows.get(i).id(), rows.get(i).text(), rows.get(i).author(), rows.get(i).queuedAt(),
                    i + 1))
            .toList();
    }

    private record Row(UUID id, String text, String author, Instant queuedAt) {
    }

    /**
     * Cancels a waiting message: its author (a member) or a project admin.
     * @throws ApiException {@code 403} for another member, {@code 404} for an unknown
     * message, {@code 409 message-not-queued} when it started or was cancelled already
     */
    @Transactional
    void cancel(UUID sessionId, UUID messageId) {
        Session session = sessions.require(sessionId, Role.MEMBER);
        CurrentUser caller = access.currentUser();
        Role role = access.requireRole(session.project(), Role.MEMBER, () -> new SessionNotFoundException(sessionId));
        sessions.lock(sessionId);
        Target target = target(sessionId, messageId);
        if (role != Role.ADMIN && !target.authorId().equals(caller.id())) {
            throw new ApiException(ProblemCode.FORBIDDEN,
                    "Only the message's author or a project admin may cancel it.");
        }
        requireQueued(target, messageId);
        jdbc.sql("""
                update queued_messages set state = 'CANCELLED', reason = 'cancelled', cancelled_by = :by,
                       finished_at = :now
                where id = :id
                """).param("by", caller.login()).param("now", now()).param("id", messageId).update();
        eventLog.append(sessionId, "message.cancelled",
                Map.of("messageId", messageId.toString(), "by", caller.login(), "reason", "cancelled"));
        // The ids only: the text is the users', not the audit log's.
        audit.record("message.cancelled", "session:" + sessionId, Map.of("messageId", messageId.toString()));
    }

    /**
     * Moves a waiting message to the front of the queue (a project admin).
     * @return the queue after the move
     */
    @Transactional
    List<Item> moveToFront(UUID sessionId, UUID messageId) {
        sessions.require(sessionId, Role.ADMIN);
        CurrentUser caller = access.currentUser();
        sessions.lock(sessionId);
        requireQueued(target(sessionId, messageId), messageId);
        // Below every key: the sequence's next value, negated (a later move goes before
        // an
        // earlier one).
        jdbc.sql("update queued_messages set order_key = -nextval('queued_messages_order_seq') where id = :id")
            .param("id", messageId)
            .update();
        eventLog.append(sessionId, "message.moved", Map.of("messageId", messageId.toString(), "by", caller.login()));
        audit.record("message.moved", "session:" + sessionId, Map.of("messageId", messageId.toString()));
        return waiting(sessionId);
    }

    private record Target(UUID authorId, String state) {
    }

    private Target target(UUID sessionId, UUID messageId) {
        return jdbc.sql("select author_id, state from queued_messages where id = :id and session_id = :session")
            .param("id", messageId)
            .param("session", sessionId)
            .query((rs, row) -> new Target(rs.getObject("author_id", UUID.class), rs.getString("state")))
            .optional()
            .orElseThrow(() -> ApiException.notFound("No queued message " + messageId + " in this session."));
    }

    private static void requireQueued(Target target, UUID messageId) {
        if (!"QUEUED".equals(target.state())) {
            throw new ApiException(ProblemCode.MESSAGE_NOT_QUEUED, "Message " + messageId
                    + (target.state().equals("STARTED") ? " has started its run already." : " was cancelled already."));
        }
    }

    @Override
    public void runEnded(UUID sessionId) {
        Optional<Session> session = sessions.find(sessionId);
        if (session.isPresent() && session.get().state() == SessionState.IDLE) {
            startNext(sessionId);
        }
        // Else ended (its queue is cancelled), or a run is in progress already.
    }

    /**
     * Starts the session's next waiting message, if it has one; the caller holds the
     * session's row lock and saw it IDLE.
     * @return whether one started (the session is RUNNING now)
     */
    boolean startNext(UUID sessionId) {
        if (!runner.isRunning()) {
            // This instance is stopping: a run started here would end at once as
            // instance-shutdown, and the next one after it, and so on. The others' lease
            // check starts it ({@link #startStranded}).
            return false;
        }
        List<Next> next = jdbc.sql("""
                select id, text, author_login from queued_messages
                where session_id = :session and state = 'QUEUED'
                order by order_key limit 1
                """)
            .param("session", sessionId)
            .query((rs, row) -> new Next(rs.getObject("id", UUID.class), rs.getString("text"),
                    rs.getString("author_login")))
            .list();
        if (next.isEmpty()) {
            return false;
        }
        return start(sessionId, next.getFirst());
    }

    private record Next(UUID messageId, String text, String author) {
    }

    private boolean start(UUID sessionId, Next next) {
        UUID runId = UUID.randomUUID();
        if (!(sessions.startRun(sessionId, runId) instanceof Sessions.RunClaim.Claimed)) {
            return false; // cannot happen under the row lock; the lease check would try
                          // again
        }
        jdbc.sql("update queued_messages set state = 'STARTED', finished_at = :now where id = :id")
            .param("now", now())
            .param("id", next.messageId())
            .update();
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("messageId", next.messageId().toString());
        message.put("text", next.text());
        message.put("author", next.author());
        eventLog.append(sessionId, "message", message);
        eventLog.append(sessionId, "run.started",
                Map.of("runId", runId.toString(), "messageId", next.messageId().toString(), "by", next.author()));
        runs.insert(runId, sessionId, next.messageId());
        String text = next.text();
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCommit() {
                runner.launch(runId, sessionId, text);
            }
        });
        return true;
    }

    @Override
    public int startStranded() {
        List<UUID> stranded = jdbc.sql("""
                select distinct q.session_id from queued_messages q join sessions s on s.id = q.session_id
                where q.state = 'QUEUED' and s.state = 'IDLE'
                limit 100
                """).query((rs, row) -> rs.getObject(1, UUID.class)).list();
        int started = 0;
        for (UUID sessionId : stranded) {
            Boolean one;
            try {
                one = transactions.execute(status -> {
                    Optional<Session> locked = sessions.lock(sessionId);
                    if (locked.isEmpty() || locked.get().state() != SessionState.IDLE) {
                        return false;
                    }
                    log.warn("Session {} was idle with messages waiting (its last run ended on an instance that "
                            + "was stopping?); starting the next", sessionId);
                    return startNext(sessionId);
                });
            }
            catch (RuntimeException e) {
                // One session's failure must not leave the others waiting for the next
                // tick.
                log.warn("Could not start the next queued message of session {}: {}", sessionId, e.toString());
                continue;
            }
            if (Boolean.TRUE.equals(one)) {
                started++;
            }
        }
        return started;
    }

    /** The session ends: what waits is cancelled, each with its event, in queue order. */
    @Override
    public void ending(UUID sessionId, @Nullable String by) {
        List<UUID> cancelled = jdbc.sql("""
                select id from queued_messages where session_id = :session and state = 'QUEUED'
                order by order_key
                """).param("session", sessionId).query((rs, row) -> rs.getObject(1, UUID.class)).list();
        if (cancelled.isEmpty()) {
            return;
        }
        jdbc.sql("""
                update queued_messages set state = 'CANCELLED', reason = 'session-ended', finished_at = :now
                where session_id = :session and state = 'QUEUED'
                """).param("now", now()).param("session", sessionId).update();
        for (UUID messageId : cancelled) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("messageId", messageId.toString());
            data.put("by", by);
            data.put("reason", "session-ended");
            eventLog.append(sessionId, "message.cancelled", data);
        }
    }

    /** {@code queueLength}: one query for the page. */
    @Override
    public String columns() {
        // Served by the partial index queued_messages_waiting_idx.
        return """
                (select count(*) from queued_messages q
                  where q.session_id = s.id and q.state = 'QUEUED')::int as message_queue_length""";
    }

    @Override
    public void read(ResultSet row, SessionView.Draft draft) throws SQLException {
        draft.queueLength(row.getInt("message_queue_length"));
    }

    private int length(UUID sessionId) {
        Integer count = jdbc
            .sql("select count(*) from queued_messages where session_id = :session and state = 'QUEUED'")
            .param("session", sessionId)
            .query(Integer.class)
            .single();
        return count == null ? 0 : count;
    }

    private OffsetDateTime now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC);
    }

}
