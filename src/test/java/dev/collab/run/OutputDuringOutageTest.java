package dev.collab.run;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
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
 * Agent output and the database. It goes away in the middle of a run that keeps printing,
 * and comes back: every line the agent printed is in the log afterwards, in order, none
 * twice, with no gap marker when the outage stayed within the bound; past the bound the
 * oldest output goes, and marker lines say exactly where and how much. With the database
 * healthy nothing is ever dropped, however fast the agent prints.
 */
@IntegrationTest
@DirtiesContext
@TestPropertySource(properties = { "spring.datasource.hikari.connection-timeout=1000", "collab.runner.timeout=5m",
        // The smallest bound: the flood is far past it, the outage of the slow agent
        // stays within it.
        "collab.runner.output-max-pending-chars=16384", "collab.runner.lease=30s" })
class OutputDuringOutageTest extends OutageTestBase {

    @Test
    void everyLinePrintedDuringAnOutageIsInTheLogAfterIt() throws IOException {
        UUID session = outage.startRun("outage-run", "print until stopped");
        Path workspace = workspaces.directoryOf(session);
        double failuresBefore = outage.appendFailures();

        outage.begin();
        int atOutage = Outage.progress(workspace);
        // The agent kept printing while appends failed (a few hundred characters: within
        // the bound).
        await().atMost(WAIT)
            .until(() -> outage.appendFailures() > failuresBefore && Outage.progress(workspace) >= atOutage + 100);
        int duringOutage = Outage.progress(workspace);

        outage.endThenStop(session, workspace);

        List<JsonNode> events = SessionLog.events(api, session);
        String stdout = SessionLog.output(events, "stdout");
        int printed = Outage.progress(workspace);
        String expected = Outage.printed(workspace);
        assertThat(printed).isGreaterThanOrEqualTo(duringOutage);
        assertThat(stdout).isEqualTo(expected);
        assertThat(events.stream()
            .filter(e -> e.get("type").asString().equals("run.finished"))
            .findFirst()
            .orElseThrow()
            .get("data")
            .get("status")
            .asString()).isEqualTo("succeeded");
    }

    @Test
    void pastTheBoundTheOldestOutputGoesAndMarkerLinesSayWhereAndHowMuch() throws IOException {
        UUID session = outage.startRun("outage-bound", "fast");
        Path workspace = workspaces.directoryOf(session);
        double droppedBefore = outage.droppedBytes();

        outage.begin();
        // Past the bound (16,384 chars): output is dropped, and counted as it is, while
        // the agent still runs.
        await().atMost(WAIT).until(() -> outage.droppedBytes() > droppedBefore);
        int atDrop = Outage.progress(workspace);
        await().atMost(WAIT).until(() -> Outage.progress(workspace) > atDrop);

        outage.endThenStop(session, workspace);

        String stdout = SessionLog.output(SessionLog.events(api, session), "stdout");
        String expected = Outage.printed(workspace);
        SessionLog.Gaps gaps = SessionLog.gaps(expected, stdout);
        assertThat(gaps.markers()).isPositive();
        assertThat(outage.droppedBytes() - droppedBefore).as("dropped bytes counted = bytes marked")
            .isEqualTo(gaps.bytes());
    }

    @Test
    void aFloodOfOutputArrivesWholeWhileTheDatabaseIsHealthy() {
        // 11,000,000 chars, far past output-max-pending-chars: with appends working, the
        // agent is
        // slowed down to the database's pace (its pipe fills up), and nothing is ever
        // dropped.
        UUID session = api.newSession(api.newProject("flood"));
        assertThat(api.sendMessage(session, "flood 1000000", null).status()).isEqualTo(202);
        await().atMost(Duration.ofMinutes(3))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> api.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE"));

        List<JsonNode> events = SessionLog.events(api, session);
        String stdout = SessionLog.output(events, "stdout");
        // (No assertion prints 11 MB when it fails.)
        assertThat(stdout.contains("[collab-server:")).as("a marker of dropped output").isFalse();
        assertThat(stdout.length()).isEqualTo(11_000_000);
        assertThat(stdout.equals("abcdefghij\n".repeat(1_000_000))).as("every line, in order").isTrue();
        assertThat(events.stream()
            .filter(e -> e.get("type").asString().equals("run.finished"))
            .findFirst()
            .orElseThrow()
            .get("data")
            .get("status")
            .asString()).isEqualTo("succeeded");
    }

}
