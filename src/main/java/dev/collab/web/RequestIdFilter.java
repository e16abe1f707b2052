package dev.collab.web;

import java.io.IOException;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Gives every request an id: the caller's {@code X-Request-Id} when it is sane (an ALB or
 * a proxy may set one), otherwise a new one. It is echoed in the response header, put in
 * the log context and carried in every problem body, so an error report leads to its log
 * lines.
 * <p>
 * The error dispatch after a {@code sendError} and the dispatches of an async request run
 * again through this filter: they reuse the id the request already has, so every log line
 * and the problem body of one request share one id.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
class RequestIdFilter extends OncePerRequestFilter {

    static final String HEADER = "X-Request-Id";
    static final String MDC_KEY = "requestId";
    static final String ATTRIBUTE = RequestIdFilter.class.getName();

    private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String requestId = request.getAttribute(ATTRIBUTE) instanceof String known ? known
                : requestIdFor(request.getHeader(HEADER));
        request.setAttribute(ATTRIBUTE, requestId);
        if (!response.isCommitted()) {
            response.setHeader(HEADER, requestId);
        }
        MDC.put(MDC_KEY, requestId);
        try {
            chain.doFilter(request, response);
        }
        finally {
            MDC.remove(MDC_KEY);
        }
    }

    @Override
    protected boolean shouldNotFilterErrorDispatch() {
        return false;
    }

    @Override
    protected boolean shouldNotFilterAsyncDispatch() {
        return false;
    }

    /** The caller's id when it is sane, otherwise a new one. */
    static String requestIdFor(@Nullable String given) {
        return given != null && SANE.matcher(given).matches() ? given : newRequestId();
    }

    /**
     * A random (version 4) UUID from {@link ThreadLocalRandom}, not
     * {@link UUID#randomUUID()}: a request id only correlates log lines and is no secret,
     * and SecureRandom was about 15 % of the CPU samples while 5,000 streams opened at
     * once (docs/performance.md, reconnect storms).
     */
    static String newRequestId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long most = (random.nextLong() & ~0xF000L) | 0x4000L;
        long least = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(most, least).toString();
    }

    static @Nullable String currentRequestId(@Nullable HttpServletRequest request) {
        Object id = request == null ? null : request.getAttribute(ATTRIBUTE);
        return id == null ? MDC.get(MDC_KEY) : id.toString();
    }

}
