package dev.collab.run;

import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import dev.collab.support.Api;
import dev.collab.support.CollabTestInitializer;
import dev.collab.support.IntegrationTest;
import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;
import dev.collab.support.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Sends and runs with several instances on one database: races across instances,
 * interrupts routed to the instance that runs the agent, a dead instance's run ending as
 * lost, and a graceful shutdown with a run in progress.
 */
@IntegrationTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RunsAcrossInstancesIT {

    static final Duration WAIT = Duration.ofSeconds(40);

    @LocalServerPort
    int port;

    @Autowired
    DataSource dataSource;

    ServerProcess other;

    Api here;

    Api there;

    String[] teamArgs() throws java.sql.SQLException {
        var db = TestDatabase.server();
        return new String[] { "--spring.datasource.url=" + dataSource.unwrap(HikariDataSource.class).getJdbcUrl(),
                "--spring.datasource.username=" + db.user(), "--spring.datasource.password=" + db.password(),
                "--collab.sweeper.enabled=false", "--collab.runner.command=sh," + CollabTestInitializer.testAgent(),
                "--collab.runner.lease=2s", "--collab.runner.interrupt-grace=1s" };
    }

    @BeforeAll
    void startSecondInstance() throws Exception {
        other = ServerProcess.start(TempDirectories.create("runs-b-"), teamArgs()).awaitReady();
    }

    @AfterAll
    void stop() {
        other.close();
    }

    @BeforeEach
    void setUp() {
        here = new Api(port);
        there = other.api();
    }

    UUID newSession() {
        String project = here.newProject("across", "reject");
        return UUID.fromString(here.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString());
    }

    static Api.Response send(Api api, UUID session, String text, String key) {
        return api.sendMessage(session, text, key);
    }

    static Api.Response interrupt(Api api, UUID session) {
        return api.interrupt(session);
    }

    List<JsonNode> events(UUID session) {
        List<JsonNode> items = new ArrayList<>();
        here.get("/api/sessions/" + session + "/events?limit=1000").json().get("items").forEach(items::add);
        return items;
    }

    JsonNode awaitEvent(UUID session, String type) {
        await().atMost(WAIT).until(() -> events(session).stream().anyMatch(e -> e.get("type").asString().equals(type)));
        return events(session).stream()
            .filter(e -> e.get("type").asString().equals(type))
            .reduce((a, b) -> b)
            .orElseThrow()
            .get("data");
    }

    @Test
    void racingSendsOnTwoInstancesStartOneRun() throws Exception {
        UUID session = newSession();
        RunTest.assertExactlyOneRunStarts(session, List.of(here, there));
        interrupt(here, session);
        awaitEvent(session, "run.finished");
    }

    @Test
    void racingIdenticalRetriesOnTwoInstancesMakeOneMessage() throws Exception {
        UUID session = newSession();
        ExecutorService pool = Executors.newFixedThreadPool(10);
        List<Future<Api.Response>> answers = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Api api = i % 2 == 0 ? here : there;
            answers.add(pool.submit(() -> send(api, session, "lines 2", "shared-key")));
        }
        List<JsonNode> bodies = new ArrayList<>();
        for (Future<Api.Response> answer : answers) {
            Api.Response response = answer.get();
            assertThat(response.status()).isEqualTo(202);
            bodies.add(response.json());
        }
        pool.shutdown();
        assertThat(bodies.stream().distinct()).hasSize(1);
        awaitEvent(session, "run.finished");
        assertThat(events(session)).filteredOn(e -> e.get("type").asString().equals("message")).hasSize(1);
    }

    @Autowired
    ControlChannel control;

    /**
     * The interrupt reaches the other instance as {@code interrupt:<runId>}, exactly the
     * command of the previous version (which an un-upgraded instance parses during a
     * rolling deploy), and {@code data.by} names the member who interrupted, through the
     * run's row.
     */
    @Test
    void anInterruptReachesTheInstanceThatRunsTheAgent() {
        List<String> commands = new java.util.concurrent.CopyOnWriteArrayList<>();
        control.onCommand(commands::add);
        String project = here.newProject("across", "reject");
        UUID session = here.newSession(project);
        String login = "stopper-" + Long.toString(System.nanoTime(), 36);
        here.createUser(login, "correct horse battery", false);
        assertThat(here.put("/api/projects/" + project + "/members/" + login, "{\"role\":\"member\"}").status())
            .isEqualTo(201);
        Api member = here.anonymous().as(login, "correct horse battery");
        String runId = send(there, session, "sleep 60", null).json().get("runId").asString();
        awaitEvent(session, "output"); // the agent is running on the other instance
        Api.Response interrupted = interrupt(member, session);
        assertThat(interrupted.status()).isEqualTo(202);
        assertThat(interrupted.json().get("runId").asString()).isEqualTo(runId);
        JsonNode finished = awaitEvent(session, "run.finished");
        assertThat(finished.get("status").asString()).isEqualTo("interrupted");
        assertThat(finished.get("by").asString()).isEqualTo(login);
        assertThat(commands).filteredOn(command -> command.contains(runId)).containsExactly("interrupt:" + runId);
        assertThat(events(session)).noneMatch(e -> e.get("type").asString().equals("output")
                && e.get("data").get("text").asString().contains("woke up"));
    }

    @Test
    void aRunWhoseInstanceDiedEndsLost() throws Exception {
        try (ServerProcess doomed = ServerProcess.start(TempDirectories.create("runs-doomed-"), teamArgs())
            .awaitReady()) {
            UUID session = newSession();
            send(doomed.api(), session, "sleep 30", null);
            awaitEvent(session, "output");
            doomed.kill();
            JsonNode error = awaitEvent(session, "error");
            assertThat(error.get("code").asString()).isEqualTo("runner-lost");
            assertThat(awaitEvent(session, "run.finished").get("status").asString()).isEqualTo("lost");
            await().atMost(WAIT)
                .until(() -> here.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE"));
        }
    }

    @Test
    void aGracefulShutdownEndsRunsAsInterrupted() throws Exception {
        try (ServerProcess leaving = ServerProcess.start(TempDirectories.create("runs-leaving-"), teamArgs())
            .awaitReady()) {
            UUID session = newSession();
            send(leaving.api(), session, "spawn", null);
            awaitEvent(session, "output");
            String out = events(session).stream()
                .filter(e -> e.get("type").asString().equals("output"))
                .map(e -> e.get("data").get("text").asString())
                .reduce("", String::concat);
            assertThat(leaving.terminate(Duration.ofSeconds(60))).isIn(0, 143);
            JsonNode error = awaitEvent(session, "error");
            assertThat(error.get("code").asString()).isEqualTo("instance-shutdown");
            assertThat(awaitEvent(session, "run.finished").get("status").asString()).isEqualTo("interrupted");
            assertThat(here.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("IDLE");
            if (out.contains("child ")) {
                long child = Long.parseLong(out.replaceAll("(?s).*child (\\d+).*", "$1"));
                assertThat(ProcessHandle.of(child).filter(ServerProcess::isRunning)).as("agent's child gone").isEmpty();
            }
        }
    }

}
