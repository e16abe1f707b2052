package dev.collab.access;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;

import dev.collab.web.ApiException;
import dev.collab.web.FilterRejection;
import dev.collab.web.ProblemCode;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClient;
import org.springframework.security.oauth2.client.oidc.userinfo.OidcUserRequest;
import org.springframework.security.oauth2.client.oidc.userinfo.OidcUserService;
import org.springframework.security.oauth2.client.registration.ClientRegistration;
import org.springframework.security.oauth2.client.registration.ClientRegistrationRepository;
import org.springframework.security.oauth2.client.registration.ClientRegistrations;
import org.springframework.security.oauth2.client.registration.InMemoryClientRegistrationRepository;
import org.springframework.security.oauth2.client.registration.SupplierClientRegistrationRepository;
import org.springframework.security.oauth2.client.web.AuthorizationRequestRepository;
import org.springframework.security.oauth2.client.web.DefaultOAuth2AuthorizationRequestResolver;
import org.springframework.security.oauth2.client.web.HttpSessionOAuth2AuthorizationRequestRepository;
import org.springframework.security.oauth2.client.web.OAuth2AuthorizationRequestCustomizers;
import org.springframework.security.oauth2.client.web.OAuth2AuthorizationRequestRedirectFilter;
import org.springframework.security.oauth2.client.web.OAuth2AuthorizationRequestResolver;
import org.springframework.security.oauth2.client.web.OAuth2AuthorizedClientRepository;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.endpoint.OAuth2AuthorizationRequest;
import org.springframework.security.oauth2.core.oidc.user.OidcUser;
import org.springframework.security.web.context.NullSecurityContextRepository;
import org.springframework.security.web.csrf.CsrfAuthenticationStrategy;
import org.springframework.security.web.csrf.CsrfTokenRepository;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * OIDC login (docs/api.md, "OIDC login"): Spring Security's {@code oauth2Login} with the
 * authorization code flow and PKCE, started at {@code GET /api/auth/oidc}, with the
 * provider's answer at {@code GET /api/auth/oidc/callback}. The provider's user becomes a
 * collab user through {@link OidcAccounts}, and the login ends like a password login: the
 * same session cookie, holding only the user's id ({@link SessionUsers}).
 * <p>
 * The provider is discovered lazily, on the first login, not at startup: the server
 * starts (and stays healthy) while the provider is down; a login then answers
 * {@code 503 service-unavailable} until it is back. Only configured when
 * {@code collab.auth.oidc.*} is set; otherwise none of this is in the chain.
 */
final class OidcLogin {

    static final String START = "/api/auth/oidc";

    static final String CALLBACK = "/api/auth/oidc/callback";

    private static final String REGISTRATION_ID = "oidc";

    /** The session attribute of the safe local target to return to after the login. */
    private static final String TARGET = OidcLogin.class.getName() + ".target";

    /**
     * How long a started login may take at the provider. Starting a login creates a
     * session (it holds the state and the PKCE verifier, on every replica): one that is
     * never finished goes away after this, not after the long session timeout.
     */
    private static final Duration PENDING = Duration.ofMinutes(10);

    private static final Logger log = LoggerFactory.getLogger(OidcLogin.class);

    private static final RequestMatcher START_REQUEST = PathPatternRequestMatcher.withDefaults()
        .matcher(HttpMethod.GET, START);

    private static final RequestMatcher CALLBACK_REQUEST = PathPatternRequestMatcher.withDefaults()
        .matcher(HttpMethod.GET, CALLBACK);

    private OidcLogin() {
    }

    /** Adds the OIDC login to the chain. */
    static void configure(HttpSecurity http, AuthProperties.Oidc settings, OidcAccounts accounts, SessionUsers sessions,
            CsrfTokenRepository csrfTokens, Audit audit, LoginMetrics metrics, Duration sessionTimeout)
            throws Exception {
        Clock clock = accounts.clock();
        DiscoveryBackoff backoff = new DiscoveryBackoff(clock);
        ClientRegistrationRepository registrations = new SupplierClientRegistrationRepository(
                () -> new InMemoryClientRegistrationRepository(backoff.discover(settings)));
        DefaultOAuth2AuthorizationRequestResolver defaultResolver = new DefaultOAuth2AuthorizationRequestResolver(
                registrations);
        defaultResolver.setAuthorizationRequestCustomizer(OAuth2AuthorizationRequestCustomizers.withPkce());
        // GET /api/auth/oidc itself starts the login (Spring's default is
        // /oauth2/authorization/{registrationId}): there is one provider.
        OAuth2AuthorizationRequestResolver resolver = new OAuth2AuthorizationRequestResolver() {
            @Override
            public @Nullable OAuth2AuthorizationRequest resolve(HttpServletRequest request) {
                return START_REQUEST.matches(request) ? defaultResolver.resolve(request, REGISTRATION_ID) : null;
            }

            @Override
            public @Nullable OAuth2AuthorizationRequest resolve(HttpServletRequest request, String registrationId) {
                return defaultResolver.resolve(request, registrationId);
            }
        };
        OidcUserService oidcUsers = new OidcUserService();
        http.addFilterBefore(new Discovery(registrations), OAuth2AuthorizationRequestRedirectFilter.class)
            .oauth2Login(login -> login.clientRegistrationRepository(registrations)
                // The browser app's page, where failures land: no page generated by
                // Spring.
                .loginPage("/login")
                .authorizationEndpoint(endpoint -> endpoint.authorizationRequestResolver(resolver)
                    .authorizationRequestRepository(new PendingLogins()))
                .loginProcessingUrl(CALLBACK)
                // The provider's tokens are not kept: they serve the login only.
                .authorizedClientRepository(new NoAuthorizedClients())
                .userInfoEndpoint(
                        userInfo -> userInfo.oidcUserService(request -> signIn(request, oidcUsers, accounts, settings)))
                // The session gets the user's id (SessionUsers.store), never the
                // provider's tokens and claims.
                .securityContextRepository(new NullSecurityContextRepository())
                .successHandler((request, response, authentication) -> succeeded(request, response, authentication,
                        sessions, csrfTokens, metrics, sessionTimeout))
                .failureHandler((request, response, failure) -> failed(request, response, failure, audit, metrics)));
    }

    /** The provider's metadata from its discovery document. */
    private static ClientRegistration discover(AuthProperties.Oidc settings) {
        String issuer = java.util.Objects.requireNonNull(settings.issuerUri());
        return ClientRegistrations.fromIssuerLocation(issuer)
            .registrationId(REGISTRATION_ID)
            .clientId(java.util.Objects.requireNonNull(settings.clientId()))
            .clientSecret(java.util.Objects.requireNonNull(settings.clientSecret()))
            .scope(settings.scopes())
            .redirectUri("{baseUrl}" + CALLBACK)
            .build();
    }

    private static OidcUser signIn(OidcUserRequest request, OidcUserService oidcUsers, OidcAccounts accounts,
            AuthProperties.Oidc settings) {
        OidcUser user = oidcUsers.loadUser(request);
        // Spring's ID token validation has made sure of both.
        String issuer = java.util.Objects.requireNonNull(user.getIdToken().getIssuer()).toString();
        String subject = java.util.Objects.requireNonNull(user.getSubject());
        boolean emailVerified = Boolean.TRUE.equals(user.getEmailVerified());
        if (!settings.allows(user.getEmail(), emailVerified)) {
            // collab.auth.oidc.allowed-domains: the provider knows the user, this server
            // does not let them in (and creates no user for them).
            throw new OAuth2AuthenticationException(new OAuth2Error("domain_not_allowed"),
                    "no verified email in collab.auth.oidc.allowed-domains");
        }
        OidcAccounts.Account account = accounts.signIn(issuer, subject, user.getPreferredUsername(), user.getEmail(),
                emailVerified, user.getFullName());
        return new SignedIn(user, account.id());
    }

    private static void succeeded(HttpServletRequest request, HttpServletResponse response,
            Authentication authentication, SessionUsers sessions, CsrfTokenRepository csrfTokens, LoginMetrics metrics,
            Duration sessionTimeout) throws IOException {
        if (!(authentication.getPrincipal() instanceof SignedIn user)) {
            throw new IllegalStateException("an OIDC login without its user");
        }
        // The login has renewed the session's id (session fixation); now it is a login
        // session like any other.
        HttpSession session = request.getSession();
        // A new session id at the login (session fixation), whatever Spring's strategy
        // already did.
        request.changeSessionId();
        String target = session.getAttribute(TARGET) instanceof String saved && safeTarget(saved) != null ? saved : "/";
        session.removeAttribute(TARGET);
        session.setMaxInactiveInterval((int) sessionTimeout.toSeconds());
        sessions.store(user.userId, request, response);
        new CsrfAuthenticationStrategy(csrfTokens).onAuthentication(authentication, request, response);
        metrics.succeeded();
        try {
            response.sendRedirect(request.getContextPath() + target);
        }
        catch (IllegalArgumentException | IllegalStateException unusable) {
            // Never a failed login for its target: safeTarget should have refused it.
            log.debug("OIDC login target not usable: {}", unusable.getMessage());
            response.sendRedirect(request.getContextPath() + "/");
        }
    }

    private static void failed(HttpServletRequest request, HttpServletResponse response,
            AuthenticationException failure, Audit audit, LoginMetrics metrics) throws IOException {
        // A client's or the provider's doing (a stale or forged state, a denied consent,
        // a
        // disabled user): audited, answered with the browser app's login page, never
        // logged as an error.
        String reason = failure instanceof OAuth2AuthenticationException oauth ? oauth.getError().getErrorCode()
                : "failed";
        String target = failure instanceof OidcAccounts.Refused refused ? "user:" + refused.login() : "oidc";
        // A callback without a login started in this session is anybody's request, not a
        // failed login: no audit row for it (anonymous requests must not fill the table).
        if (!"authorization_request_not_found".equals(reason)) {
            audit.record(null, "login.oidc.failed", target, Map.of("reason", reason));
            metrics.failed();
        }
        HttpSession session = request.getSession(false);
        if (session != null) {
            session.removeAttribute(TARGET);
        }
        log.debug("OIDC login failed: {}", reason);
        String error = failure instanceof OidcAccounts.Refused ? "disabled" : "oidc";
        response.sendRedirect(request.getContextPath() + "/login?error=" + error);
    }

    /**
     * A target to return to after the login: a canonical path on this server, else null.
     * Checked strictly, because Jetty's {@code sendRedirect} normalises the path
     * ({@code /.//evil.example} becomes {@code //evil.example}, a redirect off-site) and
     * throws on {@code /..}: the target must already be what normalising leaves, with
     * segments of RFC 3986's path characters only, no empty segment ({@code //}), no
     * {@code .} or {@code ..} segment (also percent-encoded) and no percent-encoded
     * slash, backslash or control character; its query of visible ASCII without a
     * backslash; no fragment.
     */
    static @Nullable String safeTarget(@Nullable String target) {
        if (target == null || target.isEmpty() || target.length() > 2000 || target.charAt(0) != '/') {
            return null;
        }
        int question = target.indexOf('?');
        String path = question < 0 ? target : target.substring(0, question);
        String query = question < 0 ? "" : target.substring(question + 1);
        if (!path.equals("/")) {
            String[] segments = path.substring(1).split("/", -1);
            for (int i = 0; i < segments.length; i++) {
                // The last segment may be empty (a trailing slash), no other.
                if (segments[i].isEmpty() ? i < segments.length - 1 : !safeSegment(segments[i])) {
                    return null;
                }
            }
        }
        for (int i = 0; i < query.length(); i++) {
            char c = query.charAt(i);
            if (c < 0x21 || c > 0x7e || c == '\\' || c == '#') {
                return null;
            }
        }
        return target;
    }

    private static boolean safeSegment(String segment) {
        StringBuilder decoded = new StringBuilder();
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            if (c == '%') {
                if (i + 2 >= segment.length()) {
                    return false;
                }
                int code;
                try {
                    code = HexFormat.fromHexDigits(segment, i + 1, i + 3);
                }
                catch (IllegalArgumentException notHex) {
                    return false;
                }
                // An encoded slash, backslash, dot or control character: what some
                // decoder along the way could turn into a path the check above refused.
                if (code < 0x20 || code == 0x7f || code == '/' || code == '\\' || code == '.') {
                    return false;
                }
                decoded.append('%');
                i += 2;
            }
            else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "-._~!$&'()*+,;=:@".indexOf(c) >= 0) {
                decoded.append(c);
            }
            else {
                return false;
            }
        }
        String value = decoded.toString();
        return !value.equals(".") && !value.equals("..");
    }

    /**
     * Asks a provider whose discovery failed again only after {@link #RETRY}: meanwhile a
     * login is answered {@code 503} at once, instead of each anonymous request holding a
     * request thread for the discovery's timeouts (review 13b-oidc #6).
     */
    private static final class DiscoveryBackoff {

        private static final Duration RETRY = Duration.ofSeconds(10);

        private final Clock clock;

        private volatile Instant retryAt = Instant.MIN;

        DiscoveryBackoff(Clock clock) {
            this.clock = clock;
        }

        ClientRegistration discover(AuthProperties.Oidc settings) {
            if (clock.instant().isBefore(retryAt)) {
                throw new NotAskedAgainYet(retryAt);
            }
            try {
                return OidcLogin.discover(settings);
            }
            catch (RuntimeException unreachable) {
                retryAt = clock.instant().plus(RETRY);
                throw unreachable;
            }
        }

    }

    /** The provider was not asked: its last discovery failed a moment ago. */
    private static final class NotAskedAgainYet extends IllegalStateException {

        NotAskedAgainYet(Instant retryAt) {
            super("the last discovery failed; not asked again before " + retryAt);
        }

    }

    /** The OIDC user of a login, with the collab user it signed in. */
    static final class SignedIn extends org.springframework.security.oauth2.core.oidc.user.DefaultOidcUser {

        private final java.util.UUID userId;

        SignedIn(OidcUser user, java.util.UUID userId) {
            super(user.getAuthorities(), user.getIdToken(), user.getUserInfo());
            this.userId = userId;
        }

        @Override
        public boolean equals(@Nullable Object other) {
            return other instanceof SignedIn signedIn && signedIn.userId.equals(userId) && super.equals(other);
        }

        @Override
        public int hashCode() {
            return super.hashCode() * 31 + userId.hashCode();
        }

    }

    /**
     * The started logins, in the session (Spring Session JDBC: the callback may reach
     * another replica), with the page to return to; a started login's session lives
     * {@link #PENDING} only.
     */
    private static final class PendingLogins implements AuthorizationRequestRepository<OAuth2AuthorizationRequest> {

        private final HttpSessionOAuth2AuthorizationRequestRepository delegate = new HttpSessionOAuth2AuthorizationRequestRepository();

        @Override
        public @Nullable OAuth2AuthorizationRequest loadAuthorizationRequest(HttpServletRequest request) {
            return delegate.loadAuthorizationRequest(request);
        }

        @Override
        public void saveAuthorizationRequest(@Nullable OAuth2AuthorizationRequest authorizationRequest,
                HttpServletRequest request, HttpServletResponse response) {
            if (authorizationRequest == null) {
                delegate.removeAuthorizationRequest(request, response);
                return;
            }
            boolean fresh = request.getSession(false) == null;
            delegate.saveAuthorizationRequest(authorizationRequest, request, response);
            HttpSession session = request.getSession(false);
            if (session == null) {
                return;
            }
            if (fresh) {
                session.setMaxInactiveInterval((int) PENDING.toSeconds());
            }
            String target = safeTarget(request.getParameter("redirect"));
            if (target != null) {
                session.setAttribute(TARGET, target);
            }
            else {
                session.removeAttribute(TARGET);
            }
        }

        @Override
        public @Nullable OAuth2AuthorizationRequest removeAuthorizationRequest(HttpServletRequest request,
                HttpServletResponse response) {
            return delegate.removeAuthorizationRequest(request, response);
        }

    }

    /**
     * Keeps no authorized client: the provider's access token is used for the user-info
     * call of the login and dropped (nothing here calls the provider on the user's
     * behalf), instead of Spring's default, an in-memory map per principal.
     */
    private static final class NoAuthorizedClients implements OAuth2AuthorizedClientRepository {

        @Override
        public <T extends OAuth2AuthorizedClient> @Nullable T loadAuthorizedClient(String clientRegistrationId,
                Authentication principal, HttpServletRequest request) {
            return null;
        }

        @Override
        public void saveAuthorizedClient(OAuth2AuthorizedClient authorizedClient, Authentication principal,
                HttpServletRequest request, HttpServletResponse response) {
        }

        @Override
        public void removeAuthorizedClient(String clientRegistrationId, Authentication principal,
                HttpServletRequest request, HttpServletResponse response) {
        }

    }

    /**
     * Resolves the provider (its discovery document, once) before the login's filters
     * need it, so that a provider that cannot be reached is a clear {@code 503} problem
     * (or, at the callback, the login page's error) and one WARN line, not Spring's bare
     * 500 with a stack trace.
     */
    private static final class Discovery extends OncePerRequestFilter {

        private final ClientRegistrationRepository registrations;

        Discovery(ClientRegistrationRepository registrations) {
            this.registrations = registrations;
        }

        @Override
        protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                throws ServletException, IOException {
            boolean start = START_REQUEST.matches(request);
            if (start || CALLBACK_REQUEST.matches(request)) {
                try {
                    registrations.findByRegistrationId(REGISTRATION_ID);
                }
                catch (RuntimeException unreachable) {
                    if (unreachable instanceof NotAskedAgainYet) {
                        log.debug("OIDC provider: {}", unreachable.getMessage());
                    }
                    else {
                        log.warn(
                                "The OIDC provider's discovery document cannot be read (collab.auth.oidc.issuer-uri): {}",
                                unreachable.getMessage());
                    }
                    if (start) {
                        FilterRejection.reject(request, response, new ApiException(ProblemCode.SERVICE_UNAVAILABLE,
                                "The sign-in provider cannot be reached; try again later."));
                    }
                    else {
                        response.sendRedirect(request.getContextPath() + "/login?error=oidc");
                    }
                    return;
                }
            }
            chain.doFilter(request, response);
        }

    }

}
