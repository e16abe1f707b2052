package dev.collab.access;

import java.time.Duration;
import java.util.List;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Identity and access settings ({@code collab.auth.*}; docs/configuration.md).
 *
 * @param firstAdmin the first server admin, created at startup when no user exists
 * @param allowedOrigins origins (besides the server's own) from which browsers may write
 * with the session cookie, such as https://collab.example.com (no wildcards: an entry
 * that is not an exact origin would match nothing, or worse, the origin null)
 * @param usersCreateProjects whether any user may create a project (else only server
 * admins)
 * @param sessionTimeout a browser session ends after this long without a request (the
 * timeout of Spring Session's sessions, applied by SecurityConfiguration)
 * @param throttle login throttling
 * @param setupLinkValidity how long the one-time setup link of the log stays valid
 * @param oidc the OIDC provider (login through it is enabled when all three are set)
 * @param trustedProxies addresses or CIDR ranges of the proxies (the load balancer) whose
 * forwarded headers count; empty (the default): forwarded headers are ignored
 * @param allowedHosts the host names the API answers to (against DNS rebinding); empty
 * (the default): localhost, 127.0.0.1, [::1] and the hosts of allowed-origins, or no
 * check behind a trusted proxy; an asterisk: any
 * @param cacheTtl how long a bearer token's look-up and a caller's project role are
 * cached; every change that ends or lowers access evicts them on every replica at once,
 * this is only the bound when an invalidation is lost; 0 turns the cache off
 * @param cacheSize at most this many token look-ups, and as many project roles, are
 * cached (least recently used go first)
 */
@Validated
@ConfigurationProperties("collab.auth")
public record AuthProperties(@Valid @NotNull @DefaultValue FirstAdmin firstAdmin,
        @NotNull @DefaultValue List<@Pattern(regexp = "https?://[A-Za-z0-9.\\[\\]:-]+") String> allowedOrigins,
        @DefaultValue("true") boolean usersCreateProjects,
        @NotNull @DurationMin(minutes = 1) @DefaultValue("12h") Duration sessionTimeout,
        @Valid @NotNull @DefaultValue Throttle throttle,
        @NotNull @DurationMin(minutes = 1) @DefaultValue("24h") Duration setupLinkValidity,
        @Valid @NotNull @DefaultValue Oidc oidc,
        @NotNull @DefaultValue List<@Pattern(regexp = "[0-9A-Fa-f:.]+(/[0-9]{1,3})?") String> trustedProxies,
        @NotNull @DefaultValue List<@Pattern(regexp = "\\*|[A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\]") String> allowedHosts,
        @NotNull @DurationMin(seconds = 0) @DurationMax(seconds = 60) @DefaultValue("10s") Duration cacheTtl,
        @Min(1) @Max(10_000_000) @DefaultValue("10000") int cacheSize) {

    /**
     * {@code collab.auth.first-admin.*}: both or neither.
     *
     * @param login the admin's login
     * @param password 12 to 200 characters (checked by Bootstrap, whose startup failure
     * never shows it)
     */
    public record FirstAdmin(@Pattern(regexp = "[a-z0-9][a-z0-9._-]{0,63}") @Nullable String login,
            // Its length is checked at startup (Bootstrap), with a message that never
            // shows the value.
            @Nullable String password) {

        public FirstAdmin {
            // Blank is unset: an empty environment variable, or a test that turns the
            // default off.
            login = login == null || login.isBlank() ? null : login;
            password = password == null || password.isEmpty() ? null : password;
            if ((login == null) != (password == null)) {
                throw new IllegalArgumentException(
                        "collab.auth.first-admin.login and collab.auth.first-admin.password are set together");
            }
        }

        boolean configured() {
            return login != null;
        }

        @Override
        public String toString() {
            return "FirstAdmin[login=" + login + ", password=" + (password == null ? "null" : "***") + "]";
        }
    }

    /**
     * {@code collab.auth.throttle.*}: more than {@code maxFailures} failed logins for one
     * login or from one address within {@code window} are answered
     * {@code 429 too-many-attempts}.
     *
     * @param maxFailures failed logins tolerated for one login or from one address within
     * the window; one more is answered 429 too-many-attempts
     * @param window how far back failed logins count
     */
    public record Throttle(@Min(1) @Max(1000) @DefaultValue("5") int maxFailures,
            @NotNull @DurationMin(seconds = 1) @DefaultValue("5m") Duration window) {
    }

    /**
     * {@code collab.auth.oidc.*}: login through the team's OIDC provider (authorization
     * code with PKCE, {@link OidcLogin}), on when issuer-uri, client-id and client-secret
     * are all set. All three or none: a partial set fails the start with one clear line.
     *
     * @param issuerUri the OIDC provider's issuer URI, an https URL (http only for a
     * loopback host such as localhost, for tests and local providers)
     * @param clientId this server's client id at the provider
     * @param clientSecret this server's client secret at the provider (never logged)
     * @param scopes the scopes asked for (openid is always needed)
     * @param name the provider's name for the browser app's Sign in with button, such as
     * Okta; empty: the issuer's host
     * @param allowedDomains email domains whose users may log in, such as example.com; a
     * login needs a verified email (email_verified true) in one of them; empty (the
     * default): anyone the provider authenticates
     */
    public record Oidc(@Nullable String issuerUri, @Nullable String clientId, @Nullable String clientSecret,
            @NotNull @DefaultValue( {
                    "openid", "profile", "email" }) List<@Pattern(regexp = "[A-Za-z0-9_.:/-]{1,100}") String> scopes,
            @Nullable String name, @NotNull @DefaultValue List<@Pattern(
                    regexp = "[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?") String> allowedDomains){

        public Oidc {
            // Blank is unset: an empty environment variable (a deployment without OIDC).
            issuerUri = blankToNull(issuerUri);
            clientId = blankToNull(clientId);
            clientSecret = blankToNull(clientSecret);
            name = blankToNull(name);
            int set = (issuerUri == null ? 0 : 1) + (clientId == null ? 0 : 1) + (clientSecret == null ? 0 : 1);
            if (set != 0 && set != 3) {
                throw new IllegalArgumentException("collab.auth.oidc.issuer-uri, collab.auth.oidc.client-id and "
                        + "collab.auth.oidc.client-secret are set together (or none of them)");
            }
            if (issuerUri != null && !secureOrLoopback(issuerUri)) {
                throw new IllegalArgumentException("collab.auth.oidc.issuer-uri must be an https URL "
                        + "(http only for localhost or a loopback address), not " + issuerUri);
            }
            if (set == 3 && (scopes == null || !scopes.contains("openid"))) {
                throw new IllegalArgumentException("collab.auth.oidc.scopes must include openid");
            }
        }

        private static @Nullable String blankToNull(@Nullable String value) {
            return value == null || value.isBlank() ? null : value.strip();
        }

        private static boolean secureOrLoopback(String uri) {
            java.net.URI parsed;
            try {
                parsed = new java.net.URI(uri);
            }
            catch (java.net.URISyntaxException e) {
                return false;
            }
            String host = parsed.getHost();
            if (host == null || parsed.getRawQuery() != null || parsed.getRawFragment() != null
                    || parsed.getRawUserInfo() != null) {
                return false;
            }
            if ("https".equalsIgnoreCase(parsed.getScheme())) {
                return true;
            }
            return "http".equalsIgnoreCase(parsed.getScheme()) && (host.equalsIgnoreCase("localhost")
                    || host.equals("127.0.0.1") || host.equals("[::1]") || host.equals("::1"));
        }

        @Override
        public String toString() {
            // Never the secret, should these settings ever be logged.
            return "Oidc[issuerUri=" + issuerUri + ", clientId=" + clientId + ", clientSecret="
                    + (clientSecret == null ? "null" : "***") + ", scopes=" + scopes + ", name=" + name
                    + ", allowedDomains=" + allowedDomains + "]";
        }

        public boolean configured() {
            return issuerUri != null && clientId != null && clientSecret != null;
        }

        /**
         * Whether a login with this email may proceed: any, unless allowed-domains is
         * set; then a verified email in one of them.
         */
        boolean allows(@Nullable String email, boolean emailVerified) {
            if (allowedDomains.isEmpty()) {
                return true;
            }
            int at = email == null ? -1 : email.lastIndexOf('@');
            if (!emailVerified || email == null || at < 0) {
                return false;
            }
            String domain = email.substring(at + 1).strip();
            return allowedDomains.stream().anyMatch(domain::equalsIgnoreCase);
        }

        /**
         * The name of the Sign in with button: the configured name, or the issuer's host.
         */
        String displayName() {
            if (name != null) {
                return name;
            }
            String host = issuerUri == null ? null : java.net.URI.create(issuerUri).getHost();
            return host == null ? "OIDC" : host;
        }
    }
}
