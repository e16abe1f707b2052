package dev.collab.run;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import dev.collab.support.TempDirectories;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SimpleDriverDataSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The claude-code protocol on a server without an approval module (no
 * {@link ApprovalGate} bean): a permission request is denied at once, and the agent is
 * told why. Without Spring, since every application context of the tests has the real
 * gate. The agent's stdin is a real process ({@code cat}) that echoes what the protocol
 * writes to it.
 */
class ClaudeCodeWithoutApprovalGateTest {

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** No database: the conversation store is not what this test is about. */
    static final class NoConversations extends AgentConversations {

        NoConversations() {
            super(JdbcClient.create(new SimpleDriverDataSource()), java.time.Clock.systemUTC());
        }

        @Override
        Optional<String> find(UUID sessionId, String protocol) {
            return Optional.empty();
        }

        @Override
        void save(UUID sessionId, String protocol, String agentSessionId) {
        }

    }

    @Test
    void aToolIsDeniedWithAMessage() throws Exception {
        ClaudeCodeProtocol protocol = new ClaudeCodeProtocol(new NoConversations(),
                new StaticListableBeanFactory().getBeanProvider(ApprovalGate.class), JSON,
                RunnerPropertiesTest.withEnvironment(List.of()));
        List<AgentEvent> events = new CopyOnWriteArrayList<>();
        AgentProtocol.AgentOutput output = new AgentProtocol.AgentOutput() {
            @Override
            public void output(String stream, CharSequence text) {
            }

            @Override
            public void event(AgentEvent event) {
                events.add(event);
            }

            @Override
            public void flush() {
            }
        };
        Path workspace = TempDirectories.create("no-gate-");
        AgentProtocol.AgentConversation conversation = protocol.open(new AgentProtocol.Conversation(UUID.randomUUID(),
                UUID.randomUUID(), "replay", workspace, output, () -> {
                }));
        Process cat = new ProcessBuilder("cat").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader echoed = new BufferedReader(
                new InputStreamReader(cat.getInputStream(), StandardCharsets.UTF_8))) {
            conversation.started(cat);
            JsonNode message = JSON.readTree(echoed.readLine());
            assertThat(message.get("type").asString()).isEqualTo("user");

            String request = "{\"type\":\"control_request\",\"request_id\":\"r1\",\"request\":{\"subtype\":"
                    + "\"can_use_tool\",\"tool_name\":\"Bash\",\"input\":{\"command\":\"make\"},"
                    + "\"tool_use_id\":\"toolu_1\"}}\n";
            conversation.readStdout(new ByteArrayInputStream(request.getBytes(StandardCharsets.UTF_8)));

            JsonNode response = JSON.readTree(echoed.readLine());
            assertThat(response.get("type").asString()).isEqualTo("control_response");
            assertThat(response.get("response").get("subtype").asString()).isEqualTo("success");
            assertThat(response.get("response").get("request_id").asString()).isEqualTo("r1");
            JsonNode decision = response.get("response").get("response");
            assertThat(decision.get("behavior").asString()).isEqualTo("deny");
            assertThat(decision.get("message").asString())
                .isEqualTo("Tool approvals are not available on this server, so Bash was denied.");
            assertThat(events).extracting(AgentEvent::type).doesNotContain("approval.requested");
        }
        finally {
            conversation.close();
            cat.destroy();
            cat.waitFor(10, TimeUnit.SECONDS);
        }
    }

}
