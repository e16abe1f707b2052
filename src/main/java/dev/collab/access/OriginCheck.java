package dev.collab.access;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpHeaders;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Refuses a write (to any path: the raw URI is not what the application routes on, so a
 * path scope would be a way around it) whose {@code Origin} (when a browser sent one) is
 * neither the server's own nor one of {@code collab.auth.allowed-origins}:
 * {@code 403 csrf-failed}. Bearer requests are not checked (a token is never sent by a
 * browser on its own). The server's own origin is the scheme, host and port the request
 * was made to: behind the ALB from {@code X-Forwarded-Proto}/{@code X-Forwarded-Host},
 * which count only from {@code collab.auth.trusted-proxies} ({@link TrustedProxies}) and
 * which a page in a browser cannot set.
 */
final class OriginCheck extends OncePerRequestFilter {

    private static final Set<String> SAFE = Set.of("GET", "HEAD", "OPTIONS", "TRACE");

    private final List<String> allowed;

    OriginCheck(List<String> allowedOrigins) {
        this.allowed = allowedOrigins.stream().map(OriginCheck::normalize).toList();
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String origin = request.getHeader(HttpHeaders.ORIGIN);
        if (origin != null && !SAFE.contains(request.getMethod()) && !SecurityConfiguration.isBearer(request)
                && !trusted(origin, request)) {
            SecurityProblems.csrfFailed(request, response,
                    "Writes from this origin are not accepted (see collab.auth.allowed-origins).");
            return;
        }
        chain.doFilter(request, response);
    }

    private boolean trusted(String origin, HttpServletRequest request) {
        String given = normalize(origin);
        // An unreadable Origin (such as "null", from a sandboxed frame) is never trusted.
        return !given.isEmpty() && (given.equals(own(request)) || allowed.contains(given));
    }

    static String own(HttpServletRequest request) {
        return normalize(request.getScheme() + "://" + request.getServerName() + ":" + request.getServerPort());
    }

    /**
     * {@code scheme://host[:port]} in lower case, without the scheme's default port; ""
     * if unreadable.
     */
    static String normalize(String origin) {
        try {
            URI uri = URI.create(origin.trim());
            if (uri.getScheme() == null || uri.getHost() == null) {
                return "";
            }
            String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
            int port = uri.getPort();
            boolean defaultPort = port == -1 || (scheme.equals("http") && port == 80)
                    || (scheme.equals("https") && port == 443);
            return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port);
        }
        catch (IllegalArgumentException e) {
            return "";
        }
    }

}
