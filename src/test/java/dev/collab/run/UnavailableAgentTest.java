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
import static org.awaitility.Awaitility.await;

/**
 * An agent command that cannot start ends the run at once, with a reason the user sees.
 */
@IntegrationTest
@TestPropertySource(properties = "collab.runner.command=/nonexistent/agent-for-tests")
class UnavailableAgentTest {

    @Autowired
    Api api;

    @Test
    void aCommandThatCannotStartIsRunnerUnavailable() {
        String project = api.newProject("unavailable");
        UUID session = api.newSession(project);
        assertThat(api.post("/api/sessions/" + session + "/messages", Api.json(Map.of("text", "hi", "author", "ada")))
            .status()).isEqualTo(202);
        try (SseClient client = SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"), null)) {
            List<SseClient.Message> messages = client.take(5, RunTest.WAIT);
            assertThat(messages).extracting(SseClient.Message::event)
                .containsExactly("session.created", "message", "run.started", "error", "run.finished");
            assertThat(messages.get(3).json().get("data").get("code").asString()).isEqualTo("runner-unavailable");
            assertThat(messages.get(4).json().get("data").get("status").asString()).isEqualTo("failed");
            assertThat(messages.get(4).json().get("data").get("exitCode").isNull()).isTrue();
        }
        await().atMost(RunTest.WAIT)
            .until(() -> api.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE"));
    }

}
