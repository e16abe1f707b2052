package dev.collab.run;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.SseClient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With no command configured, runs use the shipped demo agent, which streams a reply word
 * by word.
 */
@IntegrationTest
@TestPropertySource(properties = { "collab.runner.command=", "collab.runner.timeout=60s" })
class DemoAgentTest {

    @Autowired
    Api api;

    @Test
    void theDemoAgentRepliesWordByWord() {
        String project = api.newProject("demo");
        UUID session = api.newSession(project);
        assertThat(api
            .post("/api/sessions/" + session + "/messages", Api.json(Map.of("text", "hello demo", "author", "ada")))
            .status()).isEqualTo(202);
        List<SseClient.Message> messages = new java.util.ArrayList<>();
        try (SseClient client = SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"), null)) {
            while (messages.isEmpty() || !messages.getLast().event().equals("run.finished")) {
                SseClient.Message message = client.next(java.time.Duration.ofSeconds(60));
                assertThat(message).as("events so far: %s", messages).isNotNull();
                messages.add(message);
            }
        }
        String reply = RunTest.stdout(messages);
        assertThat(reply).contains("demo agent", "hello demo", session.toString());
        assertThat(messages.stream().filter(m -> m.event().equals("output")).count()).as("streamed in pieces")
            .isGreaterThan(1);
        assertThat(RunTest.last(messages, "run.finished").get("status").asString()).isEqualTo("succeeded");
    }

}
