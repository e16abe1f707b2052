package dev.collab.web;

import java.io.IOException;
import java.io.PrintWriter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Turns an error status that a handler set without writing a body into the problem+json
 * every other error gets. Actuator does this (an unknown health component is an empty
 * {@code 404}); our own handlers never do. The status is held back from being committed
 * until the handler either writes a body (then it is the handler's answer, for example a
 * {@code 503} health report) or returns without one (then the error page renders the
 * problem).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 6)
class EmptyErrorBodyFilter extends OncePerRequestFilter {

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Watched watched = new Watched(response);
        chain.doFilter(request, watched);
        if (watched.emptyError() && !request.isAsyncStarted() && !response.isCommitted()) {
            request.setAttribute(ProblemErrorController.DETAIL_ATTRIBUTE, watched.status == 404
                    ? "No such resource: " + request.getMethod() + " " + request.getRequestURI() : null);
            response.sendError(watched.status);
        }
    }

    private static final class Watched extends HttpServletResponseWrapper {

        private int status = SC_OK;

        private boolean body;

        Watched(HttpServletResponse response) {
            super(response);
        }

        boolean emptyError() {
            return status >= 400 && !body;
        }

        @Override
        public void setStatus(int status) {
            this.status = status;
            super.setStatus(status);
        }

        @Override
        public void sendError(int status, String message) throws IOException {
            body = true;
            super.sendError(status, message);
        }

        @Override
        public void sendError(int status) throws IOException {
            body = true;
            super.sendError(status);
        }

        @Override
        public ServletOutputStream getOutputStream() throws IOException {
            body = true;
            return super.getOutputStream();
        }

        @Override
        public PrintWriter getWriter() throws IOException {
            body = true;
            return super.getWriter();
        }

        @Override
        public void flushBuffer() throws IOException {
            if (!emptyError()) {
                super.flushBuffer();
            }
        }

    }

}
