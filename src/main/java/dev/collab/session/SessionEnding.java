package dev.collab.session;

import java.util.UUID;

/**
 * A module's part in ending a session (the message queue cancels what waits): called in
 * the ending transaction, after the run in progress was finished and before
 * {@code session.ended} is appended, so that its events come before the last event of the
 * log. Implemented by modules that depend on this one.
 */
public interface SessionEnding {

    /**
     * The session is ending (its state is ENDED already, in this transaction).
     * @param by the login of the user who ended it, null when retention did
     */
    void ending(UUID sessionId, @org.jspecify.annotations.Nullable String by);

}
