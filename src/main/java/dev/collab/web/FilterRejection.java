package dev.collab.web;

import java.io.IOException;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Rejects a request from a filter (the security chain's entry point and access-denied
 * handler) with the same problem+json as a controller would: the problem is rendered by
 * the error page ({@link ProblemErrorController}), so it carries the request id and the
 * access log sees the status once. Headers set before (such as {@code WWW-Authenticate},
 * {@code Retry-After}) are kept.
 */
public final class FilterRejection {

    private FilterRejection() {
    }

    public static void reject(HttpServletRequest request, HttpServletResponse response, ApiException problem)
            throws IOException {
        if (response.isCommitted()) {
            return;
        }
        request.setAttribute(ProblemErrorController.EXCEPTION_ATTRIBUTE, problem);
        response.sendError(problem.code().status().value());
    }

}
