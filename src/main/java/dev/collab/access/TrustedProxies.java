package dev.collab.access;

import java.io.IOException;
import java.util.List;
import java.util.regex.Pattern;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.security.web.util.matcher.IpAddressMatcher;
import org.springframework.web.filter.ForwardedHeaderFilter;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Forwarded headers ({@code X-Forwarded-For/-Proto/-Host}, {@code Forwarded}) count only
 * when the direct peer is one of {@code collab.auth.trusted-proxies} (the load balancer);
 * from anyone else they are ignored. The client address is then the right-most
 * {@code X-Forwarded-For} entry that is not itself a trusted proxy: the ALB appends the
 * address it saw, so every entry left of it is whatever the client sent. Neither Jetty's
 * {@code ForwardedRequestCustomizer} nor Spring's {@link ForwardedHeaderFilter} can be
 * told whom to trust (both take the left-most entry), hence this filter around Spring's:
 * it decides whether to apply it, and which address is the client's.
 */
final class TrustedProxies extends OncePerRequestFilter {

    /** An IP literal: anything else (a host name) is never looked up. */
    private static final Pattern IP = Pattern.compile("[0-9A-Fa-f:.]+");

    private final List<IpAddressMatcher> proxies;

    private final ForwardedHeaderFilter forwarded = new ForwardedHeaderFilter();

    TrustedProxies(List<String> cidrs) {
        this.proxies = cidrs.stream().map(IpAddressMatcher::new).toList();
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (!trusted(request.getRemoteAddr())) {
            chain.doFilter(request, response);
            return;
        }
        String client = client(request.getHeaders("X-Forwarded-For"), request.getRemoteAddr());
        forwarded.doFilter(request, response, (wrapped, answer) -> chain
            .doFilter(new ClientAddressRequest((HttpServletRequest) wrapped, client), answer));
    }

    private String client(java.util.Enumeration<String> headers, String peer) {
        List<String> entries = new java.util.ArrayList<>();
        while (headers.hasMoreElements()) {
            for (String entry : headers.nextElement().split(",")) {
                if (!entry.isBlank()) {
                    entries.add(entry.trim());
                }
            }
        }
        for (int i = entries.size() - 1; i >= 0; i--) {
            if (!trusted(entries.get(i))) {
                return entries.get(i);
            }
        }
        return entries.isEmpty() ? peer : entries.get(0);
    }

    boolean trusted(String address) {
        if (address == null || !IP.matcher(address).matches()) {
            return false;
        }
        for (IpAddressMatcher proxy : proxies) {
            try {
                if (proxy.matches(address)) {
                    return true;
                }
            }
            catch (IllegalArgumentException e) {
                // Not an address after all (such as "1:2:3"): not a proxy of ours.
            }
        }
        return false;
    }

    @Override
    protected boolean shouldNotFilterAsyncDispatch() {
        return false;
    }

    @Override
    protected boolean shouldNotFilterErrorDispatch() {
        return false;
    }

    /** The request as the client made it, seen through the trusted proxy. */
    private static final class ClientAddressRequest extends HttpServletRequestWrapper {

        private final String client;

        ClientAddressRequest(HttpServletRequest request, String client) {
            super(request);
            this.client = client;
        }

        @Override
        public String getRemoteAddr() {
            return client;
        }

        @Override
        public String getRemoteHost() {
            return client;
        }

    }

}
