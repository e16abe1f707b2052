package dev.collab.web;

/**
 * The database answers but no connection (or no turn to use one) became free in time: the
 * client gets {@code 503 database-busy} with {@code Retry-After}, not "database
 * unreachable". Thrown by features that queue their own reads (the streams' read queue);
 * Hikari's own timeout of an exhausted pool is recognised too ({@link ProblemHandler}).
 */
public class DatabaseBusyException extends RuntimeException {

    public DatabaseBusyException(String message) {
        super(message, null, false, false);
    }

}
