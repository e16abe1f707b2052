package dev.collab.access;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

import dev.collab.web.ApiException;
import dev.collab.web.DatabaseFailures;
import dev.collab.web.FilterRejection;
import dev.collab.web.ProblemCode;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The first filter of the security chain. Authentication reads the database (the token,
 * the session's user) before any controller runs, so a database that is down or busy
 * fails there, not in a controller, and would escape as a 500 with an ERROR line. Here it
 * becomes what the problem handler answers for the same failure in a controller:
 * {@code 503 service-unavailable} or {@code database-busy} with {@code Retry-After}, and
 * one WARN line.
 */
final class DatabaseFailureGuard extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(DatabaseFailureGuard.class);

    private final DatabaseFailures databaseFailures;

    DatabaseFailureGuard(DatabaseFailures databaseFailures) {
        this.databaseFailures = databaseFailures;
    }

    private static boolean isStream(HttpServletRequest request) {
        return ("GET".equals(request.getMethod()) || "HEAD".equals(request.getMethod()))
                && request.getRequestURI().startsWith("/api/sessions/")
                && request.getRequestURI().endsWith("/events/stream");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        try {
            chain.doFilter(request, response);
        }
        catch (RuntimeException | ServletException failure) {
            Optional<Duration> retryAfter = databaseFailures.retryAfter(failure);
            if (retryAfter.isEmpty() || response.isCommitted()) {
                throw failure;
            }
            boolean busy = databaseFailures.busy(failure);
            if (isStream(request)) {
                // As the stream itself answers then (stream/StreamController): 200 with a
                // retry: and the end,
                // since a browser's EventSource never reconnects after a 503.
                log.warn("Database {} while authenticating a stream: {}", busy ? "busy" : "unavailable",
                        failure.getMessage());
                response.resetBuffer();
                response.setStatus(HttpServletResponse.SC_OK);
                response.setContentType("text/event-stream;charset=UTF-8");
                response.setHeader("Cache-Control", "no-cache, no-store");
                response.setHeader("X-Accel-Buffering", "no");
                if (!"HEAD".equals(request.getMethod())) {
                    response.getOutputStream()
                        .write(("retry: " + retryAfter.get().toMillis()
                                + "\n: the database is busy or unreachable; resume later\n\n")
                            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    response.flushBuffer();
                }
                return;
            }
            log.warn("Database {} while authenticating {} {}: {}", busy ? "busy" : "unavailable", request.getMethod(),
                    request.getRequestURI(), failure.getMessage());
            response.setHeader("Retry-After", Long.toString(retryAfter.get().toSeconds()));
            FilterRejection.reject(request, response,
                    busy ? new ApiException(ProblemCode.DATABASE_BUSY,
                            "The database is busy right now (no connection became free in time); retry shortly.")
                            : new ApiException(ProblemCode.SERVICE_UNAVAILABLE,
                                    "The database is not reachable right now; retry shortly."));
        }
    }

}
