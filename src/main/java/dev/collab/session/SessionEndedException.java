package dev.collab.session;

import java.util.UUID;

/**
 * The session is ENDED, so it takes no more messages or interrupts (answered as
 * {@code 409 session-ended}). The detail says what the caller can do instead.
 */
public class SessionEndedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final UUID sessionId;

    /**
     * @param detail the sentence the client is shown, such as "Session … has ended; start
     * a new session."
     */
    public SessionEndedException(UUID sessionId, String detail) {
        super(detail, null, false, false);
        this.sessionId = sessionId;
    }

    public UUID sessionId() {
        return sessionId;
    }

}
