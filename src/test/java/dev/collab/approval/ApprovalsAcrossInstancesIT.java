package dev.collab.approval;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import dev.collab.run.ApprovalGate;
import dev.collab.run.ApprovalGate.Decision;
import dev.collab.support.Api;
import dev.collab.support.CollabTestInitializer;
import dev.collab.support.IntegrationTest;
import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;
import dev.collab.support.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two instances on one database: the agent runs (and waits for the decision) on this one,
 * the person's decision reaches the other one, and the decision still reaches the run;
 * racing decisions on both instances, one winner; a session ended on the other instance
 * closes this one's requests.
 */
@IntegrationTest
@TestPropertySource(properties = "collab.runner.timeout=5m")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApprovalsAcrossInstancesIT {

    static final Duration WAIT = Duration.ofSeconds(40);

    @LocalServerPort
    int port;

    @Autowired
    DataSource dataSource;

    @Autowired
    ApprovalGate gate;

    ServerProcess other;

    Api here;

    Api there;

    UUID session;

    UUID run;

    @BeforeAll
    void startSecondInstance() throws Exception {
        var db = TestDatabase.server();
        other = ServerProcess
            .start(TempDirectories.create("approvals-b-"),
                    "--spring.datasource.url=" + dataSource.unwrap(HikariDataSource.class).getJdbcUrl(),
                    "--spring.datasource.username=" + db.user(), "--spring.datasource.password=" + db.password(),
                    "--collab.sweeper.enabled=false", "--collab.runner.command=sh," + CollabTestInitializer.testAgent())
            .awaitReady();
    }

    @AfterAll
    void stop() {
        other.close();
    }

    /** A run in progress on this instance, whose agent asks here. */
    @BeforeEach
    void aRunHere() {
        here = new Api(port);
        there = other.api();
        String project = here.newProject("approvals-across");
        session = here.newSession(project);
        Api.Response sent = here.sendMessage(session, "sleep 120", null);
        assertThat(sent.status()).as(sent.toString()).isEqualTo(202);
        run = UUID.fromString(sent.json().get("runId").asString());
    }

    @AfterEach
    void endTheRun() {
        here.interrupt(session);
    }

    private ApprovalGate.Pending request(String command) {
        ObjectNode input = Api.JSON.createObjectNode();
        input.put("command", command);
        return gate.request(session, run, "Bash", input);
    }

    private List<String> eventTypes() {
        List<String> types = new ArrayList<>();
        here.get("/api/sessions/" + session + "/events?limit=1000")
            .json()
            .get("items")
            .forEach(e -> types.add(e.get("type").asString()));
        return types;
    }

    @Test
    void aDecisionOnTheOtherInstanceReachesTheRunHere() throws Exception {
        ApprovalGate.Pending pending = request("ls");
        // The other instance lists it too: it is in the database.
        JsonNode listed = there.get("/api/sessions/" + session + "/approvals?state=pending").json().get("items");
        assertThat(listed).hasSize(1);
        Api.Response allowed = there.decide(session, pending.approvalId(), "allow");
        assertThat(allowed.status()).as(allowed.toString()).isEqualTo(200);
        assertThat(pending.decision().get(WAIT.toSeconds(), TimeUnit.SECONDS))
            .isEqualTo(new Decision(true, Api.ADMIN_LOGIN, null));
        assertThat(eventTypes()).containsSubsequence("approval.requested", "approval.decided");
    }

    @Test
    void racingDecisionsOnBothInstancesHaveOneWinner() throws Exception {
        ApprovalGate.Pending pending = request("make");
        ExecutorService pool = Executors.newFixedThreadPool(6);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Api.Response>> answers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Api api = i % 2 == 0 ? here : there;
            String decision = i % 3 == 0 ? "allow" : "deny";
            answers.add(pool.submit(() -> {
                start.await();
                return api.decide(session, pending.approvalId(), decision);
            }));
        }
        start.countDown();
        List<Integer> statuses = new ArrayList<>();
        for (Future<Api.Response> answer : answers) {
            Api.Response response = answer.get(60, TimeUnit.SECONDS);
            statuses.add(response.status());
            if (response.status() != 200) {
                assertThat(response.status()).as(response.toString()).isEqualTo(409);
                assertThat(response.json().get("code").asString()).isEqualTo("approval-decided");
            }
        }
        pool.shutdown();
        assertThat(statuses).filteredOn(status -> status == 200).hasSize(1);
        assertThat(pending.decision().get(WAIT.toSeconds(), TimeUnit.SECONDS).by()).isEqualTo(Api.ADMIN_LOGIN);
        assertThat(eventTypes()).filteredOn("approval.decided"::equals).hasSize(1);
    }

    @Test
    void aSessionEndedOnTheOtherInstanceClosesTheRequestsHere() throws Exception {
        ApprovalGate.Pending pending = request("sleep 1000");
        assertThat(there.delete("/api/sessions/" + session).status()).isEqualTo(204);
        assertThat(pending.decision().get(WAIT.toSeconds(), TimeUnit.SECONDS))
            .isEqualTo(new Decision(false, null, "run-ended"));
        await().atMost(WAIT)
            .until(() -> eventTypes().containsAll(List.of("approval.decided", "run.finished", "session.ended")));
        assertThat(eventTypes()).containsSubsequence("approval.requested", "approval.decided", "run.finished",
                "session.ended");
    }

}
