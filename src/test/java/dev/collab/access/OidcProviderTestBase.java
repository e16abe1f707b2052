package dev.collab.access;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The server's OIDC settings pointing at the test provider ({@link OidcTestProvider}),
 * named "Test Provider". One method for all the classes extending this one, so that they
 * share one cached server context (each class's own {@code @DynamicPropertySource} method
 * made a context of its own: about 10 s of CI each).
 */
abstract class OidcProviderTestBase {

    @DynamicPropertySource
    static void provider(DynamicPropertyRegistry registry) {
        registry.add("collab.auth.oidc.issuer-uri", OidcTestProvider::issuer);
        registry.add("collab.auth.oidc.client-id", () -> OidcTestProvider.CLIENT_ID);
        registry.add("collab.auth.oidc.client-secret", () -> OidcTestProvider.CLIENT_SECRET);
        registry.add("collab.auth.oidc.name", () -> "Test Provider");
    }

}
