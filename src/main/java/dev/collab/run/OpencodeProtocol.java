package dev.collab.run;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import dev.collab.run.opencode.Approvals;
import dev.collab.run.opencode.OpencodeDriver;
import dev.collab.run.opencode.OpencodeDriver.PermissionAsker;
import dev.collab.run.opencode.OpencodeException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * {@code collab.runner.protocol=opencode}: the agent is {@code opencode serve}
 * (docs/runner.md "opencode"), driven over its HTTP API by {@link OpencodeDriver} on a
 * virtual thread of the run's own. The runner's reader thread is the one reader of the
 * server's stdout and hands it to the driver ({@link OpencodeDriver.Stdout}); the
 * driver's typed events go into the log in order, permission requests to the
 * {@link ApprovalGate}. opencode's server never exits by itself: once the session is idle
 * (or the driver gives up) the protocol ends the run ({@link Conversation#end()}), which
 * stops the server's process tree and records {@code succeeded} or {@code failed} with
 * the driver's words. The opencode session id is kept in {@link AgentConversations}, and
 * the next run continues it; its store is in the workspace
 * ({@code XDG_DATA_HOME=<workspace>/.collab/opencode}).
 */
@Component
class OpencodeProtocol implements AgentProtocol {

    static final String NAME = "opencode";

    /** How long {@code opencode serve} may take to say where it listens. */
    static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

    /** How long one HTTP request to the server may take (not the event stream). */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(OpencodeProtocol.class);

    /**
     * An opencode session id worth keeping ({@code ses_} and a time-ordered suffix):
     * letters, digits, '-' and '_', at most 128 characters. The server gives it; a huge
     * or odd value is not stored for the next run.
     */
    private static final Pattern SESSION_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,127}");

    private final AgentConversations conversations;

    private final ObjectProvider<ApprovalGate> approvals;

    private final RunnerProperties properties;

    private final OpencodeDriver driver = new OpencodeDriver(STARTUP_TIMEOUT, REQUEST_TIMEOUT);

    OpencodeProtocol(AgentConversations conversations, ObjectProvider<ApprovalGate> approvals,
            RunnerProperties properties) {
        this.conversations = conversations;
        this.approvals = approvals;
        this.properties = properties;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> defaultCommand() {
        return List.of("opencode");
    }

    @Override
    public AgentConversation open(Conversation conversation) {
        Path dataHome = conversation.workspace().resolve(".collab").resolve("opencode");
        try {
            Files.createDirectories(dataHome);
        }
        catch (IOException e) {
            throw new UncheckedIOException("Cannot create " + dataHome, e);
        }
        String previous = conversations.find(conversation.sessionId(), NAME).orElse(null);
        return new OpencodeConversation(conversation, previous);
    }

    /** One run's talk with opencode's server. */
    private final class OpencodeConversation implements AgentConversation {

        private final Conversation run;

        private final @Nullable String resumed;

        /** Made for this run; in the server's environment, never in a log or event. */
        private final String password = OpencodeDriver.newPassword();

        private final OpencodeDriver.Stdout stdout;

        private volatile @Nullable Thread driving;

        private volatile @Nullable String failure;

        OpencodeConversation(Conversation run, @Nullable String resumed) {
            this.run = run;
            this.resumed = resumed;
            this.stdout = new OpencodeDriver.Stdout(this::stdoutLine);
        }

        @Override
        public List<String> arguments() {
            return OpencodeDriver.serveArguments();
        }

        @Override
        public Map<String, String> environment() {
            return OpencodeDriver.environment(run.workspace(), password);
        }

        @Override
        public void started(Process process) {
            driving = Thread.ofVirtual().name("run-opencode-" + run.runId()).start(() -> drive(process));
        }

        @Override
        public void readStdout(InputStream stream) {
            stdout.readAll(stream);
        }

        /** The server's stdout is plain output, as any agent's. */
        private void stdoutLine(AgentEvent line) {
            Object text = line.data().get("text");
            run.output().output("stdout", text == null ? "" : text.toString());
        }

        /** The driver's events (typed, and data it could not read as {@code output}). */
        private void event(AgentEvent event) {
            if (event.type().equals("output")) {
                Object text = event.data().get("text");
                String chars = text == null ? "" : text.toString();
                int max = properties.outputMaxChars();
                for (int i = 0; i < chars.length(); i += max) {
                    run.output()
                        .event(new AgentEvent("output", Map.of("stream", "stdout", "text",
                                chars.substring(i, Math.min(chars.length(), i + max)))));
                }
                return;
            }
            run.output().event(event);
        }

        private void drive(Process process) {
            PermissionAsker gate = Approvals.asker(approvals.getIfAvailable(), run.sessionId(), run.runId());
            PermissionAsker asker = (tool, input) -> {
                // The tool call it is about comes first in the log.
                run.output().flush();
                return gate.ask(tool, input);
            };
            try {
                OpencodeDriver.Result result = driver.run(process, stdout, password, resumed, run.message(),
                        this::event, asker);
                remember(result.agentSessionId());
            }
            catch (OpencodeException e) {
                // The driver's words: they name no secret (the password is in none).
                String words = e.getMessage();
                failure = words == null || words.isBlank() ? "opencode failed." : words;
            }
            catch (InterruptedException e) {
                // The run is being stopped (interrupt, timeout, shutdown): that stop is
                // what the run records.
                failure = "The run was stopped while opencode worked.";
            }
            catch (RuntimeException e) {
                log.warn("Run {}: driving opencode failed: {}", run.runId(), e.toString());
                failure = "Driving opencode failed inside the server (details in the server log).";
            }
            finally {
                // opencode's server stays up after the turn: the run ends here.
                run.end().run();
            }
        }

        private void remember(String id) {
            if (id.isEmpty() || id.equals(resumed)) {
                return;
            }
            if (!SESSION_ID.matcher(id).matches()) {
                log.warn("Run {}: opencode reported a session id that is not one; not kept", run.runId());
                return;
            }
            try {
                conversations.save(run.sessionId(), NAME, id);
            }
            catch (RuntimeException e) {
                log.warn("Run {}: the agent's session id could not be stored (the next message starts a new "
                        + "conversation): {}", run.runId(), e.toString());
            }
        }

        @Override
        public @Nullable String failure() {
            return failure;
        }

        @Override
        public void close() {
            Thread thread = driving;
            if (thread != null) {
                thread.interrupt();
            }
        }

    }

}
