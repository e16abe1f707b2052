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
 * The database goes away in the middle of a run that keeps printing, and comes back: every line
 * the agent printed is in the log afterwards, in order, none twice, with no gap marker (the
 * outage stayed within the bound).
 */
@IntegrationTest
@DirtiesContext
@TestPropertySource(properties = {
        "spring.datasource.hikari.connection-timeout=1000",
        "collab.runner.timeout=5m",
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
        // The agent printed well over a batch while appends failed.
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
