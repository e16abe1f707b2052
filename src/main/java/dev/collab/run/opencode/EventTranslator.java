package dev.collab.run.opencode;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import dev.collab.run.AgentEvent;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.NullNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * opencode's bus events (the JSON of each {@code /event} message, {@code {"type",
 * "properties"}}) turned into {@link AgentEvent}s for one opencode session. opencode
 * sends a part again every time it changes (text as it streams, a tool as it goes pending
 * → running → completed or error); this keeps what it has seen so that each becomes one
 * event at the right moment: {@code agent.text} once a text part has ended,
 * {@code tool.call} once a tool runs (its input is complete then), {@code tool.result}
 * once it completed or failed, {@code usage} per finished step. Events of other sessions,
 * and types it does not know, are ignored. Not thread-safe: the driver calls it from one
 * thread.
 */
final class EventTranslator {

    /** The cap of {@code tool.result.output} and of {@code tool.call.input} (JSON). */
    static final int MAX_TOOL_CHARS = 65_536;

    private final String sessionId;

    private final Consumer<AgentEvent> events;

    private final Map<String, String> openTexts = new LinkedHashMap<>();

    private final Set<String> endedTexts = new HashSet<>();

    private final Map<String, JsonNode> toolInputs = new HashMap<>();

    private final Map<String, String> toolNames = new HashMap<>();

    private final Set<String> startedTools = new HashSet<>();

    private final Set<String> finishedTools = new HashSet<>();

    private final Set<String> finishedSteps = new HashSet<>();

    private final Set<String> userMessages = new HashSet<>();

    private final Set<String> askedPermissions = new HashSet<>();

    EventTranslator(String sessionId, Consumer<AgentEvent> events) {
        this.sessionId = sessionId;
        this.events = events;
    }

    /** What the driver does next after an event. */
    sealed interface Step {

        /** Keep reading. */
        record Continue() implements Step {
        }

        /** The session went idle: the prompt is answered. */
        record Idle() implements Step {
        }

        /** opencode reported an error for the session. */
        record Failed(String message) implements Step {
        }

        /**
         * opencode asks whether a tool may run.
         *
         * @param requestId the permission request's id, for the reply
         * @param tool the tool (or opencode's permission name when the tool is unknown)
         * @param input the tool's input when known, else the request's patterns and
         * metadata
         */
        record Permission(String requestId, String tool, JsonNode input) implements Step {
        }

    }

    private static final Step CONTINUE = new Step.Continue();

    Step handle(JsonNode event) {
        String type = event.path("type").asString("");
        JsonNode properties = event.path("properties");
        return switch (type) {
            case "message.updated" -> message(properties.path("info"));
            case "message.part.updated" -> part(properties.path("part"));
            case "session.idle" -> ours(properties) ? idle() : CONTINUE;
            // Newer versions announce idleness as a status too (session.idle is
            // deprecated there); both may come, the first one ends the run.
            case "session.status" ->
                ours(properties) && "idle".equals(properties.path("status").path("type").asString("")) ? idle()
                        : CONTINUE;
            case "session.error" -> sessionError(properties);
            // A request seen again (sent twice, or under both names by a server between
            // the two permission APIs) is asked once: a second ask would be a second
            // approval, and a second reply is refused.
            case "permission.asked" -> ours(properties) && firstAsk(properties) ? permission(properties) : CONTINUE;
            // Before opencode's permission rework (#6319, January 2026) the same request
            // came as permission.updated {id, type, pattern, sessionID, messageID,
            // callID, title, metadata}.
            case "permission.updated" ->
                ours(properties) && firstAsk(properties) ? legacyPermission(properties) : CONTINUE;
            default -> CONTINUE;
        };
    }

    /**
     * Text parts that never said they ended (opencode sets {@code time.end} when a text
     * part is complete; an older version may not): kept, not dropped, once the session is
     * idle.
     */
    void flush() {
        this.openTexts.forEach(this::text);
        this.openTexts.clear();
    }

    private boolean ours(JsonNode properties) {
        return this.sessionId.equals(properties.path("sessionID").asString(""));
    }

    private boolean firstAsk(JsonNode request) {
        return this.askedPermissions.add(request.path("id").asString(""));
    }

    private Step idle() {
        flush();
        return new Step.Idle();
    }

    private Step sessionError(JsonNode properties) {
        // An error without a session id is the server's own and ends this run too.
        if (properties.has("sessionID") && !ours(properties)) {
            return CONTINUE;
        }
        JsonNode error = properties.path("error");
        String name = error.path("name").asString("error");
        String message = error.isString() ? error.asString("") : error.path("data").path("message").asString("");
        flush();
        return new Step.Failed(message.isEmpty() ? name : name + ": " + message);
    }

    private Step permission(JsonNode request) {
        String callId = request.path("tool").path("callID").asString("");
        String tool = this.toolNames.get(callId);
        JsonNode input = this.toolInputs.get(callId);
        if (tool == null || input == null) {
            ObjectNode described = JsonNodeFactory.instance.objectNode();
            described.set("patterns", request.path("patterns").deepCopy());
            described.set("metadata", request.path("metadata").deepCopy());
            input = described;
            tool = request.path("permission").asString("unknown");
        }
        return new Step.Permission(request.path("id").asString(""), tool, input);
    }

    /**
     * The prompt itself comes back as the text part of a user message: known by its
     * message, which opencode announces before the message's parts.
     */
    private Step message(JsonNode info) {
        if (this.sessionId.equals(info.path("sessionID").asString(""))
                && "user".equals(info.path("role").asString(""))) {
            this.userMessages.add(info.path("id").asString(""));
        }
        return CONTINUE;
    }

    private Step legacyPermission(JsonNode request) {
        String callId = request.path("callID").asString("");
        String tool = this.toolNames.get(callId);
        JsonNode input = this.toolInputs.get(callId);
        if (tool == null || input == null) {
            ObjectNode described = JsonNodeFactory.instance.objectNode();
            described.set("pattern", request.path("pattern").deepCopy());
            described.put("title", request.path("title").asString(""));
            described.set("metadata", request.path("metadata").deepCopy());
            input = described;
            tool = request.path("type").asString("unknown");
        }
        return new Step.Permission(request.path("id").asString(""), tool, input);
    }

    private Step part(JsonNode part) {
        if (!this.sessionId.equals(part.path("sessionID").asString(""))
                || this.userMessages.contains(part.path("messageID").asString(""))) {
            return CONTINUE;
        }
        String id = part.path("id").asString("");
        switch (part.path("type").asString("")) {
            case "text" -> textPart(id, part);
            case "tool" -> toolPart(part);
            case "step-finish" -> stepFinish(id, part);
            default -> {
                // reasoning, step-start, snapshot, patch, file…: not in the log.
            }
        }
        return CONTINUE;
    }

    private void textPart(String id, JsonNode part) {
        if (this.endedTexts.contains(id) || part.path("synthetic").asBoolean(false)) {
            return;
        }
        String text = part.path("text").asString("");
        if (part.path("time").path("end").isNumber()) {
            this.openTexts.remove(id);
            this.endedTexts.add(id);
            text(id, text);
        }
        else {
            this.openTexts.put(id, text);
        }
    }

    private void text(String id, String text) {
        if (!text.isBlank()) {
            this.events.accept(new AgentEvent("agent.text", Map.of("text", text)));
        }
    }

    private void toolPart(JsonNode part) {
        String callId = part.path("callID").asString("");
        String tool = part.path("tool").asString("");
        JsonNode state = part.path("state");
        String status = state.path("status").asString("");
        if (callId.isEmpty() || this.finishedTools.contains(callId) || "pending".equals(status) || status.isEmpty()) {
            // A pending tool's input is still streaming in: it is called once it runs.
            return;
        }
        JsonNode input = state.path("input").isObject() ? state.path("input") : JsonNodeFactory.instance.objectNode();
        this.toolNames.put(callId, tool);
        this.toolInputs.put(callId, input);
        if (this.startedTools.add(callId)) {
            this.events.accept(
                    new AgentEvent("tool.call", Map.of("callId", callId, "name", tool, "input", cappedInput(input))));
        }
        if ("completed".equals(status) || "error".equals(status)) {
            this.finishedTools.add(callId);
            boolean error = "error".equals(status);
            String output = error ? state.path("error").asString("") : state.path("output").asString("");
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("callId", callId);
            data.put("isError", error);
            if (output.length() > MAX_TOOL_CHARS) {
                data.put("output", output.substring(0, MAX_TOOL_CHARS));
                data.put("truncated", true);
                data.put("outputChars", output.length());
            }
            else {
                data.put("output", output);
            }
            this.events.accept(new AgentEvent("tool.result", data));
        }
    }

    /**
     * An input too large for the log keeps its shape (an object) but not its content.
     */
    private static JsonNode cappedInput(JsonNode input) {
        int chars = input.toString().length();
        if (chars <= MAX_TOOL_CHARS) {
            return input;
        }
        ObjectNode capped = JsonNodeFactory.instance.objectNode();
        capped.put("truncated", true);
        capped.put("inputChars", chars);
        return capped;
    }

    private void stepFinish(String id, JsonNode part) {
        if (!this.finishedSteps.add(id)) {
            return;
        }
        JsonNode tokens = part.path("tokens");
        JsonNode cost = part.path("cost");
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("inputTokens", tokens.path("input").asLong(0));
        data.put("outputTokens", tokens.path("output").asLong(0));
        // costUsd is in every usage event (docs/api.md), null when opencode reports no
        // cost; AgentEvent's map takes no null, so it is JSON's null.
        data.put("costUsd", cost.isNumber() ? cost.asDouble(0) : NullNode.getInstance());
        this.events.accept(new AgentEvent("usage", data));
    }

}
