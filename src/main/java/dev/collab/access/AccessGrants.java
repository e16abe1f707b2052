package dev.collab.access;

import java.time.Clock;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.stereotype.Component;

/**
 * Access that outlives the request that checked it. A live stream is authorised once,
 * when it opens; the user loaded into that request's security context is never read
 * again, so a revoked token, a disabled user, a logout or a removed membership would go
 * unnoticed for as long as the stream lasts. The stream records its {@link AccessGrant}
 * when it opens ({@link #current}) and its instance asks periodically, for all its
 * streams at once, which grants no longer hold ({@link #lost}): one query, whatever the
 * number of streams, and the same rules as a new request's authentication (a token that
 * is revoked or expired, a browser session that is gone or expired or now another user's,
 * a disabled or deleted user) and as {@link ProjectAccess#requireRole} with
 * {@link Role#VIEWER} (a member of the project, or a server admin).
 */
@Component
public class AccessGrants {

    private final JdbcClient jdbc;

    private final Clock clock;

    AccessGrants(JdbcClient jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    /**
     * What the current request is authorised with on the project: call it after
     * {@link ProjectAccess#requireRole}. {@code 401 unauthenticated} without a caller.
     */
    public AccessGrant current(String projectKey, HttpServletRequest request) {
        Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
        if (authentication == null || !(authentication.getPrincipal() instanceof CurrentUser user)) {
            throw new ApiException(ProblemCode.UNAUTHENTICATED, "Log in or send a token.");
        }
        UUID tokenId = authentication instanceof UserAuthentication bearer ? bearer.tokenId() : null;
        String browserSession = null;
        if (tokenId == null) {
            HttpSession session = request.getSession(false);
            browserSession = session != null ? session.getId() : null;
        }
        return new AccessGrant(user.id(), tokenId, browserSession, projectKey);
    }

    /**
     * The grants among {@code grants} that no longer hold, in one query (a grant with
     * neither a token nor a browser session is checked for its user and project only).
     * Throws what the database throws: the caller decides what a failed check means.
     */
    public Set<AccessGrant> lost(Collection<AccessGrant> grants) {
        List<AccessGrant> all = List.copyOf(new HashSet<>(grants));
        if (all.isEmpty()) {
            return Set.of();
        }
        int size = all.size();
        UUID[] users = new UUID[size];
        @Nullable String[] tokens = new String[size];
        @Nullable String[] sessions = new String[size];
        String[] projects = new String[size];
        for (int i = 0; i < size; i++) {
            AccessGrant grant = all.get(i);
            users[i] = grant.userId();
            UUID token = grant.tokenId();
            tokens[i] = token == null ? null : token.toString();
            sessions[i] = grant.browserSession();
            projects[i] = grant.projectKey();
        }
        // The ordinal of each grant that still holds; one pass over the input, each
        // condition an index look-up (users and access_tokens by primary key,
        // project_members by its primary key, spring_session by its unique session_id).
        List<Long> holding = jdbc
            .sql("""
                    select g.i
                    from unnest(cast(:users as uuid[]), cast(:tokens as uuid[]), cast(:sessions as text[]),
                                cast(:projects as text[])) with ordinality as g(user_id, token_id, session_id, project_key, i)
                    join users u on u.id = g.user_id and not u.disabled
                    where (u.admin or exists (select 1 from project_members m
                                              where m.project_key = g.project_key and m.user_id = g.user_id))
                      and (g.token_id is null or exists (select 1 from access_tokens t
                                                         where t.id = g.token_id and t.user_id = g.user_id
                                                           and t.revoked_at is null
                                                           and (t.expires_at is null or t.expires_at > :now)))
                      and (g.session_id is null or exists (select 1 from spring_session s
                                                           where s.session_id = g.session_id
                                                             and s.principal_name = g.user_id::text
                                                             and s.expiry_time > :nowMillis))
                    """)
            .param("users", users)
            .param("tokens", tokens)
            .param("sessions", sessions)
            .param("projects", projects)
            .param("now", clock.instant().atOffset(ZoneOffset.UTC))
            .param("nowMillis", clock.millis())
            .query((rs, row) -> rs.getLong(1))
            .list();
        boolean[] holds = new boolean[size];
        for (long ordinal : holding) {
            holds[(int) ordinal - 1] = true;
        }
        List<AccessGrant> lost = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            if (!holds[i]) {
                lost.add(all.get(i));
            }
        }
        return Set.copyOf(lost);
    }

}
