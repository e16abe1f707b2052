package dev.collab.access;

import jakarta.servlet.http.HttpServletRequest;

/**
 * The client's address as the web server resolved it: behind the ALB,
 * {@code server.forward-headers-strategy=native} makes Jetty take it from
 * {@code X-Forwarded-For} (docs/operations.md says what that trusts).
 */
final class ClientAddress {

    private ClientAddress() {
    }

    static String of(HttpServletRequest request) {
        String address = request.getRemoteAddr();
        return address == null ? "unknown" : address;
    }

}
