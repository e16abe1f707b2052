package dev.collab.checkout;

import dev.collab.web.ProblemCode;
import dev.collab.web.Problems;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Answers the diff's failures: too slow is {@code 503 diff-timeout} with
 * {@code Retry-After}; a repository git cannot read is {@code 503 service-unavailable}
 * (logged at WARN where it happened). Before {@code web}'s catch-all.
 */
@RestControllerAdvice
@Order(Ordered.HIGHEST_PRECEDENCE)
class CheckoutProblems {

    @ExceptionHandler(Diffs.DiffTimeoutException.class)
    ResponseEntity<Object> timeout(Diffs.DiffTimeoutException exception, HttpServletRequest request) {
        return retryLater(Problems.of(ProblemCode.DIFF_TIMEOUT, exception.getMessage(), request), "5");
    }

    @ExceptionHandler(Diffs.DiffFailedException.class)
    ResponseEntity<Object> failed(Diffs.DiffFailedException exception, HttpServletRequest request) {
        return retryLater(Problems.of(ProblemCode.SERVICE_UNAVAILABLE, exception.getMessage(), request), "5");
    }

    private static ResponseEntity<Object> retryLater(ProblemDetail problem, String seconds) {
        return ResponseEntity.status(problem.getStatus())
            .header(HttpHeaders.RETRY_AFTER, seconds)
            .contentType(org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON)
            .body(problem);
    }

}
