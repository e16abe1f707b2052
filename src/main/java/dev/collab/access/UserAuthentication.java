package dev.collab.access;

import java.util.List;

import org.jspecify.annotations.Nullable;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

/**
 * An authenticated request's {@link org.springframework.security.core.Authentication}:
 * the {@link CurrentUser}, loaded fresh for this request (from the session's user id or
 * the bearer token). Never stored in a session: the session keeps only the user id
 * ({@link SessionUsers}).
 */
final class UserAuthentication extends AbstractAuthenticationToken {

    private static final long serialVersionUID = 1L;

    static final String ROLE_ADMIN = "ROLE_ADMIN";

    private final CurrentUser user;

    /** The token's id for a bearer request, null for a browser session. */
    private final java.util.@Nullable UUID tokenId;

    UserAuthentication(CurrentUser user, java.util.@Nullable UUID tokenId) {
        super(user.admin() ? List.of(new SimpleGrantedAuthority("ROLE_USER"), new SimpleGrantedAuthority(ROLE_ADMIN))
                : List.of(new SimpleGrantedAuthority("ROLE_USER")));
        this.user = user;
        this.tokenId = tokenId;
        setAuthenticated(true);
    }

    @Override
    public Object getCredentials() {
        return "";
    }

    @Override
    public CurrentUser getPrincipal() {
        return user;
    }

    @Override
    public String getName() {
        return user.login();
    }

    java.util.@Nullable UUID tokenId() {
        return tokenId;
    }

}
