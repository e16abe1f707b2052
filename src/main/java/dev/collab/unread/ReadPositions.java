package dev.collab.unread;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.collab.cluster.ClusterNotifications;
import dev.collab.event.Event;
import dev.collab.session.Session;
import dev.collab.session.SessionDetails;
import dev.collab.session.SessionListChanged;
import dev.collab.session.SessionView;
import org.jspecify.annotations.Nullable;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Read positions and unread counts. A position moves forward only; with it is stored how
 * many notable events it covers, so that a session's unread count for a person is
 * {@code sessions.notable_count - notable_at_read}: no count over the log when a list is
 * read. Every move is announced on {@link #CHANNEL} ({@code sessionId:userId:project}) so
 * that each instance tells that person's live lists.
 */
@Component
class ReadPositions implements SessionDetails {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ReadPositions.class);

    static final String CHANNEL = "collab_reads";

    private final JdbcClient jdbc;

    private final ClusterNotifications notifications;

    private final ApplicationEventPublisher events;

    private final Clock clock;

    ReadPositions(JdbcClient jdbc, ClusterNotifications notifications, ApplicationEventPublisher events, Clock clock) {
        this.jdbc = jdbc;
        this.notifications = notifications;
        this.events = events;
        this.clock = clock;
        notifications.listen(CHANNEL, this::notified);
    }

    /**
     * Where a person is in a session: their read position and what is unread after it.
     */
    record Position(long readSeq, int unread) {
    }

    /**
     * Moves the user's read position in the session to {@code seq}, unless it is already
     * further (0 ≤ seq ≤ the session's head, checked by the caller). The notable events
     * after it are counted in one indexed range (the partial index of V13), and
     * {@code notable_at_read} is the session's {@code notable_count} less them (both read
     * in the statement's one snapshot): the unread count is then exactly the notable
     * events after the position, whether or not {@code notable_count} was ever bumped for
     * every earlier event (an instance of the previous version appending during a rolling
     * deploy does not bump it; counted from the start of the log, each event it missed
     * would hide one later message from everyone who had read past it, for good).
     */
    Position read(Session session, UUID userId, long seq) {
        int moved = jdbc
            .sql("""
                    insert into read_positions (user_id, session_id, seq, notable_at_read, updated_at)
                    select :user, :session, :seq,
                           s.notable_count
                               - (select count(*) from events
                                   where session_id = :session and seq > :seq and type in\s""" + Event.NOTABLE_TYPES_SQL
                    + """
                                         ), :now
                              from sessions s where s.id = :session
                            on conflict (user_id, session_id) do update
                               set seq = excluded.seq, notable_at_read = excluded.notable_at_read, updated_at = excluded.updated_at
                             where read_positions.seq < excluded.seq
                            """)
            .param("user", userId)
            .param("session", session.id())
            .param("seq", seq)
            .param("now", Timestamp.from(clock.instant()))
            .update();
        if (moved > 0) {
            // Committed (autocommit): every instance's live lists of this user re-read
            // it.
            try {
                notifications.send(CHANNEL, session.id() + ":" + userId + ":" + session.project());
            }
            catch (RuntimeException e) {
                // The position is stored: answered as such (a 5xx would be retried, and
                // the retry, moving nothing, would announce nothing either). The lists
                // learn it with the session's next change.
                log.debug("Could not announce the read position of session {}: {}", session.id(), e.toString());
            }
        }
        return jdbc.sql("select " + columns() + " from sessions s where s.id = :session")
            .param("session", session.id())
            .param("details_user", userId)
            .query((rs, row) -> new Position(rs.getLong("unread_read_seq"),
                    (int) Math.min(rs.getLong("unread_count"), SessionView.MAX_UNREAD)))
            .optional()
            .orElse(new Position(0, 0));
    }

    /**
     * The caller's read position and the notable events after it; {@code s.notable_count}
     * is in every query SessionViews composes (the page's subquery selects it).
     */
    @Override
    public String columns() {
        return """
                coalesce((select r.seq from read_positions r
                           where r.session_id = s.id and r.user_id = :details_user), 0) as unread_read_seq,
                greatest(s.notable_count - coalesce((select r.notable_at_read from read_positions r
                           where r.session_id = s.id and r.user_id = :details_user), 0), 0) as unread_count""";
    }

    @Override
    public void read(ResultSet row, SessionView.Draft draft) throws SQLException {
        draft.readSeq(row.getLong("unread_read_seq"));
        draft.unread((int) Math.min(row.getLong("unread_count"), SessionView.MAX_UNREAD));
    }

    @Override
    public boolean perUser() {
        return true;
    }

    /** A read position moved on some instance: that user's live lists here re-read. */
    void notified(String payload) {
        String[] parts = payload.split(":", 3);
        if (parts.length != 3) {
            return;
        }
        try {
            events.publishEvent(new SessionListChanged(parts[2], UUID.fromString(parts[0]), UUID.fromString(parts[1])));
        }
        catch (IllegalArgumentException e) {
            // not ours
        }
    }

}
