package dev.collab.event;

import java.util.UUID;

/**
 * The session's log is closed ({@code session.ended} is in it): late writers, such as an
 * agent still flushing output after its session was deleted, drop what they have.
 */
public class LogClosedException extends IllegalStateException {

    public LogClosedException(UUID sessionId) {
        super("The event log of session " + sessionId + " is closed");
    }

}
