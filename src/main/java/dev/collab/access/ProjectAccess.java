package dev.collab.access;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.stereotype.Component;

/**
 * What each feature asks before it acts on a project: who the caller is and what their
 * role in the project is. A caller who is not a member gets the same
 * {@code 404 not-found} as for a project that does not exist (existence never leaks); a
 * member whose role is too low gets {@code 403 forbidden}. A server admin is admin of
 * every project.
 */
@Component
public class ProjectAccess {

    private final JdbcClient jdbc;

    private final AuthProperties properties;

    private final Audit audit;

    private final AuthCache cache;

    ProjectAccess(JdbcClient jdbc, AuthProperties properties, Audit audit, AuthCache cache) {
        this.jdbc = jdbc;
        this.properties = properties;
        this.audit = audit;
        this.cache = cache;
    }

    /**
     * The caller of the current request; {@code 401 unauthenticated} if there is none.
     */
    public CurrentUser currentUser() {
        return caller().orElseThrow(() -> new ApiException(ProblemCode.UNAUTHENTICATED, "Log in or send a token."));
    }

    /** The caller of the current request, if it is authenticated. */
    public Optional<CurrentUser> caller() {
        Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
        return authentication != null && authentication.getPrincipal() instanceof CurrentUser user ? Optional.of(user)
                : Optional.empty();
    }

    /**
     * The caller's role in the project (ADMIN for a server admin), empty for a
     * non-member. Read through the short-lived {@link AuthCache}, which every membership
     * change evicts on every replica.
     */
    public Optional<Role> roleIn(String projectKey) {
        CurrentUser user = currentUser();
        if (user.admin()) {
            return Optional.of(Role.ADMIN);
        }
        return cache.role(user.id(), projectKey, this::loadRole);
    }

    private Optional<Role> loadRole(AuthCache.MemberKey key) {
        return jdbc.sql("select role from project_members where project_key = :key and user_id = :user")
            .param("key", key.projectKey())
            .param("user", key.user())
            .query((rs, row) -> Role.ofSlug(rs.getString("role")))
            .optional();
    }

    /**
     * Requires the caller to have at least {@code needed} in the project:
     * {@code 404 not-found} for a non-member (as for a project that does not exist),
     * {@code 403 forbidden} for too low a role. A server admin passes for any key,
     * existing or not: the feature answers 404 for a missing one.
     */
    public Role requireRole(String projectKey, Role needed) {
        return requireRole(projectKey, needed, () -> ApiException.notFound("No project '" + projectKey + "'."));
    }

    /**
     * As {@link #requireRole(String, Role)}, for a thing of the project (a session): a
     * non-member gets {@code notFound}, the very answer the feature gives for an id that
     * does not exist, so that neither the thing's nor the project's existence leaks.
     */
    public Role requireRole(String projectKey, Role needed, Supplier<? extends RuntimeException> notFound) {
        Role role = roleIn(projectKey).orElseThrow(notFound);
        if (!role.includes(needed)) {
            throw new ApiException(ProblemCode.FORBIDDEN, "Your role in this project (" + role.slug()
                    + ") does not allow this; it needs " + needed.slug() + ".");
        }
        return role;
    }

    /**
     * The keys of the projects the caller is a member of (every project's, for a server
     * admin).
     */
    @SuppressWarnings("NullAway") // a single-column query's rows are @Nullable to Spring;
                                  // projects.key and project_members.project_key are NOT
                                  // NULL
    public List<String> visibleProjects() {
        CurrentUser user = currentUser();
        if (user.admin()) {
            return jdbc.sql("select key from projects order by key").query(String.class).list();
        }
        return jdbc.sql("select project_key from project_members where user_id = :user order by project_key")
            .param("user", user.id())
            .query(String.class)
            .list();
    }

    /**
     * Called by the project feature in the transaction that inserts a new project: the
     * caller must be allowed to create projects ({@code 403 forbidden} otherwise, which
     * rolls the insert back), and becomes the project's admin.
     */
    public void projectCreated(String projectKey) {
        CurrentUser user = currentUser();
        requireMayCreateProjects();
        jdbc.sql("""
                insert into project_members (project_key, user_id, role) values (:key, :user, 'admin')
                on conflict (project_key, user_id) do update set role = 'admin'
                """).param("key", projectKey).param("user", user.id()).update();
        cache.membershipChanged(user.id(), projectKey);
        audit.record("project.created", "project:" + projectKey, Map.of());
    }

    /**
     * {@code 403 forbidden} unless the caller may create projects (a server admin, or
     * anyone with {@code collab.auth.users-create-projects}).
     */
    public void requireMayCreateProjects() {
        if (!currentUser().admin() && !properties.usersCreateProjects()) {
            throw new ApiException(ProblemCode.FORBIDDEN, "Only server admins create projects on this server.");
        }
    }

    /**
     * The caller's projects and roles ({@code GET /api/me}); a server admin is admin of
     * every project.
     */
    @SuppressWarnings("NullAway") // project_members.role is NOT NULL and one of the three
                                  // slugs (a check constraint), so ofSlug never answers
                                  // null
    List<Membership> memberships(CurrentUser user) {
        if (user.admin()) {
            return jdbc.sql("select key from projects order by key")
                .query((rs, row) -> new Membership(rs.getString("key"), Role.ADMIN))
                .list();
        }
        return jdbc.sql("select project_key, role from project_members where user_id = :user order by project_key")
            .param("user", user.id())
            .query((rs, row) -> new Membership(rs.getString("project_key"), Role.ofSlug(rs.getString("role"))))
            .list();
    }

    /** One entry of {@code GET /api/me}'s {@code projects}. */
    record Membership(String key, Role role) {
    }

}
