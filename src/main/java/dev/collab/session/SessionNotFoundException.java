package dev.collab.session;

import java.util.UUID;

/** There is no session with this id (answered as {@code 404 not-found}). */
public class SessionNotFoundException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final UUID sessionId;

    public SessionNotFoundException(UUID sessionId) {
        // No stack trace: an expected outcome of a request, never logged as a fault.
        super("No session " + sessionId + ".", null, false, false);
        this.sessionId = sessionId;
    }

    public UUID sessionId() {
        return sessionId;
    }

}
