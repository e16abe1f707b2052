package dev.collab.project;

/**
 * A project key that breaks {@link ProjectKey#PATTERN}; checked before any query is made
 * with it (answered as {@code 400 validation-failed} on the {@link #field() key} field).
 */
public class InvalidProjectKeyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    InvalidProjectKeyException() {
        super("key: must match " + ProjectKey.PATTERN, null, false, false);
    }

    /** The name of the value that broke its rule, as the client sent it. */
    public String field() {
        return "key";
    }

    /** What the rule is, for the client. */
    public String reason() {
        return "must match " + ProjectKey.PATTERN;
    }

}
