package dev.collab.access;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;

import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Login throttling (CONTRACT.md): more than {@code collab.auth.throttle.max-failures}
 * failed logins for one login, or from one client address, within {@code window} →
 * {@code 429} until the oldest of them leaves the window. The failures are rows in
 * PostgreSQL ({@code login_failures}), so every replica counts the same ones: attempts
 * spread over replicas are throttled alike.
 */
@Component
class LoginThrottle {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LoginThrottle.class);

    private static final int MAX_VALUE_LENGTH = 200;

    private final JdbcClient jdbc;

    private final AuthProperties.Throttle settings;

    private final Clock clock;

    private final TransactionTemplate transactions;

    LoginThrottle(JdbcClient jdbc, AuthProperties properties, Clock clock, PlatformTransactionManager transactions) {
        this.jdbc = jdbc;
        this.transactions = new TransactionTemplate(transactions);
        this.settings = properties.throttle();
        this.clock = clock;
    }

    /**
     * One login attempt: either how long the caller must wait (nothing recorded), or the
     * attempt, already recorded as a failure of the login and of the address.
     */
    record Attempt(@Nullable Duration retryAfter, OffsetDateTime at, @Nullable Duration loginLocked) {
    }

    /**
     * Claims a password check, atomically: under a transaction-scoped advisory lock on
     * the login and one on the address, the failures are counted and, when the limit
     * allows, this attempt is recorded as a failure before its password is checked (a
     * success takes it back, {@link #succeeded}). Concurrent attempts for one login or
     * address therefore wait for each other's count-and-claim, so at most
     * {@code max-failures} password checks happen per window, however many arrive at once
     * and on however many replicas (a count before and an insert after the ~200 ms hash
     * let a burst of 40 through with 11 to 13 checks).
     */
    Attempt claim(String login, String address) {
        return transactions.execute(status -> {
            // Always the login's lock first, then the address's: no two attempts wait for
            // each other in a circle.
            jdbc.sql("select pg_advisory_xact_lock(hashtext(:key))")
                .param("key", "collab.login:" + key(login))
                .query((rs, row) -> 1)
                .list();
            jdbc.sql("select pg_advisory_xact_lock(hashtext(:key))")
                .param("key", "collab.address:" + key(address))
                .query((rs, row) -> 1)
                .list();
            OffsetDateTime now = clock.instant().atOffset(ZoneOffset.UTC);
            java.util.Map<String, java.util.List<Instant>> failures = failures(login, address, now.toInstant());
            Optional<Duration> addressWait = wait(failures.get("address"), now.toInstant());
            Optional<Duration> loginWait = wait(failures.get("login"), now.toInstant());
            // The per-login limit would let anyone keep a known login (admin) locked out
            // for good, with 5 wrong passwords every window. So an address without a
            // failure in the window still gets one password check for a locked login:
            // right, and the owner is in; wrong, and it is 429 like any attempt on a
            // locked login (and that address has now had its one try).
            boolean cleanAddress = !failures.containsKey("address");
            Optional<Duration> wait = addressWait.isPresent() ? addressWait
                    : cleanAddress ? Optional.empty() : loginWait;
            if (wait.isEmpty()) {
                jdbc.sql("""
                        insert into login_failures (kind, value, at)
                        values ('login', :login, :now), ('address', :address, :now)
                        """).param("login", key(login)).param("address", key(address)).param("now", now).update();
            }
            return new Attempt(wait.orElse(null), now, wait.isEmpty() ? loginWait.orElse(null) : null);
        });
    }

    private java.util.Map<String, java.util.List<Instant>> failures(String login, String address, Instant now) {
        Instant since = now.minus(settings.window());
        // Throttled attempts are not recorded, so each key has about max-failures rows in
        // the window.
        java.util.Map<String, java.util.List<Instant>> failures = new java.util.HashMap<>();
        jdbc.sql("""
                select kind, at from login_failures
                where at > :since and ((kind = 'login' and value = :login) or (kind = 'address' and value = :address))
                order by at desc
                """)
            .param("since", since.atOffset(ZoneOffset.UTC))
            .param("login", key(login))
            .param("address", key(address))
            .query((rs, row) -> failures.computeIfAbsent(rs.getString("kind"), kind -> new java.util.ArrayList<>())
                .add(rs.getObject("at", OffsetDateTime.class).toInstant()))
            .list();
        return failures;
    }

    /**
     * Free again when the failures in the window (newest first) drop below the limit:
     * when the max-th newest leaves it.
     */
    private Optional<Duration> wait(java.util.@Nullable List<Instant> times, Instant now) {
        if (times == null || times.size() < settings.maxFailures()) {
            return Optional.empty();
        }
        Instant until = times.get(settings.maxFailures() - 1).plus(settings.window());
        return now.isBefore(until) ? Optional.of(Duration.between(now, until)) : Optional.empty();
    }

    /**
     * A successful login clears that login's failures and takes back its own claimed
     * attempt from the address (the address's other failures stay: it may be guessing
     * other logins).
     */
    void succeeded(String login, String address, Attempt attempt) {
        jdbc.sql("""
                delete from login_failures
                where (kind = 'login' and value = :login)
                   or ctid = (select ctid from login_failures
                              where kind = 'address' and value = :address and at = :at limit 1)
                """).param("login", key(login)).param("address", key(address)).param("at", attempt.at()).update();
    }

    /** Failures older than the window count for nothing. */
    @Scheduled(fixedDelay = 1, initialDelay = 1, timeUnit = java.util.concurrent.TimeUnit.MINUTES)
    void purge() {
        try {
            jdbc.sql("delete from login_failures where at < :before")
                .param("before", clock.instant().minus(settings.window()).atOffset(ZoneOffset.UTC))
                .update();
        }
        catch (RuntimeException e) {
            // The database is unreachable: the next run purges (one WARN, not an ERROR
            // with a stack trace).
            log.warn("Login-failure purge failed: {}", e.toString());
        }
    }

    private static String key(String value) {
        String given = value == null ? "" : value;
        return given.length() > MAX_VALUE_LENGTH ? given.substring(0, MAX_VALUE_LENGTH) : given;
    }

}
