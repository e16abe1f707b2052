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
 * The agent exits while the database is away, and stays away for longer than the runner retries
 * (the lease): the output it could not append is given up, but counted as dropped as it is given
 * up, and what is in the log afterwards plus what was counted is exactly what the agent printed
 * (with a marker where it went, if the database answered in time for it).
 */
@IntegrationTest
@DirtiesContext
@TestPropertySource(properties = {
        "spring.datasource.hikari.connection-timeout=1000",
        "collab.runner.timeout=5m",
        "collab.runner.lease=2s"})
class OutputAtTheEndOfAnOutageTest {

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
    void outputGivenUpAtTheEndOfARunIsCountedAsDropped() throws IOException {
        UUID session = api.newSession(api.newProject("outage-end"));
        assertThat(api.sendMessage(session, "print until stopped", null).status()).isEqualTo(202);
        Path workspace = workspaces.directoryOf(session);
        await().atMost(WAIT).until(() -> SessionLog.output(SessionLog.events(api, session), "stdout").contains("line 3\n"));
        double droppedBefore = droppedBytes();

        admin.sql("alter database " + database + " allow_connections false").update();
        admin.sql("select pg_terminate_backend(pid) from pg_stat_activity where datname = :db")
                .param("db", database).query().listOfRows();
        int atOutage = progress(workspace);
        await().atMost(WAIT).until(() -> progress(workspace) >= atOutage + 20);
        Files.writeString(workspace.resolve("stop"), "");   // the agent prints "done" and exits
        // The runner retries for the lease (2 s), then gives the output up: counted at once.
        await().atMost(WAIT).until(() -> droppedBytes() > droppedBefore);

        admin.sql("alter database " + database + " allow_connections true").update();
        await().atMost(WAIT).until(() -> {
            try {
                return SessionLog.finished(SessionLog.events(api, session));
            } catch (RuntimeException e) {
                return false;   // the server may still be reconnecting
            }
        });

        List<JsonNode> events = SessionLog.events(api, session);
        String stdout = SessionLog.output(events, "stdout");
        StringBuilder printed = new StringBuilder();
        for (int i = 1; i <= progress(workspace); i++) {
            printed.append("line ").append(i).append('\n');
        }
        String expected = printed.append("done\n").toString();
        long dropped = (long) (droppedBytes() - droppedBefore);
        assertThat(dropped).as("counted").isPositive();
        if (stdout.contains("[collab-server:")) {
            // The database answered in time for the marker: it says how much, where.
            assertThat(SessionLog.gaps(expected, stdout).bytes()).isEqualTo(dropped);
        } else {
            // It did not: the log ends where the output given up began, and all of that was counted.
            assertThat(expected.startsWith(stdout)).as("the log is what was printed, up to the gap").isTrue();
            assertThat(expected.length() - stdout.length()).isEqualTo(dropped);
        }
        // Lost: the database was still away for run.finished; succeeded: it answered in time.
        assertThat(events.stream().filter(e -> e.get("type").asString().equals("run.finished")).findFirst()
                .orElseThrow().get("data").get("status").asString()).isIn("lost", "succeeded");
    }

    private double droppedBytes() {
        return api.get("/actuator/prometheus").text().lines()
                .filter(line -> line.startsWith("collab_run_output_dropped_bytes_total"))
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
