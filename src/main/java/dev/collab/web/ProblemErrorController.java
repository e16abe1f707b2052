package dev.collab.web;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The error page for everything that fails outside a controller (filters, the servlet
 * container, a request the container rejects): the same problem+json as everywhere else,
 * instead of Boot's default error JSON or an HTML page.
 */
@RestController
class ProblemErrorController implements ErrorController {

    private static final Logger log = LoggerFactory.getLogger(ProblemErrorController.class);
    static final String DETAIL_ATTRIBUTE = ProblemErrorController.class.getName() + ".detail";
    static final String CODE_ATTRIBUTE = ProblemErrorController.class.getName() + ".code";

    /** An {@link ApiException} a filter rejected the request with; rendered as is. */
    static final String EXCEPTION_ATTRIBUTE = ProblemErrorController.class.getName() + ".exception";

    @RequestMapping("${server.error.path:/error}")
    ResponseEntity<Object> error(HttpServletRequest request) {
        Object statusAttribute = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        if (statusAttribute == null) {
            // Someone asked for /error itself: not a page of ours.
            return Problems.response(Problems.of(ProblemCode.NOT_FOUND,
                    "No such resource: " + request.getMethod() + " " + request.getRequestURI(), request));
        }
        if (request.getAttribute(EXCEPTION_ATTRIBUTE) instanceof ApiException rejected) {
            ProblemDetail problem = Problems.of(rejected, request);
            if (request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI) instanceof String uri) {
                problem.setInstance(java.net.URI.create(uri));
            }
            return Problems.response(problem);
        }
        int status = statusAttribute instanceof Integer code ? code : 500;
        Object failure = request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
        ProblemDetail clientError = failure instanceof Throwable throwable
                ? ProblemHandler.clientError(throwable, request) : null;
        if (clientError != null) {
            // Thrown in a filter, but the client's doing (an undecodable query or body):
            // no ERROR line.
            if (request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI) instanceof String uri) {
                clientError.setInstance(java.net.URI.create(uri));
            }
            return Problems.response(clientError);
        }
        ProblemCode code = request.getAttribute(CODE_ATTRIBUTE) instanceof ProblemCode given ? given
                : ProblemCode.forStatus(status);
        Object detail = request.getAttribute(DETAIL_ATTRIBUTE);
        ProblemDetail problem = Problems.of(code, detail == null ? null : detail.toString(), request);
        if (request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI) instanceof String uri) {
            problem.setInstance(java.net.URI.create(uri));
        }
        if (failure instanceof Throwable throwable) {
            log.error("Unexpected error outside a controller for {} (requestId {})",
                    request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI),
                    problem.getProperties() == null ? null : problem.getProperties().get("requestId"), throwable);
        }
        if (status != code.status().value() && status < 500) {
            // Keep the container's status (e.g. 414, 431) when we have no closer code for
            // it.
            problem.setStatus(status);
        }
        return Problems.response(problem);
    }

}
