package dev.collab.approval;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import dev.collab.run.ApprovalGate;
import dev.collab.run.ApprovalGate.Decision;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.MutableClock;
import dev.collab.support.TestContexts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Approvals over real HTTP on real PostgreSQL: a request through the real
 * {@link ApprovalGate} bean (as the runner makes it) for a real run of the test agent,
 * its events, and its one decision by a person, a timeout or the run's end; who may
 * decide; the fallback when a decision's NOTIFY never comes.
 */
@IntegrationTest
// Runs stay in progress for as long as a test needs them (the tests' default is 4 s).
@TestPropertySource(properties = TestContexts.LONG_RUNS)
class ApprovalTest {

    static final String PASSWORD = "correct horse battery";

    static final Duration WAIT = Duration.ofSeconds(30);

    @Autowired
    Api api;

    @Autowired
    ApprovalGate gate;

    @Autowired
    Approvals approvals;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    MutableClock clock;

    String project;

    UUID session;

    UUID run;

    @BeforeEach
    void aRunInProgress() {
        project = api.newProject("approvals");
        session = api.newSession(project);
        Api.Response sent = api.sendMessage(session, "sleep 120", null);
        assertThat(sent.status()).as(sent.toString()).isEqualTo(202);
        run = UUID.fromString(sent.json().get("runId").asString());
    }

    @AfterEach
    void endTheRun() {
        clock.release();
        api.interrupt(session);
        await().atMost(WAIT).until(() -> state(session).equals("IDLE"));
    }

    private String state(UUID id) {
        return api.get("/api/sessions/" + id).json().get("state").asString();
    }

    /** A user with this role in the project, logged in through the API. */
    private Caller user(String role) {
        String login = api.newMember(project, role);
        return new Caller(login, api.as(login, Api.passwordOf(login)));
    }

    private Caller outsider() {
        String login = "outsider-" + Long.toString(System.nanoTime(), 36);
        api.createUser(login, PASSWORD, false);
        return new Caller(login, api.as(login, PASSWORD));
    }

    record Caller(String login, Api api) {
    }

    private ApprovalGate.Pending request(String tool, String command) {
        ObjectNode input = Api.JSON.createObjectNode();
        input.put("command", command);
        return gate.request(session, run, tool, input);
    }

    private List<JsonNode> events() {
        List<JsonNode> items = new ArrayList<>();
        api.get("/api/sessions/" + session + "/events?limit=1000").json().get("items").forEach(items::add);
        return items;
    }

    private List<JsonNode> events(String type) {
        return events().stream().filter(e -> e.get("type").asString().equals(type)).toList();
    }

    private JsonNode awaitDecidedEvent(UUID approval) {
        await().atMost(WAIT)
            .until(() -> events("approval.decided").stream()
                .anyMatch(e -> e.get("data").get("approvalId").asString().equals(approval.toString())));
        return events("approval.decided").stream()
            .filter(e -> e.get("data").get("approvalId").asString().equals(approval.toString()))
            .findFirst()
            .orElseThrow()
            .get("data");
    }

    private static Decision awaitDecision(ApprovalGate.Pending pending) throws Exception {
        return pending.decision().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private static void assertProblem(Api.Response response, int status, String code) {
        assertThat(response.status()).as(response.toString()).isEqualTo(status);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.json().path("code").asString()).isEqualTo(code);
        assertThat(response.text()).doesNotContain("Exception", "at org.", "at dev.");
    }

    @Test
    void aMembersAllowReachesTheRunWithTheirLogin() throws Exception {
        Caller member = user("member");
        ApprovalGate.Pending pending = request("Bash", "rm -rf build");

        JsonNode requested = events("approval.requested").getLast().get("data");
        assertThat(requested.get("approvalId").asString()).isEqualTo(pending.approvalId().toString());
        assertThat(requested.get("runId").asString()).isEqualTo(run.toString());
        assertThat(requested.get("tool").asString()).isEqualTo("Bash");
        assertThat(requested.get("input").get("command").asString()).isEqualTo("rm -rf build");
        assertThat(requested.has("truncated")).isFalse();
        assertThat(pending.decision()).isNotDone();

        JsonNode waiting = api.get("/api/sessions/" + session + "/approvals?state=pending").json().get("items");
        assertThat(waiting).hasSize(1);
        assertThat(waiting.get(0).get("approvalId").asString()).isEqualTo(pending.approvalId().toString());
        assertThat(waiting.get(0).get("decision").isNull()).isTrue();
        assertThat(waiting.get(0).get("input").get("command").asString()).isEqualTo("rm -rf build");

        Api.Response allowed = member.api().checkingRequests().decide(session, pending.approvalId(), "allow");
        assertThat(allowed.status()).as(allowed.toString()).isEqualTo(200);
        assertThat(allowed.json().get("approvalId").asString()).isEqualTo(pending.approvalId().toString());
        assertThat(allowed.json().get("decision").asString()).isEqualTo("allow");
        assertThat(allowed.json().get("by").asString()).isEqualTo(member.login());
        assertThat(Instant.parse(allowed.json().get("decidedAt").asString())).isNotNull();

        assertThat(awaitDecision(pending)).isEqualTo(new Decision(true, member.login(), null));
        JsonNode decided = awaitDecidedEvent(pending.approvalId());
        assertThat(decided.get("decision").asString()).isEqualTo("allow");
        assertThat(decided.get("by").asString()).isEqualTo(member.login());
        assertThat(decided.get("reason").isNull()).isTrue();
        assertThat(decided.get("runId").asString()).isEqualTo(run.toString());

        assertThat(api.get("/api/sessions/" + session + "/approvals?state=pending").json().get("items")).isEmpty();
        JsonNode all = api.get("/api/sessions/" + session + "/approvals").json().get("items");
        assertThat(all).hasSize(1);
        assertThat(all.get(0).get("decision").asString()).isEqualTo("allow");
        assertThat(all.get(0).get("by").asString()).isEqualTo(member.login());
        assertThat(all.get(0).get("decidedAt").asString()).isNotBlank();
        assertThat(jdbc
            .sql("select count(*) from audit_log where action = 'approval.decided' and actor = :login "
                    + "and details->>'approvalId' = :id")
            .param("login", member.login())
            .param("id", pending.approvalId().toString())
            .query(Integer.class)
            .single()).isEqualTo(1);
    }

    @Test
    void aDenyReachesTheRunAndASecondDecisionIsAConflict() throws Exception {
        Caller member = user("member");
        ApprovalGate.Pending pending = request("Write", "notes.md");
        assertThat(member.api().decide(session, pending.approvalId(), "deny").status()).isEqualTo(200);
        assertThat(awaitDecision(pending)).isEqualTo(new Decision(false, member.login(), null));
        assertThat(awaitDecidedEvent(pending.approvalId()).get("decision").asString()).isEqualTo("deny");

        Api.Response again = api.decide(session, pending.approvalId(), "allow");
        assertProblem(again, 409, "approval-decided");
        assertThat(again.json().get("decision").asString()).isEqualTo("deny");
        assertThat(events("approval.decided")).hasSize(1);
    }

    @Test
    void ofRacingDecisionsExactlyOneWins() throws Exception {
        Caller member = user("member");
        ApprovalGate.Pending pending = request("Bash", "make");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Api.Response>> answers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Api caller = i % 2 == 0 ? api : member.api();
            String decision = i % 3 == 0 ? "deny" : "allow";
            answers.add(pool.submit(() -> {
                start.await();
                return caller.decide(session, pending.approvalId(), decision);
            }));
        }
        start.countDown();
        List<Integer> statuses = new ArrayList<>();
        for (Future<Api.Response> answer : answers) {
            Api.Response response = answer.get(60, TimeUnit.SECONDS);
            statuses.add(response.status());
            if (response.status() != 200) {
                assertProblem(response, 409, "approval-decided");
            }
        }
        pool.shutdown();
        assertThat(statuses).filteredOn(status -> status == 200).hasSize(1);
        Decision decision = awaitDecision(pending);
        JsonNode decided = awaitDecidedEvent(pending.approvalId());
        assertThat(decided.get("decision").asString()).isEqualTo(decision.allowed() ? "allow" : "deny");
        assertThat(decided.get("by").asString()).isEqualTo(decision.by());
        assertThat(events("approval.decided")).hasSize(1);
    }

    @Test
    void whoMayDecide() throws Exception {
        Caller viewer = user("viewer");
        Caller member = user("member");
        Caller admin = user("admin");
        Caller outsider = outsider();
        ApprovalGate.Pending first = request("Bash", "ls");

        assertProblem(viewer.api().decide(session, first.approvalId(), "allow"), 403, "forbidden");
        // A viewer reads them.
        assertThat(viewer.api().get("/api/sessions/" + session + "/approvals").status()).isEqualTo(200);
        // A non-member learns nothing: the 404 of a session that does not exist.
        assertProblem(outsider.api().decide(session, first.approvalId(), "allow"), 404, "not-found");
        assertProblem(outsider.api().get("/api/sessions/" + session + "/approvals"), 404, "not-found");
        assertProblem(api.decide(UUID.randomUUID(), first.approvalId(), "allow"), 404, "not-found");
        // An approval of another session, or none at all.
        assertProblem(member.api().decide(session, UUID.randomUUID(), "allow"), 404, "not-found");
        // Bad bodies and parameters.
        assertProblem(member.api().decide(session, first.approvalId(), "maybe"), 400, "validation-failed");
        assertProblem(member.api().post("/api/sessions/" + session + "/approvals/" + first.approvalId(), "{}"), 400,
                "validation-failed");
        assertProblem(member.api().post("/api/sessions/" + session + "/approvals/" + first.approvalId(), "allow"), 400,
                "malformed-request");
        assertProblem(
                member.api().post("/api/sessions/" + session + "/approvals/not-an-id", "{\"decision\":\"allow\"}"), 400,
                "validation-failed");
        assertProblem(api.get("/api/sessions/" + session + "/approvals?state=done"), 400, "validation-failed");
        assertThat(first.decision()).isNotDone();

        // Only admins decide once the project says so; a member is then too low.
        Api.Response changed = api.checkingRequests()
            .put("/api/projects/" + project, "{\"name\":\"approvals\",\"approvers\":\"admins\"}");
        assertThat(changed.status()).as(changed.toString()).isEqualTo(200);
        assertThat(changed.json().get("approvers").asString()).isEqualTo("admins");
        assertProblem(member.api().decide(session, first.approvalId(), "allow"), 403, "forbidden");
        assertThat(admin.api().decide(session, first.approvalId(), "allow").status()).isEqualTo(200);
        assertThat(awaitDecision(first)).isEqualTo(new Decision(true, admin.login(), null));
        // A server admin is admin of every project.
        ApprovalGate.Pending second = request("Bash", "pwd");
        assertThat(api.decide(session, second.approvalId(), "deny").status()).isEqualTo(200);
        assertThat(awaitDecision(second)).isEqualTo(new Decision(false, Api.ADMIN_LOGIN, null));
    }

    @Test
    void nobodyDecidingInTimeDenies() throws Exception {
        clock.freezeAt(Instant.now());
        ApprovalGate.Pending pending = request("Bash", "curl example.com");
        JsonNode listed = api.get("/api/sessions/" + session + "/approvals").json().get("items").get(0);
        assertThat(Duration.between(Instant.parse(listed.get("requestedAt").asString()),
                Instant.parse(listed.get("deadline").asString())))
            .isEqualTo(Duration.ofMinutes(10));
        clock.advance(Duration.ofMinutes(9));
        // Checks before the deadline (run here, as the periodic one runs them) leave it
        // waiting.
        approvals.check();
        approvals.check();
        assertThat(approvals.waitsOn(pending.approvalId())).isTrue();
        assertThat(pending.decision()).isNotDone();

        clock.advance(Duration.ofMinutes(1));
        assertThat(awaitDecision(pending)).isEqualTo(new Decision(false, null, "timeout"));
        JsonNode decided = awaitDecidedEvent(pending.approvalId());
        assertThat(decided.get("decision").asString()).isEqualTo("deny");
        assertThat(decided.get("by").isNull()).isTrue();
        assertThat(decided.get("reason").asString()).isEqualTo("timeout");
        assertProblem(api.decide(session, pending.approvalId(), "allow"), 409, "approval-decided");
    }

    @Test
    void theRunsEndClosesItsRequests() throws Exception {
        ApprovalGate.Pending pending = request("Bash", "sleep 1000");
        assertThat(api.interrupt(session).status()).isEqualTo(202);
        assertThat(awaitDecision(pending)).isEqualTo(new Decision(false, null, "run-ended"));
        await().atMost(WAIT).until(() -> state(session).equals("IDLE"));
        List<String> types = events().stream().map(e -> e.get("type").asString()).toList();
        assertThat(types.indexOf("approval.decided")).isGreaterThan(types.indexOf("approval.requested"))
            .isLessThan(types.indexOf("run.finished"));
        JsonNode decided = awaitDecidedEvent(pending.approvalId());
        assertThat(decided.get("reason").asString()).isEqualTo("run-ended");
        assertThat(decided.get("by").isNull()).isTrue();
        assertProblem(api.decide(session, pending.approvalId(), "allow"), 409, "approval-decided");

        // A request for a run that has ended is denied at once, and nothing is logged.
        int before = events().size();
        ApprovalGate.Pending late = request("Bash", "echo late");
        assertThat(late.decision()).isCompletedWithValue(new Decision(false, null, "run-ended"));
        assertThat(events()).hasSize(before);
    }

    @Test
    void endingTheSessionClosesItsRequests() throws Exception {
        ApprovalGate.Pending pending = request("Bash", "ls");
        assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
        assertThat(awaitDecision(pending)).isEqualTo(new Decision(false, null, "run-ended"));
        List<String> types = events().stream().map(e -> e.get("type").asString()).toList();
        assertThat(types).containsSubsequence("approval.requested", "approval.decided", "run.finished",
                "session.ended");
        assertProblem(api.decide(session, pending.approvalId(), "allow"), 409, "approval-decided");
        // The next test's cleanup interrupts nothing; a new session for the after-each.
        session = api.newSession(project);
    }

    /**
     * A decision whose NOTIFY never comes (made here straight in the database, as a lost
     * notification leaves it) still reaches the run: the periodic check reads it.
     */
    @Test
    void aDecisionWhoseNotificationIsLostStillReachesTheRun() throws Exception {
        ApprovalGate.Pending pending = request("Bash", "ls");
        assertThat(approvals.waitsOn(pending.approvalId())).isTrue();
        jdbc.sql("update approvals set decision = 'allow', decided_by = 'someone', decided_at = now() where id = :id")
            .param("id", pending.approvalId())
            .update();
        assertThat(awaitDecision(pending)).isEqualTo(new Decision(true, "someone", null));
        assertThat(approvals.waitsOn(pending.approvalId())).isFalse();
    }

    /**
     * An agent's input with U+0000 (a file's content, {@code find -print0}), which
     * PostgreSQL's jsonb and text cannot hold, is still asked about, not refused by an
     * error: the character shows as U+FFFD, as in {@code output}.
     */
    @Test
    void anInputWithNulIsStillAsked() throws Exception {
        ObjectNode input = Api.JSON.createObjectNode();
        input.put("content", "a\u0000b");
        input.putArray("args").add("-print\u0000");
        input.put("na\u0000me", 1);
        ApprovalGate.Pending pending = gate.request(session, run, "Wri\u0000te", input);
        assertThat(pending.decision()).isNotDone();
        JsonNode requested = events("approval.requested").getLast().get("data");
        assertThat(requested.get("approvalId").asString()).isEqualTo(pending.approvalId().toString());
        assertThat(requested.get("tool").asString()).isEqualTo("Wri\uFFFDte");
        assertThat(requested.get("input").get("content").asString()).isEqualTo("a\uFFFDb");
        assertThat(requested.get("input").get("args").get(0).asString()).isEqualTo("-print\uFFFD");
        assertThat(requested.get("input").get("na\uFFFDme").asInt()).isEqualTo(1);
        JsonNode listed = api.get("/api/sessions/" + session + "/approvals?state=pending").json().get("items").get(0);
        assertThat(listed.get("tool").asString()).isEqualTo("Wri\uFFFDte");
        assertThat(api.decide(session, pending.approvalId(), "deny").status()).isEqualTo(200);
        assertThat(awaitDecision(pending)).isEqualTo(new Decision(false, Api.ADMIN_LOGIN, null));
    }

    @Test
    void aHugeInputIsCappedButKeepsItsShape() throws Exception {
        ObjectNode input = Api.JSON.createObjectNode();
        input.put("file_path", "/work/big.txt");
        input.put("content", "x".repeat(200_000));
        ApprovalGate.Pending pending = gate.request(session, run, "Write", input);
        JsonNode requested = events("approval.requested").getLast().get("data");
        assertThat(requested.get("approvalId").asString()).isEqualTo(pending.approvalId().toString());
        assertThat(requested.get("truncated").asBoolean()).isTrue();
        assertThat(requested.get("inputChars").asInt()).isGreaterThan(200_000);
        assertThat(requested.get("input").get("file_path").asString()).isEqualTo("/work/big.txt");
        assertThat(requested.get("input").get("content").asString()).hasSizeLessThan(ApprovalInput.MAX_CHARS)
            .startsWith("xxxx")
            .endsWith("…");
    }

}
