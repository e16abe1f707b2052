package dev.collab.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.GitRepos;
import dev.collab.support.IntegrationTest;
import dev.collab.support.MutableClock;
import dev.collab.support.SseClient;
import dev.collab.support.TestContexts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static dev.collab.run.SessionLog.data;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code collab.runner.protocol=claude-code} over real HTTP and SSE, with the fake Claude
 * Code (src/test/resources/agents/claude-code) replaying the recorded transcript: typed
 * events in order and in shape, malformed lines kept, a crash in the middle of a tool, an
 * error result, a line past the bound, and the conversation that continues from one run
 * to the next. Approvals go through the real approval module: the protocol asks the real
 * gate, a person decides with POST /api/sessions/{id}/approvals/{approvalId} over HTTP,
 * and the fake Claude receives the control_response (allow, deny with the decider's
 * login, a timeout, the run's end, approvers=admins). End to end with a workspace: a
 * project whose repository is a local bare one, cloned by the first run, edited by the
 * agent's allowed Write, shown by the diff endpoint, and a second message that resumes
 * the conversation.
 */
@IntegrationTest
@TestPropertySource(properties = { TestContexts.LONG_RUNS, TestContexts.CLAUDE_CODE, TestContexts.FAKE_CLAUDE_CODE })
class ClaudeCodeProtocolTest {

    static final Duration WAIT = Duration.ofSeconds(60);

    @Autowired
    Api api;

    @Autowired
    AgentConversations conversations;

    @Autowired
    MutableClock clock;

    String project;

    @AfterEach
    void releaseTheClock() {
        clock.release();
    }

    UUID newSession() {
        project = api.newProject("claude");
        return api.newSession(project);
    }

    record Caller(String login, Api api) {
    }

    /** A user with this role in the current project, logged in through the API. */
    Caller user(String role) {
        String login = api.newMember(project, role);
        return new Caller(login, api.as(login, Api.passwordOf(login)).checkingRequests());
    }

    /**
     * The session's one waiting approval, as GET .../approvals?state=pending lists it.
     */
    JsonNode awaitApproval(UUID session) {
        String path = "/api/sessions/" + session + "/approvals?state=pending";
        await().atMost(WAIT).until(() -> !api.get(path).json().get("items").isEmpty());
        JsonNode items = api.get(path).json().get("items");
        assertThat(items).hasSize(1);
        return items.get(0);
    }

    static UUID id(JsonNode approval) {
        return UUID.fromString(approval.get("approvalId").asString());
    }

    static void assertProblem(Api.Response response, int status, String code) {
        assertThat(response.status()).as(response.toString()).isEqualTo(status);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.json().path("code").asString()).isEqualTo(code);
    }

    /** Reads the session's stream from the start until the n-th run.finished. */
    List<SseClient.Message> untilFinished(UUID session, int runs) {
        return SessionLog.untilFinished(api, session, runs, WAIT);
    }

    static List<String> types(List<SseClient.Message> messages) {
        return messages.stream().map(SseClient.Message::event).toList();
    }

    @Test
    void aReplayedSessionBecomesTypedEventsInOrderAndAToolAMemberAllowsRuns() {
        UUID session = newSession();
        Caller member = user("member");
        UUID runId = UUID.fromString(api.sendMessage(session, "replay", null).json().get("runId").asString());
        JsonNode approval = awaitApproval(session);
        assertThat(approval.get("tool").asString()).isEqualTo("Bash");
        assertThat(approval.get("input").get("command").asString())
            .isEqualTo("python3 -m pytest -q tests/test_greeting.py");
        assertThat(approval.get("runId").asString()).isEqualTo(runId.toString());
        Api.Response allowed = member.api().decide(session, id(approval), "allow");
        assertThat(allowed.status()).as(allowed.toString()).isEqualTo(200);
        assertThat(allowed.json().get("by").asString()).isEqualTo(member.login());

        List<SseClient.Message> messages = untilFinished(session, 1);
        assertThat(types(messages)).containsExactly("session.created", "message", "run.started", "agent.text",
                "tool.call", "tool.result", "tool.call", "approval.requested", "approval.decided", "tool.result",
                "agent.text", "tool.call", "tool.result", "agent.text", "usage", "run.finished");
        for (SseClient.Message message : messages.subList(3, messages.size())) {
            assertThat(message.json().get("data").get("runId").asString()).as(message.event())
                .isEqualTo(runId.toString());
        }
        List<JsonNode> calls = data(messages, "tool.call");
        assertThat(calls).extracting(c -> c.get("name").asString()).containsExactly("Read", "Bash", "Edit");
        assertThat(calls.get(0).get("callId").asString()).isEqualTo("toolu_01Read0000000000000000001");
        assertThat(calls.get(0).get("input").get("file_path").asString()).endsWith("/src/greeting.py");
        List<JsonNode> results = data(messages, "tool.result");
        assertThat(results).extracting(r -> r.get("callId").asString())
            .containsExactly("toolu_01Read0000000000000000001", "toolu_01Bash0000000000000000001",
                    "toolu_01Edit0000000000000000001");
        assertThat(results).extracting(r -> r.get("isError").asBoolean()).containsExactly(false, true, false);
        assertThat(results.get(0).get("output").asString()).contains("def greet(name):");
        assertThat(results.get(1).get("output").asString()).contains("1 failed in 0.03s");
        // Text blocks are joined into one string.
        assertThat(results.get(2).get("output").asString()).startsWith("The file ").contains("has been updated");
        assertThat(data(messages, "agent.text")).extracting(t -> t.get("text").asString())
            .containsExactly("I'll look at the greeting code and its test first.",
                    "The test expects `Hello, Ada!`, but `greet` returns `Hello Ada`. I'll fix the format.",
                    "Fixed: `greet` now returns `Hello, <name>!`, which is what `tests/test_greeting.py` expects.");
        JsonNode usage = data(messages, "usage").getFirst();
        // input_tokens + cache_creation_input_tokens + cache_read_input_tokens
        assertThat(usage.get("inputTokens").asLong()).isEqualTo(22 + 2788 + 54937);
        assertThat(usage.get("outputTokens").asLong()).isEqualTo(380);
        assertThat(usage.get("costUsd").asDouble()).isEqualTo(0.0412385);
        JsonNode requested = data(messages, "approval.requested").getFirst();
        assertThat(requested.get("approvalId").asString()).isEqualTo(id(approval).toString());
        assertThat(requested.get("tool").asString()).isEqualTo("Bash");
        JsonNode decided = data(messages, "approval.decided").getFirst();
        assertThat(decided.get("approvalId").asString()).isEqualTo(id(approval).toString());
        assertThat(decided.get("decision").asString()).isEqualTo("allow");
        assertThat(decided.get("by").asString()).isEqualTo(member.login());
        assertThat(decided.get("reason").isNull()).isTrue();
        // The fake exits with 3 on anything but an allow with updatedInput, and only then
        // goes on to the Edit: the allowed control_response reached it.
        JsonNode finished = data(messages, "run.finished").getFirst();
        assertThat(finished.get("status").asString()).isEqualTo("succeeded");
        assertThat(conversations.find(session, "claude-code")).isPresent();
    }

    @Test
    void aDeniedToolIsReportedToTheAgentWithWhoDeniedIt() {
        UUID session = newSession();
        Caller member = user("member");
        api.sendMessage(session, "replay", null);
        UUID approval = id(awaitApproval(session));
        assertThat(member.api().decide(session, approval, "deny").status()).isEqualTo(200);

        List<SseClient.Message> messages = untilFinished(session, 1);
        JsonNode bash = data(messages, "tool.result").get(1);
        assertThat(bash.get("callId").asString()).isEqualTo("toolu_01Bash0000000000000000001");
        assertThat(bash.get("output").asString()).isEqualTo(member.login() + " denied Bash.");
        assertThat(bash.get("isError").asBoolean()).isTrue();
        assertThat(data(messages, "tool.call")).extracting(c -> c.get("name").asString())
            .containsExactly("Read", "Bash");
        assertThat(data(messages, "run.finished").getFirst().get("status").asString()).isEqualTo("succeeded");
        JsonNode decided = data(messages, "approval.decided").getFirst();
        assertThat(decided.get("decision").asString()).isEqualTo("deny");
        assertThat(decided.get("by").asString()).isEqualTo(member.login());
        assertProblem(api.decide(session, approval, "allow"), 409, "approval-decided");
    }

    @Test
    void nobodyDecidingInTimeDeniesTheTool() {
        clock.freezeAt(Instant.now());
        UUID session = newSession();
        api.sendMessage(session, "replay", null);
        awaitApproval(session);
        // collab.runner.approval-timeout's default; the approval module's check (every
        // second) reads the moved clock.
        clock.advance(Duration.ofMinutes(10).plusSeconds(1));

        List<SseClient.Message> messages = untilFinished(session, 1);
        JsonNode decided = data(messages, "approval.decided").getFirst();
        assertThat(decided.get("decision").asString()).isEqualTo("deny");
        assertThat(decided.get("by").isNull()).isTrue();
        assertThat(decided.get("reason").asString()).isEqualTo("timeout");
        JsonNode bash = data(messages, "tool.result").get(1);
        assertThat(bash.get("output").asString()).isEqualTo("Nobody decided on Bash in time, so it was denied.");
        assertThat(bash.get("isError").asBoolean()).isTrue();
        assertThat(data(messages, "run.finished").getFirst().get("status").asString()).isEqualTo("succeeded");
    }

    @Test
    void aRunInterruptedWhileItsApprovalWaitsClosesItBeforeTheRunFinishes() {
        UUID session = newSession();
        api.sendMessage(session, "replay", null);
        UUID approval = id(awaitApproval(session));
        assertThat(api.interrupt(session).status()).isEqualTo(202);

        List<SseClient.Message> messages = untilFinished(session, 1);
        List<String> types = types(messages);
        assertThat(types).containsSubsequence("approval.requested", "approval.decided", "run.finished");
        JsonNode decided = data(messages, "approval.decided").getFirst();
        assertThat(decided.get("approvalId").asString()).isEqualTo(approval.toString());
        assertThat(decided.get("decision").asString()).isEqualTo("deny");
        assertThat(decided.get("by").isNull()).isTrue();
        assertThat(decided.get("reason").asString()).isEqualTo("run-ended");
        assertThat(data(messages, "run.finished").getFirst().get("status").asString()).isEqualTo("interrupted");
        assertProblem(api.decide(session, approval, "allow"), 409, "approval-decided");
        assertThat(api.get("/api/sessions/" + session + "/approvals?state=pending").json().get("items")).isEmpty();
    }

    @Test
    void whenOnlyAdminsApproveAMemberIsTooLowAndAnAdminDecides() {
        UUID session = newSession();
        Caller member = user("member");
        Caller admin = user("admin");
        Api.Response changed = api.put("/api/projects/" + project,
                Api.json(Map.of("name", "claude", "approvers", "admins")));
        assertThat(changed.status()).as(changed.toString()).isEqualTo(200);
        api.sendMessage(session, "replay", null);
        UUID approval = id(awaitApproval(session));

        assertProblem(member.api().decide(session, approval, "allow"), 403, "forbidden");
        assertThat(api.get("/api/sessions/" + session + "/approvals?state=pending").json().get("items")).hasSize(1);
        assertThat(admin.api().decide(session, approval, "allow").status()).isEqualTo(200);

        List<SseClient.Message> messages = untilFinished(session, 1);
        assertThat(data(messages, "approval.decided").getFirst().get("by").asString()).isEqualTo(admin.login());
        assertThat(data(messages, "tool.call")).extracting(c -> c.get("name").asString())
            .containsExactly("Read", "Bash", "Edit");
        assertThat(data(messages, "run.finished").getFirst().get("status").asString()).isEqualTo("succeeded");
    }

    /**
     * End to end: the first run clones the project's repository into the workspace, the
     * agent's allowed Write changes a file there, the diff shows it, and the next message
     * continues the same Claude conversation (--resume).
     */
    @Test
    void aRealRepositoryIsClonedEditedByAnAllowedWriteDiffedAndTheConversationContinues() throws Exception {
        Path bare = GitRepos.bare("claude-e2e.git", Map.of("README.md", "# Greeting\n", "notes.txt", "one\n"));
        UUID session = newSession();
        Api.Response repo = api.put("/api/projects/" + project,
                Api.json(Map.of("name", "claude", "repoUrl", GitRepos.url(bare))));
        assertThat(repo.status()).as(repo.toString()).isEqualTo(200);
        Caller member = user("member");

        UUID runId = UUID
            .fromString(api.sendMessage(session, "edit notes.txt one two", null).json().get("runId").asString());
        JsonNode approval = awaitApproval(session);
        assertThat(approval.get("tool").asString()).isEqualTo("Write");
        assertThat(approval.get("input").get("file_path").asString()).endsWith("/notes.txt");
        assertThat(member.api().decide(session, id(approval), "allow").status()).isEqualTo(200);

        List<SseClient.Message> first = untilFinished(session, 1);
        assertThat(types(first)).containsSubsequence("run.started", "workspace.preparing", "workspace.ready",
                "agent.text", "tool.call", "approval.requested", "approval.decided", "tool.result", "agent.text",
                "usage", "run.finished");
        JsonNode preparing = data(first, "workspace.preparing").getFirst();
        assertThat(preparing.get("repoUrl").asString()).isEqualTo(GitRepos.url(bare));
        assertThat(preparing.get("branch").asString()).isEqualTo("collab/" + session);
        JsonNode ready = data(first, "workspace.ready").getFirst();
        assertThat(ready.get("runId").asString()).isEqualTo(runId.toString());
        String baseCommit = ready.get("baseCommit").asString();
        assertThat(baseCommit).isEqualTo(GitRepos.git(bare, "rev-parse", "HEAD").strip());
        JsonNode result = data(first, "tool.result").getFirst();
        assertThat(result.get("isError").asBoolean()).isFalse();
        assertThat(result.get("output").asString()).startsWith("File created successfully at: ").endsWith("/notes.txt");
        assertThat(data(first, "run.finished").getFirst().get("status").asString()).isEqualTo("succeeded");
        // The Write ran in the clone, the agent's working directory.
        Path written = Path.of(result.get("output").asString().substring("File created successfully at: ".length()));
        assertThat(Files.readString(written)).isEqualTo("one two\n");

        JsonNode diff = api.checkingRequests().get("/api/sessions/" + session + "/diff").json();
        assertThat(diff.get("status").asString()).isEqualTo("ready");
        assertThat(diff.get("baseCommit").asString()).isEqualTo(baseCommit);
        assertThat(diff.get("branch").asString()).isEqualTo("collab/" + session);
        // Only the agent's change: not the server's .collab/ (the conversation store).
        assertThat(diff.get("files")).hasSize(1);
        JsonNode file = diff.get("files").get(0);
        assertThat(file.get("path").asString()).isEqualTo("notes.txt");
        assertThat(file.get("status").asString()).isEqualTo("modified");
        assertThat(file.get("additions").asInt()).isEqualTo(1);
        assertThat(file.get("deletions").asInt()).isEqualTo(1);
        List<String> lines = new ArrayList<>();
        file.get("hunks").get(0).get("lines").forEach(l -> lines.add(l.asString()));
        assertThat(lines).containsExactly("-one", "+one two");
        assertThat(diff.get("totals").get("files").asInt()).isEqualTo(1);

        String agentSession = conversations.find(session, "claude-code").orElseThrow();
        api.sendMessage(session, "recall", null);
        List<SseClient.Message> both = untilFinished(session, 2);
        List<SseClient.Message> second = both.subList(types(both).lastIndexOf("run.started"), both.size());
        // The checkout is ready: no second clone.
        assertThat(types(second)).doesNotContain("workspace.preparing", "workspace.ready");
        assertThat(data(second, "agent.text").getFirst().get("text").asString())
            .isEqualTo("resumed " + agentSession + "; earlier: edit notes.txt one two");
        assertThat(data(second, "run.finished").getFirst().get("status").asString()).isEqualTo("succeeded");
    }

    @Test
    void linesThatDoNotParseAreKeptAsOutputInOrder() {
        UUID session = newSession();
        api.sendMessage(session, "malformed", null);
        List<SseClient.Message> messages = untilFinished(session, 1);
        assertThat(types(messages)).containsSubsequence("output", "output", "output", "agent.text", "usage",
                "run.finished");
        String stdout = RunTest.stdout(messages);
        assertThat(stdout)
            .isEqualTo("this line is not JSON\n{\"type\":\"assistant\",\"message\":{\"content\":[\n[1, 2, 3]\n");
        int lastOutput = types(messages).lastIndexOf("output");
        assertThat(types(messages).indexOf("agent.text")).isGreaterThan(lastOutput);
        assertThat(data(messages, "agent.text").getFirst().get("text").asString())
            .isEqualTo("Still here after the noise.");
    }

    @Test
    void aCrashInTheMiddleOfAToolFailsTheRunWithTheStderrTail() {
        UUID session = newSession();
        api.sendMessage(session, "crash", null);
        List<SseClient.Message> messages = untilFinished(session, 1);
        assertThat(data(messages, "tool.call")).hasSize(1);
        assertThat(data(messages, "tool.result")).isEmpty();
        JsonNode error = data(messages, "error").getFirst();
        assertThat(error.get("code").asString()).isEqualTo("runner-failed");
        assertThat(error.get("message").asString()).contains("fatal: Claude Code crashed while running Bash");
        JsonNode finished = data(messages, "run.finished").getFirst();
        assertThat(finished.get("status").asString()).isEqualTo("failed");
        assertThat(finished.get("exitCode").asInt()).isEqualTo(1);
    }

    @Test
    void anErrorResultFailsTheRunEvenThoughClaudeExitsWithZero() {
        UUID session = newSession();
        api.sendMessage(session, "error-result", null);
        List<SseClient.Message> messages = untilFinished(session, 1);
        assertThat(types(messages)).containsSubsequence("usage", "error", "run.finished");
        JsonNode error = data(messages, "error").getFirst();
        assertThat(error.get("code").asString()).isEqualTo("runner-failed");
        assertThat(error.get("message").asString())
            .isEqualTo("Claude Code reported an error: API Error: 401 invalid x-api-key");
        assertThat(data(messages, "run.finished").getFirst().get("status").asString()).isEqualTo("failed");
    }

    @Test
    void aLinePastTheBoundIsKeptAsOutputWhole() {
        UUID session = newSession();
        int length = LineReader.MAX_LINE_CHARS + 100_000;
        api.sendMessage(session, "long-line " + length, null);
        List<SseClient.Message> messages = untilFinished(session, 1);
        String stdout = RunTest.stdout(messages);
        assertThat(stdout.length()).isEqualTo(length + 1);
        assertThat(stdout.equals("x".repeat(length) + "\n")).isTrue();
        assertThat(types(messages)).containsSubsequence("output", "usage", "run.finished");
        assertThat(data(messages, "run.finished").getFirst().get("status").asString()).isEqualTo("succeeded");
    }

    @Test
    void theSecondMessageContinuesTheFirstOnesConversation() {
        UUID session = newSession();
        api.sendMessage(session, "remember apples", null);
        List<SseClient.Message> first = untilFinished(session, 1);
        assertThat(data(first, "agent.text").getFirst().get("text").asString())
            .isEqualTo("new conversation; earlier: ");
        String agentSession = conversations.find(session, "claude-code").orElseThrow();

        api.sendMessage(session, "recall", null);
        List<SseClient.Message> both = untilFinished(session, 2);
        List<JsonNode> texts = data(both, "agent.text");
        assertThat(texts.getLast().get("text").asString())
            .isEqualTo("resumed " + agentSession + "; earlier: remember apples");
        assertThat(data(both, "run.finished").getLast().get("status").asString()).isEqualTo("succeeded");
    }

    /**
     * The largest message a user may send (100,000 characters, 200 KB of UTF-8: more than
     * a pipe holds) reaches Claude Code whole as one stream-json line, and its answer
     * comes back capped.
     */
    @Test
    void theLargestMessageReachesTheAgentWhole() {
        UUID session = api.newSession(api.newProject("large"));
        String text = "é".repeat(100_000);
        Api.Response sent = api.sendMessage(session, text, null);
        assertThat(sent.status()).as(sent.toString()).isEqualTo(202);

        await().atMost(Duration.ofSeconds(60)).until(() -> typesOf(session).contains("run.finished"));
        List<JsonNode> events = logOf(session);
        assertThat(events)
            .as(() -> events.stream()
                .map(e -> e.toString().substring(0, Math.min(400, e.toString().length())))
                .toList()
                .toString())
            .extracting(e -> e.get("type").asString())
            .containsExactly("session.created", "message", "run.started", "agent.text", "usage", "run.finished");
        JsonNode message = events.get(1).get("data");
        assertThat(message.get("text").asString()).isEqualTo(text);
        JsonNode answer = events.get(3).get("data");
        assertThat(answer.get("text").asString()).startsWith("you said: éé").hasSize(65_536);
        assertThat(answer.get("truncated").asBoolean()).isTrue();
        assertThat(answer.get("textChars").asInt()).isEqualTo("you said: ".length() + 100_000);
        assertThat(events.get(5).get("data").get("status").asString()).isEqualTo("succeeded");
    }

    List<JsonNode> logOf(UUID session) {
        List<JsonNode> items = new java.util.ArrayList<>();
        api.get("/api/sessions/" + session + "/events?after=0&limit=1000").json().get("items").forEach(items::add);
        return items;
    }

    List<String> typesOf(UUID session) {
        return logOf(session).stream().map(e -> e.get("type").asString()).toList();
    }

}
