package dev.collab.access;

import java.util.List;
import java.util.Map;

import dev.collab.api.ProblemResponses;
import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.security.SecurityRequirements;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.web.csrf.CsrfAuthenticationStrategy;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.security.web.csrf.CsrfTokenRepository;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** Login, logout, the first-admin setup and {@code GET /api/me}: see docs/api.md. */
@RestController
class AuthController {

    private final Users users;

    private final Passwords passwords;

    private final LoginThrottle throttle;

    private final SessionUsers sessions;

    private final CsrfTokenRepository csrfTokens;

    private final ProjectAccess access;

    private final Bootstrap bootstrap;

    private final Audit audit;

    private final AuthCache cache;

    private final LoginMetrics metrics;

    AuthController(Users users, Passwords passwords, LoginThrottle throttle, SessionUsers sessions,
            CsrfTokenRepository csrfTokens, ProjectAccess access, Bootstrap bootstrap, Audit audit, AuthCache cache,
            LoginMetrics metrics) {
        this.cache = cache;
        this.metrics = metrics;
        this.users = users;
        this.passwords = passwords;
        this.throttle = throttle;
        this.sessions = sessions;
        this.csrfTokens = csrfTokens;
        this.access = access;
        this.bootstrap = bootstrap;
        this.audit = audit;
    }

    /**
     * Password login. The same {@code 401 invalid-credentials}, after the same password
     * check, for an unknown login, a wrong password and a disabled user, so none of them
     * can be told apart.
     */
    @Operation(summary = "Log in with login and password (sets the session cookie)")
    @SecurityRequirements
    @ApiResponse(responseCode = "200", description = "Logged in: the session cookie and the XSRF-TOKEN cookie are set")
    @ProblemResponses({ ProblemCode.INVALID_CREDENTIALS, ProblemCode.TOO_MANY_ATTEMPTS })
    @PostMapping(path = "/api/auth/login", consumes = "application/json", produces = "application/json")
    ResponseEntity<UserView> login(@Valid @RequestBody Login body, HttpServletRequest request,
            HttpServletResponse response) {
        String address = ClientAddress.of(request);
        // Counted and claimed before the password check (atomically, so a burst cannot
        // outrun the limit).
        LoginThrottle.Attempt attempt = throttle.claim(body.login(), address);
        java.time.Duration wait = attempt.retryAfter();
        if (wait != null) {
            audit.record(null, "login.throttled", "user:" + body.login(), Map.of());
            metrics.throttled();
            throw tooMany(wait, response);
        }
        @Nullable User user = users.findByLogin(body.login()).orElse(null);
        boolean matched = passwords.matches(body.password(), user == null ? null : user.passwordHash());
        // An unknown login never matched (no hash); the null check only says so to
        // NullAway.
        if (user == null || !matched || user.disabled()) {
            audit.record(null, "login.failed", "user:" + body.login(), Map.of());
            // Failed, also when a locked login's one check from a clean address failed
            // (answered 429 below): a password was checked, and it was wrong.
            metrics.failed();
            java.time.Duration locked = attempt.loginLocked();
            if (locked != null) {
                // The one check a clean address gets for a locked login failed: the
                // answer of a locked login.
                throw tooMany(locked, response);
            }
            throw new ApiException(ProblemCode.INVALID_CREDENTIALS, "Wrong login or password.");
        }
        throttle.succeeded(body.login(), address, attempt);
        // A new session id on every login (session fixation): renew an existing session,
        // or start one.
        if (request.getSession(false) != null) {
            request.changeSessionId();
        }
        else {
            request.getSession(true);
        }
        sessions.store(user.id(), request, response);
        // A new XSRF-TOKEN for the new identity (the SPA reads the cookie and echoes it
        // in X-XSRF-TOKEN).
        var authentication = new UserAuthentication(user.current(), null);
        new CsrfAuthenticationStrategy(csrfTokens).onAuthentication(authentication, request, response);
        if (request.getAttribute(CsrfToken.class.getName()) instanceof CsrfToken token) {
            token.getToken();
        }
        audit.record(user.login(), "login", "user:" + user.login(), Map.of("method", "password"));
        metrics.succeeded();
        return ResponseEntity.ok(user.view());
    }

    private static ApiException tooMany(java.time.Duration wait, HttpServletResponse response) {
        long seconds = Math.max(1, (wait.toMillis() + 999) / 1000);
        // Set on the response itself: the problem handler's answer keeps it.
        response.setHeader("Retry-After", Long.toString(seconds));
        return new ApiException(ProblemCode.TOO_MANY_ATTEMPTS,
                "Too many failed logins; try again in " + seconds + " s.");
    }

    @Operation(summary = "Log out: the session is deleted on every replica")
    @ApiResponse(responseCode = "204", description = "Logged out")
    @PostMapping("/api/auth/logout")
    ResponseEntity<Void> logout(HttpServletRequest request, HttpServletResponse response) {
        CurrentUser user = access.currentUser();
        HttpSession session = request.getSession(false);
        if (session != null) {
            session.invalidate();
        }
        csrfTokens.saveToken(null, request, response);
        SecurityContextHolder.clearContext();
        // The session itself is not cached (SessionUsers re-reads it); the user's cached
        // memberships go too, so a logout leaves nothing of the user cached anywhere.
        cache.userChanged(user.id());
        audit.record(user.login(), "logout", "user:" + user.login(), Map.of());
        return ResponseEntity.noContent().build();
    }

    @Operation(summary = "Create the first server admin with the setup link's token (once)")
    @ProblemResponses(ProblemCode.NOT_FOUND)
    @SecurityRequirements
    @ApiResponse(responseCode = "201", description = "The first admin; log in with the chosen login and password")
    @PostMapping(path = "/api/auth/setup", consumes = "application/json", produces = "application/json")
    ResponseEntity<UserView> setup(@Valid @RequestBody Setup body) {
        User admin = bootstrap.setUp(body.token(), body.login(), body.displayName(), body.password());
        return ResponseEntity.status(HttpStatus.CREATED).body(admin.view());
    }

    @Operation(summary = "The caller, with their projects and roles")
    @GetMapping(path = "/api/me", produces = "application/json")
    Me me(HttpServletRequest request) {
        CurrentUser current = access.currentUser();
        User user = users.find(current.id())
            .orElseThrow(() -> new ApiException(ProblemCode.UNAUTHENTICATED, "Log in or send a token."));
        if (request.getAttribute(CsrfToken.class.getName()) instanceof CsrfToken token) {
            // A browser that lost its XSRF-TOKEN cookie gets it back here.
            token.getToken();
        }
        UserView view = user.view();
        return new Me(view.id(), view.login(), view.displayName(), view.email(), view.admin(), view.disabled(),
                view.createdAt(), access.memberships(current));
    }

    /** {@code POST /api/auth/login}. */
    record Login(@NotNull @Size(max = 200) String login, @NotNull @Size(max = 1000) String password) {

        @Override
        public String toString() {
            return "Login[login=" + login + "]";
        }
    }

    /** {@code POST /api/auth/setup}. */
    record Setup(@NotNull @Size(max = 200) String token, @NotNull @Schema(pattern = Users.LOGIN_PATTERN) String login,
            @Size(max = 200) @Schema(types = {
                    "string", "null" }) String displayName,
            @NotNull @Size(min = Passwords.MIN_LENGTH, max = Passwords.MAX_LENGTH) String password){

        @Override
        public String toString() {
            return "Setup[login=" + login + "]";
        }
    }

    /** {@code GET /api/me}: the User JSON plus the caller's projects. */
    record Me(java.util.UUID id, String login, String displayName, @Schema(types = {
            "string", "null" }) @Nullable String email, boolean admin, boolean disabled, java.time.Instant createdAt,
            List<ProjectAccess.Membership> projects){
    }

}
