package dev.collab.session;

import java.util.UUID;

/**
 * The run module's part in ending a session: called in the ending transaction, before
 * {@code session.ended} is appended, so that the run's {@code run.finished} (status
 * {@code interrupted}) comes first and {@code session.ended} stays the last event of the
 * log. Stopping the agent's processes happens after the commit ({@link SessionEnded}).
 */
public interface InterruptedRuns {

    /** Finishes the run as {@code interrupted} in the caller's transaction. */
    void finishInterrupted(UUID runId);

}
