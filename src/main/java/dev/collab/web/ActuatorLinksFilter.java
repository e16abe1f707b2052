package dev.collab.web;

import java.io.IOException;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Makes the links of Actuator's discovery page ({@code GET /actuator}) relative
 * ({@code "/actuator/health"}): Actuator builds them from the request URL, that is from
 * whatever {@code Host} header the client sent, so a page cached or shown to someone else
 * could point anywhere. A path-absolute link works behind any proxy and echoes nothing
 * (docs/operations.md).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 7)
class ActuatorLinksFilter extends OncePerRequestFilter {

    private final String base;

    ActuatorLinksFilter(@Value("${management.endpoints.web.base-path:/actuator}") String basePath) {
        String path = basePath == null || basePath.isBlank() ? "/actuator" : basePath;
        this.base = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = request.getRequestURI();
        return !(path.equals(base) || path.equals(base + "/"));
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        chain.doFilter(new HttpServletRequestWrapper(request) {
            @Override
            public StringBuffer getRequestURL() {
                return new StringBuffer(getRequestURI());
            }
        }, response);
    }

}
