package dev.collab.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static dev.collab.run.Outage.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The agent exits while the database is away, and stays away for longer than the runner
 * retries (the lease): the output it could not append is given up, but counted as dropped
 * as it is given up, and what is in the log afterwards plus what was counted is exactly
 * what the agent printed (with a marker where it went, if the database answered in time
 * for it).
 */
@IntegrationTest
@DirtiesContext
@TestPropertySource(properties = { "spring.datasource.hikari.connection-timeout=1000", "collab.runner.timeout=5m",
        "collab.runner.lease=2s" })
class OutputAtTheEndOfAnOutageTest extends OutageTestBase {

    @Test
    void outputGivenUpAtTheEndOfARunIsCountedAsDropped() throws IOException {
        UUID session = outage.startRun("outage-end", "print until stopped");
        Path workspace = workspaces.directoryOf(session);
        double droppedBefore = outage.droppedBytes();

        outage.begin();
        int atOutage = Outage.progress(workspace);
        await().atMost(WAIT).until(() -> Outage.progress(workspace) >= atOutage + 20);
        Outage.stopAgent(workspace); // the agent prints "done" and exits
        // The runner retries for the lease (2 s), then gives the output up: counted at
        // once.
        await().atMost(WAIT).until(() -> outage.droppedBytes() > droppedBefore);

        outage.end();
        outage.awaitFinished(session);

        List<JsonNode> events = SessionLog.events(api, session);
        String stdout = SessionLog.output(events, "stdout");
        String expected = Outage.printed(workspace);
        long dropped = (long) (outage.droppedBytes() - droppedBefore);
        assertThat(dropped).as("counted").isPositive();
        if (stdout.contains("[collab-server:")) {
            // The database answered in time for the marker: it says how much, where.
            assertThat(SessionLog.gaps(expected, stdout).bytes()).isEqualTo(dropped);
        }
        else {
            // It did not: the log ends where the output given up began, and all of that
            // was counted.
            assertThat(expected.startsWith(stdout)).as("the log is what was printed, up to the gap").isTrue();
            assertThat(expected.length() - stdout.length()).isEqualTo(dropped);
        }
        // Lost: the database was still away for run.finished; succeeded: it answered in
        // time.
        assertThat(events.stream()
            .filter(e -> e.get("type").asString().equals("run.finished"))
            .findFirst()
            .orElseThrow()
            .get("data")
            .get("status")
            .asString()).isIn("lost", "succeeded");
    }

}
