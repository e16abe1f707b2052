package dev.collab.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import dev.collab.support.Api;
import dev.collab.support.TestDatabase;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.test.context.DynamicPropertyRegistry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the database-outage tests of agent output share: the agent script
 * (outage-agent.sh), taking the test's database away and bringing it back, the agent's
 * progress file, and the counters.
 */
final class Outage {

    static final Duration WAIT = Duration.ofSeconds(60);

    private final Api api;

    private final String database;

    private final JdbcClient admin;

    Outage(Api api, DataSource dataSource) {
        this.api = api;
        String url = ((HikariDataSource) dataSource).getJdbcUrl();
        this.database = url.substring(url.lastIndexOf('/') + 1);
        TestDatabase.Server server = TestDatabase.server();
        this.admin = JdbcClient
            .create(new DriverManagerDataSource(server.url("postgres"), server.user(), server.password()));
    }

    /** Runs outage-agent.sh as the agent. */
    static void useOutageAgent(DynamicPropertyRegistry registry) throws IOException {
        String script = new ClassPathResource("outage-agent.sh").getFile().getAbsolutePath();
        registry.add("collab.runner.command", () -> "sh," + script);
    }

    /**
     * Starts a run of the agent in a new session and waits until its output is being
     * logged.
     */
    UUID startRun(String project, String message) {
        UUID session = api.newSession(api.newProject(project));
        assertThat(api.sendMessage(session, message, null).status()).isEqualTo(202);
        await().atMost(WAIT)
            .until(() -> SessionLog.output(SessionLog.events(api, session), "stdout").contains("line 3\n"));
        return session;
    }

    /** The database refuses new connections and its open ones are ended. */
    void begin() {
        admin.sql("alter database " + database + " allow_connections false").update();
        admin.sql("select pg_terminate_backend(pid) from pg_stat_activity where datname = :db")
            .param("db", database)
            .query()
            .listOfRows();
    }

    void end() {
        admin.sql("alter database " + database + " allow_connections true").update();
    }

    void awaitFinished(UUID session) {
        await().atMost(WAIT).until(() -> {
            try {
                return SessionLog.finished(SessionLog.events(api, session));
            }
            catch (RuntimeException e) {
                return false; // the server may still be reconnecting
            }
        });
    }

    /**
     * The database comes back, then the agent is stopped; returns once its run has
     * finished.
     */
    void endThenStop(UUID session, Path workspace) throws IOException {
        end();
        stopAgent(workspace);
        awaitFinished(session);
    }

    /** The agent prints "done" and exits. */
    static void stopAgent(Path workspace) throws IOException {
        Files.writeString(workspace.resolve("stop"), "");
    }

    /** The last line number the agent printed, from its progress file. */
    static int progress(Path workspace) {
        try {
            String text = Files.readString(workspace.resolve("progress")).strip();
            return text.isEmpty() ? 0 : Integer.parseInt(text);
        }
        catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    /** What the agent printed, in full, once it has exited. */
    static String printed(Path workspace) {
        StringBuilder printed = new StringBuilder();
        for (int i = 1; i <= progress(workspace); i++) {
            printed.append("line ").append(i).append('\n');
        }
        return printed.append("done\n").toString();
    }

    double droppedBytes() {
        return counter("collab_run_output_dropped_bytes_total");
    }

    double appendFailures() {
        return counter("collab_run_output_append_failures_total");
    }

    private double counter(String name) {
        return api.get("/actuator/prometheus")
            .text()
            .lines()
            .filter(line -> line.startsWith(name))
            .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
            .sum();
    }

}
