package dev.collab.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;

/**
 * The collab user of an OIDC identity (docs/api.md, "OIDC login"). Users are keyed by the
 * provider's (issuer, sub), never by login or email, which the provider may let users
 * change:
 * <ul>
 * <li>A known identity: its display name and email are updated from {@code name} and
 * {@code email} (a claim that is absent keeps the stored value); its login never changes.
 * A disabled user is refused.</li>
 * <li>A new identity: a new user (not a server admin, no password). Its login is
 * {@code preferred_username} as a whole (an {@code @} and its domain kept, so that
 * {@code alice@contoso.com} and {@code alice@fabrikam.com} stay apart), else the email
 * when the provider says it is verified, else {@code user}; made valid: lower case, every
 * other character than {@code a-z 0-9 . _ -} replaced by {@code -}, leading ones dropped,
 * at most 64. A login is a name, not an identity: the provider (or, with some providers,
 * the user) chooses the claim. When that login is taken, by anybody (a password user of
 * the same login is never taken over: it stays a separate account), the login gets
 * {@code -} and 8, else 16, hex digits of SHA-256 of issuer and sub, and when those are
 * taken too (someone who knows the sub can register them first), a random suffix: a first
 * login never fails for want of a login.</li>
 * </ul>
 */
@Component
class OidcAccounts {

    private static final int MAX_LOGIN = 64;

    /**
     * The base login, two derived from the identity, then random ones: 20 random 64-bit
     * suffixes that are all taken are not a thing that happens.
     */
    private static final int ATTEMPTS = 23;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final JdbcClient jdbc;

    private final Audit audit;

    private final Clock clock;

    OidcAccounts(JdbcClient jdbc, Audit audit, Clock clock) {
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
    }

    /** The server's clock (the login's retry of a failed discovery goes by it too). */
    Clock clock() {
        return clock;
    }

    /** The user signed in. */
    record Account(UUID id, String login, boolean created) {
    }

    /**
     * Refused: the identity's user is disabled (the failure handler audits it with the
     * login).
     */
    static final class Refused extends OAuth2AuthenticationException {

        private final String login;

        Refused(String login) {
            super(new OAuth2Error("user_disabled"), "user disabled");
            this.login = login;
        }

        String login() {
            return login;
        }

    }

    /** Finds or creates the user of the identity and updates it from the claims. */
    @Transactional
    Account signIn(String issuer, String subject, @Nullable String preferredUsername, @Nullable String email,
            boolean emailVerified, @Nullable String name) {
        String displayName = displayName(name, preferredUsername);
        // An unverified email is anybody's claim: neither a login nor what admins see.
        String mail = !emailVerified || email == null || email.isBlank() || email.length() > 320 ? null : email.strip();
        Optional<Account> known = update(issuer, subject, displayName, mail);
        if (known.isPresent()) {
            return known.get();
        }
        String base = baseLogin(preferredUsername, mail);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            String login = switch (attempt) {
                case 0 -> base;
                case 1 -> suffixed(base, issuer, subject, 8);
                case 2 -> suffixed(base, issuer, subject, 16);
                default -> randomSuffixed(base);
            };
            int inserted = jdbc.sql("""
                    insert into users (id, login, display_name, email, password_hash, admin, disabled, created_at,
                                       oidc_issuer, oidc_subject)
                    values (:id, :login, :displayName, :email, null, false, false, :createdAt, :issuer, :subject)
                    on conflict do nothing
                    """)
                .param("id", UUID.randomUUID())
                .param("login", login)
                .param("displayName", displayName == null ? login : displayName)
                .param("email", mail)
                .param("createdAt", clock.instant().truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC))
                .param("issuer", issuer)
                .param("subject", subject)
                .update();
            if (inserted == 1) {
                Account account = find(issuer, subject).orElseThrow();
                audit.record(account.login(), "user.created", "user:" + account.login(),
                        Map.of("method", "oidc", "issuer", issuer));
                audit.record(account.login(), "login.oidc", "user:" + account.login(), Map.of("issuer", issuer));
                return new Account(account.id(), account.login(), true);
            }
            // Another login of the same identity won the race: that user it is.
            known = update(issuer, subject, displayName, mail);
            if (known.isPresent()) {
                return known.get();
            }
        }
        throw new OAuth2AuthenticationException(new OAuth2Error("login_unavailable"), "no free login for the identity");
    }

    private Optional<Account> update(String issuer, String subject, @Nullable String displayName,
            @Nullable String email) {
        Optional<Account> known = jdbc.sql("""
                select id, login, disabled from users
                where oidc_issuer = :issuer and oidc_subject = :subject
                for update
                """).param("issuer", issuer).param("subject", subject).query((rs, row) -> {
            if (rs.getBoolean("disabled")) {
                throw new Refused(rs.getString("login"));
            }
            return new Account(rs.getObject("id", UUID.class), rs.getString("login"), false);
        }).optional();
        known.ifPresent(account -> {
            jdbc.sql("""
                    update users
                    set display_name = coalesce(:displayName, display_name), email = coalesce(:email, email)
                    where id = :id
                    """).param("displayName", displayName).param("email", email).param("id", account.id()).update();
            audit.record(account.login(), "login.oidc", "user:" + account.login(), Map.of("issuer", issuer));
        });
        return known;
    }

    private Optional<Account> find(String issuer, String subject) {
        return jdbc.sql("select id, login from users where oidc_issuer = :issuer and oidc_subject = :subject")
            .param("issuer", issuer)
            .param("subject", subject)
            .query((rs, row) -> new Account(rs.getObject("id", UUID.class), rs.getString("login"), false))
            .optional();
    }

    private static @Nullable String displayName(@Nullable String name, @Nullable String preferredUsername) {
        String chosen = name != null && !name.isBlank() ? name.strip()
                : preferredUsername != null && !preferredUsername.isBlank() ? preferredUsername.strip() : null;
        return chosen == null ? null : chosen.substring(0, Math.min(chosen.length(), 200));
    }

    /** The login a new identity asks for, made valid (see the class comment). */
    static String baseLogin(@Nullable String preferredUsername, @Nullable String email) {
        String wanted = preferredUsername != null && !preferredUsername.isBlank() ? preferredUsername
                : email != null && !email.isBlank() ? email : "user";
        StringBuilder login = new StringBuilder();
        for (char c : wanted.toLowerCase(Locale.ROOT).toCharArray()) {
            boolean allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
            boolean first = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            if (login.isEmpty() && !first) {
                continue;
            }
            login.append(allowed ? c : '-');
            if (login.length() == MAX_LOGIN) {
                break;
            }
        }
        return login.isEmpty() ? "user" : login.toString();
    }

    /** {@code base-<hex>}: the same for the same identity, at most 64 characters. */
    static String suffixed(String base, String issuer, String subject, int hexDigits) {
        String suffix = "-" + HexFormat.of().formatHex(sha256(issuer + "\n" + subject)).substring(0, hexDigits);
        return base.substring(0, Math.min(base.length(), MAX_LOGIN - suffix.length())) + suffix;
    }

    /**
     * {@code base-<16 random hex digits>}: one nobody can register in advance for the
     * identity.
     */
    static String randomSuffixed(String base) {
        byte[] bytes = new byte[8];
        RANDOM.nextBytes(bytes);
        String suffix = "-" + HexFormat.of().formatHex(bytes);
        return base.substring(0, Math.min(base.length(), MAX_LOGIN - suffix.length())) + suffix;
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        }
        catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
