package dev.collab.message;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The queue across two server JVMs on one database (issue 16): sends racing from both
 * instances into one busy session are each accepted once and run one after another in
 * acceptance order (the order of their {@code message.queued} seqs); when the instance
 * that runs the queue is killed (SIGKILL) mid-queue, the other's lease reaper ends its
 * run as lost and starts the next one itself, and the queue goes on there: no message is
 * lost or run twice. The lease is 2 s on both, so the reaper comes quickly. Runs on the
 * context of RunsAcrossInstancesIT (the plain {@link IntegrationTest} one).
 */
@IntegrationTest
class MessageQueueAcrossInstancesIT {

    static final Duration WAIT = Duration.ofSeconds(90);

    static final int SENDS = 20;

    @LocalServerPort
    int port;

    @Autowired
    DataSource dataSource;

    String[] teamArgs() throws java.sql.SQLException {
        var db = TestDatabase.server();
        return new String[] { "--spring.datasource.url=" + dataSource.unwrap(HikariDataSource.class).getJdbcUrl(),
                "--spring.datasource.username=" + db.user(), "--spring.datasource.password=" + db.password(),
                "--collab.sweeper.enabled=false", "--collab.runner.command=sh," + CollabTestInitializer.testAgent(),
                "--collab.runner.lease=2s", "--collab.runner.interrupt-grace=1s" };
    }

    List<JsonNode> events(Api api, UUID session) {
        List<JsonNode> items = new ArrayList<>();
        api.get("/api/sessions/" + session + "/events?limit=1000").json().get("items").forEach(items::add);
        return items;
    }

    static List<JsonNode> ofType(List<JsonNode> events, String type) {
        return events.stream().filter(e -> e.get("type").asString().equals(type)).toList();
    }

    /** A send with its Idempotency-Key, retried once with the same key if it failed. */
    static Api.Response sendRetryingOnce(Api api, UUID session, String text, String key) {
        try {
            Api.Response first = api.sendMessage(session, text, key);
            if (first.status() == 202) {
                return first;
            }
        }
        catch (RuntimeException | AssertionError e) {
            // A lost answer or a refusal: the retry with the same key tells.
        }
        return api.sendMessage(session, text, key);
    }

    @Test
    void racingSendsFromTwoInstancesRunOnceEachInAcceptanceOrderAlsoWhenTheRunningInstanceIsKilled() throws Exception {
        Api here = new Api(port);
        try (ServerProcess doomed = ServerProcess.start(TempDirectories.create("queue-doomed-"), teamArgs())
            .awaitReady()) {
            Api there = doomed.api();
            UUID session = here.newSession(here.newProject("qacross"));
            // The first run is the doomed instance's; every next one starts where the one
            // before ended, so the queue runs there until it dies.
            // Busy until all the sends are in (interrupted then): a fixed sleep ended
            // before
            // the last of them on a loaded machine.
            Api.Response first = there.sendMessage(session, "sleep 120", null);
            assertThat(first.status()).as(first.toString()).isEqualTo(202);
            await().atMost(WAIT)
                .until(() -> events(here, session).stream().anyMatch(e -> e.get("type").asString().equals("output")));

            Map<String, String> textById = new LinkedHashMap<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(SENDS)) {
                List<Future<Api.Response>> answers = new ArrayList<>();
                for (int i = 0; i < SENDS; i++) {
                    Api api = i % 2 == 0 ? here : there;
                    String text = "sleep 0.5 q" + i;
                    String key = "q-" + i;
                    answers.add(pool.submit(() -> sendRetryingOnce(api, session, text, key)));
                }
                for (int i = 0; i < SENDS; i++) {
                    Api.Response answer = answers.get(i).get();
                    assertThat(answer.status()).as(answer.toString()).isEqualTo(202);
                    assertThat(answer.json().get("queued").asBoolean()).as(answer.toString()).isTrue();
                    textById.put(answer.json().get("messageId").asString(), "sleep 0.5 q" + i);
                }
            }
            assertThat(textById).as("one message per send").hasSize(SENDS);
            Api.Response interrupted = here.interrupt(session);
            assertThat(interrupted.status()).as(interrupted.toString()).isEqualTo(202);

            // Mid-queue: a few of the queued runs have started on the doomed instance.
            await().atMost(WAIT).until(() -> ofType(events(here, session), "run.started").size() >= 5);
            doomed.kill();
            int startedBeforeKill = ofType(events(here, session), "run.started").size();
            assertThat(startedBeforeKill).as("the queue was not done when the instance died").isLessThan(SENDS + 1);

            await().atMost(WAIT).until(() -> {
                List<JsonNode> events = events(here, session);
                return ofType(events, "run.finished").size() == SENDS + 1
                        && here.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE");
            });
            List<JsonNode> events = events(here, session);

            // Accepted exactly once each, in the order of their message.queued seqs.
            List<String> accepted = ofType(events, "message.queued").stream()
                .map(e -> e.get("data").get("messageId").asString())
                .toList();
            assertThat(accepted).hasSize(SENDS).containsExactlyInAnyOrderElementsOf(textById.keySet());

            // Each ran exactly once (its message, then its run.started), in that order.
            List<JsonNode> messages = ofType(events, "message");
            assertThat(messages).hasSize(SENDS + 1);
            List<String> ran = messages.subList(1, messages.size())
                .stream()
                .map(e -> e.get("data").get("messageId").asString())
                .toList();
            assertThat(ran).as("run in acceptance order, none lost, none twice").containsExactlyElementsOf(accepted);
            for (JsonNode message : messages.subList(1, messages.size())) {
                assertThat(message.get("data").get("text").asString())
                    .isEqualTo(textById.get(message.get("data").get("messageId").asString()));
            }
            List<JsonNode> started = ofType(events, "run.started");
            assertThat(started.subList(1, started.size())).extracting(e -> e.get("data").get("messageId").asString())
                .containsExactlyElementsOf(accepted);
            Set<String> runIds = new HashSet<>();
            started.forEach(e -> runIds.add(e.get("data").get("runId").asString()));
            assertThat(runIds).hasSize(SENDS + 1);

            // One after another: each run.started follows the previous run's
            // run.finished.
            List<String> lifecycle = events.stream()
                .map(e -> e.get("type").asString())
                .filter(t -> t.equals("run.started") || t.equals("run.finished"))
                .toList();
            for (int i = 0; i < lifecycle.size(); i++) {
                assertThat(lifecycle.get(i)).as("run event %d", i)
                    .isEqualTo(i % 2 == 0 ? "run.started" : "run.finished");
            }
            // The run in progress when its instance died ended lost (the reaper's); the
            // others ran to their end.
            List<String> statuses = ofType(events, "run.finished").stream()
                .map(e -> e.get("data").get("status").asString())
                .toList();
            assertThat(statuses.getFirst()).isEqualTo("interrupted");
            assertThat(statuses).filteredOn("lost"::equals).hasSize(1);
            assertThat(statuses.subList(1, statuses.size())).filteredOn(s -> !s.equals("lost"))
                .allMatch("succeeded"::equals);
            assertThat(here.get("/api/sessions/" + session + "/queue").json().get("items")).isEmpty();
        }
    }

    /**
     * An instance that stops (SIGTERM) while its run has messages queued behind it starts
     * none of them itself (they would end at once as instance-shutdown): the run in
     * progress ends as interrupted, and the other instance's lease check starts the next
     * within a tick (a third of the lease), not a lease later.
     */
    @Test
    void anInstanceThatStopsLeavesTheQueueToTheOtherWithinATick() throws Exception {
        Api here = new Api(port);
        UUID session = here.newSession(here.newProject("qstop"));
        List<String> queued = new ArrayList<>();
        try (ServerProcess stopping = ServerProcess.start(TempDirectories.create("queue-stopping-"), teamArgs())
            .awaitReady()) {
            Api.Response first = stopping.api().sendMessage(session, "sleep 60", null);
            assertThat(first.status()).as(first.toString()).isEqualTo(202);
            await().atMost(WAIT)
                .until(() -> events(here, session).stream().anyMatch(e -> e.get("type").asString().equals("output")));
            for (int i = 0; i < 2; i++) {
                Api.Response sent = here.sendMessage(session, "sleep 0.2 s" + i, null);
                assertThat(sent.json().get("queued").asBoolean()).as(sent.toString()).isTrue();
                queued.add(sent.json().get("messageId").asString());
            }
            stopping.terminate(WAIT);
        }
        await().atMost(WAIT)
            .until(() -> ofType(events(here, session), "run.finished").size() == 3
                    && here.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE"));
        List<JsonNode> events = events(here, session);
        List<JsonNode> finished = ofType(events, "run.finished");
        assertThat(finished.getFirst().get("data").get("status").asString()).isEqualTo("interrupted");
        assertThat(ofType(events, "message")).extracting(e -> e.get("data").get("messageId").asString())
            .containsExactly(first(events), queued.get(0), queued.get(1));
        assertThat(ofType(events, "run.finished").subList(1, 3)).extracting(e -> e.get("data").get("status").asString())
            .containsOnly("succeeded");
        // Started by the other instance's lease check (every 2 s / 3), well before a
        // lease (2 s) would have passed.
        Instant stopped = Instant.parse(finished.getFirst().get("at").asString());
        Instant next = Instant.parse(ofType(events, "run.started").get(1).get("at").asString());
        assertThat(Duration.between(stopped, next)).as("the wait of the next queued message")
            .isLessThan(Duration.ofSeconds(2));
    }

    static String first(List<JsonNode> events) {
        return ofType(events, "message").getFirst().get("data").get("messageId").asString();
    }

}
