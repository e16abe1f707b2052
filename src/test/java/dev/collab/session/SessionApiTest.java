package dev.collab.session;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.MutableClock;
import dev.collab.workspace.Workspaces;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

@IntegrationTest
class SessionApiTest {

    @Autowired
    MutableClock clock;

    @Autowired
    Workspaces workspaces;

    @Autowired
    Api api;

    @AfterEach
    void releaseClock() {
        clock.release();
    }

    @Test
    void createReturnsSessionWithLocationAndWorkspace() {
        String project = api.newProject("create");
        Api.Response created = api.post("/api/projects/" + project + "/sessions", "{\"title\":\"Fix the login bug\"}");
        assertThat(created.status()).isEqualTo(201);
        JsonNode session = created.json();
        String id = session.get("id").asString();
        assertThat(UUID.fromString(id).toString()).isEqualTo(id);
        assertThat(created.header("Location")).contains("/api/sessions/" + id);
        assertThat(session.get("project").asString()).isEqualTo(project);
        assertThat(session.get("title").asString()).isEqualTo("Fix the login bug");
        assertThat(session.get("state").asString()).isEqualTo("IDLE");
        assertThat(session.get("headSeq").asLong()).as("session.created is event 1").isEqualTo(1);
        assertThat(session.get("currentRunId").isNull()).isTrue();
        assertThat(Instant.parse(session.get("lastActivityAt").asString()))
            .isAfterOrEqualTo(Instant.parse(session.get("createdAt").asString()));
        assertThat(session.propertyNames()).containsExactlyInAnyOrder("id", "project", "title", "state", "createdAt",
                "lastActivityAt", "headSeq", "currentRunId", "queueLength", "presence", "unread", "readSeq");
        // What other modules add for the caller (SessionDetails): a new session's
        // defaults.
        assertThat(session.get("queueLength").asInt()).isZero();
        assertThat(session.get("presence").get("count").asInt()).isZero();
        assertThat(session.get("unread").asInt()).isZero();
        assertThat(session.get("readSeq").asLong()).isZero();
        assertThat(Files.isDirectory(workspaces.root().resolve(id))).as("workspace exists when 201 is sent").isTrue();

        assertThat(api.get("/api/sessions/" + id).json()).isEqualTo(session);
    }

    @Test
    void titleIsOptionalAndBounded() {
        String project = api.newProject("title");
        assertThat(api.post("/api/projects/" + project + "/sessions", "{}").status()).isEqualTo(201);
        Api.Response noBody = api
            .send(java.net.http.HttpRequest.newBuilder(api.uri("/api/projects/" + project + "/sessions"))
                .POST(java.net.http.HttpRequest.BodyPublishers.noBody()));
        assertThat(noBody.status()).isEqualTo(201);
        assertThat(noBody.json().get("title").isNull()).isTrue();
        assertThat(
                api.post("/api/projects/" + project + "/sessions", "{\"title\":\"" + "t".repeat(200) + "\"}").status())
            .isEqualTo(201);
        Api.Response tooLong = api.post("/api/projects/" + project + "/sessions",
                "{\"title\":\"" + "t".repeat(201) + "\"}");
        assertThat(tooLong.status()).isEqualTo(400);
        assertThat(tooLong.json().get("code").asString()).isEqualTo("validation-failed");
        assertThat(tooLong.json().get("errors").get(0).get("field").asString()).isEqualTo("title");
    }

    @Test
    void createInUnknownProjectIsNotFoundAndLeavesNoWorkspace() throws Exception {
        long before;
        try (var entries = Files.list(workspaces.root())) {
            before = entries.count();
        }
        Api.Response response = api.post("/api/projects/nope-" + System.nanoTime() + "/sessions", "{}");
        assertThat(response.status()).isEqualTo(404);
        assertThat(response.json().get("code").asString()).isEqualTo("not-found");
        try (var entries = Files.list(workspaces.root())) {
            assertThat(entries.count()).isLessThanOrEqualTo(before);
        }
    }

    @Test
    void getUnknownOrMalformedId() {
        Api.Response unknown = api.get("/api/sessions/" + UUID.randomUUID());
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().get("code").asString()).isEqualTo("not-found");
        Api.Response malformed = api.get("/api/sessions/not-a-uuid");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.json().get("code").asString()).isEqualTo("validation-failed");
        assertThat(malformed.json().get("errors").get(0).get("field").asString()).isEqualTo("id");
        assertThat(api.delete("/api/sessions/not-a-uuid").status()).isEqualTo(400);
    }

    @Test
    void deleteEndsTheSessionIdempotently() {
        String project = api.newProject("end");
        String id = api.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString();
        Api.Response first = api.delete("/api/sessions/" + id);
        assertThat(first.status()).isEqualTo(204);
        assertThat(first.text()).isEmpty();
        JsonNode ended = api.get("/api/sessions/" + id).json();
        assertThat(ended.get("state").asString()).isEqualTo("ENDED");
        assertThat(api.delete("/api/sessions/" + id).status()).isEqualTo(204);
        assertThat(api.get("/api/sessions/" + id).json()).isEqualTo(ended);
        assertThat(api.delete("/api/sessions/" + UUID.randomUUID()).status()).isEqualTo(404);
    }

    @Test
    void listPaginatesOverSeveralPagesWithTies() {
        String project = api.newProject("pages");
        Instant base = Instant.parse("2026-01-01T00:00:00.123456Z");
        List<JsonNode> created = new ArrayList<>();
        // Three groups of sessions sharing one lastActivityAt each: ties are broken by id
        // descending.
        for (int group = 0; group < 3; group++) {
            clock.freezeAt(base.plus(Duration.ofMinutes(group)));
            for (int i = 0; i < 5; i++) {
                created
                    .add(api.post("/api/projects/" + project + "/sessions", "{\"title\":\"g" + group + "\"}").json());
            }
        }
        clock.release();
        List<String> expected = created.stream()
            .sorted(Comparator.comparing((JsonNode s) -> Instant.parse(s.get("lastActivityAt").asString()))
                .thenComparing(s -> UUID.fromString(s.get("id").asString()), SessionApiTest::compareLikePostgres)
                .reversed())
            .map(s -> s.get("id").asString())
            .toList();

        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Api.Response page = api
                .get("/api/projects/" + project + "/sessions?limit=4" + (cursor == null ? "" : "&cursor=" + cursor));
            assertThat(page.status()).isEqualTo(200);
            page.json().get("items").forEach(item -> seen.add(item.get("id").asString()));
            JsonNode next = page.json().get("nextCursor");
            cursor = next.isNull() ? null : next.asString();
            pages++;
        }
        while (cursor != null && pages < 10);
        assertThat(pages).isEqualTo(4);
        assertThat(seen).containsExactlyElementsOf(expected);
        assertThat(new HashSet<>(seen)).hasSize(15);

        JsonNode exact = api.get("/api/projects/" + project + "/sessions?limit=15").json();
        assertThat(exact.get("items")).hasSize(15);
        assertThat(exact.get("nextCursor").isNull()).as("no empty last page").isTrue();
        assertThat(api.get("/api/projects/" + project + "/sessions").json().get("items")).hasSize(15);
    }

    /**
     * PostgreSQL orders uuid values by their bytes, unsigned; Java's UUID.compareTo is
     * signed.
     */
    private static int compareLikePostgres(UUID a, UUID b) {
        int high = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
        return high != 0 ? high : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
    }

    @Test
    void listFiltersByStateAndPutsRecentActivityFirst() {
        String project = api.newProject("state");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ids.add(api.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString());
        }
        assertThat(api.delete("/api/sessions/" + ids.get(0)).status()).isEqualTo(204);
        assertThat(api.delete("/api/sessions/" + ids.get(2)).status()).isEqualTo(204);

        Set<String> ended = ids(api.get("/api/projects/" + project + "/sessions?state=ENDED").json());
        assertThat(ended).containsExactlyInAnyOrder(ids.get(0), ids.get(2));
        Set<String> idle = ids(api.get("/api/projects/" + project + "/sessions?state=IDLE").json());
        assertThat(idle).containsExactlyInAnyOrder(ids.get(1), ids.get(3));
        assertThat(api.get("/api/projects/" + project + "/sessions?state=RUNNING").json().get("items")).isEmpty();

        JsonNode all = api.get("/api/projects/" + project + "/sessions").json().get("items");
        assertThat(all.get(0).get("id").asString()).as("the last ended session moved to the top").isEqualTo(ids.get(2));
    }

    @Test
    void badListParametersAreValidationProblems() {
        String project = api.newProject("params");
        // Well-formed cursors whose time PostgreSQL cannot hold (found in review): still
        // a
        // client's mistake, never the database's error.
        String id = "00000000-0000-4000-8000-000000000000";
        String farPast = java.util.Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(("s1." + Long.MIN_VALUE + "." + id).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        String farFuture = java.util.Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(("s1." + Long.MAX_VALUE + "." + id).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        for (String query : List.of("limit=0", "limit=201", "limit=abc", "limit=-1", "cursor=garbage",
                "cursor=czEuMTIz", "state=SLEEPING")) {
            Api.Response response = api.get("/api/projects/" + project + "/sessions?" + query);
            assertThat(response.status()).as(query).isEqualTo(400);
            assertThat(response.json().get("code").asString()).as(query).isEqualTo("validation-failed");
        }
        for (String cursor : List.of(farPast, farFuture)) {
            Api.Response response = api.get("/api/projects/" + project + "/sessions?cursor=" + cursor);
            assertThat(response.status()).as(cursor).isEqualTo(200);
        }
        assertThat(api.get("/api/projects/" + project + "/sessions?limit=200").status()).isEqualTo(200);
        assertThat(api.get("/api/projects/" + project + "/sessions?limit=1").status()).isEqualTo(200);
    }

    @Test
    void listOfUnknownProjectIsNotFoundAndEmptyProjectIsEmpty() {
        assertThat(api.get("/api/projects/nope-" + System.nanoTime() + "/sessions").status()).isEqualTo(404);
        String project = api.newProject("empty");
        JsonNode empty = api.get("/api/projects/" + project + "/sessions").json();
        assertThat(empty.get("items")).isEmpty();
        assertThat(empty.get("nextCursor").isNull()).isTrue();
    }

    private static Set<String> ids(JsonNode page) {
        Set<String> ids = new HashSet<>();
        page.get("items").forEach(item -> ids.add(item.get("id").asString()));
        return ids;
    }

}
