package dev.collab.web;

import java.time.Duration;
import java.util.Optional;

/**
 * Whether a failure is the database's (busy or unreachable, as {@link ProblemHandler} tells them
 * apart) and how soon the client should retry: for answers that cannot be a problem document, such
 * as the event stream, where a browser's EventSource never reconnects after a 503.
 */
public final class DatabaseFailures {

    private DatabaseFailures() {
    }

    /** The retry delay for a database failure (the problem answers' Retry-After), or empty for any other failure. */
    public static Optional<Duration> retryAfter(Throwable failure) {
        if (ProblemHandler.isDatabaseBusy(failure)) {
            return Optional.of(Duration.ofSeconds(1));
        }
        if (ProblemHandler.isDatabaseUnavailable(failure)) {
            return Optional.of(Duration.ofSeconds(5));
        }
        return Optional.empty();
    }
}
