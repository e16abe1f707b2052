package dev.collab.session;

import java.util.List;
import java.util.UUID;

import org.jspecify.annotations.Nullable;

/**
 * Adds a module's fields to sessions' JSON (the list, the live list, one session): the
 * queue's length, who is watching, the caller's unread count. Implemented by modules that
 * depend on this one (beans); called once per page, so an implementation reads what it
 * needs for all the page's sessions in one query, never one per session.
 */
public interface SessionDetails {

    /**
     * Sets this module's fields on each draft.
     * @param drafts sessions of one project (at most a page: 200)
     * @param userId the caller, or {@code null} when there is none (per-user fields stay
     * at their defaults)
     */
    void fill(List<SessionView.Draft> drafts, @Nullable UUID userId);

    /**
     * Whether this module's fields depend on the caller (the unread count does, the queue
     * does not): a live list computes the others once for all its watchers and only these
     * per watcher.
     */
    default boolean perUser() {
        return false;
    }

}
