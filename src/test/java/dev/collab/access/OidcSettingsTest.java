package dev.collab.access;

import dev.collab.support.SettingsStartup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code collab.auth.oidc.*}: all three or none, an https issuer (http for loopback
 * only), openid among the scopes; a bad set stops the start with one clear report that
 * never shows the client secret.
 */
@ExtendWith(OutputCaptureExtension.class)
class OidcSettingsTest {

    @Test
    void aPartialSetStopsTheStartWithoutShowingTheSecret(CapturedOutput output) {
        assertThat(SettingsStartup.failureReport(output, "--collab.auth.oidc.issuer-uri=https://login.example.com",
                "--collab.auth.oidc.client-secret=s3cr3t-value"))
            .contains("collab.auth.oidc.issuer-uri, collab.auth.oidc.client-id and collab.auth.oidc.client-secret "
                    + "are set together")
            .doesNotContain("s3cr3t-value")
            .doesNotContain("\tat ");
    }

    @Test
    void theIssuerIsHttpsOrLoopbackAndTheScopesHaveOpenid(CapturedOutput output) {
        String[] client = { "--collab.auth.oidc.client-id=collab", "--collab.auth.oidc.client-secret=s3cr3t-value" };
        assertThat(SettingsStartup.failureReport(output,
                concat("--collab.auth.oidc.issuer-uri=http://login.example.com", client)))
            .contains("collab.auth.oidc.issuer-uri must be an https URL")
            .doesNotContain("s3cr3t-value");
        assertThat(SettingsStartup.failureReport(output,
                concat("--collab.auth.oidc.issuer-uri=https://login.example.com",
                        concat("--collab.auth.oidc.scopes=profile,email", client))))
            .contains("collab.auth.oidc.scopes must include openid");
        assertThat(new AuthProperties.Oidc("http://localhost:9000", "collab", "x", java.util.List.of("openid"), null,
                java.util.List.of())
            .configured()).isTrue();
        assertThat(new AuthProperties.Oidc(" ", "", null, java.util.List.of("openid"), "", java.util.List.of())
            .configured()).isFalse();
        assertThat(new AuthProperties.Oidc("https://login.example.com/t/v2.0", "c", "secret-value",
                java.util.List.of("openid"), null, java.util.List.of())
            .toString()).doesNotContain("secret-value");
    }

    private static String[] concat(String first, String... rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

}
