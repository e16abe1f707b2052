package dev.collab.run;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import dev.collab.event.EventLog;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.SseClient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code collab.runner.protocol=claude-code} over real HTTP and SSE, with the fake Claude
 * Code (src/test/resources/agents/claude-code) replaying the recorded transcript: typed
 * events in order and in shape, approvals both ways, malformed lines kept, a crash in the
 * middle of a tool, an error result, a line past the bound, and the conversation that
 * continues from one run to the next.
 */
@IntegrationTest
@TestPropertySource(properties = { "collab.runner.protocol=claude-code", "collab.runner.timeout=60s" })
class ClaudeCodeProtocolTest {

    static final Duration WAIT = Duration.ofSeconds(60);

    @DynamicPropertySource
    static void agent(DynamicPropertyRegistry registry) {
        registry.add("collab.runner.command", FakeClaude::command);
    }

    /** TEST ONLY: stands in for the approval module (see {@link TestApprovalGate}). */
    @TestConfiguration
    static class Gate {

        @Bean
        @Primary
        TestApprovalGate testApprovalGate(EventLog eventLog) {
            return new TestApprovalGate(eventLog);
        }

    }

    @Autowired
    Api api;

    @Autowired
    TestApprovalGate gate;

    @Autowired
    AgentConversations conversations;

    UUID newSession() {
        return api.newSession(api.newProject("claude"));
    }

    /** Reads the session's stream from the start until the n-th run.finished. */
    List<SseClient.Message> untilFinished(UUID session, int runs) {
        List<SseClient.Message> messages = new ArrayList<>();
        int finished = 0;
        try (SseClient client = SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"), null)) {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                SseClient.Message message = client.next(Duration.ofSeconds(1));
                if (message == null) {
                    continue;
                }
                messages.add(message);
                if (message.event().equals("run.finished") && ++finished == runs) {
                    return messages;
                }
            }
        }
        throw new AssertionError("no run.finished: " + messages);
    }

    static List<String> types(List<SseClient.Message> messages) {
        return messages.stream().map(SseClient.Message::event).toList();
    }

    static List<JsonNode> data(List<SseClient.Message> messages, String type) {
        return messages.stream().filter(m -> m.event().equals(type)).map(m -> m.json().get("data")).toList();
    }

    TestApprovalGate.Request awaitApproval(UUID session) {
        await().atMost(WAIT).until(() -> gate.of(session) != null);
        return gate.of(session);
    }

    @Test
    void aReplayedSessionBecomesTypedEventsInOrderAndAnAllowedToolRuns() {
        UUID session = newSession();
        UUID runId = UUID.fromString(api.sendMessage(session, "replay", null).json().get("runId").asString());
        TestApprovalGate.Request approval = awaitApproval(session);
        assertThat(approval.tool()).isEqualTo("Bash");
        assertThat(approval.input().get("command").asString()).isEqualTo("python3 -m pytest -q tests/test_greeting.py");
        assertThat(approval.runId()).isEqualTo(runId);
        gate.decide(approval, true, Api.ADMIN_LOGIN, null);

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
        JsonNode decided = data(messages, "approval.decided").getFirst();
        assertThat(decided.get("decision").asString()).isEqualTo("allow");
        JsonNode finished = data(messages, "run.finished").getFirst();
        assertThat(finished.get("status").asString()).isEqualTo("succeeded");
        assertThat(conversations.find(session, "claude-code")).isPresent();
    }

    @Test
    void aDeniedToolIsReportedToTheAgentWithWhoDeniedIt() {
        UUID session = newSession();
        api.sendMessage(session, "replay", null);
        gate.decide(awaitApproval(session), false, "bob", null);

        List<SseClient.Message> messages = untilFinished(session, 1);
        JsonNode bash = data(messages, "tool.result").get(1);
        assertThat(bash.get("callId").asString()).isEqualTo("toolu_01Bash0000000000000000001");
        assertThat(bash.get("output").asString()).isEqualTo("bob denied Bash.");
        assertThat(bash.get("isError").asBoolean()).isTrue();
        assertThat(data(messages, "tool.call")).extracting(c -> c.get("name").asString())
            .containsExactly("Read", "Bash");
        assertThat(data(messages, "run.finished").getFirst().get("status").asString()).isEqualTo("succeeded");
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

}
