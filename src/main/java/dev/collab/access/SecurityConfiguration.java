package dev.collab.access;

import java.util.List;
import java.util.Set;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.session.autoconfigure.SessionTimeout;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.security.authentication.ProviderManager;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import dev.collab.web.DatabaseFailures;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.session.DisableEncodeUrlFilter;
import org.springframework.security.web.csrf.CookieCsrfTokenRepository;
import org.springframework.security.web.csrf.CsrfFilter;
import org.springframework.security.oauth2.server.resource.web.DefaultBearerTokenResolver;
import org.springframework.security.web.csrf.CsrfTokenRepository;
import org.springframework.security.web.csrf.CsrfTokenRequestAttributeHandler;
import org.springframework.security.web.firewall.HttpFirewall;
import org.springframework.security.web.firewall.StrictHttpFirewall;
import org.springframework.security.web.header.writers.ReferrerPolicyHeaderWriter;
import org.springframework.security.web.savedrequest.NullRequestCache;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;

/**
 * The one Spring Security filter chain (docs/api.md, "Authentication"):
 * <ul>
 * <li>{@code /api/**} needs a user: the browser session (Spring Session JDBC's cookie;
 * the user is re-read every request, {@link SessionUsers}) or a personal access token
 * ({@code Authorization: Bearer}, through Spring Security's bearer filter and
 * {@link TokenAuthentication}); {@code /api/users/**} and {@code /api/audit} need a
 * server admin. The login and setup endpoints are open, and so are the OIDC login's
 * ({@link OidcLogin}, only in the chain when {@code collab.auth.oidc.*} is set).</li>
 * <li>CSRF for writes made with the session cookie: the SPA cookie-to-header pattern
 * ({@code XSRF-TOKEN} cookie, {@code X-XSRF-TOKEN} header); never for bearer requests;
 * plus the {@link OriginCheck}.</li>
 * <li>Security headers on every answer (CSP for the browser app, nosniff, frame denial,
 * same-origin referrers).</li>
 * <li>Everything else is open: Actuator (the ALB's health checks; the management port
 * must never be public), {@code /v3/api-docs} (the API is documented publicly anyway),
 * the browser app's pages.</li>
 * </ul>
 * Sessions are created only by a login; a request never starts one on its own.
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfiguration {

    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    private static final Set<String> SAFE = Set.of("GET", "HEAD", "OPTIONS", "TRACE");

    private static final RequestMatcher API = PathPatternRequestMatcher.withDefaults().matcher("/api/**");

    /**
     * How long a browser session lives without a request:
     * {@code collab.auth.session-timeout} (its default is in {@link AuthProperties}, the
     * one place for {@code collab.*} defaults). Spring Boot's own timeout
     * ({@code spring.session.timeout}) backs off for this bean, and its Spring Session
     * JDBC configuration applies it to the repository.
     */
    @Bean
    SessionTimeout sessionTimeout(AuthProperties properties) {
        return properties::sessionTimeout;
    }

    /**
     * Before everything that reads the client's address, scheme or host (the access log,
     * Spring Security): forwarded headers count only from
     * {@code collab.auth.trusted-proxies}.
     */
    @Bean
    org.springframework.boot.web.servlet.FilterRegistrationBean<TrustedProxies> trustedProxies(
            AuthProperties properties) {
        var registration = new org.springframework.boot.web.servlet.FilterRegistrationBean<>(
                new TrustedProxies(properties.trustedProxies()));
        registration.setOrder(org.springframework.core.Ordered.HIGHEST_PRECEDENCE);
        registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR);
        return registration;
    }

    @Bean
    SessionUsers sessionUsers(Users users) {
        return new SessionUsers(users);
    }

    /**
     * The XSRF-TOKEN cookie, readable by the browser app's script (that is the point of
     * it).
     */
    @Bean
    CsrfTokenRepository csrfTokenRepository() {
        CookieCsrfTokenRepository repository = CookieCsrfTokenRepository.withHttpOnlyFalse();
        repository.setCookieCustomizer(cookie -> cookie.sameSite("Lax").path("/"));
        return repository;
    }

    @Bean
    SecurityFilterChain apiSecurity(HttpSecurity http, SessionUsers sessionUsers, CsrfTokenRepository csrfTokens,
            TokenAuthentication tokens, AuthProperties properties, DatabaseFailures databaseFailures,
            OidcAccounts oidcAccounts, Audit audit, LoginMetrics loginMetrics,
            @Value("${server.servlet.session.cookie.name:COLLAB_SESSION}") String sessionCookie,
            org.springframework.core.env.Environment environment) throws Exception {
        SecurityProblems problems = new SecurityProblems();
        DefaultBearerTokenResolver bearerTokens = new DefaultBearerTokenResolver();
        ProviderManager tokenManager = new ProviderManager(tokens);
        // Every unsafe request that carries the session cookie, whatever its path: the
        // raw
        // URI (/%61pi/...) is not what authorization and Spring MVC match on, so a path
        // scope here would be a way around the check.
        RequestMatcher cookieWrite = request -> !SAFE.contains(request.getMethod()) && !isBearer(request)
                && hasCookie(request, sessionCookie);
        http.addFilterBefore(new DatabaseFailureGuard(databaseFailures), DisableEncodeUrlFilter.class)
            .securityContext(context -> context.securityContextRepository(sessionUsers))
            .sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.NEVER))
            .requestCache(cache -> cache.requestCache(new NullRequestCache()))
            // The SPA cookie-to-header pattern: X-XSRF-TOKEN carries the XSRF-TOKEN
            // cookie's value as is
            // (no masking: the token is in a cookie anyway). Deferred: only a login, GET
            // /api/me and a
            // CSRF check touch the cookie, so bearer and anonymous answers set none.
            .csrf(csrf -> csrf.csrfTokenRepository(csrfTokens)
                .csrfTokenRequestHandler(new CsrfTokenRequestAttributeHandler())
                .requireCsrfProtectionMatcher(cookieWrite))
            .addFilterBefore(
                    new HostCheck(properties.allowedHosts(), properties.allowedOrigins(), properties.trustedProxies()),
                    CsrfFilter.class)
            .addFilterBefore(new OriginCheck(properties.allowedOrigins()), CsrfFilter.class)
            .oauth2ResourceServer(resource -> resource.authenticationManagerResolver(request -> tokenManager)
                // Only the API takes tokens: Actuator and the pages ignore an
                // Authorization header.
                .bearerTokenResolver(request -> isApi(request) && !onManagementPort(request, environment)
                        ? bearerTokens.resolve(request) : null)
                .authenticationEntryPoint(problems)
                .accessDeniedHandler(problems))
            .exceptionHandling(
                    exceptions -> exceptions.authenticationEntryPoint(problems).accessDeniedHandler(problems))
            .formLogin(form -> form.disable())
            .httpBasic(basic -> basic.disable())
            .logout(logout -> logout.disable())
            .headers(headers -> headers
                // Spring Security's cache header writer backs off when Jetty has added
                // Expires (it does with every Set-Cookie), so the login and /api/me
                // answers
                // went out cacheable: no-store on every API answer that sets none itself.
                .addHeaderWriter(
                        new org.springframework.security.web.header.writers.DelegatingRequestMatcherHeaderWriter(API,
                                new org.springframework.security.web.header.writers.StaticHeadersWriter("Cache-Control",
                                        "no-store")))
                .contentSecurityPolicy(csp -> csp.policyDirectives(CSP))
                .frameOptions(frame -> frame.deny())
                .referrerPolicy(referrer -> referrer.policy(ReferrerPolicyHeaderWriter.ReferrerPolicy.SAME_ORIGIN)))
            .authorizeHttpRequests(requests -> requests
                // The error page renders the problem of a request already decided;
                // streams resume async.
                .dispatcherTypeMatchers(DispatcherType.ERROR, DispatcherType.ASYNC)
                .permitAll()
                // The management port serves Actuator only (no API there: /api/** is a
                // plain 404).
                .requestMatchers(request -> onManagementPort(request, environment))
                .permitAll()
                .requestMatchers("/api/auth/login", "/api/auth/setup", "/api/auth/config", OidcLogin.START,
                        OidcLogin.CALLBACK)
                .permitAll()
                .requestMatchers("/api/users", "/api/users/**", "/api/audit")
                .hasRole("ADMIN")
                .requestMatchers("/api/**")
                .authenticated()
                .anyRequest()
                .permitAll());
        if (properties.oidc().configured()) {
            OidcLogin.configure(http, properties.oidc(), oidcAccounts, sessionUsers, csrfTokens, audit, loginMetrics,
                    properties.sessionTimeout());
        }
        return http.build();
    }

    /**
     * A request to {@code management.server.port}, when Actuator has a port of its own.
     */
    private static boolean onManagementPort(HttpServletRequest request,
            org.springframework.core.env.Environment environment) {
        String management = environment.getProperty("local.management.port");
        return management != null && !management.equals(environment.getProperty("local.server.port"))
                && management.equals(Integer.toString(request.getLocalPort()));
    }

    /**
     * {@code /api/**} as authorization and Spring MVC see it (decoded, normalised path),
     * not the raw request URI.
     */
    static boolean isApi(HttpServletRequest request) {
        return API.matches(request);
    }

    /**
     * Spring Security's firewall with every method Spring MVC answers: TRACE reaches it
     * (and gets its {@code 405}), instead of the firewall's bare {@code 400}.
     */
    @Bean
    HttpFirewall httpFirewall() {
        StrictHttpFirewall firewall = new StrictHttpFirewall();
        firewall.setAllowedHttpMethods(List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"));
        return firewall;
    }

    /**
     * A request that authenticates with {@code Authorization: Bearer} (no CSRF or Origin
     * check applies).
     */
    static boolean isBearer(HttpServletRequest request) {
        String authorization = request.getHeader(HttpHeaders.AUTHORIZATION);
        return authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7);
    }

    private static boolean hasCookie(HttpServletRequest request, String name) {
        Cookie[] cookies = request.getCookies();
        if (cookies == null) {
            return false;
        }
        for (Cookie cookie : cookies) {
            if (cookie.getName().equals(name)) {
                return true;
            }
        }
        return false;
    }

}
