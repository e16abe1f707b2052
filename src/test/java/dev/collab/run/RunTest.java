package dev.collab.run;

import java.net.http.HttpRequest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.ServerProcess;
import dev.collab.support.SseClient;
import dev.collab.workspace.Workspaces;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Sends, runs and interrupts over real HTTP with a real agent process
 * (src/test/resources/test-agent.sh).
 */
@IntegrationTest
class RunTest {

    static final Duration WAIT = Duration.ofSeconds(30);

    @Autowired
    Workspaces workspaces;

    @Autowired
    AgentRunner runner;

    @Autowired
    DescendantWatch descendantWatch;

    @Autowired
    Api api;

    @Autowired
    Runs runs;

    @Autowired
    DataSource dataSource;

    @Autowired
    ConfigurableListableBeanFactory beanFactory;

    /**
     * A session of a project that refuses sends while busy ({@code reject}): what these
     * tests expect; MessageQueueTest covers {@code queue}.
     */
    UUID newSession() {
        String project = api.newProject("runs", "reject");
        return api.newSession(project);
    }

    Api.Response send(UUID session, String text) {
        return send(session, text, null);
    }

    Api.Response send(UUID session, String text, String key) {
        return api.sendMessage(session, text, key);
    }

    /**
     * Reads the session's stream from the start until run.finished; returns every
     * message.
     */
    List<SseClient.Message> untilFinished(UUID session) {
        List<SseClient.Message> messages = new ArrayList<>();
        try (SseClient client = SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"), null)) {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                SseClient.Message message = client.next(Duration.ofSeconds(1));
                if (message == null) {
                    continue;
                }
                messages.add(message);
                if (message.event().equals("run.finished")) {
                    return messages;
                }
            }
        }
        throw new AssertionError("no run.finished: " + messages);
    }

    static String stdout(List<SseClient.Message> messages) {
        StringBuilder text = new StringBuilder();
        messages.stream()
            .filter(m -> m.event().equals("output"))
            .filter(m -> m.json().get("data").get("stream").asString().equals("stdout"))
            .forEach(m -> text.append(m.json().get("data").get("text").asString()));
        return text.toString();
    }

    static JsonNode last(List<SseClient.Message> messages, String type) {
        return messages.stream()
            .filter(m -> m.event().equals(type))
            .reduce((a, b) -> b)
            .orElseThrow()
            .json()
            .get("data");
    }

    @Test
    void aSuccessfulRunStreamsItsOutputInOrder() {
        UUID session = newSession();
        Api.Response sent = send(session, "lines 500");
        assertThat(sent.status()).isEqualTo(202);
        JsonNode body = sent.json();
        assertThat(body.get("seq").asLong()).isEqualTo(2);
        List<SseClient.Message> messages = untilFinished(session);
        assertThat(messages).extracting(SseClient.Message::event)
            .startsWith("session.created", "message", "run.started");
        assertThat(messages.get(1).json().get("data").get("text").asString()).isEqualTo("lines 500");
        assertThat(messages.get(2).json().get("data").get("runId").asString()).isEqualTo(body.get("runId").asString());
        StringBuilder expected = new StringBuilder();
        for (int i = 1; i <= 500; i++) {
            expected.append("line ").append(i).append('\n');
        }
        assertThat(stdout(messages)).isEqualTo(expected.toString());
        assertThat(messages.stream().filter(m -> m.event().equals("output")).count()).as("lines are batched")
            .isLessThan(500);
        JsonNode finished = last(messages, "run.finished");
        assertThat(finished.get("status").asString()).isEqualTo("succeeded");
        assertThat(finished.get("exitCode").asInt()).isZero();
        await().atMost(WAIT)
            .until(() -> api.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE"));
        assertThat(api.get("/api/sessions/" + session).json().get("currentRunId").isNull()).isTrue();
    }

    @Test
    void aLeaseCheckStopsOnlyTheRunsItRenewedAndLost() {
        UUID session = newSession();
        UUID runId = UUID.fromString(send(session, "sleep 2").json().get("runId").asString());
        await().atMost(WAIT)
            .until(() -> SessionLog.output(SessionLog.events(api, session), "stdout").contains("sleeping"));
        assertThat(runner.activeRunIds()).contains(runId);

        // A lease check that took its snapshot before this run started renewed nothing of
        // it: it
        // must not stop a run it did not ask about.
        runner.stopUnrenewed(Set.of(), Set.of());

        List<SseClient.Message> messages = untilFinished(session);
        assertThat(last(messages, "run.finished").get("status").asString()).isEqualTo("succeeded");
        assertThat(stdout(messages)).contains("woke up");
    }

    @Test
    void theAgentRunsInTheWorkspaceWithItsIds() {
        UUID session = newSession();
        String runId = send(session, "env").json().get("runId").asString();
        String out = stdout(untilFinished(session));
        assertThat(out).contains("session=" + session, "run=" + runId,
                "pwd=" + workspaces.directoryOf(session).toAbsolutePath());
    }

    @Test
    void multiByteCharactersSplitAcrossReadsArriveWhole() {
        UUID session = newSession();
        send(session, "utf8");
        assertThat(stdout(untilFinished(session))).isEqualTo("été 😀 fin\n");
    }

    @Test
    void aFailingAgentEndsFailedWithItsStderrTail() {
        UUID session = newSession();
        send(session, "fail");
        List<SseClient.Message> messages = untilFinished(session);
        JsonNode error = last(messages, "error");
        assertThat(error.get("code").asString()).isEqualTo("runner-failed");
        assertThat(error.get("message").asString()).contains("exited with code 3", "first problem\nfatal: it broke");
        JsonNode finished = last(messages, "run.finished");
        assertThat(finished.get("status").asString()).isEqualTo("failed");
        assertThat(finished.get("exitCode").asInt()).isEqualTo(3);
    }

    @Test
    void theStderrTailKeepsTheLastLinesOnly() {
        UUID session = newSession();
        send(session, "noisy");
        String message = last(untilFinished(session), "error").get("message").asString();
        assertThat(message).contains("warning 2000: something odd on stderr", "warning 1981:")
            .doesNotContain("warning 1980:", "warning 1:");
        assertThat(message.lines().count()).isLessThanOrEqualTo(21);
    }

    @Test
    void nulInAMessageIsRejectedAndNulInAgentOutputIsReplaced() {
        // A message is client input: U+0000 is refused (docs/api.md, "Text"); agent
        // output is not.
        UUID session = newSession();
        Api.Response rejected = api.post("/api/sessions/" + session + "/messages",
                "{\"text\":\"nul \\u0000 here\",\"author\":\"ada\"}");
        assertThat(rejected.status()).isEqualTo(400);
        assertThat(rejected.json().get("code").asString()).isEqualTo("validation-failed");
        UUID other = newSession();
        send(other, "nul");
        List<SseClient.Message> messages = untilFinished(other);
        assertThat(stdout(messages)).isEqualTo("a\uFFFDb\n");
        assertThat(last(messages, "run.finished").get("status").asString()).isEqualTo("succeeded");
    }

    @Test
    void aRunPastTheTimeoutIsInterrupted() {
        UUID session = newSession();
        send(session, "sleep 60");
        List<SseClient.Message> messages = untilFinished(session);
        assertThat(last(messages, "error").get("code").asString()).isEqualTo("runner-timeout");
        assertThat(last(messages, "run.finished").get("status").asString()).isEqualTo("interrupted");
        assertThat(stdout(messages)).doesNotContain("woke up");
    }

    @Test
    void aSendWhileARunIsInProgressIsBusyAndAppendsNothing() {
        UUID session = newSession();
        String runId = send(session, "sleep 3").json().get("runId").asString();
        long head = api.get("/api/sessions/" + session).json().get("headSeq").asLong();
        Api.Response busy = send(session, "hello");
        assertThat(busy.status()).isEqualTo(409);
        assertThat(busy.json().get("code").asString()).isEqualTo("session-busy");
        assertThat(busy.json().get("runId").asString()).isEqualTo(runId);
        JsonNode now = api.get("/api/sessions/" + session).json();
        assertThat(now.get("state").asString()).isEqualTo("RUNNING");
        assertThat(now.get("currentRunId").asString()).isEqualTo(runId);
        assertThat(api.get("/api/sessions/" + session + "/events?after=" + head).json().get("items"))
            .noneMatch(e -> e.get("type").asString().equals("message"));
        api.interrupt(session);
    }

    @Test
    void tenRacingSendsStartExactlyOneRun() throws Exception {
        UUID session = newSession();
        assertExactlyOneRunStarts(session, List.of(api));
        untilFinished(session);
    }

    /**
     * Ten different sends race (spread over the given instances): one 202, nine 409
     * session-busy.
     */
    static void assertExactlyOneRunStarts(UUID session, List<Api> instances) throws Exception {
        List<Integer> answers = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(10)) {
            List<Future<Integer>> statuses = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                Api instance = instances.get(i % instances.size());
                int n = i;
                // Long enough that the winner is still running when the last racer
                // arrives.
                statuses.add(pool.submit(() -> instance.sendMessage(session, "sleep 3 " + n, null).status()));
            }
            for (Future<Integer> status : statuses) {
                answers.add(status.get());
            }
        }
        assertThat(answers).filteredOn(s -> s == 202).hasSize(1);
        assertThat(answers).filteredOn(s -> s == 409).hasSize(9);
    }

    @Test
    void sendingToAnEndedSessionIsSessionEnded() {
        UUID session = newSession();
        api.delete("/api/sessions/" + session);
        Api.Response ended = send(session, "hello");
        assertThat(ended.status()).isEqualTo(409);
        assertThat(ended.json().get("code").asString()).isEqualTo("session-ended");
        assertThat(send(UUID.randomUUID(), "hello").status()).isEqualTo(404);
        assertThat(api.interrupt(session).status()).isEqualTo(409);
    }

    @Test
    void idempotentRetriesGetTheFirstAnswerAndNothingNew() throws Exception {
        UUID session = newSession();
        Api.Response first = send(session, "lines 3", "key-1");
        assertThat(first.status()).isEqualTo(202);
        assertThat(first.header("Idempotent-Replayed")).isEmpty();
        untilFinished(session);
        long head = api.get("/api/sessions/" + session).json().get("headSeq").asLong();

        Api.Response replay = send(session, "lines 3", "key-1");
        assertThat(replay.status()).isEqualTo(202);
        assertThat(replay.header("Idempotent-Replayed")).contains("true");
        assertThat(replay.json()).isEqualTo(first.json());
        assertThat(api.get("/api/sessions/" + session).json().get("headSeq").asLong()).as("nothing appended")
            .isEqualTo(head);

        Api.Response reused = send(session, "something else", "key-1");
        assertThat(reused.status()).isEqualTo(422);
        assertThat(reused.json().get("code").asString()).isEqualTo("idempotency-key-reused");
    }

    @Test
    void twentyRacingIdenticalRetriesMakeOneMessage() throws Exception {
        UUID session = newSession();
        List<String> bodies = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(20)) {
            List<Future<Api.Response>> answers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                answers.add(pool.submit(() -> send(session, "lines 2", "race-key")));
            }
            for (Future<Api.Response> answer : answers) {
                Api.Response response = answer.get();
                assertThat(response.status()).isEqualTo(202);
                bodies.add(response.text());
            }
        }
        assertThat(bodies.stream().map(b -> Api.JSON.readTree(b)).distinct()).hasSize(1);
        untilFinished(session);
        assertThat(api.get("/api/sessions/" + session + "/events?limit=1000").json().get("items"))
            .filteredOn(e -> e.get("type").asString().equals("message"))
            .hasSize(1);
    }

    @Test
    void badSendsAreProblems() {
        UUID session = newSession();
        assertThat(api.post("/api/sessions/" + session + "/messages", "{\"text\":\"\",\"author\":\"a\"}").status())
            .isEqualTo(400);
        assertThat(api.post("/api/sessions/" + session + "/messages", "{\"author\":\"a\"}").status()).isEqualTo(400);
        assertThat(api
            .post("/api/sessions/" + session + "/messages",
                    "{\"text\":\"" + "t".repeat(100_001) + "\",\"author\":\"a\"}")
            .status()).isEqualTo(400);
        assertThat(send(session, "x", "k".repeat(256)).status()).isEqualTo(400);
        assertThat(api.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("IDLE");
        // No author, or a long one, is no bad send any more: the author is the caller
        // (ProjectRolesTest).
        assertThat(api
            .post("/api/sessions/" + session + "/messages", "{\"text\":\"x\",\"author\":\"" + "a".repeat(101) + "\"}")
            .status()).isEqualTo(202);
    }

    @Test
    void interruptStopsTheAgentAndItsChildren() {
        UUID session = newSession();
        String runId = send(session, "spawn").json().get("runId").asString();
        long child;
        long parent;
        try (SseClient client = SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"), null)) {
            StringBuilder out = new StringBuilder();
            await().atMost(WAIT).until(() -> {
                SseClient.Message m = client.next(Duration.ofMillis(200));
                if (m != null && m.event().equals("output")) {
                    out.append(m.json().get("data").get("text").asString());
                }
                return out.toString().contains("parent ");
            });
            child = Long.parseLong(out.toString().replaceAll("(?s).*child (\\d+).*", "$1"));
            parent = Long.parseLong(out.toString().replaceAll("(?s).*parent (\\d+).*", "$1"));
        }
        Api.Response interrupted = api.interrupt(session);
        assertThat(interrupted.status()).isEqualTo(202);
        assertThat(interrupted.json().get("runId").asString()).isEqualTo(runId);
        List<SseClient.Message> messages = untilFinished(session);
        assertThat(last(messages, "run.finished").get("status").asString()).isEqualTo("interrupted");
        await().atMost(WAIT)
            .until(() -> ProcessHandle.of(child).map(p -> !ServerProcess.isRunning(p)).orElse(true)
                    && ProcessHandle.of(parent).map(p -> !ServerProcess.isRunning(p)).orElse(true));

        Api.Response idle = api.interrupt(session);
        assertThat(idle.status()).as("nothing running").isEqualTo(204);
    }

    /**
     * An interrupt from another instance (of this version or the previous one) is the
     * command {@code interrupt:<runId>}, sent as a NOTIFY like theirs; who asked comes
     * from the run's row, which the interrupting request wrote (here: nobody, then a
     * user).
     */
    @Test
    void anInterruptCommandFromAnotherInstanceStopsTheRunAndItsUserComesFromTheRunsRow() throws Exception {
        for (String by : new String[] { null, "someone-else" }) {
            UUID session = newSession();
            String runId = send(session, "sleep 30").json().get("runId").asString();
            try (SseClient client = SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"), null)) {
                await().atMost(WAIT).until(() -> {
                    SseClient.Message m = client.next(Duration.ofMillis(200));
                    return m != null && m.event().equals("output");
                });
            }
            try (Connection connection = dataSource.getConnection()) {
                if (by != null) {
                    try (PreparedStatement update = connection
                        .prepareStatement("update runs set interrupted_by = ? where id = ?")) {
                        update.setString(1, by);
                        update.setObject(2, UUID.fromString(runId));
                        update.executeUpdate();
                    }
                }
                try (PreparedStatement notify = connection.prepareStatement("select pg_notify('collab_control', ?)")) {
                    notify.setString(1, "interrupt:" + runId);
                    notify.executeQuery().close();
                }
            }
            List<SseClient.Message> messages = untilFinished(session);
            JsonNode finished = last(messages, "run.finished");
            assertThat(finished.get("status").asString()).isEqualTo("interrupted");
            assertThat(messages).noneMatch(m -> m.event().equals("error"));
            if (by == null) {
                assertThat(finished.has("by")).as(finished.toString()).isFalse();
            }
            else {
                assertThat(finished.get("by").asString()).isEqualTo(by);
            }
        }
    }

    @Test
    void endingASessionInterruptsItsRun() {
        UUID session = newSession();
        send(session, "sleep 60");
        await().atMost(WAIT)
            .until(() -> api.get("/api/sessions/" + session).json().get("state").asString().equals("RUNNING"));
        assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
        JsonNode log = api.get("/api/sessions/" + session + "/events?limit=1000").json();
        List<String> types = log.get("items").valueStream().map(e -> e.get("type").asString()).toList();
        assertThat(types).endsWith("run.finished", "session.ended");
        assertThat(api.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("ENDED");
        // The agent is stopped after the commit; whatever it still prints never lands
        // after session.ended.
        // Asserted throughout the window in which the stopped agent's last output would
        // arrive, not once after a pause.
        long headSeq = log.get("headSeq").asLong();
        await().during(Duration.ofSeconds(2))
            .atMost(WAIT)
            .until(() -> api.get("/api/sessions/" + session + "/events?limit=1000").json().get("headSeq").asLong(),
                    seq -> seq == headSeq);
        JsonNode after = api.get("/api/sessions/" + session + "/events?limit=1000").json();
        assertThat(after.get("headSeq").asLong()).isEqualTo(headSeq);
        try (SseClient caughtUp = SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"),
                after.get("headSeq").asString())) {
            assertThat(caughtUp.status()).isEqualTo(204);
        }
    }

    /**
     * Reads the stream until the agent printed "child N" (and "parent N" if asked);
     * returns {child, parent or -1}.
     */
    long[] childAndParent(UUID session, boolean withParent) {
        try (SseClient client = SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"), null)) {
            StringBuilder out = new StringBuilder();
            await().atMost(WAIT).until(() -> {
                SseClient.Message m = client.next(Duration.ofMillis(200));
                if (m != null && m.event().equals("output")) {
                    out.append(m.json().get("data").get("text").asString());
                }
                return out.toString().matches("(?s).*child \\d+\n.*")
                        && (!withParent || out.toString().matches("(?s).*parent \\d+\n.*"));
            });
            long child = Long.parseLong(out.toString().replaceAll("(?s).*child (\\d+).*", "$1"));
            long parent = withParent ? Long.parseLong(out.toString().replaceAll("(?s).*parent (\\d+).*", "$1")) : -1;
            return new long[] { child, parent };
        }
    }

    static boolean gone(long pid) {
        return ProcessHandle.of(pid).map(p -> !ServerProcess.isRunning(p)).orElse(true);
    }

    @Test
    void interruptKillsAChildThatIgnoresSigterm() {
        UUID session = newSession();
        send(session, "stubborn");
        long[] pids = childAndParent(session, true);
        assertThat(ProcessHandle.of(pids[0]).filter(ServerProcess::isRunning)).as("the stubborn child runs")
            .isPresent();
        assertThat(api.interrupt(session).status()).isEqualTo(202);
        List<SseClient.Message> messages = untilFinished(session);
        assertThat(last(messages, "run.finished").get("status").asString()).isEqualTo("interrupted");
        // SIGTERM is ignored: it dies of SIGKILL after collab.runner.interrupt-grace.
        await().atMost(WAIT).until(() -> gone(pids[0]) && gone(pids[1]));
    }

    @Test
    void whatAnAgentLeavesBehindWhenItExitsIsKilled() throws Exception {
        UUID session = newSession();
        send(session, "leave");
        long child = childAndParent(session, false)[0];
        descendantWatch.scan(); // as the scheduled scan does, at least once a second
        java.nio.file.Files.writeString(workspaces.directoryOf(session).resolve("stop"), "");
        List<SseClient.Message> messages = untilFinished(session);
        assertThat(last(messages, "run.finished").get("status").asString()).isEqualTo("succeeded");
        assertThat(stdout(messages)).contains("bye");
        await().atMost(WAIT).until(() -> gone(child));
    }

    /**
     * Ending a session locks its row, then its run's; finishing a run must take them in
     * the same order, or a DELETE racing a finishing run deadlocks (one of them gets
     * aborted: a 503 for the DELETE, or an ERROR for the run).
     */
    @Test
    void finishingARunTakesTheSessionRowFirstAsEndingTheSessionDoes() throws Exception {
        UUID session = newSession();
        send(session, "sleep 60");
        await().atMost(WAIT)
            .until(() -> api.get("/api/sessions/" + session).json().get("state").asString().equals("RUNNING"));
        UUID run = UUID.fromString(api.get("/api/sessions/" + session).json().get("currentRunId").asString());
        // The executor is closed last: the connections first roll back, so a finish
        // still waiting (when this test fails) can end.
        try (ExecutorService finishing = Executors.newVirtualThreadPerTaskExecutor();
                Connection ending = dataSource.getConnection();
                Connection probe = dataSource.getConnection()) {
            ending.setAutoCommit(false);
            // As ending the session does: its row first.
            lock(ending, "select 1 from sessions where id = ? for update", session);
            Future<Boolean> finished = finishing
                .submit(() -> runs.finish(run, new Runs.Outcome("interrupted", null, null, null)));
            await().atMost(WAIT).until(() -> waitingForALock(probe));
            // The finishing run waits for the session's row and holds nothing of the
            // run's meanwhile: the end can take the run's row next.
            probe.setAutoCommit(false);
            lock(probe, "select 1 from runs where id = ? for update nowait", run);
            probe.rollback();
            ending.rollback();
            assertThat(finished.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        }
    }

    private static void lock(Connection connection, String sql, UUID id) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setObject(1, id);
            statement.executeQuery().close();
        }
    }

    private static boolean waitingForALock(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()");
                ResultSet rows = statement.executeQuery()) {
            return rows.next() && rows.getInt(1) > 0;
        }
    }

    /**
     * Spring stops a lifecycle bean's dependents before the bean itself, whatever their
     * phases: if lease renewal or the descendant scan depended on the runner, they would
     * stop when the runs start stopping, not after them (ShutdownOrder).
     */
    @Test
    void leasesAndTheDescendantScanDoNotStopBeforeTheRunner() {
        assertThat(beanFactory.getDependentBeans("agentRunner")).doesNotContain("runLeases", "descendantWatch");
        assertThat(beanFactory.getBean(RunLeases.class).getPhase()).isLessThan(runner.getPhase());
        assertThat(descendantWatch.getPhase()).isLessThan(runner.getPhase());
    }

    @Test
    void aChildStartedJustBeforeTheAgentExitsIsKilledToo() {
        UUID session = newSession();
        // Starts a child and exits at once: no periodic scan sees the child under its
        // agent.
        send(session, "quickleave");
        List<SseClient.Message> messages = untilFinished(session);
        assertThat(last(messages, "run.finished").get("status").asString()).isEqualTo("succeeded");
        String out = stdout(messages);
        assertThat(out).contains("bye");
        long child = Long.parseLong(out.replaceAll("(?s).*child (\\d+).*", "$1"));
        await().atMost(WAIT).until(() -> gone(child));
    }

    @Test
    void stoppingTheRunnerEndsRunsInTheLogBeforeItReportsStopped() throws Exception {
        UUID session = newSession();
        send(session, "sleep 60");
        await().atMost(WAIT)
            .until(() -> SessionLog.output(SessionLog.events(api, session), "stdout").contains("sleeping"));
        CountDownLatch stopped = new CountDownLatch(1);
        try {
            runner.stop(stopped::countDown);
            assertThat(stopped.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            // Already in the log when the runner says it stopped: the event log stops
            // after it.
            List<JsonNode> events = SessionLog.events(api, session);
            assertThat(events).extracting(e -> e.get("type").asString()).endsWith("error", "run.finished");
            assertThat(events.get(events.size() - 2).get("data").get("code").asString()).isEqualTo("instance-shutdown");
            assertThat(events.getLast().get("data").get("status").asString()).isEqualTo("interrupted");
            assertThat(runner.activeRunIds()).isEmpty();
        }
        finally {
            runner.start();
        }
    }

    @Test
    void aSendAfterTheRunnerStoppedNeverStartsItsAgent() {
        UUID session = newSession();
        runner.stop(() -> {
        });
        try {
            // A send whose request outlived the drain: accepted, but no agent starts any
            // more.
            assertThat(send(session, "env").status()).isEqualTo(202);
            await().atMost(WAIT).until(() -> SessionLog.finished(SessionLog.events(api, session)));
        }
        finally {
            runner.start();
        }
        List<JsonNode> events = SessionLog.events(api, session);
        assertThat(events).extracting(e -> e.get("type").asString())
            .containsExactly("session.created", "message", "run.started", "error", "run.finished");
        assertThat(events.get(3).get("data").get("code").asString()).isEqualTo("instance-shutdown");
        assertThat(events.get(4).get("data").get("status").asString()).isEqualTo("interrupted");
        assertThat(api.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("IDLE");
    }

}
