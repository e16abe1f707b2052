package dev.collab.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.TestDatabase;
import dev.collab.workspace.Workspaces;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Agent output and the database. It goes away in the middle of a run that keeps printing, and
 * comes back: every line the agent printed is in the log afterwards, in order, none twice, with no
 * gap marker when the outage stayed within the bound; past the bound the oldest output goes, and
 * marker lines say exactly where and how much. With the database healthy nothing is ever dropped,
 * however fast the agent prints.
 */
@IntegrationTest
@DirtiesContext
@TestPropertySource(properties = {
        "spring.datasource.hikari.connection-timeout=1000",
        "collab.runner.timeout=5m",
        // The smallest bound: the flood is far past it, the outage of the slow agent stays within it.
        "collab.runner.output-max-pending-chars=16384",
        "collab.runner.lease=30s"})
class OutputDuringOutageTest {

    static final Duration WAIT = Duration.ofSeconds(60);

    @LocalServerPort
    int port;
    @Autowired
    DataSource dataSource;
    @Autowired
    Workspaces workspaces;
    Api api;
    String database;
    JdbcClient admin;

    @DynamicPropertySource
    static void agent(DynamicPropertyRegistry registry) throws IOException {
        String script = new ClassPathResource("outage-agent.sh").getFile().getAbsolutePath();
        registry.add("collab.runner.command", () -> "sh," + script);
    }

    @BeforeEach
    void setUp() {
        api = new Api(port);
        String url = ((HikariDataSource) dataSource).getJdbcUrl();
        database = url.substring(url.lastIndexOf('/') + 1);
        TestDatabase.Server server = TestDatabase.server();
        admin = JdbcClient.create(new DriverManagerDataSource(server.url("postgres"), server.user(), server.password()));
    }

    @AfterEach
    void restore() {
        admin.sql("alter database " + database + " allow_connections true").update();
    }

    @Test
    void everyLinePrintedDuringAnOutageIsInTheLogAfterIt() throws IOException {
        UUID session = api.newSession(api.newProject("outage-run"));
        assertThat(api.sendMessage(session, "print until stopped", null).status()).isEqualTo(202);
        Path workspace = workspaces.directoryOf(session);
        await().atMost(WAIT).until(() -> SessionLog.output(SessionLog.events(api, session), "stdout").contains("line 3\n"));
        double failuresBefore = appendFailures();

        admin.sql("alter database " + database + " allow_connections false").update();
        admin.sql("select pg_terminate_backend(pid) from pg_stat_activity where datname = :db")
                .param("db", database).query().listOfRows();
        int atOutage = progress(workspace);
        // The agent kept printing while appends failed (a few hundred characters: within the bound).
        await().atMost(WAIT).until(() -> appendFailures() > failuresBefore && progress(workspace) >= atOutage + 100);
        int duringOutage = progress(workspace);

        admin.sql("alter database " + database + " allow_connections true").update();
        Files.writeString(workspace.resolve("stop"), "");
        await().atMost(WAIT).until(() -> {
            try {
                return SessionLog.finished(SessionLog.events(api, session));
            } catch (RuntimeException e) {
                return false;   // the server may still be reconnecting
            }
        });

        List<JsonNode> events = SessionLog.events(api, session);
        String stdout = SessionLog.output(events, "stdout");
        int printed = progress(workspace);
        StringBuilder expected = new StringBuilder();
        for (int i = 1; i <= printed; i++) {
            expected.append("line ").append(i).append('\n');
        }
        expected.append("done\n");
        assertThat(printed).isGreaterThanOrEqualTo(duringOutage);
        assertThat(stdout).isEqualTo(expected.toString());
        assertThat(events.stream().filter(e -> e.get("type").asString().equals("run.finished")).findFirst().orElseThrow()
                .get("data").get("status").asString()).isEqualTo("succeeded");
    }

    @Test
    void pastTheBoundTheOldestOutputGoesAndMarkerLinesSayWhereAndHowMuch() throws IOException {
        UUID session = api.newSession(api.newProject("outage-bound"));
        assertThat(api.sendMessage(session, "fast", null).status()).isEqualTo(202);
        Path workspace = workspaces.directoryOf(session);
        await().atMost(WAIT).until(() -> SessionLog.output(SessionLog.events(api, session), "stdout").contains("line 3\n"));
        double droppedBefore = droppedBytes();

        admin.sql("alter database " + database + " allow_connections false").update();
        admin.sql("select pg_terminate_backend(pid) from pg_stat_activity where datname = :db")
                .param("db", database).query().listOfRows();
        // Past the bound (16,384 chars): output is dropped, and counted as it is, while the agent still runs.
        await().atMost(WAIT).until(() -> droppedBytes() > droppedBefore);
        int atDrop = progress(workspace);
        await().atMost(WAIT).until(() -> progress(workspace) > atDrop);

        admin.sql("alter database " + database + " allow_connections true").update();
        Files.writeString(workspace.resolve("stop"), "");
        await().atMost(WAIT).until(() -> {
            try {
                return SessionLog.finished(SessionLog.events(api, session));
            } catch (RuntimeException e) {
                return false;   // the server may still be reconnecting
            }
        });

        String stdout = SessionLog.output(SessionLog.events(api, session), "stdout");
        StringBuilder printed = new StringBuilder();
        for (int i = 1; i <= progress(workspace); i++) {
            printed.append("line ").append(i).append('\n');
        }
        String expected = printed.append("done\n").toString();
        SessionLog.Gaps gaps = SessionLog.gaps(expected, stdout);
        assertThat(gaps.markers()).isPositive();
        assertThat(droppedBytes() - droppedBefore).as("dropped bytes counted = bytes marked").isEqualTo(gaps.bytes());
    }

    @Test
    void aFloodOfOutputArrivesWholeWhileTheDatabaseIsHealthy() {
        // 11,000,000 chars, far past output-max-pending-chars: with appends working, the agent is
        // slowed down to the database's pace (its pipe fills up), and nothing is ever dropped.
        UUID session = api.newSession(api.newProject("flood"));
        assertThat(api.sendMessage(session, "flood 1000000", null).status()).isEqualTo(202);
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
                .until(() -> api.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE"));

        List<JsonNode> events = SessionLog.events(api, session);
        String stdout = SessionLog.output(events, "stdout");
        // (No assertion prints 11 MB when it fails.)
        assertThat(stdout.contains("[collab-server:")).as("a marker of dropped output").isFalse();
        assertThat(stdout.length()).isEqualTo(11_000_000);
        assertThat(stdout.equals("abcdefghij\n".repeat(1_000_000))).as("every line, in order").isTrue();
        assertThat(events.stream().filter(e -> e.get("type").asString().equals("run.finished")).findFirst()
                .orElseThrow().get("data").get("status").asString()).isEqualTo("succeeded");
    }

    private double droppedBytes() {
        return api.get("/actuator/prometheus").text().lines()
                .filter(line -> line.startsWith("collab_run_output_dropped_bytes_total"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .sum();
    }

    private double appendFailures() {
        return api.get("/actuator/prometheus").text().lines()
                .filter(line -> line.startsWith("collab_run_output_append_failures_total"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .sum();
    }

    private static int progress(Path workspace) {
        try {
            String text = Files.readString(workspace.resolve("progress")).strip();
            return text.isEmpty() ? 0 : Integer.parseInt(text);
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }
}
