package dev.collab.run;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;
import dev.collab.support.TestDatabase;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The agent's environment, as a real {@code env} agent prints it, run by a server whose
 * own environment holds the database credentials and settings (as on ECS): the agent sees
 * the allow-listed variables and its run's ids, nothing else. Listing a server variable
 * stops the server with one clear line.
 */
class AgentEnvironmentProcessIT {

    @Test
    void anEnvAgentSeesOnlyTheAllowListAndItsIds() {
        TestDatabase.Server database = TestDatabase.server();
        String url = TestDatabase.newDatabase();
        // A trusting test server ignores the password; a real one needs the real one.
        String password = database.password().isEmpty() ? "db-secret-" + UUID.randomUUID() : database.password();
        Map<String, String> environment = Map.of("COLLAB_DATABASE_URL", url, "SPRING_DATASOURCE_USERNAME",
                database.user(), "SPRING_DATASOURCE_PASSWORD", password, "COLLAB_RUNNER_TIMEOUT", "30s", "LISTED_VAR",
                "listed-value", "UNLISTED_VAR", "unlisted-value");
        Path dataDir = TempDirectories.create("agent-env-");
        try (ServerProcess server = ServerProcess
            .start(environment, dataDir, "--collab.runner.command=env",
                    "--collab.runner.environment=PATH,HOME,LANG,LISTED_VAR")
            .awaitReady()) {
            Api api = server.api();
            UUID session = api.newSession(api.newProject("env"));
            String runId = api.sendMessage(session, "print your environment", null).json().get("runId").asString();

            await().atMost(Duration.ofSeconds(60)).until(() -> SessionLog.finished(SessionLog.events(api, session)));
            List<JsonNode> events = SessionLog.events(api, session);
            List<String> variables = Arrays.asList(SessionLog.output(events, "stdout").split("\n"));

            assertThat(variables).contains("LISTED_VAR=listed-value", "COLLAB_SESSION_ID=" + session,
                    "COLLAB_RUN_ID=" + runId, "PATH=" + System.getenv("PATH"));
            assertThat(variables).noneMatch(line -> line.startsWith("UNLISTED_VAR="))
                .noneMatch(line -> line.startsWith("SPRING_"))
                .noneMatch(line -> line.startsWith("COLLAB_DATABASE_URL="))
                .noneMatch(line -> line.startsWith("COLLAB_RUNNER_"));
            assertThat(variables).allMatch(line -> line.startsWith("LISTED_VAR=") || line.startsWith("PATH=")
                    || line.startsWith("HOME=") || line.startsWith("LANG=") || line.startsWith("COLLAB_SESSION_ID=")
                    || line.startsWith("COLLAB_RUN_ID="), "only the allow-list and the run's ids");
            String everything = SessionLog.output(events, "stdout") + SessionLog.output(events, "stderr");
            assertThat(everything).doesNotContain(url).doesNotContain("unlisted-value");
            if (database.password().isEmpty()) {
                assertThat(everything).doesNotContain(password);
            }
            assertThat(server.output()).doesNotContain(password);
        }
    }

    @Test
    void listingAServerVariableStopsTheServerWithOneClearLine() {
        Path dataDir = TempDirectories.create("agent-env-refused-");
        try (ServerProcess server = ServerProcess.start(dataDir,
                "--collab.runner.environment=PATH,SPRING_DATASOURCE_PASSWORD")) {
            int exit = server.awaitExit(Duration.ofSeconds(120));
            String output = server.output();
            assertThat(exit).isNotZero();
            assertThat(output).contains("Property: collab.runner.environment[1]")
                .contains("Value: \"SPRING_DATASOURCE_PASSWORD\"")
                .contains("Reason: is one of the server's own variables");
            assertThat(output).doesNotContain("\tat ");
        }
    }

}
