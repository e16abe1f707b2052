package dev.collab.session;

import java.time.Instant;
import java.util.List;

/**
 * Who is watching a session now: how many people, and the most recent of them (at most a
 * few in a session's JSON, more on the session stream's {@code presence} messages).
 * Filled in by the presence module through {@link SessionDetails}.
 *
 * @param count the number of people watching (each counted once, whatever their tabs)
 * @param watchers the most recently arrived of them, newest first
 */
public record SessionPresence(int count, List<Watcher> watchers) {

    /** Nobody is watching. */
    public static final SessionPresence NOBODY = new SessionPresence(0, List.of());

    public SessionPresence {
        watchers = List.copyOf(watchers);
    }

    /**
     * One person watching.
     *
     * @param since when their first open stream of the session began
     * @param state {@code active} when any of their tabs is in use, else {@code idle}
     */
    public record Watcher(String login, String displayName, Instant since, String state) {
    }

}
