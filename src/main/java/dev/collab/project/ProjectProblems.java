package dev.collab.project;

import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import dev.collab.web.Problems;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Answers this module's exceptions with their problems, wherever they are thrown
 * ({@code session} throws {@link ProjectNotFoundException} and checks keys too). Here
 * rather than in {@code web}, which depends on no feature; ordered before {@code web}'s
 * catch-all handler, because Spring asks the advices in order and takes the first one
 * that handles the exception at all.
 */
@RestControllerAdvice
@Order(Ordered.HIGHEST_PRECEDENCE)
class ProjectProblems {

    @ExceptionHandler(ProjectNotFoundException.class)
    ResponseEntity<Object> notFound(ProjectNotFoundException exception, HttpServletRequest request) {
        return Problems.response(Problems.of(ProblemCode.NOT_FOUND, exception.getMessage(), request));
    }

    @ExceptionHandler(ProjectExistsException.class)
    ResponseEntity<Object> exists(ProjectExistsException exception, HttpServletRequest request) {
        return Problems.response(Problems.of(ProblemCode.PROJECT_EXISTS, exception.getMessage(), request));
    }

    @ExceptionHandler(InvalidProjectKeyException.class)
    ResponseEntity<Object> invalidKey(InvalidProjectKeyException exception, HttpServletRequest request) {
        return Problems.response(Problems.of(ApiException.invalid(exception.field(), exception.reason()), request));
    }

}
