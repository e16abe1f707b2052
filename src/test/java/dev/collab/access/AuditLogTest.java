package dev.collab.access;

import java.net.http.HttpRequest;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

import static dev.collab.access.AccessTest.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /api/audit} over real HTTP on real PostgreSQL: server admins only, newest
 * first, keyset pages without duplicates or gaps (also among rows of the same time),
 * strict {@code limit} and {@code cursor}, and no details (nothing secret) in the answer.
 */
@IntegrationTest
class AuditLogTest {

    @Autowired
    JdbcClient jdbc;

    @Autowired
    Api api;

    private static String unique(String prefix) {
        return prefix + "-" + Long.toString(System.nanoTime(), 36);
    }

    @Test
    void aServerAdminReadsWhoDidWhatWhenAndFromWhereButNoDetails() {
        String key = api.newProject("audited");
        String login = unique("audited-user");
        api.createUser(login, MembersTest.PASSWORD, false);
        String requestId = unique("audit-request");
        Api.Response added = api.checkingRequests()
            .send(HttpRequest.newBuilder(api.uri("/api/projects/" + key + "/members/" + login))
                .header("Content-Type", "application/json")
                .header("X-Request-Id", requestId)
                .PUT(HttpRequest.BodyPublishers.ofString("{\"role\":\"viewer\"}")));
        assertThat(added.status()).isEqualTo(201);
        // A token's secret must never show up in the log's answer.
        String token = api.checkingRequests()
            .post("/api/tokens", Api.json(Map.of("name", "audited")))
            .json()
            .path("token")
            .asString();

        Api.Response page = api.checkingRequests().get("/api/audit");
        assertThat(page.status()).isEqualTo(200);
        JsonNode items = page.json().path("items");
        assertThat(items.size()).isBetween(1, 50);
        JsonNode entry = items.valueStream()
            .filter(item -> requestId.equals(item.path("requestId").asString(null)))
            .findFirst()
            .orElseThrow();
        assertThat(entry.propertyNames()).containsExactly("at", "actor", "action", "target", "requestId", "address");
        assertThat(entry.path("actor").asString()).isEqualTo(Api.ADMIN_LOGIN);
        assertThat(entry.path("action").asString()).isEqualTo("member.added");
        assertThat(entry.path("target").asString()).isEqualTo("project:" + key);
        assertThat(entry.path("address").asString()).isNotBlank();
        assertThat(entry.path("at").asString()).endsWith("Z");
        assertThat(page.text()).doesNotContain(token).doesNotContain("details");
        // Newest first: the token was created after the member was added.
        List<String> actions = items.valueStream().map(item -> item.path("action").asString()).toList();
        assertThat(actions.indexOf("token.created")).isLessThan(actions.indexOf("member.added"));
    }

    /**
     * A failed login records the login as typed: a password typed into the login field
     * must not be handed out. Its target is shown only for a user that exists.
     */
    @Test
    void aFailedLoginOfAnUnknownLoginHasNoTargetInTheAnswer() {
        String known = unique("known");
        api.createUser(known, MembersTest.PASSWORD, false);
        String typed = unique("my-secret-password");
        OffsetDateTime at = OffsetDateTime.of(2998, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);
        List<Long> ids = new ArrayList<>();
        for (String[] row : List.of(new String[] { "login.failed", "user:" + typed },
                new String[] { "login.throttled", "user:" + typed },
                new String[] { "login.failed", "user:" + known })) {
            ids.add(jdbc.sql("""
                    insert into audit_log (at, action, target, address) values (:at, :action, :target, '192.0.2.1')
                    returning id
                    """).param("at", at).param("action", row[0]).param("target", row[1]).query(Long.class).single());
        }
        try {
            Api.Response page = api.checkingRequests().get("/api/audit?limit=200");
            assertThat(page.text()).doesNotContain(typed).contains("\"target\":\"user:" + known + "\"");
            assertThat(page.json()
                .path("items")
                .valueStream()
                .filter(item -> item.path("at").asString().startsWith("2998-"))
                .map(item -> item.path("action").asString() + " " + item.path("target").asString("null"))
                .toList()).containsExactly("login.failed user:" + known, "login.throttled null", "login.failed null");
        }
        finally {
            jdbc.sql("delete from audit_log where id in (:ids)").param("ids", ids).update();
        }
    }

    @Test
    void onlyServerAdminsReadTheLog() {
        String login = unique("reader");
        api.createUser(login, MembersTest.PASSWORD, false);
        Api user = api.anonymous().as(login, MembersTest.PASSWORD);
        assertProblem(user.get("/api/audit"), 403, "forbidden");
        String token = user.post("/api/tokens", Api.json(Map.of("name", "reader"))).json().path("token").asString();
        assertProblem(api.withToken(token).get("/api/audit"), 403, "forbidden");
        assertProblem(api.anonymous().get("/api/audit"), 401, "unauthenticated");
    }

    /**
     * Rows of one instant are told apart by their id: every row is on exactly one page,
     * in order, whatever the page size.
     */
    @Test
    void pagesNeitherRepeatNorSkipRowsOfTheSameTime() {
        // Far in the future, so these are the newest rows of the log.
        OffsetDateTime at = OffsetDateTime.of(2999, 1, 1, 0, 0, 0, 123_456_000, ZoneOffset.UTC);
        String marker = unique("paging");
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            ids.add(jdbc.sql("""
                    insert into audit_log (at, actor, action, target) values (:at, 'tester', :action, :target)
                    returning id
                    """)
                .param("at", i == 6 ? at.minusNanos(1_000) : at)
                .param("action", "test.paging")
                .param("target", marker + ":" + i)
                .query(Long.class)
                .single());
        }
        // Removed whatever happens: left behind, they would be the newest rows of every
        // later test's first page.
        try {
            for (int limit : List.of(1, 2, 3, 7)) {
                List<String> seen = new ArrayList<>();
                String cursor = null;
                int pages = 0;
                do {
                    Api.Response page = api.checkingRequests()
                        .get("/api/audit?limit=" + limit + (cursor == null ? "" : "&cursor=" + cursor));
                    assertThat(page.status()).as(page.toString()).isEqualTo(200);
                    JsonNode items = page.json().path("items");
                    assertThat(items.size()).isBetween(1, limit);
                    items.valueStream()
                        .map(item -> item.path("target").asString(""))
                        .filter(target -> target.startsWith(marker))
                        .forEach(seen::add);
                    cursor = page.json().path("nextCursor").isNull() ? null : page.json().path("nextCursor").asString();
                    pages++;
                }
                while (cursor != null && seen.size() < 7 && pages < 100);
                // Same time: newest id first; the one a microsecond older comes last.
                assertThat(seen).as("limit %d", limit)
                    .containsExactly(marker + ":5", marker + ":4", marker + ":3", marker + ":2", marker + ":1",
                            marker + ":0", marker + ":6");
            }
        }
        finally {
            jdbc.sql("delete from audit_log where id in (:ids)").param("ids", ids).update();
        }
    }

    @Test
    void aBadLimitOrCursorIsAValidationProblem() {
        for (String limit : List.of("0", "201", "-1", "%2B5", "%205", "5.0", "abc", "1e2", "%D9%A5", "5&limit=6")) {
            Api.Response response = api.get("/api/audit?limit=" + limit);
            assertProblem(response, 400, "validation-failed");
            assertThat(response.json().path("errors").get(0).path("field").asString()).isEqualTo("limit");
        }
        assertThat(api.get("/api/audit?limit=").status()).isEqualTo(200);
        assertThat(api.get("/api/audit?limit=200").status()).isEqualTo(200);

        String good = api.get("/api/audit?limit=1").json().path("nextCursor").asString();
        assertThat(api.get("/api/audit?limit=1&cursor=" + good).status()).isEqualTo(200);
        String plain = new String(java.util.Base64.getUrlDecoder().decode(good),
                java.nio.charset.StandardCharsets.US_ASCII);
        for (String cursor : List.of("x", "!!!", good + "=", good + "A", good.substring(1), b64("a1.1.1.1"),
                b64("a1.1"), b64("s1.1.1"), b64("a1.+1.1"), b64("a1.01.1"), b64("a1.1.0"), b64("a1.1.-1"),
                b64(plain.replace("a1.", "a1.0")), b64("a1.99999999999999999999.1"), b64("a1.-9223372036854775808.1"),
                b64("a1.9223372036854775807.1"), "A".repeat(200), good + "&cursor=" + good)) {
            Api.Response response = api.get("/api/audit?cursor=" + cursor);
            assertProblem(response, 400, "validation-failed");
            assertThat(response.json().path("errors").get(0).path("field").asString()).isEqualTo("cursor");
        }
    }

    private static String b64(String plain) {
        return java.util.Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(plain.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

}
