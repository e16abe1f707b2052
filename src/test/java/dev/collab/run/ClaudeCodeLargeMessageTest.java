package dev.collab.run;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The largest message a user may send (100,000 characters, 200 KB of UTF-8: more than a
 * pipe holds) reaches Claude Code whole as one stream-json line, and its answer comes
 * back capped.
 */
@IntegrationTest
@TestPropertySource(properties = { "collab.runner.protocol=claude-code", "collab.runner.timeout=60s" })
class ClaudeCodeLargeMessageTest {

    @DynamicPropertySource
    static void agent(DynamicPropertyRegistry registry) {
        registry.add("collab.runner.command", FakeClaude::command);
    }

    @Autowired
    Api api;

    @Test
    void theLargestMessageReachesTheAgentWhole() {
        UUID session = api.newSession(api.newProject("large"));
        String text = "é".repeat(100_000);
        Api.Response sent = api.sendMessage(session, text, null);
        assertThat(sent.status()).as(sent.toString()).isEqualTo(202);

        await().atMost(Duration.ofSeconds(60)).until(() -> types(session).contains("run.finished"));
        List<JsonNode> events = events(session);
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

    List<JsonNode> events(UUID session) {
        List<JsonNode> items = new java.util.ArrayList<>();
        api.get("/api/sessions/" + session + "/events?after=0&limit=1000").json().get("items").forEach(items::add);
        return items;
    }

    List<String> types(UUID session) {
        return events(session).stream().map(e -> e.get("type").asString()).toList();
    }

}
