package dev.collab.run;

import java.util.UUID;

/**
 * Messages waiting for a session's run to end (the {@code queue} busy policy, issue 16):
 * when a run ends, the next one starts. Implemented by the {@code message} module, which
 * depends on this one; the runs call it where a run ends, on whichever instance that is.
 */
public interface WaitingMessages {

    /**
     * A run of the session ended: starts the session's next waiting message, if the
     * session is IDLE and has one, on this instance. Called inside the transaction that
     * finished the run, after its {@code run.finished}, with the session's row locked;
     * the agent starts after the commit.
     */
    void runEnded(UUID sessionId);

    /**
     * The safety net of the periodic lease check: starts the next waiting message of any
     * IDLE session that has one (none should: a run's end starts it; an instance that
     * stops leaves them to the others).
     * @return how many were started
     */
    int startStranded();

}
