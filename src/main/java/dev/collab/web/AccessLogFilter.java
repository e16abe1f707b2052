package dev.collab.web;

import java.io.IOException;

import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Writes the {@link AccessLog} line of every request when it completes: at the end of the
 * request's own dispatch, or, for an async request, when the async request completes.
 * Just inside {@link RequestIdFilter}, so the request id is known.
 * <p>
 * A status set with {@code sendError} is final when the dispatch returns, so that
 * dispatch logs it and the error dispatch that renders the problem body does not log
 * again. An error dispatch of a request that never passed here (one the container
 * rejected on its own) is logged itself.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1)
class AccessLogFilter extends OncePerRequestFilter {

    private static final String STARTED = AccessLogFilter.class.getName() + ".started";

    private final AccessLog accessLog;

    AccessLogFilter(AccessLog accessLog) {
        this.accessLog = accessLog;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        boolean errorDispatch = request.getDispatcherType() == DispatcherType.ERROR;
        if (errorDispatch && request.getAttribute(STARTED) != null) {
            chain.doFilter(request, response);
            return;
        }
        long started = System.nanoTime();
        request.setAttribute(STARTED, started);
        boolean failed = true;
        try {
            chain.doFilter(request, response);
            failed = false;
        }
        finally {
            if (!failed && request.isAsyncStarted()) {
                request.getAsyncContext().addListener(new Completion(request, response, started));
            }
            else {
                // An exception that escapes becomes a 500 error page, unless the answer
                // was already on its way.
                int status = failed && !response.isCommitted() ? HttpServletResponse.SC_INTERNAL_SERVER_ERROR
                        : response.getStatus();
                log(request, status, started);
            }
        }
    }

    @Override
    protected boolean shouldNotFilterErrorDispatch() {
        return false;
    }

    private void log(HttpServletRequest request, int status, long started) {
        String path = request.getDispatcherType() == DispatcherType.ERROR
                && request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI) instanceof String uri ? uri
                        : request.getRequestURI();
        accessLog.completed(RequestIdFilter.currentRequestId(request), request.getMethod(), path, status,
                (System.nanoTime() - started) / 1_000_000);
    }

    /** Logs an async request once it completes, whichever thread completes it. */
    private final class Completion implements AsyncListener {

        private final HttpServletRequest request;

        private final HttpServletResponse response;

        private final long started;

        Completion(HttpServletRequest request, HttpServletResponse response, long started) {
            this.request = request;
            this.response = response;
            this.started = started;
        }

        @Override
        public void onComplete(AsyncEvent event) {
            log(request, response.getStatus(), started);
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // A new async cycle of the same request: stay registered for its completion.
            event.getAsyncContext().addListener(this);
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            // onComplete follows
        }

        @Override
        public void onError(AsyncEvent event) {
            // onComplete follows
        }

    }

}
