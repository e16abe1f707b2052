package dev.collab.access;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * The members of a project ({@code /api/projects/{key}/members}) and the last-admin rule:
 * a member change keeps at least one admin member who is not disabled. Server admins are
 * admins of every project without a row, so they do not count.
 */
@Service
class Members {

    /**
     * The project key rule (project/ProjectKey.PATTERN); repeated here because access
     * depends on no feature (ModuleStructureTest).
     */
    static final String KEY_PATTERN = "^[a-z0-9][a-z0-9._-]{0,63}$";

    private static final Pattern KEY = Pattern.compile(KEY_PATTERN);

    private final JdbcClient jdbc;

    private final ProjectAccess access;

    private final Audit audit;

    private final AuthCache cache;

    Members(JdbcClient jdbc, ProjectAccess access, Audit audit, AuthCache cache) {
        this.jdbc = jdbc;
        this.access = access;
        this.audit = audit;
        this.cache = cache;
    }

    /** {@code GET}: the project's members ordered by login (disabled users too). */
    @Transactional(readOnly = true)
    List<Member> list(String key) {
        requireKey(key);
        access.requireRole(key, Role.VIEWER);
        requireProject(key, false);
        return jdbc.sql("""
                select u.login, u.display_name, m.role
                from project_members m join users u on u.id = m.user_id
                where m.project_key = :key
                order by u.login
                """)
            .param("key", key)
            .query((rs, row) -> new Member(rs.getString("login"), rs.getString("display_name"),
                    role(rs.getString("role"))))
            .list();
    }

    /** {@code PUT}: adds the user with the role, or changes their role. */
    @Transactional
    Change put(String key, String login, Role role) {
        Target target = lockedTarget(key, login);
        Optional<Role> before = target.role();
        if (before.isPresent() && before.get() == role) {
            // Unchanged: nothing to write or audit.
            return new Change(new Member(target.login(), target.displayName(), role), false);
        }
        if (before.orElse(null) == Role.ADMIN) {
            requireAnotherAdmin(key, target.id());
        }
        jdbc.sql("""
                insert into project_members (project_key, user_id, role) values (:key, :user, :role)
                on conflict (project_key, user_id) do update set role = excluded.role
                """).param("key", key).param("user", target.id()).param("role", role.slug()).update();
        cache.membershipChanged(target.id(), key);
        audit.record(before.isPresent() ? "member.changed" : "member.added", "project:" + key,
                Map.of("login", target.login(), "role", role.slug()));
        return new Change(new Member(target.login(), target.displayName(), role), before.isEmpty());
    }

    /**
     * {@code DELETE}: removes the user from the project; a non-member, and a login that
     * names no user, is no change. An unknown login is no 404 here: the end state is the
     * same, and a 404 would let anyone who may create a project test, unaudited, which
     * logins exist (PUT keeps its 404: adding needs a user, and it is audited).
     */
    @Transactional
    void remove(String key, String login) {
        Optional<Target> found = lockedTargetIfAny(key, login);
        if (found.isEmpty()) {
            return;
        }
        Target target = found.get();
        Optional<Role> before = target.role();
        if (before.isEmpty()) {
            return;
        }
        if (before.get() == Role.ADMIN) {
            requireAnotherAdmin(key, target.id());
        }
        jdbc.sql("delete from project_members where project_key = :key and user_id = :user")
            .param("key", key)
            .param("user", target.id())
            .update();
        cache.membershipChanged(target.id(), key);
        audit.record("member.removed", "project:" + key, Map.of("login", target.login(), "role", before.get().slug()));
    }

    /**
     * Checks the path, the caller's right to change members, locks the project and finds
     * the user. The project row is locked ({@code for no key update}) for the rest of the
     * transaction, so the member changes of one project happen one at a time on every
     * replica: two admins demoting each other cannot both see the other as the spare
     * admin. {@code for no key update} conflicts with itself but not with the
     * {@code for key share} that inserting a row referencing the project takes (a new
     * session), so a member change never holds up session creation in the project. The
     * caller's role is checked again under the lock, since a change that waited for it
     * may have taken the caller's admin role away.
     */
    private Target lockedTarget(String key, String login) {
        return lockedTargetIfAny(key, login).orElseThrow(() -> ApiException.notFound("No user '" + login + "'."));
    }

    /** As {@link #lockedTarget}, empty when no user has the login. */
    private Optional<Target> lockedTargetIfAny(String key, String login) {
        requireKey(key);
        if (login == null || !Users.LOGIN.matcher(login).matches()) {
            throw ApiException.invalid("login", "must match " + Users.LOGIN_PATTERN);
        }
        // Before the lock, so a non-member cannot hold up the project's changes.
        access.requireRole(key, Role.ADMIN);
        requireProject(key, true);
        access.requireRole(key, Role.ADMIN);
        return jdbc.sql("""
                select u.id, u.login, u.display_name, m.role
                from users u left join project_members m on m.user_id = u.id and m.project_key = :key
                where u.login = :login
                """)
            .param("key", key)
            .param("login", login)
            .query((rs, row) -> new Target(rs.getObject("id", UUID.class), rs.getString("login"),
                    rs.getString("display_name"), Optional.ofNullable(Role.ofSlug(rs.getString("role")))))
            .optional();
    }

    /**
     * Refuses a change that takes the admin role from {@code target} unless another admin
     * member who can log in (not disabled) remains: an admin row of a disabled user
     * administers nothing. (Disabling a user is a server admin's act that no project can
     * block; a project whose only admin was disabled is repaired by a server admin, see
     * docs/operations.md.)
     */
    private void requireAnotherAdmin(String key, UUID target) {
        int others = jdbc.sql("""
                select count(*) from project_members m join users u on u.id = m.user_id
                where m.project_key = :key and m.role = 'admin' and not u.disabled and m.user_id <> :target
                """).param("key", key).param("target", target).query(Integer.class).single();
        if (others == 0) {
            throw new ApiException(ProblemCode.LAST_ADMIN,
                    "This change would leave project '" + key + "' without an admin: make another member admin first.");
        }
    }

    /**
     * A server admin passes {@link ProjectAccess#requireRole} for any key: the project
     * must exist too.
     */
    private void requireProject(String key, boolean lock) {
        boolean exists = jdbc.sql("select key from projects where key = :key" + (lock ? " for no key update" : ""))
            .param("key", key)
            .query((rs, row) -> 1)
            .optional()
            .isPresent();
        if (!exists) {
            throw ApiException.notFound("No project '" + key + "'.");
        }
    }

    private static void requireKey(String key) {
        if (key == null || !KEY.matcher(key).matches()) {
            throw ApiException.invalid("key", "must match " + KEY_PATTERN);
        }
    }

    @SuppressWarnings("NullAway") // project_members.role is NOT NULL and one of the
                                  // three slugs (a check constraint)
    private static Role role(String slug) {
        return Role.ofSlug(slug);
    }

    /** A member as the API shows it. */
    record Member(String login, String displayName, Role role) {
    }

    /** The result of a PUT: the member, and whether they were added. */
    record Change(Member member, boolean added) {
    }

    private record Target(UUID id, String login, String displayName, Optional<Role> role) {
    }

}
