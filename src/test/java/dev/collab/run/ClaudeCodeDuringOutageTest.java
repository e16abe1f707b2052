package dev.collab.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;

import javax.sql.DataSource;

import dev.collab.support.Api;
import dev.collab.support.FakeAgents;
import dev.collab.support.IntegrationTest;
import dev.collab.workspace.Workspaces;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static dev.collab.run.Outage.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A claude-code run's typed events and the database: it goes away while the agent keeps
 * talking and comes back; every event the agent wrote is in the log afterwards, in order,
 * none twice (they wait in the run's buffer like output does). (A server without an
 * approval gate: {@link ClaudeCodeWithoutApprovalGateTest}.)
 */
@IntegrationTest
@DirtiesContext
@TestPropertySource(properties = { "collab.runner.protocol=claude-code",
        "collab.runner.command=" + FakeAgents.CLAUDE_CODE, "spring.datasource.hikari.connection-timeout=1000",
        "collab.runner.timeout=5m", "collab.runner.lease=30s" })
class ClaudeCodeDuringOutageTest {

    @Autowired
    DataSource dataSource;

    @Autowired
    Workspaces workspaces;

    @Autowired
    Api api;

    Outage outage;

    @AfterEach
    void restore() {
        outage.end();
    }

    @Test
    void noTypedEventIsLostToAnOutage() throws IOException {
        outage = new Outage(api, dataSource);
        UUID session = api.newSession(api.newProject("claude-outage"));
        assertThat(api.sendMessage(session, "until-stopped", null).status()).isEqualTo(202);
        Path workspace = workspaces.directoryOf(session);
        await().atMost(WAIT).until(() -> texts(SessionLog.events(api, session)).size() >= 3);
        double failuresBefore = outage.appendFailures();

        outage.begin();
        int atOutage = Outage.progress(workspace);
        await().atMost(WAIT)
            .until(() -> outage.appendFailures() > failuresBefore && Outage.progress(workspace) >= atOutage + 50);

        outage.endThenStop(session, workspace);

        List<JsonNode> events = SessionLog.events(api, session);
        int printed = Outage.progress(workspace);
        assertThat(texts(events))
            .containsExactlyElementsOf(IntStream.rangeClosed(1, printed).mapToObj(i -> "line " + i).toList());
        assertThat(SessionLog.output(events, "stdout")).isEmpty();
        assertThat(events.stream().filter(e -> e.get("type").asString().equals("usage")).count()).isEqualTo(1);
        assertThat(events.getLast().get("data").get("status").asString()).isEqualTo("succeeded");
    }

    static List<String> texts(List<JsonNode> events) {
        return events.stream()
            .filter(e -> e.get("type").asString().equals("agent.text"))
            .map(e -> e.get("data").get("text").asString())
            .toList();
    }

}
