package dev.collab.run;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.workspace.Workspaces;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static dev.collab.run.Outage.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 17's soak found runs lost although their agent finished fine: the database was
 * away (PostgreSQL restarting, the server's connections terminated) exactly when the run
 * ended, the runner tried once to record the end and gave up, and the lease reaper ended
 * the run as {@code lost}. Now the runner retries the end while the database is away,
 * keeps the run's lease meanwhile, and the end is recorded exactly once, whoever records
 * it: the runner once the database is back, or a reaper that got there first. It gives up
 * (ERROR) only after {@code collab.runner.lease}, or when the server shuts down and its
 * runner stops waiting.
 * <p>
 * The agent (run-end-agent.sh) prints one line, then waits silently for its stop file:
 * when it exits nothing of its output waits, so the run's end is the first thing the
 * runner needs the database for.
 */
@IntegrationTest
@DirtiesContext
@ExtendWith(OutputCaptureExtension.class)
@TestPropertySource(properties = { "spring.datasource.hikari.connection-timeout=1000", "collab.runner.timeout=5m",
        "collab.runner.lease=10s", "collab.runner.interrupt-grace=1s" })
class RunEndDuringOutageTest {

    /** Runner's retry window, as configured above. */
    private static final Duration LEASE = Duration.ofSeconds(10);

    @Autowired
    DataSource dataSource;

    @Autowired
    Workspaces workspaces;

    @Autowired
    Api api;

    @Autowired
    Runs runs;

    @Autowired
    AgentRunner runner;

    Outage outage;

    JdbcClient jdbc;

    @DynamicPropertySource
    static void agent(DynamicPropertyRegistry registry) throws IOException {
        String script = new ClassPathResource("run-end-agent.sh").getFile().getAbsolutePath();
        registry.add("collab.runner.command", () -> "sh," + script);
    }

    @BeforeEach
    void setUp() {
        outage = new Outage(api, dataSource);
        jdbc = JdbcClient.create(dataSource);
    }

    @AfterEach
    void restore() {
        outage.end();
        await().atMost(WAIT).untilAsserted(() -> jdbc.sql("drop trigger if exists fail_run_end on runs").update());
    }

    @Test
    void aRunWhoseAgentEndsWhileTheDatabaseIsAwayEndsSucceededOnceItIsBack(CapturedOutput output) throws IOException {
        Started run = start("run-end-outage");

        outage.begin();
        Outage.stopAgent(run.workspace()); // the agent exits 0 while the database is away
        await().atMost(WAIT).until(() -> output.getAll().contains("Could not record the end of run " + run.id()));
        // Not a blip that one more attempt covers: away until the server's health sees
        // it.
        await().atMost(WAIT).until(() -> api.get("/actuator/health/readiness").status() == 503);
        outage.end();
        outage.awaitFinished(run.session());

        List<JsonNode> events = SessionLog.events(api, run.session());
        assertThat(ofType(events, "run.finished")).singleElement().satisfies(finished -> {
            assertThat(finished.get("data").get("runId").asString()).isEqualTo(run.id().toString());
            assertThat(finished.get("data").get("status").asString()).isEqualTo("succeeded");
            assertThat(finished.get("data").get("exitCode").asInt()).isZero();
        });
        assertThat(ofType(events, "error")).isEmpty();
        assertThat(sessionState(run.session())).isEqualTo("IDLE");
        assertThat(output.getAll()).contains("Could not record the end of run " + run.id() + " (succeeded), retrying")
            .contains("Recorded the end of run " + run.id() + " (succeeded) once the database answered again");
        assertThat(lines(output, "Could not record the end of run " + run.id())).as("WARN once").hasSize(1);
        // The run no longer holds a lease: nothing ends it a second time once it would
        // have expired.
        assertThat(runs.find(run.id()).orElseThrow().state()).isEqualTo(Run.State.FINISHED);
        assertNoError(output);
    }

    @Test
    void whenAReaperEndsTheRunFirstItsEndIsRecordedOnceAsLost(CapturedOutput output) throws IOException {
        Started run = start("run-end-reaped");
        // The runner's attempts fail (a transient failure the database itself reports),
        // the reaper's do not.
        failRunEndsExceptLost();

        Outage.stopAgent(run.workspace());
        await().atMost(WAIT).until(() -> output.getAll().contains("Could not record the end of run " + run.id()));
        // Another instance's reaper (the run's lease expired during a long outage) gets
        // there first.
        assertThat(runs.finish(run.id(), new Runs.Outcome("lost", null, "runner-lost",
                "The server running this agent went away; send the message again.")))
            .isTrue();
        jdbc.sql("drop trigger fail_run_end on runs").update();
        await().atMost(WAIT).until(() -> output.getAll().contains("Run " + run.id() + " had ended already (lost)"));
        await().atMost(WAIT).until(() -> !runner.activeRunIds().contains(run.id()));

        List<JsonNode> events = SessionLog.events(api, run.session());
        assertThat(ofType(events, "run.finished")).singleElement()
            .satisfies(finished -> assertThat(finished.get("data").get("status").asString()).isEqualTo("lost"));
        assertThat(ofType(events, "error")).singleElement()
            .satisfies(error -> assertThat(error.get("data").get("code").asString()).isEqualTo("runner-lost"));
        assertThat(sessionState(run.session())).isEqualTo("IDLE");
        assertNoError(output);
    }

    @Test
    void aRunEndsOnceHoweverManyRecordItsEndAtTheSameMoment(CapturedOutput output) throws Exception {
        Started run = start("run-end-race");
        Runs.Outcome lost = new Runs.Outcome("lost", null, "runner-lost",
                "The server running this agent went away; send the message again.");

        // Reapers of several instances (and the runner) at once: the run's row decides.
        List<Boolean> recorded = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Boolean>> finishing = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                finishing.add(threads.submit(() -> runs.finish(run.id(), lost)));
            }
            for (Future<Boolean> attempt : finishing) {
                recorded.add(attempt.get(60, TimeUnit.SECONDS));
            }
        }
        assertThat(recorded).containsOnlyOnce(true);
        // The runner's own end, once its agent is stopped, finds it ended: nothing more.
        Outage.stopAgent(run.workspace());
        await().atMost(WAIT).until(() -> !runner.activeRunIds().contains(run.id()));

        List<JsonNode> events = SessionLog.events(api, run.session());
        assertThat(ofType(events, "run.finished")).singleElement()
            .satisfies(finished -> assertThat(finished.get("data").get("status").asString()).isEqualTo("lost"));
        assertThat(ofType(events, "error")).hasSize(1);
        assertThat(sessionState(run.session())).isEqualTo("IDLE");
        assertNoError(output);
    }

    @Test
    void recordingTheEndIsGivenUpAfterTheLeaseAndTheRunEndsLostOnce(CapturedOutput output) throws IOException {
        Started run = start("run-end-given-up");
        failRunEndsExceptLost();

        Outage.stopAgent(run.workspace());
        // The runner gives up after the lease, with one ERROR; then the run's lease
        // expires and the reaper (this instance's, the run no longer being in progress
        // here) ends it as lost.
        String gaveUp = "Could not record the end of run " + run.id() + " (succeeded) within " + LEASE;
        await().atMost(WAIT).until(() -> output.getAll().contains(gaveUp));
        outage.awaitFinished(run.session());

        List<JsonNode> events = SessionLog.events(api, run.session());
        assertThat(ofType(events, "run.finished")).singleElement()
            .satisfies(finished -> assertThat(finished.get("data").get("status").asString()).isEqualTo("lost"));
        assertThat(sessionState(run.session())).isEqualTo("IDLE");
        assertThat(errorLines(output)).singleElement().asString().contains(gaveUp);
    }

    @Test
    void atShutdownTheRetryStopsWhenTheRunnerStopsWaiting(CapturedOutput output) throws Exception {
        Started run = start("run-end-shutdown");
        failRunEndsExceptLost();
        Outage.stopAgent(run.workspace());
        await().atMost(WAIT).until(() -> output.getAll().contains("Could not record the end of run " + run.id()));

        // What the shutdown does at ShutdownOrder.RUNS: it waits interrupt-grace (1 s) +
        // 7 s at most.
        CompletableFuture<Long> stopped = new CompletableFuture<>();
        long stopping = System.nanoTime();
        try {
            runner.stop(() -> stopped.complete(System.nanoTime()));
            long waited = Duration.ofNanos(stopped.get(30, TimeUnit.SECONDS) - stopping).toMillis();
            assertThat(waited).as("the runner's stop waited (ms)")
                .isLessThan(AgentRunner.STOP_MARGIN.plusSeconds(1 + 2).toMillis());
            // The run gave up recording its end then, instead of retrying for the lease.
            await().atMost(Duration.ofSeconds(5)).until(() -> !runner.activeRunIds().contains(run.id()));
            assertThat(errorLines(output)).singleElement()
                .asString()
                .contains("Could not record the end of run " + run.id() + " (succeeded) before the server shut down");
        }
        finally {
            runner.start();
        }
        // Its lease expires, and it ends as lost, once.
        outage.awaitFinished(run.session());
        assertThat(ofType(SessionLog.events(api, run.session()), "run.finished")).singleElement()
            .satisfies(finished -> assertThat(finished.get("data").get("status").asString()).isEqualTo("lost"));
    }

    /** A run of the agent in a new session, once its first line is in the log. */
    private Started start(String project) {
        UUID session = api.newSession(api.newProject(project));
        assertThat(api.sendMessage(session, "work", null).status()).isEqualTo(202);
        await().atMost(WAIT)
            .until(() -> SessionLog.output(SessionLog.events(api, session), "stdout").equals("started\n"));
        UUID runId = UUID.fromString(
                ofType(SessionLog.events(api, session), "run.started").getFirst().get("data").get("runId").asString());
        return new Started(session, runId, workspaces.directoryOf(session));
    }

    private record Started(UUID session, UUID id, Path workspace) {
    }

    /**
     * From now on the database refuses to finish a run other than as lost, with a
     * serialization failure (40001): a transient failure, as a deadlock or a failover
     * would give.
     */
    private void failRunEndsExceptLost() {
        jdbc.sql("""
                create or replace function fail_run_end() returns trigger language plpgsql as $$
                begin
                    if new.state = 'FINISHED' and new.status <> 'lost' then
                        raise exception 'injected: cannot finish run %', new.id using errcode = '40001';
                    end if;
                    return new;
                end
                $$
                """).update();
        jdbc.sql("""
                create trigger fail_run_end before update on runs
                for each row execute function fail_run_end()
                """).update();
    }

    private String sessionState(UUID session) {
        return api.get("/api/sessions/" + session).json().get("state").asString();
    }

    private static List<JsonNode> ofType(List<JsonNode> events, String type) {
        return events.stream().filter(event -> event.get("type").asString().equals(type)).toList();
    }

    private static List<String> lines(CapturedOutput output, String text) {
        return output.getAll().lines().filter(line -> line.contains(text)).toList();
    }

    private static List<String> errorLines(CapturedOutput output) {
        return output.getAll().lines().filter(line -> line.matches("^\\S+\\s+ERROR .*")).toList();
    }

    private static void assertNoError(CapturedOutput output) {
        assertThat(errorLines(output)).as("ERROR lines").isEmpty();
    }

}
