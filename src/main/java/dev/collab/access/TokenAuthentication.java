package dev.collab.access;

import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.server.resource.InvalidBearerTokenException;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthenticationToken;
import org.springframework.stereotype.Component;

/**
 * Authenticates the bearer token that Spring Security's
 * {@code BearerTokenAuthenticationFilter} took from {@code Authorization: Bearer …}: a
 * personal access token, looked up by its hash ({@link AccessTokens#authenticate}).
 * Unknown, revoked and expired tokens and disabled users all fail alike
 * ({@code 401 unauthenticated}).
 */
@Component
class TokenAuthentication implements AuthenticationProvider {

    private final AccessTokens tokens;

    TokenAuthentication(AccessTokens tokens) {
        this.tokens = tokens;
    }

    @Override
    public Authentication authenticate(Authentication authentication) {
        String token = ((BearerTokenAuthenticationToken) authentication).getToken();
        return tokens.authenticate(token)
            .orElseThrow(() -> new InvalidBearerTokenException(
                    "The token is unknown, revoked or expired, or its user is disabled."));
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return BearerTokenAuthenticationToken.class.isAssignableFrom(authentication);
    }

}
