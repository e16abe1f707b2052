package dev.collab.web;

import java.time.Duration;
import java.util.Optional;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * Whether a failure is the database's (busy or unreachable) and how soon the client
 * should retry. "Busy" (an exhausted pool, a full read queue) only while the database's
 * own health check says it answers: when every pooled connection hangs on a dead network,
 * Hikari's timeout looks the same as an exhausted pool's, and that is an outage. Also for
 * answers that cannot be a problem document, such as the event stream, where a browser's
 * EventSource never reconnects after a 503.
 */
@Component
public class DatabaseFailures {

    private final ObjectProvider<DatabaseReachability> reachability;

    DatabaseFailures(ObjectProvider<DatabaseReachability> reachability) {
        this.reachability = reachability;
    }

    /**
     * The database answers, but no connection (or turn to use one) became free in time.
     */
    public boolean busy(Throwable failure) {
        if (!ProblemHandler.isDatabaseBusy(failure)) {
            return false;
        }
        DatabaseReachability database = reachability.getIfAvailable();
        return database == null || database.recentlyReachable();
    }

    /** A database failure, busy or not: the client may retry. */
    public boolean unavailable(Throwable failure) {
        return ProblemHandler.isDatabaseBusy(failure) || ProblemHandler.isDatabaseUnavailable(failure);
    }

    /**
     * The retry delay for a database failure (the problem answers' Retry-After), or empty
     * for any other failure.
     */
    public Optional<Duration> retryAfter(Throwable failure) {
        if (busy(failure)) {
            return Optional.of(Duration.ofSeconds(1));
        }
        if (unavailable(failure)) {
            return Optional.of(Duration.ofSeconds(5));
        }
        return Optional.empty();
    }

}
