package dev.collab.run.opencode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import dev.collab.run.AgentEvent;
import dev.collab.support.FakeAgents;
import dev.collab.run.opencode.OpencodeDriver.PermissionAsker;
import dev.collab.run.opencode.OpencodeDriver.PermissionDecision;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * The driver against a fake {@code opencode serve} (test resource
 * agents/opencode/FakeOpencode.java, replaying transcript.sse) run as a real process with
 * the JDK running the tests (compiled once: FakeAgents): the events of a prompt in order,
 * permissions allowed and denied, continuation across processes, and every way it can go
 * wrong.
 */
@Timeout(120)
class OpencodeDriverTest {

    private static final String PASSWORD = "per-run-secret-0123456789";

    @TempDir
    Path temp;

    private final List<Process> processes = new ArrayList<>();

    private final List<AgentEvent> events = new CopyOnWriteArrayList<>();

    private final OpencodeDriver driver = new OpencodeDriver(Duration.ofSeconds(60), Duration.ofSeconds(10));

    @AfterEach
    void stopTheServers() {
        for (Process process : this.processes) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    /** The fake, as the runner starts opencode: workspace, XDG_DATA_HOME, password. */
    private Process start(String... extra) throws IOException {
        Path workspace = Files.createDirectories(this.temp.resolve("workspace"));
        List<String> command = new ArrayList<>(FakeAgents.opencodeCommand());
        command.addAll(OpencodeDriver.serveArguments());
        // After the protocol's own: for the fake, the last one of an option wins.
        command.addAll(List.of(extra));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workspace.toFile())
            .redirectError(this.temp.resolve("stderr-" + this.processes.size() + ".txt").toFile());
        builder.environment().clear();
        builder.environment().put("HOME", this.temp.toString());
        builder.environment().putAll(OpencodeDriver.environment(workspace, PASSWORD));
        Process process = builder.start();
        this.processes.add(process);
        return process;
    }

    private static PermissionAsker allow(List<String> asked) {
        return (tool, input) -> {
            asked.add(tool + " " + input);
            return CompletableFuture.completedFuture(new PermissionDecision(true, null));
        };
    }

    private List<AgentEvent> typed() {
        return this.events.stream().filter(event -> !event.type().equals("output")).toList();
    }

    private String outputText() {
        return String.join("",
                this.events.stream()
                    .filter(event -> event.type().equals("output"))
                    .map(event -> (String) event.data().get("text"))
                    .toList());
    }

    @Test
    void aPromptBecomesTheTranscriptsEventsInOrderAndOtherSessionsAreIgnored() throws Exception {
        List<String> asked = new ArrayList<>();
        OpencodeDriver.Result result = this.driver.run(start(), PASSWORD, null, "Make Calc.add handle overflow",
                this.events::add, allow(asked));

        assertThat(result.agentSessionId()).startsWith("ses_");
        List<AgentEvent> typed = typed();
        assertThat(typed).extracting(AgentEvent::type)
            .containsExactly("agent.text", "tool.call", "tool.result", "tool.call", "tool.result", "usage", "tool.call",
                    "tool.result", "agent.text", "usage");
        assertThat(typed.get(0).data()).containsExactly(entry("text", "I'll look at `Calc.add` first."));
        assertThat(typed.get(1).data()).containsEntry("callId", "toolu_01ReadCalc").containsEntry("name", "read");
        assertThat(((JsonNode) typed.get(1).data().get("input")).path("filePath").asString())
            .isEqualTo("/work/ws/src/Calc.java");
        assertThat(typed.get(2).data()).containsEntry("callId", "toolu_01ReadCalc")
            .containsEntry("isError", false)
            .hasEntrySatisfying("output", output -> assertThat((String) output).contains("return a + b;"));
        assertThat(typed.get(4).data()).containsEntry("callId", "toolu_02ReadTest")
            .containsEntry("isError", true)
            .containsEntry("output", "Error: File not found: /work/ws/test/CalcTest.java");
        assertThat(typed.get(5).data()).containsOnly(entry("inputTokens", 2310L), entry("outputTokens", 184L),
                entry("costUsd", 0.0123));
        assertThat(typed.get(7).data()).containsEntry("callId", "toolu_03EditCalc")
            .containsEntry("isError", false)
            .containsEntry("output", "Edit applied successfully.");
        assertThat(typed.get(8).data()).containsEntry("text", "Done: `Calc.add` now throws on overflow.");
        assertThat(typed.get(9).data()).containsEntry("inputTokens", 2702L).containsEntry("costUsd", 0.0087);
        // The permission was asked for the edit, with the tool's own input.
        assertThat(asked).singleElement()
            .satisfies(question -> assertThat(question).startsWith("edit ").contains("Math.addExact(a, b);"));
        // Neither the prompt itself nor the other session's text.
        assertThat(typed).noneSatisfy(event -> assertThat(event.data().toString()).contains("another session"));
        assertThat(typed).noneSatisfy(event -> assertThat(event.data().toString()).contains("handle overflow"));
        // The server's own lines are output, the password is in none.
        assertThat(outputText()).contains("opencode server listening on http://127.0.0.1:").doesNotContain(PASSWORD);
    }

    @Test
    void anEndlessStdoutLineIsCutNotKept() throws Exception {
        this.driver.run(start("--long-line", "3000000"), PASSWORD, null, "hello", this.events::add,
                allow(new ArrayList<>()));

        assertThat(this.events).filteredOn(event -> event.type().equals("output"))
            .filteredOn(event -> ((String) event.data().get("text")).startsWith("xxx"))
            .singleElement()
            .satisfies(event -> assertThat((String) event.data().get("text")).hasSizeLessThan(70_000)
                .endsWith("x [collab-server: line cut at 65536 characters]\n"));
        assertThat(typed()).extracting(AgentEvent::type).endsWith("agent.text", "usage");
    }

    @Test
    void aDeniedPermissionIsRepliedAsRejectAndTheToolFails() throws Exception {
        List<String> asked = new ArrayList<>();
        this.driver.run(start(), PASSWORD, null, "Make Calc.add handle overflow", this.events::add, (tool, input) -> {
            asked.add(tool);
            return CompletableFuture.completedFuture(new PermissionDecision(false, "Not now."));
        });

        assertThat(asked).containsExactly("edit");
        assertThat(typed()).filteredOn(event -> "toolu_03EditCalc".equals(event.data().get("callId")))
            .extracting(AgentEvent::type)
            .containsExactly("tool.call", "tool.result");
        assertThat(typed()).filteredOn(event -> event.type().equals("tool.result"))
            .last()
            .satisfies(event -> assertThat(event.data()).containsEntry("isError", true)
                .containsEntry("output", "The user rejected permission to use this specific tool call."));
    }

    @Test
    void anOpencodeFromBeforeThePermissionReworkIsAnsweredAtItsOldRoute() throws Exception {
        List<String> asked = new ArrayList<>();
        this.driver.run(start("--legacy-permissions"), PASSWORD, null, "legacy permissions", this.events::add,
                allow(asked));

        assertThat(asked).singleElement()
            .satisfies(question -> assertThat(question).startsWith("edit ").contains("Math.addExact(a, b);"));
        assertThat(typed()).filteredOn(event -> "toolu_03EditCalc".equals(event.data().get("callId")))
            .last()
            .satisfies(event -> assertThat(event.data()).containsEntry("output", "Edit applied successfully."));
    }

    @Test
    void aLaterDecisionIsRepliedWhileTheEventsKeepFlowing() throws Exception {
        CompletableFuture<PermissionDecision> decision = new CompletableFuture<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Process process = start();
        Thread run = Thread.ofVirtual().start(() -> {
            try {
                this.driver.run(process, PASSWORD, null, "slow decision", this.events::add, (tool, input) -> decision);
            }
            catch (Throwable ex) {
                failure.set(ex);
            }
        });
        await().atMost(Duration.ofSeconds(60))
            .until(() -> typed().stream().anyMatch(event -> "toolu_03EditCalc".equals(event.data().get("callId"))));
        // Nothing past the tool that waits for its permission (opencode blocks it).
        assertThat(typed()).last()
            .satisfies(event -> assertThat(event.data()).containsEntry("callId", "toolu_03EditCalc"));
        assertThat(typed()).extracting(AgentEvent::type).containsOnlyOnce("usage");
        decision.complete(new PermissionDecision(true, null));
        run.join(Duration.ofSeconds(30));
        assertThat(failure.get()).isNull();
        assertThat(typed()).extracting(AgentEvent::type).endsWith("tool.result", "agent.text", "usage");
    }

    @Test
    void theSecondPromptContinuesTheStoredSessionInANewProcess() throws Exception {
        OpencodeDriver.Result first = this.driver.run(start(), PASSWORD, null, "first prompt", this.events::add,
                allow(new ArrayList<>()));
        stopTheServers();
        this.events.clear();

        OpencodeDriver.Result second = this.driver.run(start(), PASSWORD, first.agentSessionId(), "second prompt",
                this.events::add, allow(new ArrayList<>()));

        assertThat(second.agentSessionId()).isEqualTo(first.agentSessionId());
        assertThat(typed().get(0).data().get("text")).asString()
            .contains("continuing: 1 earlier prompt, the first: \"first prompt\"");
    }

    @Test
    void aStoredSessionTheServerNoLongerHasStartsANewOne() throws Exception {
        OpencodeDriver.Result result = this.driver.run(start(), PASSWORD, "ses_0000000000000000000000gone", "hello",
                this.events::add, allow(new ArrayList<>()));

        assertThat(result.agentSessionId()).startsWith("ses_").isNotEqualTo("ses_0000000000000000000000gone");
        assertThat(typed().get(0).data().get("text")).asString().doesNotContain("continuing");
    }

    @Test
    void malformedEventDataIsKeptAsOutput() throws Exception {
        this.driver.run(start(), PASSWORD, null, "malformed please", this.events::add, allow(new ArrayList<>()));

        assertThat(outputText()).contains("[opencode event that could not be read] "
                + "{\"type\":\"message.part.updated\",\"properties\":{\"part\":");
        assertThat(typed()).extracting(AgentEvent::type).endsWith("agent.text", "usage");
    }

    @Test
    void aCrashMidToolIsAClearFailureAtOnce() throws Exception {
        Process process = start();
        assertThatThrownBy(() -> assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> this.driver.run(process, PASSWORD, null, "crash now", this.events::add,
                        allow(new ArrayList<>()))))
            .isInstanceOf(OpencodeException.class)
            .hasMessage("opencode serve exited (code 3) before the session was idle");
        assertThat(typed()).extracting(AgentEvent::type).containsExactly("agent.text", "tool.call");
        assertThat(outputText()).contains("exiting mid-tool");
    }

    @Test
    void anEventStreamEndingEarlyIsAClearFailure() throws Exception {
        assertThatThrownBy(
                () -> this.driver.run(start(), PASSWORD, null, "hangup", this.events::add, allow(new ArrayList<>())))
            .isInstanceOf(OpencodeException.class)
            .hasMessage("opencode's event stream ended before the session was idle");
        assertThat(typed()).extracting(AgentEvent::type)
            .endsWith("tool.call", "tool.result", "tool.call", "tool.result");
    }

    @Test
    void anErrorOfTheSessionFailsTheRun() throws Exception {
        assertThatThrownBy(() -> this.driver.run(start(), PASSWORD, null, "fail please", this.events::add,
                allow(new ArrayList<>())))
            .isInstanceOf(OpencodeException.class)
            .hasMessage("opencode reported an error: ProviderAuthError: Invalid API key");
    }

    @Test
    void aWrongPasswordIsRefused() throws Exception {
        assertThatThrownBy(() -> this.driver.run(start(), "not-the-password", null, "hello", this.events::add,
                allow(new ArrayList<>())))
            .isInstanceOf(OpencodeException.class)
            .hasMessageContaining("HTTP 401: the password was not accepted")
            .message()
            .doesNotContain("not-the-password");
    }

    @Test
    void aServerThatNeverListensIsGivenUpAfterTheStartupTimeout() throws Exception {
        OpencodeDriver impatient = new OpencodeDriver(Duration.ofSeconds(3), Duration.ofSeconds(10));
        Process process = start("--no-listen");
        assertThatThrownBy(() -> assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> impatient.run(process, PASSWORD, null, "hello", this.events::add, allow(new ArrayList<>()))))
            .isInstanceOf(OpencodeException.class)
            .hasMessage("opencode serve did not say where it listens within 3 s");
    }

    @Test
    void aServerThatDiesBeforeListeningIsReportedWithItsExitCode() throws Exception {
        Process process = start("--port", "not-a-number");
        assertThatThrownBy(
                () -> this.driver.run(process, PASSWORD, null, "hello", this.events::add, allow(new ArrayList<>())))
            .isInstanceOf(OpencodeException.class)
            .hasMessage("opencode serve exited (code 1) before it said where it listens");
    }

    @Test
    void aServerListeningBeyondLoopbackIsRefused() throws Exception {
        Process process = start("--hostname", "0.0.0.0");
        assertThatThrownBy(
                () -> this.driver.run(process, PASSWORD, null, "hello", this.events::add, allow(new ArrayList<>())))
            .isInstanceOf(OpencodeException.class)
            .hasMessageContaining("not on a loopback http address");
    }

    @Test
    void anInterruptEndsTheRunPromptly() throws Exception {
        Process process = start();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread run = Thread.ofPlatform().start(() -> {
            try {
                this.driver.run(process, PASSWORD, null, "never decided", this.events::add,
                        (tool, input) -> new CompletableFuture<>());
            }
            catch (Throwable ex) {
                failure.set(ex);
            }
        });
        await().atMost(Duration.ofSeconds(60))
            .until(() -> typed().stream().anyMatch(event -> "toolu_03EditCalc".equals(event.data().get("callId"))));
        run.interrupt();
        assertThat(run.join(Duration.ofSeconds(5))).isTrue();
        assertThat(failure.get()).isInstanceOf(InterruptedException.class);
        assertThat(Map.of("alive", process.isAlive())).containsEntry("alive", true);
    }

}
