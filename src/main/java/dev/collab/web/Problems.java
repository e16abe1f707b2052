package dev.collab.web;

import java.net.URI;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;

/**
 * Builds the problem+json bodies of every error answer, so they all look alike. Public so
 * that each feature can answer its own domain exceptions in its own
 * {@code @RestControllerAdvice} (the feature depends on {@code web}, never the other way
 * round); {@code ProblemHandler} answers everything else.
 */
public final class Problems {

    static final MediaType PROBLEM_JSON = MediaType.APPLICATION_PROBLEM_JSON;

    private Problems() {
    }

    /**
     * The problem for {@code code}, with the request's id; the detail falls back to the
     * code's title.
     */
    public static ProblemDetail of(ProblemCode code, @Nullable String detail, @Nullable HttpServletRequest request) {
        ProblemDetail problem = ProblemDetail.forStatus(code.status());
        problem.setType(URI.create("/problems/" + code.slug()));
        problem.setTitle(code.title());
        problem.setDetail(detail == null || detail.isBlank() ? code.title() : detail);
        problem.setProperty("code", code.slug());
        String requestId = RequestIdFilter.currentRequestId(request);
        if (requestId != null) {
            problem.setProperty("requestId", requestId);
        }
        return problem;
    }

    /**
     * The problem for {@code exception}, with its extensions (such as {@code errors}).
     */
    public static ProblemDetail of(ApiException exception, @Nullable HttpServletRequest request) {
        ProblemDetail problem = of(exception.code(), exception.getMessage(), request);
        for (Map.Entry<String, @Nullable Object> extension : exception.extensions().entrySet()) {
            problem.setProperty(extension.getKey(), extension.getValue());
        }
        return problem;
    }

    /**
     * The answer carrying {@code problem}: its status, {@code application/problem+json}.
     */
    public static ResponseEntity<Object> response(ProblemDetail problem) {
        return ResponseEntity.status(problem.getStatus()).contentType(PROBLEM_JSON).body(problem);
    }

}
