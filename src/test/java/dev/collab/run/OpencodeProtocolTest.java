package dev.collab.run;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.FakeAgents;
import dev.collab.support.IntegrationTest;
import dev.collab.support.SseClient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static dev.collab.run.SessionLog.data;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code collab.runner.protocol=opencode} over real HTTP and SSE, with the fake
 * {@code opencode serve} (src/test/resources/agents/opencode) as the agent and the real
 * approval module deciding through {@code POST
 * /api/sessions/{id}/approvals/{approvalId}}: typed events in order and in shape, an
 * allowed and a denied tool, the conversation that continues, a crash in the middle of a
 * tool, an interrupt while a tool waits, and a run that ends {@code succeeded} (not with
 * the exit code of the server it stopped).
 */
@IntegrationTest
@TestPropertySource(properties = { "collab.runner.protocol=opencode", "collab.runner.command=" + FakeAgents.OPENCODE,
        "collab.runner.timeout=90s" })
class OpencodeProtocolTest {

    static final Duration WAIT = Duration.ofSeconds(90);

    static final String PROMPT = "Make Calc.add handle overflow";

    @Autowired
    Api api;

    @Autowired
    AgentConversations conversations;

    UUID newSession() {
        return api.newSession(api.newProject("opencode"));
    }

    /** Reads the session's stream from the start until the n-th run.finished. */
    List<SseClient.Message> untilFinished(UUID session, int runs) {
        return SessionLog.untilFinished(api, session, runs, WAIT);
    }

    /** The event types but the server's own stdout (ordered apart from the events). */
    static List<String> typed(List<SseClient.Message> messages) {
        return messages.stream().map(SseClient.Message::event).filter(type -> !type.equals("output")).toList();
    }

    /** The session's one pending approval, once it waits. */
    JsonNode pendingApproval(UUID session) {
        await().atMost(WAIT)
            .until(() -> api.get("/api/sessions/" + session + "/approvals?state=pending")
                .json()
                .get("items")
                .size() == 1);
        return api.get("/api/sessions/" + session + "/approvals?state=pending").json().get("items").get(0);
    }

    /** A person decides through the real endpoint. */
    void decide(UUID session, JsonNode approval, String decision) {
        Api.Response response = api.post(
                "/api/sessions/" + session + "/approvals/" + approval.get("approvalId").asString(),
                Api.json(Map.of("decision", decision)));
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
    }

    @Test
    void aPromptBecomesTypedEventsInOrderAndAnAllowedToolRunsAndTheRunSucceeds() {
        UUID session = newSession();
        UUID runId = UUID.fromString(api.sendMessage(session, PROMPT, null).json().get("runId").asString());
        JsonNode approval = pendingApproval(session);
        assertThat(approval.get("tool").asString()).isEqualTo("edit");
        assertThat(approval.get("runId").asString()).isEqualTo(runId.toString());
        decide(session, approval, "allow");

        List<SseClient.Message> messages = untilFinished(session, 1);
        assertThat(typed(messages)).containsExactly("session.created", "message", "run.started", "agent.text",
                "tool.call", "tool.result", "tool.call", "tool.result", "usage", "tool.call", "approval.requested",
                "approval.decided", "tool.result", "agent.text", "usage", "run.finished");
        for (SseClient.Message message : messages.subList(2, messages.size())) {
            assertThat(message.json().get("data").get("runId").asString()).as(message.event())
                .isEqualTo(runId.toString());
        }
        List<JsonNode> calls = data(messages, "tool.call");
        assertThat(calls).extracting(c -> c.get("name").asString()).containsExactly("read", "read", "edit");
        assertThat(calls.get(0).get("callId").asString()).isEqualTo("toolu_01ReadCalc");
        assertThat(calls.get(0).get("input").get("filePath").asString()).isEqualTo("/work/ws/src/Calc.java");
        List<JsonNode> results = data(messages, "tool.result");
        assertThat(results).extracting(r -> r.get("isError").asBoolean()).containsExactly(false, true, false);
        assertThat(results.get(1).get("output").asString())
            .isEqualTo("Error: File not found: /work/ws/test/CalcTest.java");
        assertThat(results.get(2).get("callId").asString()).isEqualTo("toolu_03EditCalc");
        assertThat(results.get(2).get("output").asString()).isEqualTo("Edit applied successfully.");
        assertThat(data(messages, "agent.text")).extracting(t -> t.get("text").asString())
            .containsExactly("I'll look at `Calc.add` first.", "Done: `Calc.add` now throws on overflow.");
        JsonNode usage = data(messages, "usage").getFirst();
        assertThat(usage.get("inputTokens").asLong()).isEqualTo(2310);
        assertThat(usage.get("outputTokens").asLong()).isEqualTo(184);
        assertThat(usage.get("costUsd").asDouble()).isEqualTo(0.0123);
        JsonNode requested = data(messages, "approval.requested").getFirst();
        assertThat(requested.get("approvalId").asString()).isEqualTo(approval.get("approvalId").asString());
        assertThat(requested.get("input").toString()).contains("Math.addExact(a, b);");
        JsonNode decided = data(messages, "approval.decided").getFirst();
        assertThat(decided.get("decision").asString()).isEqualTo("allow");
        assertThat(decided.get("by").asString()).isEqualTo(Api.ADMIN_LOGIN);
        // The server's own lines are output; its password is nowhere in the log.
        assertThat(RunTest.stdout(messages)).contains("opencode server listening on http://127.0.0.1:");
        assertThat(messages).noneSatisfy(m -> assertThat(m.json().toString()).contains("OPENCODE_SERVER_PASSWORD"));
        // Ended on purpose when the session was idle: succeeded, not "exited with code
        // 143".
        assertThat(data(messages, "error")).isEmpty();
        JsonNode finished = data(messages, "run.finished").getFirst();
        assertThat(finished.get("status").asString()).isEqualTo("succeeded");
        assertThat(finished.get("exitCode").isNull()).isTrue();
        assertThat(conversations.find(session, OpencodeProtocol.NAME))
            .hasValueSatisfying(id -> assertThat(id).startsWith("ses_"));
    }

    @Test
    void aDeniedToolIsRejectedAndTheRunStillSucceeds() {
        UUID session = newSession();
        api.sendMessage(session, PROMPT, null);
        decide(session, pendingApproval(session), "deny");

        List<SseClient.Message> messages = untilFinished(session, 1);
        JsonNode decided = data(messages, "approval.decided").getFirst();
        assertThat(decided.get("decision").asString()).isEqualTo("deny");
        JsonNode edit = data(messages, "tool.result").getLast();
        assertThat(edit.get("callId").asString()).isEqualTo("toolu_03EditCalc");
        assertThat(edit.get("isError").asBoolean()).isTrue();
        assertThat(edit.get("output").asString())
            .isEqualTo("The user rejected permission to use this specific tool call.");
        assertThat(typed(messages)).containsSubsequence("approval.requested", "approval.decided", "tool.result",
                "run.finished");
        assertThat(data(messages, "run.finished").getFirst().get("status").asString()).isEqualTo("succeeded");
    }

    @Test
    void theSecondMessageContinuesTheStoredOpencodeSession() {
        UUID session = newSession();
        api.sendMessage(session, "remember apples", null);
        decide(session, pendingApproval(session), "allow");
        untilFinished(session, 1);
        String agentSession = conversations.find(session, OpencodeProtocol.NAME).orElseThrow();

        api.sendMessage(session, "recall", null);
        decide(session, pendingApproval(session), "allow");
        List<SseClient.Message> both = untilFinished(session, 2);
        List<JsonNode> texts = data(both, "agent.text");
        assertThat(texts.get(2).get("text").asString())
            .contains("continuing: 1 earlier prompt, the first: \"remember apples\"");
        assertThat(data(both, "run.finished")).extracting(f -> f.get("status").asString())
            .containsExactly("succeeded", "succeeded");
        assertThat(conversations.find(session, OpencodeProtocol.NAME)).hasValue(agentSession);
    }

    @Test
    void aCrashInTheMiddleOfAToolFailsTheRunWithTheDriversWords() {
        UUID session = newSession();
        api.sendMessage(session, "crash now", null);
        List<SseClient.Message> messages = untilFinished(session, 1);
        assertThat(data(messages, "tool.call")).hasSize(1);
        assertThat(data(messages, "tool.result")).isEmpty();
        JsonNode error = data(messages, "error").getFirst();
        assertThat(error.get("code").asString()).isEqualTo("runner-failed");
        assertThat(error.get("message").asString())
            .isEqualTo("opencode serve exited (code 3) before the session was idle");
        JsonNode finished = data(messages, "run.finished").getFirst();
        assertThat(finished.get("status").asString()).isEqualTo("failed");
        assertThat(conversations.find(session, OpencodeProtocol.NAME)).isEmpty();
    }

    @Test
    void aSessionErrorFailsTheRunWithOpencodesWordsAndStopsTheServer() {
        UUID session = newSession();
        api.sendMessage(session, "fail please", null);
        decide(session, pendingApproval(session), "allow");
        List<SseClient.Message> messages = untilFinished(session, 1);
        assertThat(typed(messages)).containsSubsequence("usage", "error", "run.finished");
        JsonNode error = data(messages, "error").getFirst();
        assertThat(error.get("code").asString()).isEqualTo("runner-failed");
        assertThat(error.get("message").asString())
            .isEqualTo("opencode reported an error: ProviderAuthError: Invalid API key");
        JsonNode finished = data(messages, "run.finished").getFirst();
        assertThat(finished.get("status").asString()).isEqualTo("failed");
        assertThat(finished.get("exitCode").isNull()).isTrue();
        await().atMost(WAIT)
            .until(() -> ProcessHandle.current()
                .descendants()
                .noneMatch(p -> p.info().commandLine().orElse("").contains(FakeAgents.OPENCODE_MAIN_CLASS)));
    }

    @Test
    void anInterruptWhileAToolWaitsEndsTheRunInterruptedAndStopsTheServer() {
        UUID session = newSession();
        api.sendMessage(session, PROMPT, null);
        JsonNode approval = pendingApproval(session);
        List<ProcessHandle> servers = ProcessHandle.current()
            .descendants()
            .filter(p -> p.info().commandLine().orElse("").contains(FakeAgents.OPENCODE_MAIN_CLASS))
            .toList();
        assertThat(servers).isNotEmpty();

        assertThat(api.interrupt(session).status()).isEqualTo(202);
        List<SseClient.Message> messages = untilFinished(session, 1);
        JsonNode finished = data(messages, "run.finished").getFirst();
        assertThat(finished.get("status").asString()).isEqualTo("interrupted");
        assertThat(data(messages, "error")).isEmpty();
        JsonNode decided = data(messages, "approval.decided").getFirst();
        assertThat(decided.get("approvalId").asString()).isEqualTo(approval.get("approvalId").asString());
        assertThat(decided.get("reason").asString()).isEqualTo("run-ended");
        await().atMost(WAIT).until(() -> servers.stream().noneMatch(ProcessHandle::isAlive));
    }

}
