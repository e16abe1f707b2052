package dev.collab.access;

import jakarta.servlet.http.HttpServletRequest;

/**
 * The client's address: the connection's, or behind a trusted proxy the right-most
 * untrusted {@code X-Forwarded-For} entry ({@link TrustedProxies}; docs/operations.md).
 */
final class ClientAddress {

    private ClientAddress() {
    }

    static String of(HttpServletRequest request) {
        String address = request.getRemoteAddr();
        return address == null ? "unknown" : address;
    }

}
