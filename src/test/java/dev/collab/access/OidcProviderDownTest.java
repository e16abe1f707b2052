package dev.collab.access;

import java.net.URI;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OIDC provider is discovered at the first login, not at startup: a server whose
 * provider cannot be reached starts, and a login answers a clear {@code 503} problem (one
 * WARN line, no ERROR) until the provider is back.
 */
@IntegrationTest
@TestPropertySource(properties = { "collab.auth.oidc.issuer-uri=http://127.0.0.1:1/unreachable",
        "collab.auth.oidc.client-id=collab", "collab.auth.oidc.client-secret=unused-secret" })
@ExtendWith(OutputCaptureExtension.class)
class OidcProviderDownTest {

    @Autowired
    Api api;

    @LocalServerPort
    int port;

    @Autowired
    dev.collab.support.MutableClock clock;

    @Test
    void theServerStartsAndALoginIsServiceUnavailable(CapturedOutput output) throws Exception {
        Api.Response start = api.anonymous().get("/api/auth/oidc");
        assertThat(start.status()).isEqualTo(503);
        assertThat(start.contentType()).startsWith("application/problem+json");
        assertThat(start.json().get("code").asString()).isEqualTo("service-unavailable");
        assertThat(start.text()).doesNotContain("unused-secret");

        OidcLoginTest.Browser browser = new OidcLoginTest.Browser();
        var callback = browser.get(URI.create("http://127.0.0.1:" + port + "/api/auth/oidc/callback?code=x&state=y"));
        assertThat(callback.statusCode()).isEqualTo(302);
        assertThat(callback.headers().firstValue("Location").orElseThrow()).endsWith("/login?error=oidc");

        assertThat(api.anonymous().get("/api/auth/config").json().get("oidc").get("name").asString())
            .isEqualTo("127.0.0.1");
        assertThat(output.getAll()).contains("The OIDC provider's discovery document cannot be read")
            .doesNotContain("unused-secret");
        // The provider is asked at most every few seconds: 503 at once meanwhile, the
        // provider not asked (no second WARN line; review 13b-oidc #6).
        long asked = discoveries(output);
        clock.freezeAt(java.time.Instant.now().plus(java.time.Duration.ofDays(1)));
        try {
            assertThat(api.anonymous().get("/api/auth/oidc").status()).isEqualTo(503);
            assertThat(discoveries(output)).isEqualTo(asked + 1);
            for (int i = 0; i < 3; i++) {
                assertThat(api.anonymous().get("/api/auth/oidc").status()).isEqualTo(503);
            }
            assertThat(discoveries(output)).isEqualTo(asked + 1);

            clock.advance(java.time.Duration.ofSeconds(11));
            assertThat(api.anonymous().get("/api/auth/oidc").status()).isEqualTo(503);
            assertThat(discoveries(output)).isEqualTo(asked + 2);
        }
        finally {
            clock.release();
        }
        assertThat(output.getAll().lines().filter(line -> line.contains(" ERROR ") || line.startsWith("\tat ")))
            .as("ERROR lines")
            .isEmpty();
    }

    private static long discoveries(CapturedOutput output) {
        return output.getAll()
            .lines()
            .filter(line -> line.contains("The OIDC provider's discovery document cannot be read"))
            .count();
    }

}
