package dev.collab.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
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
 * {@code preferred_username} (its part before an {@code @}; else the email's local part;
 * else {@code user}) made valid: lower case, every other character than
 * {@code a-z 0-9 . _ -} replaced by {@code -}, leading ones dropped, at most 64. When
 * that login is taken, by anybody (a password user of the same login is never taken over:
 * it stays a separate account), the login gets a suffix derived from the identity alone
 * ({@code -} and 8, else 16, hex digits of SHA-256 of issuer and sub), so the same
 * identity always gets the same login.</li>
 * </ul>
 */
@Component
class OidcAccounts {

    private static final int MAX_LOGIN = 64;

    private final JdbcClient jdbc;

    private final Audit audit;

    private final Clock clock;

    OidcAccounts(JdbcClient jdbc, Audit audit, Clock clock) {
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
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
            @Nullable String name) {
        String displayName = displayName(name, preferredUsername);
        String mail = email == null || email.isBlank() || email.length() > 320 ? null : email.strip();
        Optional<Account> known = update(issuer, subject, displayName, mail);
        if (known.isPresent()) {
            return known.get();
        }
        String base = baseLogin(preferredUsername, email);
        for (String login : new String[] { base, suffixed(base, issuer, subject, 8),
                suffixed(base, issuer, subject, 16) }) {
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
        int at = wanted.indexOf('@');
        if (at > 0) {
            wanted = wanted.substring(0, at);
        }
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

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        }
        catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
