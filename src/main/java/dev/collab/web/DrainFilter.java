package dev.collab.web;

import java.io.IOException;
import java.util.Set;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.event.EventListener;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Once this instance stops taking traffic (shutdown has begun and readiness is
 * OUT_OF_SERVICE), writes that still reach it on open connections are refused with
 * {@code 503 shutting-down} and a {@code Retry-After}, so clients retry on another
 * instance instead of starting work that the drain would cut short. Reads are still
 * served.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 20)
class DrainFilter extends OncePerRequestFilter {

    private static final Set<String> WRITES = Set.of("POST", "PUT", "PATCH", "DELETE");

    private static final Logger log = LoggerFactory.getLogger(DrainFilter.class);

    private volatile boolean draining;

    /**
     * Spring Boot publishes REFUSING_TRAFFIC as the context starts closing, before any
     * lifecycle stops: the first step of the shutdown order (ops.ShutdownOrder), said
     * once in the log.
     */
    @EventListener
    void onReadiness(AvailabilityChangeEvent<ReadinessState> event) {
        boolean refusing = event.getState() == ReadinessState.REFUSING_TRAFFIC;
        if (refusing && !draining) {
            log.info("Refusing writes from now on (readiness is {}); reads are still served", event.getState());
        }
        draining = refusing;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (draining && WRITES.contains(request.getMethod()) && request.getRequestURI().startsWith("/api/")) {
            request.setAttribute(ProblemErrorController.DETAIL_ATTRIBUTE,
                    "This instance is shutting down; retry the request, it will reach another instance.");
            request.setAttribute(ProblemErrorController.CODE_ATTRIBUTE, ProblemCode.SHUTTING_DOWN);
            response.setHeader("Retry-After", "1");
            response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
            return;
        }
        chain.doFilter(request, response);
    }

}
