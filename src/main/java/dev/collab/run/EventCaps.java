package dev.collab.run;

import java.util.LinkedHashMap;
import java.util.Map;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Builds the typed events of an agent's output with their caps (docs/api.md): the text of
 * {@code agent.text} and the output of {@code tool.result} at {@value #MAX_CHARS}
 * characters, the input of {@code tool.call} at {@value #MAX_CHARS} characters of JSON; a
 * cut value says so ({@code "truncated": true} and the original length).
 */
final class EventCaps {

    static final int MAX_CHARS = 65_536;

    /**
     * When a tool's input is too large, each of its strings keeps this many characters.
     */
    static final int INPUT_STRING_CHARS = 1_024;

    private final JsonMapper json;

    EventCaps(JsonMapper json) {
        this.json = json;
    }

    AgentEvent agentText(String text) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("text", cut(text));
        if (text.length() > MAX_CHARS) {
            data.put("truncated", true);
            data.put("textChars", text.length());
        }
        return new AgentEvent("agent.text", data);
    }

    AgentEvent toolCall(String callId, String name, JsonNode input) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("callId", callId);
        data.put("name", name);
        JsonNode object = input.isObject() ? input : json.createObjectNode();
        int chars = json.writeValueAsString(object).length();
        if (chars <= MAX_CHARS) {
            data.put("input", object);
        }
        else {
            JsonNode shortened = shorten(object.deepCopy());
            data.put("input",
                    json.writeValueAsString(shortened).length() <= MAX_CHARS ? shortened : json.createObjectNode());
            data.put("truncated", true);
            data.put("inputChars", chars);
        }
        return new AgentEvent("tool.call", data);
    }

    AgentEvent toolResult(String callId, String output, boolean isError) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("callId", callId);
        data.put("output", cut(output));
        data.put("isError", isError);
        if (output.length() > MAX_CHARS) {
            data.put("truncated", true);
            data.put("outputChars", output.length());
        }
        return new AgentEvent("tool.result", data);
    }

    private static String cut(String text) {
        if (text.length() <= MAX_CHARS) {
            return text;
        }
        int end = MAX_CHARS;
        if (Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        return text.substring(0, end);
    }

    /** Every string of the tree cut to {@value #INPUT_STRING_CHARS} characters. */
    private static JsonNode shorten(JsonNode node) {
        if (node instanceof ObjectNode object) {
            for (var entry : object.properties()) {
                JsonNode value = entry.getValue();
                if (value.isString() && value.asString().length() > INPUT_STRING_CHARS) {
                    object.put(entry.getKey(), value.asString().substring(0, INPUT_STRING_CHARS) + "…");
                }
                else {
                    shorten(value);
                }
            }
        }
        else if (node.isArray()) {
            var array = (tools.jackson.databind.node.ArrayNode) node;
            for (int i = 0; i < array.size(); i++) {
                JsonNode value = array.get(i);
                if (value.isString() && value.asString().length() > INPUT_STRING_CHARS) {
                    array.set(i, value.asString().substring(0, INPUT_STRING_CHARS) + "…");
                }
                else {
                    shorten(value);
                }
            }
        }
        return node;
    }

}
