package dev.collab.run.opencode;

/**
 * A prompt could not be carried through opencode: the server did not start, refused the
 * driver, reported an error, died, or its event stream ended early. The message is meant
 * for the run's {@code error} event: it names what happened, never the password.
 */
public class OpencodeException extends RuntimeException {

    OpencodeException(String message) {
        super(message);
    }

    OpencodeException(String message, Throwable cause) {
        super(message, cause);
    }

}
