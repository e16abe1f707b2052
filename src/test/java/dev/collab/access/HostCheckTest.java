package dev.collab.access;

import java.util.List;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Host allow-list ({@code collab.auth.allowed-hosts}) with its default, on a server
 * reached directly (no trusted proxy), as in built-in mode.
 */
@IntegrationTest
class HostCheckTest {

    @Autowired
    Api api;

    /**
     * DNS rebinding: a page at evil.example resolving to this server sends its own name
     * as Host (and as Origin): the API refuses it; Actuator is not affected.
     */
    @Test
    void anApiRequestForAForeignHostNameIsRefused() {
        int port = java.net.URI.create(api.base()).getPort();
        for (String host : List.of("evil.example:" + port, "evil.example")) {
            dev.collab.support.RawHttp.Response refused = dev.collab.support.RawHttp
                .exchange(port, new dev.collab.support.RawHttp.Request("POST", "/api/auth/login",
                        List.<String[]>of(new String[] { "Host", host }, new String[] { "Origin", "http://" + host },
                                new String[] { "Content-Type", "application/json" },
                                new String[] { "Connection", "close" }),
                        "{\"login\":\"admin\",\"password\":\"x\"}".getBytes()), 20_000);
            assertThat(refused.status()).as(refused.toString()).isEqualTo(403);
            assertThat(refused.body()).contains("csrf-failed");
        }
        for (String host : List.of("localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port)) {
            dev.collab.support.RawHttp.Response fine = dev.collab.support.RawHttp.exchange(port,
                    new dev.collab.support.RawHttp.Request("GET", "/api/me",
                            List.<String[]>of(new String[] { "Host", host }, new String[] { "Connection", "close" }),
                            null),
                    20_000);
            // 401 or, with the test support's admin token, 200: not refused for its Host.
            assertThat(fine.status()).as(host + ": " + fine).isIn(200, 401);
        }
        dev.collab.support.RawHttp.Response health = dev.collab.support.RawHttp.exchange(port,
                new dev.collab.support.RawHttp.Request("GET", "/actuator/health/liveness", List.<String[]>of(
                        new String[] { "Host", "10.0.3.7:" + port }, new String[] { "Connection", "close" }), null),
                20_000);
        assertThat(health.status()).as(health.toString()).isEqualTo(200);
    }

}
