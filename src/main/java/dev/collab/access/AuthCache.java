package dev.collab.access;

import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.collab.cluster.ClusterNotifications;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * A bounded, short-lived cache of what every bearer request would otherwise read from
 * PostgreSQL: the token (by its SHA-256, never the token itself) with its user, and the
 * caller's role in a project. Measured reason (docs/performance.md, "Issue 13"): without
 * it a bearer session list makes three database round trips instead of one.
 * <p>
 * Revocation still takes effect at once: every change that can end or lower access
 * ({@link #tokenChanged}, {@link #userChanged}, {@link #membershipChanged}) evicts here
 * after its transaction commits and sends an invalidation on the cluster channel
 * {@value #CHANNEL} in that transaction (PostgreSQL delivers a NOTIFY only on commit), so
 * every replica evicts too. After the LISTEN connection was lost, invalidations may have
 * been missed: the whole cache is cleared. The TTL ({@code collab.auth.cache-ttl}) bounds
 * staleness when everything else fails; 0 turns the cache off.
 */
@Component
class AuthCache {

    private static final Logger log = LoggerFactory.getLogger(AuthCache.class);

    static final String CHANNEL = "auth_cache";

    private final @Nullable Cache<String, TokenEntry> tokens;

    private final @Nullable Cache<MemberKey, Optional<Role>> memberships;

    private final ClusterNotifications notifications;

    AuthCache(AuthProperties properties, ClusterNotifications notifications) {
        this.notifications = notifications;
        Duration ttl = properties.cacheTtl();
        if (ttl.isZero()) {
            tokens = null;
            memberships = null;
        }
        else {
            // The TTL runs on Caffeine's own monotonic ticker, not on the clock: a wall
            // clock step must not keep entries longer. Token expiry is checked against
            // the clock on every hit (AccessTokens).
            tokens = Caffeine.newBuilder().maximumSize(properties.cacheSize()).expireAfterWrite(ttl).build();
            memberships = Caffeine.newBuilder().maximumSize(properties.cacheSize()).expireAfterWrite(ttl).build();
        }
        notifications.listen(CHANNEL, this::received);
        notifications.onReconnect(this::clear);
    }

    /**
     * The token with this hash: from the cache, else {@code load} (which answers null for
     * an unknown token; unknown tokens are not cached, so guessing cannot fill the cache
     * with entries that push out the real ones).
     */
    @SuppressWarnings("NullAway") // Caffeine's loader may answer null: nothing is cached
                                  // and get answers null
    @Nullable TokenEntry token(byte[] hash, Function<byte[], @Nullable TokenEntry> load) {
        Cache<String, TokenEntry> cache = tokens;
        if (cache == null) {
            return load.apply(hash);
        }
        return cache.get(HexFormat.of().formatHex(hash), key -> load.apply(hash));
    }

    /** The user's role in the project (empty: not a member), cached. */
    Optional<Role> role(UUID user, String projectKey, Function<MemberKey, Optional<Role>> load) {
        Cache<MemberKey, Optional<Role>> cache = memberships;
        if (cache == null) {
            return load.apply(new MemberKey(user, projectKey));
        }
        return cache.get(new MemberKey(user, projectKey), load);
    }

    /** The token was revoked (or changed): every replica forgets it. */
    void tokenChanged(UUID tokenId) {
        changed("token:" + tokenId);
    }

    /**
     * The user was changed (disabled, admin flag, password, name), logged out or removed:
     * every replica forgets their tokens and memberships.
     */
    void userChanged(UUID userId) {
        changed("user:" + userId);
    }

    /**
     * The user's role in the project changed (added, changed, removed, project created).
     */
    void membershipChanged(UUID userId, String projectKey) {
        changed("member:" + userId + ":" + projectKey);
    }

    /** Forgets everything (after a lost LISTEN connection). */
    void clear() {
        if (tokens != null) {
            tokens.invalidateAll();
        }
        if (memberships != null) {
            memberships.invalidateAll();
        }
    }

    /**
     * Evicts here now and again after the commit (a request that read the old rows
     * between the two must not keep them), and tells the other replicas in the changing
     * transaction: its NOTIFY is delivered when, and only if, it commits.
     */
    private void changed(String payload) {
        evict(payload);
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    evict(payload);
                }
            });
        }
        notifications.send(CHANNEL, payload);
    }

    private void received(String payload) {
        evict(payload);
    }

    private void evict(String payload) {
        Cache<String, TokenEntry> tokenCache = tokens;
        Cache<MemberKey, Optional<Role>> memberCache = memberships;
        if (tokenCache == null || memberCache == null) {
            return;
        }
        String[] parts = payload.split(":", 3);
        try {
            switch (parts[0]) {
                case "token" -> {
                    UUID id = UUID.fromString(parts[1]);
                    tokenCache.asMap().values().removeIf(entry -> entry.tokenId().equals(id));
                }
                case "user" -> {
                    UUID id = UUID.fromString(parts[1]);
                    tokenCache.asMap().values().removeIf(entry -> entry.user().id().equals(id));
                    memberCache.asMap().keySet().removeIf(key -> key.user().equals(id));
                }
                case "member" -> memberCache.invalidate(new MemberKey(UUID.fromString(parts[1]), parts[2]));
                default -> {
                    log.warn("Unknown auth cache invalidation {}; clearing the cache", payload);
                    clear();
                }
            }
        }
        catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
            log.warn("Malformed auth cache invalidation {}; clearing the cache", payload);
            clear();
        }
    }

    /** A cached membership's key. */
    record MemberKey(UUID user, String projectKey) {
    }

    /**
     * A known token as read from the database: its user, expiry, revoked and disabled
     * state, and when its last use was last written (so cache hits keep writing it at
     * most once a minute).
     */
    record TokenEntry(UUID tokenId, CurrentUser user, @Nullable Instant expiresAt, boolean revoked, boolean disabled,
            AtomicReference<@Nullable Instant> lastUsedAt) {

        boolean usableAt(Instant now) {
            return !revoked && !disabled && (expiresAt == null || now.isBefore(expiresAt));
        }

    }

}
