package dev.collab.access;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Without {@code collab.auth.oidc.*} nothing of the OIDC login is active: its endpoints
 * are {@code 404 not-found}, and the login page learns that there is no provider.
 */
@IntegrationTest
class OidcOffTest {

    @Autowired
    Api api;

    @Test
    void theOidcEndpointsAreNotFound() {
        for (String path : new String[] { "/api/auth/oidc", "/api/auth/oidc/callback?code=x&state=y" }) {
            for (Api client : new Api[] { api.anonymous(), api }) {
                Api.Response response = client.get(path);
                assertThat(response.status()).as(path).isEqualTo(404);
                assertThat(response.contentType()).startsWith("application/problem+json");
                assertThat(response.json().get("code").asString()).isEqualTo("not-found");
                assertThat(response.json().get("requestId")).isNotNull();
            }
        }
    }

    @Test
    void theConfigSaysThereIsNoProvider() {
        Api.Response config = api.anonymous().get("/api/auth/config");
        assertThat(config.status()).isEqualTo(200);
        assertThat(config.json().get("oidc").isNull()).isTrue();
    }

}
