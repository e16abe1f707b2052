package dev.collab.session;

import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import dev.collab.web.Problems;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Answers this module's exceptions with their problems, wherever they are thrown
 * ({@code message} and {@code run} throw {@link SessionNotFoundException} too). Here
 * rather than in {@code web}, which depends on no feature; ordered before {@code web}'s
 * catch-all handler, because Spring asks the advices in order and takes the first one
 * that handles the exception at all.
 */
@RestControllerAdvice
@Order(Ordered.HIGHEST_PRECEDENCE)
class SessionProblems {

    @ExceptionHandler(SessionNotFoundException.class)
    ResponseEntity<Object> notFound(SessionNotFoundException exception, HttpServletRequest request) {
        return Problems.response(Problems.of(ProblemCode.NOT_FOUND, exception.getMessage(), request));
    }

    @ExceptionHandler(SessionBusyException.class)
    ResponseEntity<Object> busy(SessionBusyException exception, HttpServletRequest request) {
        ProblemDetail problem = Problems.of(ProblemCode.SESSION_BUSY, exception.getMessage(), request);
        problem.setProperty("runId", exception.runId());
        return Problems.response(problem);
    }

    @ExceptionHandler(SessionEndedException.class)
    ResponseEntity<Object> ended(SessionEndedException exception, HttpServletRequest request) {
        return Problems.response(Problems.of(ProblemCode.SESSION_ENDED, exception.getMessage(), request));
    }

    @ExceptionHandler(InvalidCursorException.class)
    ResponseEntity<Object> invalidCursor(InvalidCursorException exception, HttpServletRequest request) {
        return Problems.response(Problems.of(ApiException.invalid(exception.field(), exception.reason()), request));
    }

}
