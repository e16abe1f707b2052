package dev.collab.session;

import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Adds a module's fields to sessions' JSON (the list, the live list, one session): the
 * queue's length, who is watching, the caller's unread count. Implemented by modules that
 * depend on this one (beans), as SQL select-list items that {@link SessionViews} puts
 * into the very query that reads the sessions: a page of the list stays ONE database
 * round trip, whatever the number of modules (docs/performance.md, "Session JSON
 * details"; {@code AuthCacheTest} counts it). The items read the module's own tables; the
 * session module only composes them.
 */
public interface SessionDetails {

    /**
     * This module's select-list items over {@code s}, the session's row (its columns:
     * {@code id}, {@code project_key}, {@code head_seq}, …): scalar subqueries, each with
     * an alias unique to the module (prefixed with the module's name). A per-user module
     * may use the bind parameter {@code :details_user} (the caller's id, a uuid; never
     * null when it is used).
     */
    String columns();

    /** Reads this module's items of the current row into the draft. */
    void read(ResultSet row, SessionView.Draft draft) throws SQLException;

    /**
     * Whether this module's fields depend on the caller (the unread count does, the queue
     * does not): a live list computes the others once for all its watchers and only these
     * per watcher; without a caller they stay at their defaults.
     */
    default boolean perUser() {
        return false;
    }

}
