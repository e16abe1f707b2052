package dev.collab.session;

/**
 * A session-list cursor this server did not hand out (answered as
 * {@code 400 validation-failed} on the {@link #field() cursor} field).
 */
public class InvalidCursorException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    InvalidCursorException() {
        super("cursor: is not a cursor returned by this API", null, false, false);
    }

    /** The name of the query parameter that broke its rule. */
    public String field() {
        return "cursor";
    }

    /** What is wrong with it, for the client. */
    public String reason() {
        return "is not a cursor returned by this API";
    }

}
