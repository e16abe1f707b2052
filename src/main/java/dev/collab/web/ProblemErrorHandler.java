package dev.collab.web;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Jetty's last-resort error page, for requests it rejects before the application sees
 * them (a malformed percent-escape, an ambiguous encoded slash, oversized headers, a
 * broken request line): problem+json like every other error, instead of Jetty's HTML
 * page. These requests never reach {@link RequestIdFilter}, so the id is made here (the
 * caller's sane {@code X-Request-Id} or a new one): it is in the {@code X-Request-Id}
 * header, the body and the access log line. Requests too broken to parse come here too,
 * with a placeholder path (Jetty 12.1 no longer calls the deprecated-for-removal
 * {@code badMessageError}, which this class used to override).
 */
class ProblemErrorHandler extends ErrorHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemErrorHandler.class);

    private static final String PROBLEM_JSON = "application/problem+json";

    /**
     * The target Jetty gives a request whose request line, URI or head it could not
     * parse.
     */
    private static final Set<String> PLACEHOLDER_PATHS = Set.of("/badMessage", "/badURI", "/badRequest");

    private final AccessLog accessLog;

    ProblemErrorHandler(AccessLog accessLog) {
        this.accessLog = accessLog;
    }

    /**
     * Every method gets the problem body (Jetty's default writes one only for GET, POST
     * and HEAD).
     */
    @Override
    public boolean errorPageForMethod(String method) {
        return true;
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
            Callback callback) {
        if (clientGone(cause)) {
            // The client stopped sending in the middle of its request head (the idle
            // timeout or
            // the head deadline closed it): its fault, not ours, and there is no one to
            // answer.
            code = HttpStatus.REQUEST_TIMEOUT_408;
            message = "the request head was not complete in time";
            response.setStatus(code);
        }
        else if (code == HttpStatus.HTTP_VERSION_NOT_SUPPORTED_505) {
            // HTTP/0.9 or an unknown version: a malformed request, not a server fault
            // (5xx means ours).
            code = HttpStatus.BAD_REQUEST_400;
            response.setStatus(code);
        }
        String requestId = request.getAttribute(RequestIdFilter.ATTRIBUTE) instanceof String known ? known
                : RequestIdFilter.requestIdFor(request.getHeaders().get(RequestIdFilter.HEADER));
        response.getHeaders().put(RequestIdFilter.HEADER, requestId);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, PROBLEM_JSON);
        String path = request.getHttpURI().getPath();
        boolean unparsed = path == null || PLACEHOLDER_PATHS.contains(path);
        String method = unparsed ? null : request.getMethod();
        path = unparsed ? null : path;
        if (code >= 500 && cause != null) {
            String previous = MDC.get(RequestIdFilter.MDC_KEY);
            MDC.put(RequestIdFilter.MDC_KEY, requestId);
            try {
                log.error("Unexpected error in the web server for {} {} (requestId {})", method, path, requestId,
                        cause);
            }
            finally {
                restore(previous);
            }
        }
        accessLog.completed(requestId, method, path, code,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - request.getBeginNanoTime()),
                code < 500 ? message : null);
        response.write(true, ByteBuffer.wrap(body(code, requestId).getBytes(StandardCharsets.UTF_8)), callback);
    }

    /**
     * The connection failed under the request (end of stream, timeout) rather than
     * anything failing here.
     */
    private static boolean clientGone(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof EofException || t instanceof TimeoutException) {
                return true;
            }
        }
        return false;
    }

    private static void restore(String previous) {
        if (previous == null) {
            MDC.remove(RequestIdFilter.MDC_KEY);
        }
        else {
            MDC.put(RequestIdFilter.MDC_KEY, previous);
        }
    }

    /**
     * The problem body; {@code requestId} is safe to inline (RequestIdFilter only lets
     * sane ids through).
     */
    static String body(int status, String requestId) {
        ProblemCode code = ProblemCode.forStatus(status);
        String detail = switch (status) {
            case 400 -> "The request line, path or headers are malformed.";
            case 408 -> "The request head was not complete in time.";
            case 417 -> "Only Expect: 100-continue is supported.";
            case 414 -> "The request URI is too long.";
            case 431 -> "The request headers are too large.";
            default -> code.title() + ".";
        };
        return "{\"type\":\"/problems/" + code.slug() + "\",\"title\":\"" + code.title() + "\",\"status\":" + status
                + ",\"detail\":\"" + detail + "\",\"code\":\"" + code.slug() + "\",\"requestId\":\"" + requestId
                + "\"}";
    }

}
