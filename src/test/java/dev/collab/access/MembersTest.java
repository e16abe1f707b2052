package dev.collab.access;

import java.net.http.HttpRequest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

import static dev.collab.access.AccessTest.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code /api/projects/{key}/members} over real HTTP on real PostgreSQL: who may list,
 * add, change and remove members, the last-admin rule (also under parallel requests), the
 * problems of bad input, and the audit rows of each change.
 */
@IntegrationTest
class MembersTest {

    static final String PASSWORD = "correct horse battery";

    @Autowired
    JdbcClient jdbc;

    @Autowired
    Api api;

    @Autowired
    DataSource dataSource;

    private static String newLogin(String prefix) {
        return prefix + "-" + Long.toString(System.nanoTime(), 36);
    }

    /** A new user, logged in (browser session with CSRF). */
    private Api newUser(String login) {
        api.createUser(login, PASSWORD, false);
        return api.anonymous().as(login, PASSWORD);
    }

    /** A project created by {@code owner}, who becomes its only admin member. */
    private static String newProject(Api owner, String prefix) {
        String key = newLogin(prefix);
        Api.Response created = owner.put("/api/projects/" + key, "{\"name\":\"" + prefix + "\",\"repoUrl\":null}");
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        return key;
    }

    private static Api.Response setRole(Api client, String key, String login, String role) {
        return client.checkingRequests()
            .put("/api/projects/" + key + "/members/" + login, Api.json(Map.of("role", role)));
    }

    private int adminRows(String key) {
        return jdbc.sql("select count(*) from project_members where project_key = :key and role = 'admin'")
            .param("key", key)
            .query(Integer.class)
            .single();
    }

    @Test
    void aProjectAdminAddsChangesAndRemovesMembersAndEveryChangeIsAudited() {
        String ownerLogin = newLogin("owner");
        Api owner = newUser(ownerLogin);
        String key = newProject(owner, "members");
        String viewer = newLogin("viewer");
        api.createUser(viewer, PASSWORD, false);

        JsonNode list = owner.get("/api/projects/" + key + "/members").json();
        assertThat(list.toString()).isEqualTo("{\"items\":[{\"login\":\"" + ownerLogin + "\",\"displayName\":\""
                + ownerLogin + "\",\"role\":\"admin\"}]}");

        Api.Response added = setRole(owner, key, viewer, "viewer");
        assertThat(added.status()).as(added.toString()).isEqualTo(201);
        assertThat(added.json().toString())
            .isEqualTo("{\"login\":\"" + viewer + "\",\"displayName\":\"" + viewer + "\",\"role\":\"viewer\"}");
        // Unchanged, then changed: 200.
        assertThat(setRole(owner, key, viewer, "viewer").status()).isEqualTo(200);
        Api.Response changed = setRole(owner, key, viewer, "member");
        assertThat(changed.status()).as(changed.toString()).isEqualTo(200);
        assertThat(changed.json().path("role").asString()).isEqualTo("member");

        // Ordered by login ("owner-…" < "viewer-…").
        assertThat(owner.get("/api/projects/" + key + "/members")
            .json()
            .path("items")
            .valueStream()
            .map(item -> item.path("login").asString() + "=" + item.path("role").asString()))
            .containsExactly(ownerLogin + "=admin", viewer + "=member");

        assertThat(owner.checkingRequests().delete("/api/projects/" + key + "/members/" + viewer).status())
            .isEqualTo(204);
        // Not a member (any more): also 204, and nothing is audited for it.
        assertThat(owner.checkingRequests().delete("/api/projects/" + key + "/members/" + viewer).status())
            .isEqualTo(204);
        assertThat(owner.get("/api/projects/" + key + "/members").json().path("items").size()).isEqualTo(1);

        assertThat(jdbc.sql("""
                select actor || ' ' || action || ' ' || target || ' ' || (details ->> 'login') || ' '
                       || (details ->> 'role')
                from audit_log where target = :target and action like 'member.%' order by id
                """).param("target", "project:" + key).query(String.class).list()).containsExactly(
                ownerLogin + " member.added project:" + key + " " + viewer + " viewer",
                ownerLogin + " member.changed project:" + key + " " + viewer + " member",
                ownerLogin + " member.removed project:" + key + " " + viewer + " member");
    }

    @Test
    void viewersListButOnlyProjectAdminsChangeAndNonMembersSeeNoProject() {
        Api owner = newUser(newLogin("owner"));
        String key = newProject(owner, "roles");
        String viewerLogin = newLogin("viewer");
        Api viewer = newUser(viewerLogin);
        String memberLogin = newLogin("member");
        Api member = newUser(memberLogin);
        Api stranger = newUser(newLogin("stranger"));
        setRole(owner, key, viewerLogin, "viewer");
        setRole(owner, key, memberLogin, "member");

        assertThat(viewer.get("/api/projects/" + key + "/members").status()).isEqualTo(200);
        for (Api low : List.of(viewer, member)) {
            assertProblem(low.put("/api/projects/" + key + "/members/" + viewerLogin, "{\"role\":\"admin\"}"), 403,
                    "forbidden");
            assertProblem(low.delete("/api/projects/" + key + "/members/" + viewerLogin), 403, "forbidden");
        }
        // A member cannot promote themselves either.
        assertProblem(member.put("/api/projects/" + key + "/members/" + memberLogin, "{\"role\":\"admin\"}"), 403,
                "forbidden");

        // A non-member gets exactly what a project that does not exist gets.
        String missing = newLogin("missing");
        List<Api.Response> strangers = List.of(stranger.get("/api/projects/" + key + "/members"),
                stranger.put("/api/projects/" + key + "/members/" + viewerLogin, "{\"role\":\"admin\"}"),
                stranger.delete("/api/projects/" + key + "/members/" + viewerLogin));
        List<Api.Response> unknown = List.of(stranger.get("/api/projects/" + missing + "/members"),
                stranger.put("/api/projects/" + missing + "/members/" + viewerLogin, "{\"role\":\"admin\"}"),
                stranger.delete("/api/projects/" + missing + "/members/" + viewerLogin));
        for (int i = 0; i < strangers.size(); i++) {
            assertProblem(strangers.get(i), 404, "not-found");
            assertThat(comparable(strangers.get(i), key)).isEqualTo(comparable(unknown.get(i), missing));
        }
        // Also for a server admin (admin of every project), a project that does not
        // exist.
        assertProblem(api.get("/api/projects/" + missing + "/members"), 404, "not-found");
        assertProblem(api.put("/api/projects/" + missing + "/members/" + viewerLogin, "{\"role\":\"admin\"}"), 404,
                "not-found");
        assertProblem(api.delete("/api/projects/" + missing + "/members/" + viewerLogin), 404, "not-found");
        assertThat(jdbc.sql("select count(*) from project_members where project_key = :k")
            .param("k", missing)
            .query(Integer.class)
            .single()).isZero();

        // A server admin manages the members of every project without a member row.
        assertThat(setRole(api, key, viewerLogin, "member").status()).isEqualTo(200);
    }

    /** The answer with the request's own values (key, request id) taken out. */
    private static String comparable(Api.Response response, String key) {
        return response.status() + " " + response.contentType() + " "
                + response.text().replace(key, "KEY").replaceAll("\"requestId\":\"[^\"]*\"", "");
    }

    @Test
    void theLastAdminCannotBeDemotedOrRemoved() {
        String ownerLogin = newLogin("owner");
        Api owner = newUser(ownerLogin);
        String key = newProject(owner, "last");

        assertProblem(owner.put("/api/projects/" + key + "/members/" + ownerLogin, "{\"role\":\"member\"}"), 409,
                "last-admin");
        assertProblem(owner.delete("/api/projects/" + key + "/members/" + ownerLogin), 409, "last-admin");
        // A server admin is admin of every project without a member row, so does not
        // count: the project keeps its one admin member.
        assertProblem(api.put("/api/projects/" + key + "/members/" + ownerLogin, "{\"role\":\"viewer\"}"), 409,
                "last-admin");
        assertProblem(api.delete("/api/projects/" + key + "/members/" + ownerLogin), 409, "last-admin");
        assertThat(adminRows(key)).isEqualTo(1);

        // With a second admin, the first may step down.
        String second = newLogin("second");
        api.createUser(second, PASSWORD, false);
        assertThat(setRole(owner, key, second, "admin").status()).isEqualTo(201);
        assertThat(setRole(owner, key, ownerLogin, "viewer").status()).isEqualTo(200);
        assertThat(owner.get("/api/projects/" + key + "/members").status()).isEqualTo(200);
        assertProblem(owner.put("/api/projects/" + key + "/members/" + ownerLogin, "{\"role\":\"admin\"}"), 403,
                "forbidden");
        assertThat(adminRows(key)).isEqualTo(1);
    }

    /**
     * Two admins, demoted and removed at the same time: one change wins, the other is
     * {@code 409 last-admin}, and the project always keeps one admin. Each round starts
     * its two requests together.
     */
    @Test
    void parallelDemotionsAndRemovalsNeverLeaveAProjectWithoutAnAdmin() throws Exception {
        String ownerLogin = newLogin("owner");
        Api owner = newUser(ownerLogin);
        String key = newProject(owner, "race");
        String first = newLogin("first");
        Api firstAdmin = newUser(first);
        String second = newLogin("second");
        Api secondAdmin = newUser(second);
        setRole(owner, key, first, "admin");
        setRole(owner, key, second, "admin");
        // The owner leaves: two admins remain.
        assertThat(owner.delete("/api/projects/" + key + "/members/" + ownerLogin).status()).isEqualTo(204);

        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int round = 0; round < 8; round++) {
                assertThat(setRole(api, key, first, "admin").status()).isIn(200, 201);
                assertThat(setRole(api, key, second, "admin").status()).isIn(200, 201);
                assertThat(adminRows(key)).isEqualTo(2);
                // A server admin demotes one and removes the other: exactly one wins.
                List<Integer> statuses = both(threads,
                        () -> api.put("/api/projects/" + key + "/members/" + first, "{\"role\":\"viewer\"}").status(),
                        () -> api.delete("/api/projects/" + key + "/members/" + second).status());
                assertThat(statuses).as("round %d", round).containsAnyOf(200, 204).contains(409);
                assertThat(adminRows(key)).as("round %d", round).isEqualTo(1);

                // The two admins demote each other: one wins; the loser is no admin any
                // more when its turn comes (403), never both.
                assertThat(setRole(api, key, first, "admin").status()).isIn(200, 201);
                assertThat(setRole(api, key, second, "admin").status()).isIn(200, 201);
                List<Integer> mutual = both(threads,
                        () -> firstAdmin.put("/api/projects/" + key + "/members/" + second, "{\"role\":\"member\"}")
                            .status(),
                        () -> secondAdmin.put("/api/projects/" + key + "/members/" + first, "{\"role\":\"member\"}")
                            .status());
                assertThat(mutual).as("round %d", round).containsOnlyOnce(200).containsAnyOf(403, 409);
                assertThat(adminRows(key)).as("round %d", round).isEqualTo(1);
            }
        }
    }

    private static List<Integer> both(ExecutorService threads, Callable<Integer> a, Callable<Integer> b)
            throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Integer>> futures = new ArrayList<>();
        for (Callable<Integer> call : List.of(a, b)) {
            futures.add(threads.submit(() -> {
                start.await();
                return call.call();
            }));
        }
        start.countDown();
        List<Integer> statuses = new ArrayList<>();
        for (Future<Integer> future : futures) {
            statuses.add(future.get());
        }
        return statuses;
    }

    @Test
    void badInputIsA400AndAnUnknownUserA404ForPutButNotForDelete() {
        Api owner = newUser(newLogin("owner"));
        String key = newProject(owner, "input");
        String user = newLogin("user");
        api.createUser(user, PASSWORD, false);
        String path = "/api/projects/" + key + "/members/" + user;

        for (String role : List.of("\"owner\"", "\"Admin\"", "\"\"", "null")) {
            Api.Response response = owner.put(path, "{\"role\":" + role + "}");
            assertProblem(response, 400, "validation-failed");
            assertThat(response.json().path("errors").get(0).path("field").asString()).isEqualTo("role");
        }
        assertProblem(owner.put(path, "{}"), 400, "validation-failed");
        // JSON types are never coerced; a body that is not JSON, or none.
        assertProblem(owner.put(path, "{\"role\":42}"), 400, "malformed-request");
        assertProblem(owner.put(path, "{\"role\":[\"admin\"]}"), 400, "malformed-request");
        assertProblem(owner.put(path, "role=admin"), 400, "malformed-request");
        assertProblem(owner.put(path, ""), 400, "malformed-request");

        Api.Response badLogin = owner.put("/api/projects/" + key + "/members/Not%20A%20Login", "{\"role\":\"viewer\"}");
        assertProblem(badLogin, 400, "validation-failed");
        assertThat(badLogin.json().path("errors").get(0).path("field").asString()).isEqualTo("login");
        assertProblem(owner.delete("/api/projects/" + key + "/members/UPPER"), 400, "validation-failed");
        Api.Response badKey = owner.get("/api/projects/Bad%20Key/members");
        assertProblem(badKey, 400, "validation-failed");
        assertThat(badKey.json().path("errors").get(0).path("field").asString()).isEqualTo("key");

        String nobody = newLogin("nobody");
        assertProblem(owner.put("/api/projects/" + key + "/members/" + nobody, "{\"role\":\"viewer\"}"), 404,
                "not-found");
        // DELETE answers an unknown login as a non-member: it must not tell which logins
        // exist.
        Api.Response removed = owner.delete("/api/projects/" + key + "/members/" + nobody);
        assertThat(removed.status()).as(removed.toString()).isEqualTo(204);
        assertThat(owner.delete("/api/projects/" + key + "/members/" + user).status()).isEqualTo(204);
        assertThat(jdbc.sql("select count(*) from audit_log where action = 'member.removed' and target = :t")
            .param("t", "project:" + key)
            .query(Integer.class)
            .single()).isZero();
        // Nothing was changed by any of it.
        assertThat(owner.get("/api/projects/" + key + "/members").json().path("items").size()).isEqualTo(1);
    }

    private void setDisabled(java.util.UUID user, boolean disabled) {
        Api.Response patched = api.send(HttpRequest.newBuilder(api.uri("/api/users/" + user))
            .header("Content-Type", "application/json")
            .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"disabled\":" + disabled + "}")));
        assertThat(patched.status()).as(patched.toString()).isEqualTo(200);
    }

    private int enabledAdmins(String key) {
        return jdbc.sql("""
                select count(*) from project_members m join users u on u.id = m.user_id
                where m.project_key = :key and m.role = 'admin' and not u.disabled
                """).param("key", key).query(Integer.class).single();
    }

    /**
     * An admin row of a disabled user is no spare admin: the last enabled admin can
     * neither leave nor step down, also after adding a disabled user as admin.
     */
    @Test
    void aDisabledAdminIsNoSpareAdmin() {
        String ownerLogin = newLogin("owner");
        Api owner = newUser(ownerLogin);
        String key = newProject(owner, "spare");
        String goneLogin = newLogin("gone");
        java.util.UUID gone = api.createUser(goneLogin, PASSWORD, false);
        setDisabled(gone, true);

        assertThat(setRole(owner, key, goneLogin, "admin").status()).isEqualTo(201);
        assertProblem(owner.delete("/api/projects/" + key + "/members/" + ownerLogin), 409, "last-admin");
        assertProblem(owner.put("/api/projects/" + key + "/members/" + ownerLogin, "{\"role\":\"member\"}"), 409,
                "last-admin");
        assertProblem(api.delete("/api/projects/" + key + "/members/" + ownerLogin), 409, "last-admin");
        assertThat(enabledAdmins(key)).isEqualTo(1);

        // Enabled again, the other admin is a spare: the owner may leave.
        setDisabled(gone, false);
        assertThat(owner.delete("/api/projects/" + key + "/members/" + ownerLogin).status()).isEqualTo(204);
        assertThat(enabledAdmins(key)).isEqualTo(1);
    }

    /**
     * Disabling a user is a server admin's act that no project blocks; the project is
     * left without a usable admin, and a server admin repairs it through the members
     * endpoint.
     */
    @Test
    void disablingTheOnlyAdminIsAllowedAndAServerAdminRepairsTheProject() {
        String ownerLogin = newLogin("owner");
        newUser(ownerLogin);
        java.util.UUID ownerId = jdbc.sql("select id from users where login = :l")
            .param("l", ownerLogin)
            .query(java.util.UUID.class)
            .single();
        Api owner = api.anonymous().as(ownerLogin, PASSWORD);
        String key = newProject(owner, "orphan");
        setDisabled(ownerId, true);
        assertThat(enabledAdmins(key)).isZero();

        String heir = newLogin("heir");
        api.createUser(heir, PASSWORD, false);
        assertThat(setRole(api, key, heir, "admin").status()).isEqualTo(201);
        assertThat(enabledAdmins(key)).isEqualTo(1);
        // The disabled user's row may now go: an enabled admin remains.
        assertThat(api.delete("/api/projects/" + key + "/members/" + ownerLogin).status()).isEqualTo(204);
    }

    /**
     * The last-admin rule under the lock, without relying on timing: while a test
     * connection holds the project row's lock, a demotion and a removal of the two admins
     * both wait; once it is released, exactly one of them wins.
     */
    @Test
    void changesWaitForTheProjectLockAndThenExactlyOneWins() throws Exception {
        String ownerLogin = newLogin("owner");
        Api owner = newUser(ownerLogin);
        String key = newProject(owner, "locked");
        String first = newLogin("first");
        api.createUser(first, PASSWORD, false);
        String second = newLogin("second");
        api.createUser(second, PASSWORD, false);
        assertThat(setRole(owner, key, first, "admin").status()).isEqualTo(201);
        assertThat(setRole(owner, key, second, "admin").status()).isEqualTo(201);
        assertThat(owner.delete("/api/projects/" + key + "/members/" + ownerLogin).status()).isEqualTo(204);

        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Integer> demotion;
            Future<Integer> removal;
            try (Connection lock = dataSource.getConnection()) {
                lock.setAutoCommit(false);
                try {
                    try (PreparedStatement select = lock
                        .prepareStatement("select key from projects where key = ? for no key update")) {
                        select.setString(1, key);
                        select.executeQuery().close();
                    }
                    demotion = threads
                        .submit(() -> api.put("/api/projects/" + key + "/members/" + first, "{\"role\":\"viewer\"}")
                            .status());
                    removal = threads.submit(() -> api.delete("/api/projects/" + key + "/members/" + second).status());
                    // Both are waiting for the lock (seen in PostgreSQL, not guessed from
                    // time).
                    await().atMost(Duration.ofSeconds(30)).until(() -> waitingForLocks("from projects") >= 2);
                    assertThat(demotion).isNotDone();
                    assertThat(removal).isNotDone();
                }
                finally {
                    lock.rollback();
                }
            }
            List<Integer> statuses = List.of(demotion.get(30, TimeUnit.SECONDS), removal.get(30, TimeUnit.SECONDS));
            assertThat(statuses).containsAnyOf(200, 204).contains(409);
        }
        assertThat(enabledAdmins(key)).isEqualTo(1);
    }

    /**
     * The member change's lock ({@code for no key update}) does not conflict with the key
     * share lock that inserting a session takes: a member change in flight does not hold
     * up session creation in the project.
     */
    @Test
    void aMemberChangeInFlightDoesNotHoldUpSessionCreation() throws Exception {
        String ownerLogin = newLogin("owner");
        Api owner = newUser(ownerLogin);
        String key = newProject(owner, "inflight");
        String user = newLogin("user");
        java.util.UUID userId = api.createUser(user, PASSWORD, false);
        assertThat(setRole(owner, key, user, "viewer").status()).isEqualTo(201);

        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Integer> change;
            try (Connection hold = dataSource.getConnection()) {
                hold.setAutoCommit(false);
                try {
                    // Holds the member's row: the change takes the project's lock, then
                    // waits here, in flight.
                    try (PreparedStatement select = hold.prepareStatement(
                            "select role from project_members where project_key = ? and user_id = ? for update")) {
                        select.setString(1, key);
                        select.setObject(2, userId);
                        select.executeQuery().close();
                    }
                    change = threads
                        .submit(() -> owner.put("/api/projects/" + key + "/members/" + user, "{\"role\":\"member\"}")
                            .status());
                    await().atMost(Duration.ofSeconds(30)).until(() -> waitingForLocks("project_members") >= 1);

                    Future<Integer> created = threads
                        .submit(() -> owner.post("/api/projects/" + key + "/sessions", "{}").status());
                    assertThat(created.get(30, TimeUnit.SECONDS)).isEqualTo(201);
                    assertThat(change).as("the member change is still in flight").isNotDone();
                }
                finally {
                    hold.rollback();
                }
            }
            assertThat(change.get(30, TimeUnit.SECONDS)).isEqualTo(200);
        }
    }

    /** Backends of this database waiting for a lock in a statement on this table. */
    private int waitingForLocks(String table) {
        return jdbc.sql("""
                select count(*) from pg_stat_activity
                where datname = current_database() and wait_event_type = 'Lock' and query like :table
                """).param("table", "%" + table + "%").query(Integer.class).single();
    }

    @Test
    void aDisabledUserCanBeAddedAndIsListed() {
        Api owner = newUser(newLogin("owner"));
        String key = newProject(owner, "disabled");
        String login = newLogin("gone");
        java.util.UUID id = api.createUser(login, PASSWORD, false);
        assertThat(api
            .send(HttpRequest.newBuilder(api.uri("/api/users/" + id))
                .header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"disabled\":true}")))
            .status()).isEqualTo(200);

        assertThat(setRole(owner, key, login, "member").status()).isEqualTo(201);
        assertThat(owner.get("/api/projects/" + key + "/members").text()).contains("\"login\":\"" + login + "\"");
    }

}
