package dev.collab.access;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Refuses an {@code /api/**} request whose host name (the {@code Host} header, or behind
 * a trusted proxy {@code X-Forwarded-Host}) is not one this server is known by:
 * {@code 403 csrf-failed}. Against DNS rebinding: a page at {@code evil.example} that
 * resolves to this server has an Origin equal to its Host, so only a list of names tells
 * it apart. The names are {@code collab.auth.allowed-hosts}, or when that is empty
 * localhost, 127.0.0.1, [::1] and the hosts of {@code collab.auth.allowed-origins};
 * {@code *} turns the check off. Behind a proxy ({@code collab.auth.trusted-proxies} set)
 * an empty list means no check: the public name is not known to the server, and a
 * deployment must not break on upgrade (docs/operations.md says to set it). Actuator is
 * not checked (the ALB's health checks use the target's address as Host).
 */
final class HostCheck extends OncePerRequestFilter {

    private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "[::1]");

    private final Set<String> allowed;

    private final boolean any;

    HostCheck(List<String> allowedHosts, List<String> allowedOrigins, List<String> trustedProxies) {
        this.any = allowedHosts.contains("*") || (allowedHosts.isEmpty() && !trustedProxies.isEmpty());
        this.allowed = allowedHosts.isEmpty()
                ? Stream.concat(LOOPBACK.stream(), allowedOrigins.stream().map(HostCheck::hostOfOrigin))
                    .filter(host -> !host.isEmpty())
                    .collect(java.util.stream.Collectors.toUnmodifiableSet())
                : allowedHosts.stream()
                    .map(host -> host.toLowerCase(Locale.ROOT))
                    .collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (!any && SecurityConfiguration.isApi(request) && !allowed.contains(host(request))) {
            SecurityProblems.csrfFailed(request, response,
                    "Requests for this host name are not accepted (see collab.auth.allowed-hosts).");
            return;
        }
        chain.doFilter(request, response);
    }

    /** The host name the request was made to, in lower case, IPv6 in brackets. */
    private static String host(HttpServletRequest request) {
        String name = request.getServerName().toLowerCase(Locale.ROOT);
        return name.contains(":") && !name.startsWith("[") ? "[" + name + "]" : name;
    }

    private static String hostOfOrigin(String origin) {
        String normalized = OriginCheck.normalize(origin);
        int scheme = normalized.indexOf("://");
        if (scheme < 0) {
            return "";
        }
        String authority = normalized.substring(scheme + 3);
        int port = authority.lastIndexOf(':');
        return port > authority.lastIndexOf(']') ? authority.substring(0, port) : authority;
    }

}
