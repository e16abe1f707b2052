package dev.collab.run;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;
import dev.collab.support.TestDatabase;
import dev.collab.workspace.Workspaces;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A Claude Code conversation continues on another instance: the first message runs on
 * this one, the second on a second server process sharing the database and the workspace
 * root; the second run resumes the first one's agent session, whose store is in the
 * workspace.
 */
@IntegrationTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestPropertySource(properties = { "collab.runner.protocol=claude-code", "collab.runner.timeout=60s" })
class ClaudeCodeAcrossInstancesIT {

    static final Duration WAIT = Duration.ofSeconds(60);

    @DynamicPropertySource
    static void agent(DynamicPropertyRegistry registry) {
        registry.add("collab.runner.command", FakeClaude::command);
    }

    @LocalServerPort
    int port;

    @Autowired
    DataSource dataSource;

    @Autowired
    Workspaces workspaces;

    @Autowired
    AgentConversations conversations;

    ServerProcess other;

    @BeforeAll
    void startSecondInstance() throws Exception {
        var db = TestDatabase.server();
        other = ServerProcess
            .start(TempDirectories.create("claude-b-"),
                    "--spring.datasource.url=" + dataSource.unwrap(HikariDataSource.class).getJdbcUrl(),
                    "--spring.datasource.username=" + db.user(), "--spring.datasource.password=" + db.password(),
                    "--collab.sweeper.enabled=false", "--collab.workspace.root=" + workspaces.root(),
                    "--collab.runner.protocol=claude-code", "--collab.runner.command=" + FakeClaude.command(),
                    "--collab.runner.lease=2s", "--collab.runner.interrupt-grace=1s")
            .awaitReady();
    }

    @AfterAll
    void stop() {
        other.close();
    }

    List<JsonNode> finishedRuns(Api api, UUID session) {
        return SessionLog.events(api, session)
            .stream()
            .filter(e -> e.get("type").asString().equals("run.finished"))
            .toList();
    }

    @Test
    void theSecondMessageOnAnotherInstanceContinuesTheConversation() {
        Api here = new Api(port);
        Api there = other.api();
        UUID session = here.newSession(here.newProject("claude-across"));
        assertThat(here.sendMessage(session, "remember pears", null).status()).isEqualTo(202);
        await().atMost(WAIT).until(() -> finishedRuns(here, session).size() == 1);
        String agentSession = conversations.find(session, "claude-code").orElseThrow();

        assertThat(there.sendMessage(session, "recall", null).status()).isEqualTo(202);
        await().atMost(WAIT).until(() -> finishedRuns(here, session).size() == 2);

        List<JsonNode> events = SessionLog.events(here, session);
        List<String> texts = events.stream()
            .filter(e -> e.get("type").asString().equals("agent.text"))
            .map(e -> e.get("data").get("text").asString())
            .toList();
        assertThat(texts).containsExactly("new conversation; earlier: ",
                "resumed " + agentSession + "; earlier: remember pears");
        assertThat(finishedRuns(here, session)).extracting(f -> f.get("data").get("status").asString())
            .containsExactly("succeeded", "succeeded");
    }

}
