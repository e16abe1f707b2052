package dev.collab.message;

import dev.collab.web.ProblemCode;
import dev.collab.web.Problems;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Answers this module's exception with its problem. Here rather than in {@code web},
 * which depends on no feature; ordered before {@code web}'s catch-all handler, because
 * Spring asks the advices in order and takes the first one that handles the exception at
 * all.
 */
@RestControllerAdvice
@Order(Ordered.HIGHEST_PRECEDENCE)
class MessageProblems {

    @ExceptionHandler(IdempotencyKeyReusedException.class)
    ResponseEntity<Object> idempotencyKeyReused(IdempotencyKeyReusedException exception, HttpServletRequest request) {
        return Problems.response(Problems.of(ProblemCode.IDEMPOTENCY_KEY_REUSED, exception.getMessage(), request));
    }

}
