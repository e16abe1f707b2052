package dev.collab.access;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

import dev.collab.ops.StartupCheckException;
import dev.collab.web.ApiException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The first server admin (CONTRACT.md, "Bootstrap"). When no user exists at startup,
 * {@code collab.auth.first-admin.login}/{@code password} create them; without those, the
 * log gets one INFO line with a one-time setup link ({@code /setup?token=…}, valid
 * {@code collab.auth.setup-link-validity}, only the token's SHA-256 stored) where the
 * first admin chooses login and password. Whenever the first admin is created, every
 * existing project gets them as its admin. Replicas starting together agree through an
 * advisory lock.
 */
@Component
class Bootstrap {

    private static final Logger log = LoggerFactory.getLogger(Bootstrap.class);

    private static final SecureRandom RANDOM = new SecureRandom();

    private final JdbcClient jdbc;

    private final Users users;

    private final Audit audit;

    private final AuthProperties properties;

    private final TransactionTemplate transactions;

    private final Environment environment;

    private final Clock clock;

    Bootstrap(JdbcClient jdbc, Users users, Audit audit, AuthProperties properties, TransactionTemplate transactions,
            Environment environment, Clock clock) {
        this.jdbc = jdbc;
        this.users = users;
        this.audit = audit;
        this.properties = properties;
        this.transactions = transactions;
        this.environment = environment;
        this.clock = clock;
        AuthProperties.FirstAdmin admin = properties.firstAdmin();
        if (admin.configured() && Passwords.problem(admin.password()) != null) {
            // A startup failure of its own: Boot's binding failure would print the value,
            // the password.
            throw new StartupCheckException(
                    "collab.auth.first-admin.password " + Passwords.problem(admin.password())
                            + " (its value is not shown).",
                    "Set collab.auth.first-admin.password to 12 to 200 characters.");
        }
    }

    @EventListener(ApplicationReadyEvent.class)
    void onReady() {
        Optional<String> setupToken = transactions.execute(status -> {
            lock();
            if (anyUser()) {
                return Optional.<String>empty();
            }
            AuthProperties.FirstAdmin admin = properties.firstAdmin();
            String login = admin.login();
            String password = admin.password();
            // Configured: both are set (FirstAdmin refuses one without the other).
            if (login != null && password != null) {
                createFirstAdmin(login, null, password);
                log.info("Created the first server admin '{}' (collab.auth.first-admin.login).", login);
                return Optional.<String>empty();
            }
            return Optional.of(newSetupToken());
        });
        if (setupToken != null && setupToken.isPresent()) {
            String host = environment.getProperty("server.address", "localhost");
            String port = environment.getProperty("local.server.port", environment.getProperty("server.port", "8080"));
            log.info(
                    "No user exists yet: open http://{}:{}/setup?token={} within {} to create the first admin "
                            + "(or start with --collab.auth.first-admin.login=… --collab.auth.first-admin.password=…).",
                    host, port, setupToken.get(), human(properties.setupLinkValidity()));
        }
    }

    private static String human(java.time.Duration duration) {
        return duration.toMinutes() % 60 == 0 ? duration.toHours() + " h" : duration.toMinutes() + " min";
    }

    /**
     * {@code POST /api/auth/setup}: the setup link's token creates the first admin, once.
     */
    @Transactional
    User setUp(String token, String login, String displayName, String password) {
        lock();
        Instant now = clock.instant();
        int claimed = token == null ? 0 : jdbc.sql("""
                update setup_tokens set used_at = :now
                where token_hash = :hash and used_at is null and expires_at > :now
                """).param("now", now.atOffset(ZoneOffset.UTC)).param("hash", AccessTokens.sha256(token)).update();
        if (claimed == 0 || anyUser()) {
            throw ApiException.notFound("No such setup link: it is unknown, expired or already used. The server "
                    + "logs a new one at each startup while no user exists.");
        }
        if (login == null || !Users.LOGIN.matcher(login).matches()) {
            throw ApiException.invalid("login", "must match ^[a-z0-9][a-z0-9._-]{0,63}$");
        }
        String passwordProblem = Passwords.problem(password);
        if (passwordProblem != null) {
            throw ApiException.invalid("password", passwordProblem);
        }
        User admin = createFirstAdmin(login, displayName, password);
        // Every other setup link is spent too: there is an admin now.
        jdbc.sql("update setup_tokens set used_at = :now where used_at is null")
            .param("now", now.atOffset(ZoneOffset.UTC))
            .update();
        return admin;
    }

    private User createFirstAdmin(String login, @Nullable String displayName, String password) {
        User admin = users.insert(login, displayName, null, password, true);
        int projects = jdbc.sql("""
                insert into project_members (project_key, user_id, role)
                select key, :user, 'admin' from projects
                on conflict (project_key, user_id) do update set role = 'admin'
                """).param("user", admin.id()).update();
        audit.record(login, "user.created", "user:" + login,
                Map.of("admin", true, "firstAdmin", true, "projects", projects));
        return admin;
    }

    private String newSetupToken() {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        Instant now = clock.instant();
        jdbc.sql("insert into setup_tokens (token_hash, created_at, expires_at) values (:hash, :now, :expires)")
            .param("hash", AccessTokens.sha256(token))
            .param("now", now.atOffset(ZoneOffset.UTC))
            .param("expires", now.plus(properties.setupLinkValidity()).atOffset(ZoneOffset.UTC))
            .update();
        return token;
    }

    private boolean anyUser() {
        return jdbc.sql("select exists (select 1 from users)").query(Boolean.class).single();
    }

    /** One bootstrap at a time across replicas (released when the transaction ends). */
    private void lock() {
        jdbc.sql("select pg_advisory_xact_lock(hashtext('collab.bootstrap'))").query((rs, row) -> 1).list();
    }

}
