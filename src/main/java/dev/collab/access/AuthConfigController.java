package dev.collab.access;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.security.SecurityRequirements;
import org.jspecify.annotations.Nullable;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/auth/config}: how users may log in, for the browser app's login page
 * (read before anybody is logged in, so it says nothing that is not public anyway).
 */
@RestController
class AuthConfigController {

    private final AuthConfig config;

    AuthConfigController(AuthProperties properties) {
        AuthProperties.Oidc oidc = properties.oidc();
        this.config = new AuthConfig(oidc.configured() ? new OidcConfig(oidc.displayName(), OidcLogin.START) : null);
    }

    @Operation(summary = "How users may log in (open without credentials)")
    @SecurityRequirements
    @GetMapping(path = "/api/auth/config", produces = "application/json")
    AuthConfig config() {
        return config;
    }

    /** The login methods besides the password: OIDC, or null when it is not set up. */
    record AuthConfig(@Schema(types = {
            "object", "null" }) @Nullable OidcConfig oidc){
    }

    /**
     * The OIDC provider's name for the Sign in with button, and where the login starts.
     */
    record OidcConfig(String name, String loginUrl) {
    }

}
