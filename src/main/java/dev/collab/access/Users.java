package dev.collab.access;

import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import org.jspecify.annotations.Nullable;
import org.springframework.data.domain.Sort;
import org.springframework.data.jdbc.core.JdbcAggregateTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Creates, changes and finds users; the server-admin operations of {@code /api/users}.
 */
@Service
class Users {

    static final String LOGIN_PATTERN = "^[a-z0-9][a-z0-9._-]{0,63}$";
    static final java.util.regex.Pattern LOGIN = java.util.regex.Pattern.compile(LOGIN_PATTERN);

    private final UserRepository repository;

    private final JdbcAggregateTemplate aggregates;

    private final JdbcClient jdbc;

    private final Passwords passwords;

    private final Audit audit;

    private final Clock clock;

    private final AuthCache cache;

    Users(UserRepository repository, JdbcAggregateTemplate aggregates, JdbcClient jdbc, Passwords passwords,
            Audit audit, Clock clock, AuthCache cache) {
        this.cache = cache;
        this.repository = repository;
        this.aggregates = aggregates;
        this.jdbc = jdbc;
        this.passwords = passwords;
        this.audit = audit;
        this.clock = clock;
    }

    Optional<User> find(UUID id) {
        return repository.findById(id);
    }

    Optional<User> findByLogin(String login) {
        return repository.findByLogin(login);
    }

    /**
     * The user of a session or token for this request: present only when it exists and is
     * not disabled.
     */
    Optional<CurrentUser> active(UUID id) {
        return jdbc.sql("select id, login, display_name, admin from users where id = :id and not disabled")
            .param("id", id)
            .query((rs, row) -> new CurrentUser(rs.getObject("id", UUID.class), rs.getString("login"),
                    rs.getString("display_name"), rs.getBoolean("admin")))
            .optional();
    }

    List<User> all() {
        return repository.findAll(Sort.by("login"));
    }

    /** Creates a user; its login must be free. */
    @Transactional
    User create(NewUser request) {
        List<ApiException.FieldProblem> problems = new ArrayList<>();
        if (request.login() == null || !LOGIN.matcher(request.login()).matches()) {
            problems.add(new ApiException.FieldProblem("login", "must match ^[a-z0-9][a-z0-9._-]{0,63}$"));
        }
        String passwordProblem = request.password() == null ? null : Passwords.problem(request.password());
        if (passwordProblem != null) {
            problems.add(new ApiException.FieldProblem("password", passwordProblem));
        }
        if (!problems.isEmpty()) {
            throw ApiException.invalid(problems);
        }
        User created = insert(request.login(), request.displayName(), request.email(), request.password(),
                Boolean.TRUE.equals(request.admin()));
        audit.record("user.created", "user:" + created.login(), Map.of("admin", created.admin()));
        return created;
    }

    /**
     * Inserts a user (no audit row: the caller writes it); a taken login is a validation
     * problem.
     */
    User insert(String login, @Nullable String displayName, @Nullable String email, @Nullable String password,
            boolean admin) {
        if (repository.findByLogin(login).isPresent()) {
            throw ApiException.invalid("login", "is already taken");
        }
        User user = new User(UUID.randomUUID(), login,
                displayName == null || displayName.isBlank() ? login : displayName, email,
                password == null ? null : passwords.hash(password), admin, false,
                clock.instant().truncatedTo(ChronoUnit.MICROS), null, null);
        try {
            return aggregates.insert(user);
        }
        catch (org.springframework.dao.DuplicateKeyException raced) {
            throw ApiException.invalid("login", "is already taken");
        }
    }

    /**
     * Applies a server admin's change. Disabling a user ends their browser sessions on
     * every replica at once (their rows are deleted); their tokens stop working because
     * every bearer request checks the user, and every change evicts the user's cached
     * tokens and roles on every replica ({@link AuthCache}). A new password ends the
     * user's browser sessions too (a reset after a compromise must lock the intruder
     * out), except the one it is made in ({@code keepSession}: an admin changing their
     * own password stays logged in); their tokens stay (docs/api.md). The last enabled
     * server admin cannot be disabled or demoted.
     */
    @Transactional
    User change(UUID id, UserChange change, @Nullable String keepSession) {
        // One change of server admins at a time: the last-admin check must see the
        // others' changes.
        jdbc.sql("select pg_advisory_xact_lock(hashtext('collab.server-admins'))").query((rs, row) -> 1).list();
        User user = repository.findById(id).orElseThrow(() -> ApiException.notFound("No user " + id + "."));
        String passwordProblem = change.password() == null ? null : Passwords.problem(change.password());
        if (passwordProblem != null) {
            throw ApiException.invalid("password", passwordProblem);
        }
        boolean admin = change.admin() == null ? user.admin() : change.admin();
        boolean disabled = change.disabled() == null ? user.disabled() : change.disabled();
        if (user.admin() && !user.disabled() && (!admin || disabled) && enabledAdmins() <= 1) {
            throw new ApiException(ProblemCode.LAST_ADMIN, "This change would leave the server without an admin.");
        }
        User changed = user.with(change.displayName() == null ? user.displayName() : change.displayName(), user.email(),
                change.password() == null ? user.passwordHash() : passwords.hash(change.password()), admin, disabled);
        repository.save(changed);
        // Every change: the cached tokens carry the user's admin flag and name too.
        cache.userChanged(user.id());
        if (disabled && !user.disabled()) {
            endSessions(user.id());
        }
        else if (change.password() != null) {
            jdbc.sql(
                    "delete from spring_session where principal_name = :id and session_id is distinct from cast(:keep as text)")
                .param("id", user.id().toString())
                .param("keep", keepSession)
                .update();
        }
        Map<String, Object> details = new LinkedHashMap<>();
        if (change.displayName() != null) {
            details.put("displayName", change.displayName());
        }
        if (change.admin() != null) {
            details.put("admin", admin);
        }
        if (change.disabled() != null) {
            details.put("disabled", disabled);
        }
        if (change.password() != null) {
            details.put("password", "changed");
        }
        audit.record("user.changed", "user:" + user.login(), details);
        return changed;
    }

    /**
     * Deletes every browser session of the user (Spring Session's principal name is the
     * user id).
     */
    void endSessions(UUID userId) {
        jdbc.sql("delete from spring_session where principal_name = :id").param("id", userId.toString()).update();
    }

    private int enabledAdmins() {
        return jdbc.sql("select count(*) from users where admin and not disabled").query(Integer.class).single();
    }

    /** {@code POST /api/users}. */
    record NewUser(
            @jakarta.validation.constraints.NotNull @io.swagger.v3.oas.annotations.media.Schema(
                    pattern = LOGIN_PATTERN) String login,
            @jakarta.validation.constraints.Size(max = 200) @io.swagger.v3.oas.annotations.media.Schema(types = {
                    "string", "null" }) @Nullable String displayName,
            @jakarta.validation.constraints.Size(max = 320) @io.swagger.v3.oas.annotations.media.Schema(
                    types = { "string", "null" }) @Nullable String email,
            @jakarta.validation.constraints.Size(min = Passwords.MIN_LENGTH,
                    max = Passwords.MAX_LENGTH) @io.swagger.v3.oas.annotations.media.Schema(
                            types = { "string", "null" }) @Nullable String password,
            @io.swagger.v3.oas.annotations.media.Schema(types = { "boolean", "null" }) @Nullable Boolean admin){

        @Override
        public String toString() {
            return "NewUser[login=" + login + "]";
        }
    }

    /** {@code PATCH /api/users/{id}}: absent members are left as they are. */
    record UserChange(
            @jakarta.validation.constraints.Size(max = 200) @io.swagger.v3.oas.annotations.media.Schema(
                    pattern = "\\S") @Nullable String displayName,
            @Nullable Boolean admin, @Nullable Boolean disabled,
            @jakarta.validation.constraints.Size(min = Passwords.MIN_LENGTH,
                    max = Passwords.MAX_LENGTH) @Nullable String password) {

        @Override
        public String toString() {
            return "UserChange[displayName=" + displayName + ", admin=" + admin + ", disabled=" + disabled + "]";
        }
    }

}
