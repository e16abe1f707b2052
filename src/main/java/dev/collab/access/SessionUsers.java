package dev.collab.access;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import org.jspecify.annotations.Nullable;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.DeferredSecurityContext;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.context.SecurityContextImpl;
import org.springframework.security.web.context.HttpSessionSecurityContextRepository;

/**
 * The browser session's security context. The session (a Spring Session JDBC row, shared
 * by every replica) keeps only the user's id, as the name of a plain authentication
 * token; each request loads the user afresh (one primary-key read), so a disabled user's
 * next request is unauthenticated at once and a changed admin flag applies at once. A
 * session of a user who is gone or disabled is invalidated (its row deleted).
 */
final class SessionUsers extends HttpSessionSecurityContextRepository {

    private final Users users;

    SessionUsers(Users users) {
        this.users = users;
        // Only a login starts a session (it creates one before it stores the user).
        setAllowSessionCreation(false);
    }

    /**
     * Stores the logged-in user in the request's session (the caller has created or
     * renewed it).
     */
    void store(UUID userId, HttpServletRequest request, HttpServletResponse response) {
        SecurityContext context = SecurityContextHolder.createEmptyContext();
        context
            .setAuthentication(UsernamePasswordAuthenticationToken.authenticated(userId.toString(), null, List.of()));
        super.saveContext(context, request, response);
    }

    /**
     * Spring Security's filters save the request's context here (the bearer filter too):
     * the session keeps what {@link #store} put there, never a request's loaded
     * {@link UserAuthentication}.
     */
    @Override
    public void saveContext(SecurityContext context, HttpServletRequest request, HttpServletResponse response) {
        if (context.getAuthentication() == null || !(context.getAuthentication() instanceof UserAuthentication)) {
            super.saveContext(context, request, response);
        }
    }

    @Override
    public DeferredSecurityContext loadDeferredContext(HttpServletRequest request) {
        DeferredSecurityContext stored = super.loadDeferredContext(request);
        return new DeferredSecurityContext() {
            private @Nullable SecurityContext loaded;

            @Override
            public SecurityContext get() {
                if (loaded == null) {
                    loaded = current(stored.get(), request);
                }
                return loaded;
            }

            @Override
            public boolean isGenerated() {
                return get().getAuthentication() == null;
            }
        };
    }

    private SecurityContext current(SecurityContext stored, HttpServletRequest request) {
        Authentication authentication = stored.getAuthentication();
        if (authentication == null) {
            return stored;
        }
        Optional<CurrentUser> user = userId(authentication).flatMap(users::active);
        SecurityContext context = SecurityContextHolder.createEmptyContext();
        if (user.isPresent()) {
            context.setAuthentication(new UserAuthentication(user.get(), null));
        }
        else {
            HttpSession session = request.getSession(false);
            if (session != null) {
                session.invalidate();
            }
        }
        return context;
    }

    private static Optional<UUID> userId(Authentication authentication) {
        try {
            return Optional.of(UUID.fromString(authentication.getName()));
        }
        catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

}
