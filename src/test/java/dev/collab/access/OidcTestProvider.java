package dev.collab.access;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.oauth2.core.oidc.endpoint.OidcParameterNames;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;

/**
 * A real OIDC provider for the tests: Spring Authorization Server in a small Spring Boot
 * application of its own, on a random port, with one registered client (client secret
 * basic, PKCE required, no consent), users with passwords and their claims
 * ({@code preferred_username}, {@code name}, {@code email}) in the ID token, which its
 * user-info endpoint also answers. Started once per test JVM.
 */
final class OidcTestProvider {

    static final String CLIENT_ID = "collab";

    static final String CLIENT_SECRET = "collab-test-secret";

    static final String PASSWORD = "provider-password";

    /** The claims of each user (by username), read at every login: tests change them. */
    static final Map<String, Map<String, Object>> CLAIMS = new ConcurrentHashMap<>();

    private static volatile ConfigurableApplicationContext context;

    private OidcTestProvider() {
    }

    /** The issuer URI (http://localhost:port), starting the provider on first use. */
    static synchronized String issuer() {
        if (context == null) {
            context = new SpringApplicationBuilder(ProviderApplication.class).web(WebApplicationType.SERVLET)
                .properties(Map.ofEntries(
                        // Nothing of collab-server's own configuration
                        // (application.yaml).
                        Map.entry("spring.config.name", "oidc-test-provider"),
                        // Not built-in mode: this application has no database.
                        Map.entry("spring.datasource.url", "jdbc:postgresql://127.0.0.1:1/unused"),
                        Map.entry("server.port", "0"), Map.entry("spring.main.banner-mode", "off"),
                        Map.entry("logging.level.org.springframework.security", "info"),
                        Map.entry(client("client-id"), CLIENT_ID),
                        Map.entry(client("client-secret"), "{noop}" + CLIENT_SECRET),
                        Map.entry(client("client-authentication-methods"), "client_secret_basic"),
                        Map.entry(client("authorization-grant-types"), "authorization_code"),
                        // A loopback redirect URI: the provider accepts it on any port
                        // (RFC
                        // 8252), so the collab server's random port needs no
                        // registration.
                        Map.entry(client("redirect-uris"), "http://127.0.0.1/api/auth/oidc/callback"),
                        Map.entry(client("scopes"), "openid,profile,email"),
                        Map.entry("spring.security.oauth2.authorizationserver.client.collab.require-proof-key", "true"),
                        Map.entry(
                                "spring.security.oauth2.authorizationserver.client.collab.require-authorization-consent",
                                "false")))
                .run();
            Runtime.getRuntime().addShutdownHook(new Thread(context::close));
        }
        return "http://localhost:" + context.getEnvironment().getProperty("local.server.port");
    }

    private static String client(String name) {
        return "spring.security.oauth2.authorizationserver.client.collab.registration." + name;
    }

    /**
     * The provider: Spring Boot's auto-configuration of the authorization server. Not a
     * {@code @Configuration}: the collab server's component scan (this package) must not
     * pick it up.
     */
    @ImportAutoConfiguration({
            org.springframework.boot.autoconfigure.context.PropertyPlaceholderAutoConfiguration.class,
            org.springframework.boot.autoconfigure.context.ConfigurationPropertiesAutoConfiguration.class,
            org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration.class,
            org.springframework.boot.jetty.autoconfigure.servlet.JettyServletWebServerAutoConfiguration.class,
            org.springframework.boot.webmvc.autoconfigure.DispatcherServletAutoConfiguration.class,
            org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration.class,
            org.springframework.boot.webmvc.autoconfigure.error.ErrorMvcAutoConfiguration.class,
            org.springframework.boot.http.converter.autoconfigure.HttpMessageConvertersAutoConfiguration.class,
            org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration.class,
            org.springframework.boot.security.autoconfigure.SecurityAutoConfiguration.class,
            org.springframework.boot.security.autoconfigure.web.servlet.ServletWebSecurityAutoConfiguration.class,
            org.springframework.boot.security.autoconfigure.web.servlet.SecurityFilterAutoConfiguration.class,
            org.springframework.boot.security.oauth2.server.authorization.autoconfigure.servlet.OAuth2AuthorizationServerAutoConfiguration.class,
            org.springframework.boot.security.oauth2.server.authorization.autoconfigure.servlet.OAuth2AuthorizationServerJwtAutoConfiguration.class })
    static class ProviderApplication {

        /** Every user of {@link #CLAIMS} can log in with {@link #PASSWORD}. */
        @Bean
        UserDetailsService providerUsers() {
            return username -> {
                if (!CLAIMS.containsKey(username)) {
                    throw new org.springframework.security.core.userdetails.UsernameNotFoundException(username);
                }
                return User.withUsername(username).password("{noop}" + PASSWORD).roles("USER").build();
            };
        }

        /**
         * The user's claims in the ID token (the user-info endpoint answers them too).
         */
        @Bean
        OAuth2TokenCustomizer<JwtEncodingContext> providerClaims() {
            return context -> {
                if (OidcParameterNames.ID_TOKEN.equals(context.getTokenType().getValue())) {
                    Map<String, Object> claims = CLAIMS.getOrDefault(context.getPrincipal().getName(), Map.of());
                    context.getClaims().claims(existing -> existing.putAll(claims));
                }
            };
        }

    }

}
