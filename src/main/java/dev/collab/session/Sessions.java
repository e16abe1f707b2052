package dev.collab.session;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import dev.collab.access.Audit;
import dev.collab.access.ProjectAccess;
import dev.collab.access.Role;
import dev.collab.event.Event;
import dev.collab.event.EventLog;
import dev.collab.project.ProjectNotFoundException;
import dev.collab.workspace.Workspaces;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Creates, finds, lists and ends sessions. Reads of one session go through
 * {@link SessionRepository}; every write is one conditional statement with
 * {@code JdbcClient} (insert only into an existing project, IDLE → RUNNING only if IDLE,
 * end only if not ENDED), which is what keeps racing requests on any number of instances
 * correct without locks held across round trips, and the list is the measured hot query
 * (docs/performance.md).
 */
@Service
public class Sessions {

    private static final String COLUMNS = """
            id, project_key, title, state, created_at, last_activity_at, head_seq, current_run_id""";

    private final JdbcClient jdbc;

    private final SessionRepository repository;

    private final Workspaces workspaces;

    private final EventLog eventLog;

    /** Lazy: the run module needs sessions too (a bean cycle, not a module one). */
    private final ObjectProvider<InterruptedRuns> interruptedRuns;

    private final ApplicationEventPublisher events;

    /** The ending steps of modules above this one (the message queue's cancellations). */
    private final ObjectProvider<SessionEnding> endings;

    private final Clock clock;

    private final ProjectAccess access;

    private final Audit audit;

    private final SessionViews views;

    Sessions(JdbcClient jdbc, SessionRepository repository, Workspaces workspaces, EventLog eventLog,
            ObjectProvider<InterruptedRuns> interruptedRuns, ApplicationEventPublisher events,
            ObjectProvider<SessionEnding> endings, Clock clock, ProjectAccess access, Audit audit, SessionViews views) {
        this.views = views;
        this.endings = endings;
        this.access = access;
        this.audit = audit;
        this.jdbc = jdbc;
        this.repository = repository;
        this.workspaces = workspaces;
        this.eventLog = eventLog;
        this.interruptedRuns = interruptedRuns;
        this.events = events;
        this.clock = clock;
    }

    /**
     * Creates an IDLE session in the project; its workspace directory exists before this
     * returns.
     * @throws ProjectNotFoundException for an unknown project
     */
    @Transactional
    public Session create(String project, @Nullable String title) {
        UUID id = UUID.randomUUID();
        OffsetDateTime now = now();
        int inserted = jdbc.sql("""
                insert into sessions (id, project_key, title, state, created_at, last_activity_at)
                select :id, key, :title, 'IDLE', :now, :now from projects where key = :project
                """).param("id", id).param("title", title).param("now", now).param("project", project).update();
        if (inserted == 0) {
            throw new ProjectNotFoundException(project);
        }
        // Inside the transaction: if the directory cannot be made, the session is not
        // created either.
        workspaces.create(id);
        Map<String, Object> data = new HashMap<>();
        data.put("title", title);
        // In the creating transaction: the log and the session row never disagree.
        eventLog.append(id, Event.SESSION_CREATED, data);
        audit.record("session.created", "session:" + id, Map.of("project", project));
        return find(id).orElseThrow();
    }

    public Optional<Session> find(UUID id) {
        return repository.findById(id);
    }

    /**
     * The session, if the caller has at least {@code needed} in its project. A caller who
     * is not a member gets the very {@link SessionNotFoundException} of an id that does
     * not exist (neither the session's nor the project's existence leaks); too low a role
     * is {@code 403 forbidden}. Two primary-key reads: the session, then the caller's
     * membership (none for a server admin).
     * @throws SessionNotFoundException for an unknown session or a non-member
     */
    public Session require(UUID id, Role needed) {
        Session session = find(id).orElseThrow(() -> new SessionNotFoundException(id));
        access.requireRole(session.project(), needed, () -> new SessionNotFoundException(id));
        return session;
    }

    /**
     * One page of a project's sessions, newest activity first (ties: id descending),
     * after the cursor. Served by the
     * {@code (project_key[, state], last_activity_at desc, id desc)} indexes.
     */
    Page page(String project, @Nullable SessionState state, @Nullable SessionCursor after, int limit,
            @Nullable UUID userId) {
        Map<String, Object> parameters = new HashMap<>();
        parameters.put("project", project);
        if (state != null) {
            parameters.put("state", state.name());
        }
        if (after != null) {
            parameters.put("afterAt", after.lastActivityAt().atOffset(ZoneOffset.UTC));
            parameters.put("afterId", after.id());
        }
        // With the other modules' fields (SessionDetails) in the same query: one round
        // trip.
        List<SessionView> rows = views.page(pageSql(state != null, after != null, limit + 1), parameters, userId);
        if (rows.size() <= limit) {
            return new Page(rows, null);
        }
        List<SessionView> items = rows.subList(0, limit);
        SessionView last = items.getLast();
        return new Page(List.copyOf(items), new SessionCursor(last.lastActivityAt(), last.id()));
    }

    /** Outcome of trying to start a run in a session. */
    public sealed interface RunClaim {

        /** The session was IDLE and is now RUNNING this run. */
        record Claimed() implements RunClaim {
        }

        /** A run is in progress already. */
        record Busy(@Nullable UUID runId) implements RunClaim {
        }

        record Ended() implements RunClaim {
        }

        record NotFound() implements RunClaim {
        }

    }

    /**
     * The session, its row locked until the transaction ends: a send takes it before it
     * decides between starting a run and queueing, and a run's end takes it too, so that
     * no message is queued behind a run that just ended. {@code for no key update}, the
     * lock an UPDATE of the row takes, not {@code for update}: a send has inserted its
     * Idempotency-Key's row first, whose foreign key holds {@code for key share} on the
     * session's row, which {@code for update} waits for; two racing sends would deadlock.
     */
    @Transactional
    public Optional<Session> lock(UUID id) {
        return jdbc.sql("select " + COLUMNS + " from sessions where id = :id for no key update")
            .param("id", id)
            .query(Sessions::map)
            .optional();
    }

    /**
     * Flips the session IDLE → RUNNING for this run with a conditional update: of any
     * number of racing sends, on any number of instances, exactly one wins. Call inside
     * the send's transaction.
     */
    @Transactional
    public RunClaim startRun(UUID sessionId, UUID runId) {
        // A run may finish between the conditional update and the read: then try again
        // (briefly).
        for (int attempt = 0; attempt < 3; attempt++) {
            int claimed = jdbc.sql("""
                    update sessions set state = 'RUNNING', current_run_id = :runId
                    where id = :id and state = 'IDLE'
                    """).param("id", sessionId).param("runId", runId).update();
            if (claimed == 1) {
                return new RunClaim.Claimed();
            }
            Optional<Session> session = find(sessionId);
            if (session.isEmpty()) {
                return new RunClaim.NotFound();
            }
            switch (session.get().state()) {
                case ENDED -> {
                    return new RunClaim.Ended();
                }
                case RUNNING -> {
                    if (session.get().currentRunId() != null) {
                        return new RunClaim.Busy(session.get().currentRunId());
                    }
                }
                case IDLE -> {
                }
            }
        }
        return new RunClaim.Busy(find(sessionId).map(Session::currentRunId).orElse(null));
    }

    /**
     * The run is over: RUNNING → IDLE, only if the session still runs exactly this run.
     */
    @Transactional
    public void finishRun(UUID sessionId, UUID runId) {
        jdbc.sql("""
                update sessions set state = 'IDLE', current_run_id = null
                where id = :id and state = 'RUNNING' and current_run_id = :runId
                """).param("id", sessionId).param("runId", runId).update();
    }

    /**
     * The list query; a row comparison on the index columns lets PostgreSQL seek to the
     * cursor. The limit is a literal, not a parameter: with {@code limit :limit} the
     * planner of the composed page query ({@link SessionViews#page}) costs the modules'
     * per-row subqueries for an unknown number of rows and took about 1 ms to plan it,
     * against 0.1-0.2 ms with the literal (docs/performance.md, "Session list: the
     * regression taken apart"); limits are bounded (at most 201), so at most a few
     * hundred statement texts exist.
     */
    static String pageSql(boolean byState, boolean afterCursor, int limit) {
        // notable_count: for the unread module's item over the page (SessionDetails).
        return "select " + COLUMNS + ", notable_count from sessions where project_key = :project"
                + (byState ? " and state = :state" : "")
                + (afterCursor ? " and (last_activity_at, id) < (:afterAt, :afterId)" : "")
                + " order by last_activity_at desc, id desc limit " + limit;
    }

    /**
     * Ends the session (idempotent). The first call, in one transaction: the run in
     * progress is finished as interrupted, then {@code session.ended} is appended, the
     * last event of the log; after the commit, {@link SessionEnded} is published (the
     * agent's processes and the workspace go).
     * @return the session, or empty when there is no such session
     */
    @Transactional
    public Optional<Session> end(UUID id, String by) {
        endWhere(id, null, by);
        return find(id);
    }

    /**
     * Retention: ends the session only if it is still IDLE with no activity since the
     * cutoff.
     */
    @Transactional
    boolean endIfIdleSince(UUID id, Instant cutoff) {
        return endWhere(id, cutoff, null);
    }

    /**
     * @param by the login of the user who ended it (DELETE), null when retention did: it
     * becomes {@code data.by} of {@code session.ended} and of the interrupted run's
     * {@code run.finished}, and the user's end is audited
     */
    private boolean endWhere(UUID id, @Nullable Instant idleBefore, @Nullable String by) {
        OffsetDateTime now = now();
        var statement = jdbc
            .sql("""
                    update sessions s
                       set state = 'ENDED', ended_at = :now, last_activity_at = greatest(s.last_activity_at, :now),
                           current_run_id = null
                      from (select id, current_run_id from sessions where id = :id for no key update) before
                     where s.id = before.id and s.state <> 'ENDED'
                    """ + (idleBefore == null ? "" : " and s.state = 'IDLE' and s.last_activity_at < :cutoff")
                    + " returning before.current_run_id")
            .param("id", id)
            .param("now", now);
        if (idleBefore != null) {
            statement = statement.param("cutoff", idleBefore.atOffset(ZoneOffset.UTC));
        }
        List<SessionEnded> ended = statement.query((rs, row) -> new SessionEnded(id, rs.getObject(1, UUID.class)))
            .list();
        for (SessionEnded end : ended) {
            // The ending steps, in their order: run.finished comes before session.ended,
            // which is last.
            if (end.interruptedRunId() != null) {
                interruptedRuns.getObject().finishInterrupted(end.interruptedRunId(), by);
            }
            endings.orderedStream().forEach(ending -> ending.ending(id, by));
            eventLog.append(id, Event.SESSION_ENDED, by == null ? Map.of() : Map.of("by", by));
            if (by != null) {
                Map<String, Object> details = new HashMap<>();
                if (end.interruptedRunId() != null) {
                    details.put("interruptedRunId", end.interruptedRunId().toString());
                }
                audit.record("session.deleted", "session:" + id, details);
            }
            events.publishEvent(end);
        }
        return !ended.isEmpty();
    }

    private OffsetDateTime now() {
        // PostgreSQL keeps microseconds; truncating here keeps the API's times equal to
        // the stored ones.
        return clock.instant().truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC);
    }

    static Session map(ResultSet rs, int row) throws SQLException {
        return new Session(rs.getObject("id", UUID.class), rs.getString("project_key"), rs.getString("title"),
                SessionState.valueOf(rs.getString("state")), instant(rs, "created_at"), instant(rs, "last_activity_at"),
                rs.getLong("head_seq"), rs.getObject("current_run_id", UUID.class));
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        return rs.getObject(column, OffsetDateTime.class).toInstant();
    }

    record Page(List<SessionView> items, @Nullable SessionCursor next) {
    }

    // The live session list (stream module, issue 16): the first page with the version it
    // starts from, and the rows that changed, with their list_version (V14's trigger sets
    // it
    // on every change the list shows).

    /**
     * A session row with its list version.
     *
     * @param version the {@code list_version} of the row as read
     */
    public record Versioned(Session session, long version) {
    }

    /**
     * The first page of a project's list (no filter) as {@code GET
     * /api/projects/{key}/sessions?limit=} gives it, and the project's highest list
     * version read before it: every change after that version is newer than the page.
     *
     * @param nextCursor the list's {@code nextCursor}
     */
    public record FirstPage(long version, List<Session> items, @Nullable String nextCursor) {
    }

    /**
     * @throws ProjectNotFoundException for an unknown project (only looked up when the
     * page is empty, as the list does)
     */
    public FirstPage firstPage(String project, int limit) {
        long version = listVersion(project);
        // The rows only: the live list adds the other modules' fields once for all its
        // watchers (SessionViews.shared), then per watcher.
        List<Session> rows = jdbc.sql(pageSql(false, false, limit + 1))
            .param("project", project)
            .query(Sessions::map)
            .list();
        if (rows.isEmpty() && jdbc.sql("select count(*) from projects where key = :project")
            .param("project", project)
            .query(Long.class)
            .single() == 0) {
            throw new ProjectNotFoundException(project);
        }
        if (rows.size() <= limit) {
            return new FirstPage(version, rows, null);
        }
        List<Session> items = List.copyOf(rows.subList(0, limit));
        return new FirstPage(version, items, SessionCursor.after(items.getLast()).encode());
    }

    /** The project's highest list version (0 for none). */
    public long listVersion(String project) {
        return jdbc.sql("select coalesce(max(list_version), 0) from sessions where project_key = :project")
            .param("project", project)
            .query(Long.class)
            .single();
    }

    /** These sessions' rows (of any project), in no order; unknown ids are left out. */
    public List<Versioned> versioned(Collection<UUID> ids) {
        if (ids.isEmpty()) {
            return List.of();
        }
        return jdbc.sql("select " + COLUMNS + ", list_version from sessions where id = any(:ids)")
            .param("ids", ids.toArray(UUID[]::new))
            .query((rs, row) -> new Versioned(map(rs, row), rs.getLong("list_version")))
            .list();
    }

    /**
     * The project's sessions whose list version is above {@code version} or whose last
     * activity is within {@code overlap} of the moment {@code version} was handed out, or
     * of {@code now} (whichever is earlier), newest activity first, at most {@code max}.
     * <p>
     * That moment is the activity of the row with the highest version not above
     * {@code version} (one probe of the (project, list_version) index): a change whose
     * transaction took a lower version but committed after the client had {@code version}
     * — and after it left — was made at most {@code overlap} before that moment, however
     * long the client stayed away. Anchored at {@code now} alone, a client back after
     * more than {@code overlap} would miss it for good.
     */
    public List<Versioned> changedSince(String project, long version, Instant now, Duration overlap, int max) {
        return jdbc
            .sql("select " + COLUMNS + ", list_version from sessions where project_key = :project"
                    + " and (list_version > :version or last_activity_at >= least(:now, coalesce(("
                    + "select last_activity_at from sessions where project_key = :project and list_version <= :version"
                    + " order by list_version desc limit 1), :now)) - make_interval(secs => :overlap))"
                    + " order by last_activity_at desc, id desc limit :max")
            .param("project", project)
            .param("version", version)
            .param("now", now.atOffset(ZoneOffset.UTC))
            .param("overlap", overlap.toMillis() / 1000.0)
            .param("max", max)
            .query((rs, row) -> new Versioned(map(rs, row), rs.getLong("list_version")))
            .list();
    }

}
