package dev.collab.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

import dev.collab.web.ApiException;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Personal access tokens: {@code collab_pat_} and 256 random bits (base64url). Only the
 * SHA-256 of a token is stored; a presented token is hashed and looked up by that hash (a
 * unique index), so no stored secret is ever compared byte by byte in Java and no timing
 * leaks a prefix. A bearer request reads the token and its user (one indexed join)
 * through the short-lived {@link AuthCache}; a revocation or a disabled user evicts it on
 * every replica, so it still takes effect on the next request.
 */
@Service
class AccessTokens {

    static final String PREFIX = "collab_pat_";

    /**
     * The last use is written at most this often per token, so a busy token is not a
     * write per request.
     */
    static final Duration LAST_USED_RESOLUTION = Duration.ofMinutes(1);

    private static final SecureRandom RANDOM = new SecureRandom();

    private final JdbcClient jdbc;

    private final Audit audit;

    private final Clock clock;

    private final AuthCache cache;

    AccessTokens(JdbcClient jdbc, Audit audit, Clock clock, AuthCache cache) {
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
        this.cache = cache;
    }

    @Transactional
    CreatedToken create(CurrentUser owner, String name, @Nullable Instant expiresAt) {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        String token = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        UUID id = UUID.randomUUID();
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        @Nullable Instant expires = expiresAt == null ? null : expiresAt.truncatedTo(ChronoUnit.MICROS);
        jdbc.sql("""
                insert into access_tokens (id, user_id, name, token_hash, created_at, expires_at)
                values (:id, :user, :name, :hash, :now, :expires)
                """)
            .param("id", id)
            .param("user", owner.id())
            .param("name", name)
            .param("hash", sha256(token))
            .param("now", now.atOffset(ZoneOffset.UTC))
            .param("expires", expires == null ? null : expires.atOffset(ZoneOffset.UTC))
            .update();
        audit.record("token.created", "token:" + id, Map.of("name", name));
        return new CreatedToken(id, name, token, now, expires, null);
    }

    /**
     * The owner's tokens that are not revoked (expired ones too, so they can be seen and
     * removed).
     */
    List<TokenView> list(CurrentUser owner) {
        return jdbc.sql("""
                select id, name, created_at, expires_at, last_used_at from access_tokens
                where user_id = :user and revoked_at is null order by created_at, id
                """)
            .param("user", owner.id())
            .query((rs, row) -> new TokenView(rs.getObject("id", UUID.class), rs.getString("name"),
                    rs.getObject("created_at", OffsetDateTime.class).toInstant(), instant(rs, "expires_at"),
                    instant(rs, "last_used_at")))
            .list();
    }

    /**
     * Revokes the owner's token; someone else's (or no) token is not found, so ids never
     * leak.
     */
    @Transactional
    void revoke(CurrentUser owner, UUID id) {
        int found = jdbc.sql("""
                update access_tokens set revoked_at = coalesce(revoked_at, :now)
                where id = :id and user_id = :user
                """)
            .param("now", clock.instant().atOffset(ZoneOffset.UTC))
            .param("id", id)
            .param("user", owner.id())
            .update();
        if (found == 0) {
            throw ApiException.notFound("No token " + id + ".");
        }
        cache.tokenChanged(id);
        audit.record("token.revoked", "token:" + id, Map.of());
    }

    /**
     * The user a presented token stands for: present only for a known token that is
     * neither revoked nor expired, of a user who is not disabled. Records the last use
     * (at most once a minute).
     */
    Optional<UserAuthentication> authenticate(String token) {
        if (token == null || !token.startsWith(PREFIX) || token.length() > 200) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        AuthCache.TokenEntry hit = cache.token(sha256(token), this::load);
        // Checked on every hit, not only at load: an expiry passes while the entry is
        // cached.
        if (hit == null || !hit.usableAt(now)) {
            return Optional.empty();
        }
        Instant lastUsed = hit.lastUsedAt().get();
        if ((lastUsed == null || lastUsed.plus(LAST_USED_RESOLUTION).isBefore(now))
                && hit.lastUsedAt().compareAndSet(lastUsed, now)) {
            // One write per token and minute on this replica, cache hit or not (the
            // compare-and-set lets one of the concurrent requests write).
            jdbc.sql("update access_tokens set last_used_at = :now where id = :id")
                .param("now", now.truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC))
                .param("id", hit.tokenId())
                .update();
        }
        return Optional.of(new UserAuthentication(hit.user(), hit.tokenId()));
    }

    /** The token with this hash and its user, null if there is none. */
    private AuthCache.@Nullable TokenEntry load(byte[] hash) {
        return jdbc.sql("""
                select t.id as token_id, t.expires_at, t.revoked_at, t.last_used_at,
                       u.id, u.login, u.display_name, u.admin, u.disabled
                from access_tokens t join users u on u.id = t.user_id
                where t.token_hash = :hash
                """)
            .param("hash", hash)
            .query((rs, row) -> new AuthCache.TokenEntry(rs.getObject("token_id", UUID.class),
                    new CurrentUser(rs.getObject("id", UUID.class), rs.getString("login"), rs.getString("display_name"),
                            rs.getBoolean("admin")),
                    instant(rs, "expires_at"), instant(rs, "revoked_at") != null, rs.getBoolean("disabled"),
                    new AtomicReference<>(instant(rs, "last_used_at"))))
            .optional()
            .orElse(null);
    }

    /** When this token expires; null if never (or if there is no such token). */
    @Nullable Instant expiresAt(UUID tokenId) {
        return jdbc.sql("select expires_at from access_tokens where id = :id")
            .param("id", tokenId)
            .query((rs, row) -> Optional.ofNullable(instant(rs, "expires_at")))
            .optional()
            .flatMap(expiry -> expiry)
            .orElse(null);
    }

    static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        }
        catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static @Nullable Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    /** A token in a list: never the token itself. */
    @Schema(name = "AccessToken")
    record TokenView(UUID id, String name, Instant createdAt, @Schema(types = {
            "string", "null" }) @Nullable Instant expiresAt,
            @Schema(types = { "string", "null" }) @Nullable Instant lastUsedAt){
    }

    /** The answer to {@code POST /api/tokens}: the only time the token is shown. */
    @Schema(name = "CreatedAccessToken")
    record CreatedToken(UUID id, String name, String token, Instant createdAt, @Schema(types = {
            "string", "null" }) @Nullable Instant expiresAt,
            @Schema(types = { "string", "null" }) @Nullable Instant lastUsedAt){

        @Override
        public String toString() {
            return "CreatedToken[id=" + id + ", name=" + name + "]";
        }
    }

}
