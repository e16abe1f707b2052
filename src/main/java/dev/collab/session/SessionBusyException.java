package dev.collab.session;

import java.util.UUID;

import org.jspecify.annotations.Nullable;

/**
 * A run is in progress in the session, so it takes no new message (answered as
 * {@code 409 session-busy}).
 */
public class SessionBusyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final UUID sessionId;

    private final @Nullable UUID runId;

    /**
     * @param runId the run in progress (null only if it finished while we looked)
     */
    public SessionBusyException(UUID sessionId, @Nullable UUID runId) {
        super("A run is in progress in this session; wait for it to finish or interrupt it.", null, false, false);
        this.sessionId = sessionId;
        this.runId = runId;
    }

    public UUID sessionId() {
        return sessionId;
    }

    /** The run in progress, which the client may interrupt or wait for. */
    public @Nullable UUID runId() {
        return runId;
    }

}
