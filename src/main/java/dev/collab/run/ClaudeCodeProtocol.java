package dev.collab.run;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code collab.runner.protocol=claude-code}: Claude Code in print mode with stream-json
 * on both sides (docs/runner.md "Claude Code"; the format is recorded in
 * src/test/resources/agents/claude-code). The message goes in as one {@code user} line;
 * stdin stays open for the answers to permission requests ({@code control_request}
 * {@code can_use_tool}, asked of the {@link ApprovalGate}) and is closed after the
 * {@code result}. Assistant text, tool calls, tool results and usage become typed events;
 * the session id of {@code system/init} is kept in {@link AgentConversations}, and the
 * next run resumes it ({@code --resume}), its conversation store being in the workspace
 * ({@code CLAUDE_CONFIG_DIR=<workspace>/.collab/claude}) that every instance shares.
 */
@Component
class ClaudeCodeProtocol implements AgentProtocol {

    static final String NAME = "claude-code";

    private static final Logger log = LoggerFactory.getLogger(ClaudeCodeProtocol.class);

    /** The arguments the protocol adds to the command (then {@code --resume <id>}). */
    static final List<String> ARGUMENTS = List.of("-p", "--input-format", "stream-json", "--output-format",
            "stream-json", "--verbose", "--permission-prompt-tool", "stdio");

    private final AgentConversations conversations;

    private final ObjectProvider<ApprovalGate> approvals;

    private final JsonMapper json;

    private final RunnerProperties properties;

    ClaudeCodeProtocol(AgentConversations conversations, ObjectProvider<ApprovalGate> approvals, JsonMapper json,
            RunnerProperties properties) {
        this.conversations = conversations;
        this.approvals = approvals;
        this.json = json;
        this.properties = properties;
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Whether the agent's session id may be kept and passed back as {@code --resume}'s
     * value: Claude Code's are UUIDs; letters, digits, '-' and '_' (not first: never an
     * option), at most 128 characters.
     */
    static boolean isSessionId(String id) {
        return SESSION_ID.matcher(id).matches();
    }

    private static final Pattern SESSION_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,127}");

    @Override
    public List<String> defaultCommand() {
        return List.of("claude");
    }

    @Override
    public AgentConversation open(Conversation conversation) {
        Path configDir = conversation.workspace().resolve(".collab").resolve("claude");
        try {
            Files.createDirectories(configDir);
        }
        catch (IOException e) {
            throw new UncheckedIOException("Cannot create " + configDir, e);
        }
        String previous = conversations.find(conversation.sessionId(), NAME).orElse(null);
        return new ClaudeConversation(conversation, configDir, previous);
    }

    /** One run's talk with Claude Code. */
    private final class ClaudeConversation implements AgentConversation {

        private final Conversation run;

        private final Path configDir;

        private final @Nullable String resumed;

        private final EventCaps caps;

        /** Writes to stdin come from the reader and from decisions: one at a time. */
        private final ReentrantLock writing = new ReentrantLock();

        private @Nullable OutputStream stdin;

        private volatile boolean closed;

        private volatile @Nullable String agentSessionId;

        private volatile @Nullable String failure;

        ClaudeConversation(Conversation run, Path configDir, @Nullable String resumed) {
            this.run = run;
            this.configDir = configDir;
            this.resumed = resumed;
            this.agentSessionId = resumed;
            this.caps = new EventCaps(json);
        }

        @Override
        public List<String> arguments() {
            List<String> arguments = new ArrayList<>(ARGUMENTS);
            if (resumed != null) {
                arguments.add("--resume");
                arguments.add(resumed);
            }
            return arguments;
        }

        @Override
        public Map<String, String> environment() {
            return Map.of("CLAUDE_CONFIG_DIR", configDir.toString());
        }

        @Override
        public void started(Process process) {
            writing.lock();
            try {
                stdin = process.getOutputStream();
            }
            finally {
                writing.unlock();
            }
            Map<String, Object> message = new LinkedHashMap<>();
            message.put("type", "user");
            message.put("message", Map.of("role", "user", "content", run.message()));
            message.put("parent_tool_use_id", null);
            message.put("session_id", resumed == null ? "default" : resumed);
            String line = json.writeValueAsString(message);
            // A long message could fill the pipe before the agent reads: not on the
            // runner's thread.
            Thread.ofVirtual().name("run-stdin-" + run.runId()).start(() -> write(line));
        }

        @Override
        public void readStdout(InputStream stdout) {
            LineReader.readAll(stdout, LineReader.MAX_LINE_CHARS, this::line, this::raw);
        }

        private void raw(String text) {
            int max = properties.outputMaxChars();
            for (int i = 0; i < text.length(); i += max) {
                run.output().event(output(text.substring(i, Math.min(text.length(), i + max))));
            }
        }

        private AgentEvent output(String text) {
            return new AgentEvent("output", Map.of("stream", "stdout", "text", text));
        }

        /** One line of Claude Code's stdout. */
        private void line(String line, boolean terminated) {
            JsonNode message = null;
            if (line.startsWith("{")) {
                try {
                    message = json.readTree(line);
                }
                catch (JacksonException e) {
                    message = null;
                }
            }
            if (message == null || !message.isObject()) {
                if (!line.isBlank() || terminated) {
                    raw(terminated ? line + "\n" : line);
                }
                return;
            }
            try {
                handle(message);
            }
            catch (RuntimeException e) {
                // A shape we did not expect: the line is kept as it came.
                log.debug("Run {}: unexpected Claude Code message: {}", run.runId(), e.toString());
                raw(terminated ? line + "\n" : line);
            }
        }

        private void handle(JsonNode message) {
            String type = message.path("type").asString("");
            switch (type) {
                case "system" -> {
                    if ("init".equals(message.path("subtype").asString(""))) {
                        remember(message.path("session_id").asString(""));
                    }
                }
                case "assistant" -> {
                    for (JsonNode block : message.path("message").path("content")) {
                        String kind = block.path("type").asString("");
                        if (kind.equals("text")) {
                            run.output().event(caps.agentText(block.path("text").asString("")));
                        }
                        else if (kind.equals("tool_use")) {
                            run.output()
                                .event(caps.toolCall(block.path("id").asString(""), block.path("name").asString(""),
                                        block.path("input")));
                        }
                    }
                }
                case "user" -> {
                    JsonNode content = message.path("message").path("content");
                    if (content.isArray()) {
                        for (JsonNode block : content) {
                            if (block.path("type").asString("").equals("tool_result")) {
                                run.output()
                                    .event(caps.toolResult(block.path("tool_use_id").asString(""),
                                            resultText(block.path("content")),
                                            block.path("is_error").asBoolean(false)));
                            }
                        }
                    }
                }
                case "result" -> {
                    remember(message.path("session_id").asString(""));
                    run.output().event(usage(message));
                    if (message.path("is_error").asBoolean(false)) {
                        String text = message.path("result").asString("");
                        if (text.isEmpty()) {
                            text = message.path("subtype").asString("error");
                        }
                        failure = "Claude Code reported an error: "
                                + (text.length() > 4000 ? text.substring(0, 4000) + "…" : text);
                    }
                    // One message per run: the conversation's turn is over, Claude Code
                    // exits once its input ends.
                    closeStdin();
                }
                case "control_request" -> controlRequest(message);
                default -> {
                    // stream_event, control_cancel_request, keep_alive, …: nothing to
                    // show.
                }
            }
        }

        private void remember(String id) {
            if (id.isEmpty() || id.equals(agentSessionId)) {
                return;
            }
            if (!isSessionId(id)) {
                // It becomes an argument of the next run (--resume <id>): a value the
                // agent wrote that looks like an option
                // ("--dangerously-skip-permissions")
                // or is huge must never get there.
                log.warn("Run {}: Claude Code reported a session id that is not one; not kept", run.runId());
                return;
            }
            try {
                conversations.save(run.sessionId(), NAME, id);
                // Known only once stored: after a failed save (the database away) the
                // same
                // id in the result is tried again.
                agentSessionId = id;
            }
            catch (RuntimeException e) {
                log.warn("Run {}: the agent's session id could not be stored (the next message starts a new "
                        + "conversation): {}", run.runId(), e.toString());
            }
        }

        private AgentEvent usage(JsonNode result) {
            JsonNode usage = result.path("usage");
            long input = usage.path("input_tokens").asLong(0) + usage.path("cache_creation_input_tokens").asLong(0)
                    + usage.path("cache_read_input_tokens").asLong(0);
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("inputTokens", input);
            data.put("outputTokens", usage.path("output_tokens").asLong(0));
            JsonNode cost = result.path("total_cost_usd");
            data.put("costUsd", cost.isNumber() ? cost.decimalValue() : null);
            return new AgentEvent("usage", data);
        }

        private static String resultText(JsonNode content) {
            if (content.isString()) {
                return content.asString();
            }
            if (content.isArray()) {
                List<String> parts = new ArrayList<>();
                for (JsonNode block : content) {
                    if (block.path("type").asString("").equals("text")) {
                        parts.add(block.path("text").asString(""));
                    }
                    else {
                        parts.add("[" + block.path("type").asString("content") + "]");
                    }
                }
                return String.join("\n", parts);
            }
            return content.isMissingNode() || content.isNull() ? "" : content.toString();
        }

        /**
         * A permission request: asked of the approval gate, answered when the decision
         * comes (on the gate's thread); other requests are answered with an error.
         */
        private void controlRequest(JsonNode message) {
            String requestId = message.path("request_id").asString("");
            JsonNode request = message.path("request");
            if (!"can_use_tool".equals(request.path("subtype").asString(""))) {
                respond(requestId, null, "collab-server does not support " + request.path("subtype").asString(""));
                return;
            }
            String tool = request.path("tool_name").asString("");
            JsonNode input = request.path("input").isObject() ? request.path("input") : json.createObjectNode();
            ApprovalGate gate = approvals.getIfAvailable();
            if (gate == null) {
                respond(requestId, deny("Tool approvals are not available on this server, so " + tool + " was denied."),
                        null);
                return;
            }
            ApprovalGate.Pending pending;
            // The tool call it is about comes first in the log.
            run.output().flush();
            try {
                pending = gate.request(run.sessionId(), run.runId(), tool, input);
            }
            catch (RuntimeException e) {
                log.warn("Run {}: the approval request for {} could not be recorded; denied: {}", run.runId(), tool,
                        e.toString());
                respond(requestId, deny("The approval request could not be recorded, so " + tool + " was denied."),
                        null);
                return;
            }
            // Answered on a thread of the run's own, never on the one that completes the
            // decision (a person's HTTP request, the NOTIFY listener, the timeout check):
            // writing to an agent that does not read its stdin may block until the run
            // ends.
            pending.decision().thenAcceptAsync(decision -> {
                if (decision.allowed()) {
                    ObjectNode allow = json.createObjectNode();
                    allow.put("behavior", "allow");
                    allow.set("updatedInput", input);
                    respond(requestId, allow, null);
                }
                else {
                    respond(requestId, deny(denial(tool, decision)), null);
                }
            }, answer -> Thread.ofVirtual().name("run-approval-" + run.runId()).start(answer));
        }

        private static String denial(String tool, ApprovalGate.Decision decision) {
            if (decision.by() != null) {
                return decision.by() + " denied " + tool + ".";
            }
            if ("timeout".equals(decision.reason())) {
                return "Nobody decided on " + tool + " in time, so it was denied.";
            }
            return tool + " was denied (" + (decision.reason() == null ? "no reason given" : decision.reason()) + ").";
        }

        private ObjectNode deny(String message) {
            ObjectNode deny = json.createObjectNode();
            deny.put("behavior", "deny");
            deny.put("message", message);
            return deny;
        }

        /** A control_response: success with {@code response}, or an error. */
        private void respond(String requestId, @Nullable ObjectNode response, @Nullable String error) {
            ObjectNode body = json.createObjectNode();
            body.put("subtype", response != null ? "success" : "error");
            body.put("request_id", requestId);
            if (response != null) {
                body.set("response", response);
            }
            else {
                body.put("error", error);
            }
            ObjectNode line = json.createObjectNode();
            line.put("type", "control_response");
            line.set("response", body);
            write(json.writeValueAsString(line));
        }

        private void write(String line) {
            writing.lock();
            try {
                OutputStream out = stdin;
                if (out == null || closed) {
                    return;
                }
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
            catch (IOException e) {
                // The agent is gone or stopped reading: nothing left to tell it.
                log.debug("Run {}: writing to Claude Code: {}", run.runId(), e.toString());
            }
            finally {
                writing.unlock();
            }
        }

        private void closeStdin() {
            writing.lock();
            try {
                closed = true;
                OutputStream out = stdin;
                if (out != null) {
                    out.close();
                }
            }
            catch (IOException e) {
                // already closed
            }
            finally {
                writing.unlock();
            }
        }

        @Override
        public @Nullable String failure() {
            return failure;
        }

        @Override
        public void close() {
            closeStdin();
        }

    }

}
