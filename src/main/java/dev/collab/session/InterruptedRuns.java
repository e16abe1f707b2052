package dev.collab.session;

import java.util.UUID;

import org.jspecify.annotations.Nullable;

/**
 * The run module's part in ending a session: called in the ending transaction, before
 * {@code session.ended} is appended, so that the run's {@code run.finished} (status
 * {@code interrupted}) comes first and {@code session.ended} stays the last event of the
 * log. Stopping the agent's processes happens after the commit ({@link SessionEnded}).
 */
public interface InterruptedRuns {

    /**
     * Finishes the run as {@code interrupted} in the caller's transaction.
     * @param by the login of the user who ended the session ({@code data.by} of
     * {@code run.finished}), null when retention ended it
     */
    void finishInterrupted(UUID runId, @Nullable String by);

}
