package dev.collab.approval;

import java.util.Map;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.node.StringNode;

/**
 * A tool's input as an approval shows it: whole up to {@link #MAX_CHARS} characters of
 * JSON, as {@code tool.call}'s input is capped; past that, its long strings are shortened
 * (the shape stays, so the person deciding still sees which file and which command), and
 * an input that is still too large becomes an empty object. An input that is not a JSON
 * object (agents send objects) is kept as {@code {"value": …}}; U+0000, which PostgreSQL
 * cannot store, is U+FFFD. A cut input is marked ({@code truncated}, {@code inputChars}:
 * the length of the whole one).
 *
 * @param input the input to show and keep
 * @param truncated whether it was cut
 * @param inputChars the length of the whole input's JSON
 */
record ApprovalInput(JsonNode input, boolean truncated, int inputChars) {

    /** At most this many characters of JSON, as {@code tool.call}'s input. */
    static final int MAX_CHARS = 65_536;

    /** Longest strings kept when the input is too large, tried in turn. */
    private static final int[] STRING_LIMITS = { 8_192, 1_024, 128 };

    static ApprovalInput of(JsonNode given, JsonMapper json) {
        // Always an object (docs/api.md): an agent's odd input is kept under "value".
        JsonNode object = given.isObject() ? given : json.createObjectNode().set("value", given);
        // PostgreSQL's jsonb cannot hold U+0000 (the approvals row, the event): an
        // agent's
        // input with it (a file's content, -print0) would fail the request instead of
        // asking a person. It becomes U+FFFD, as in the log's output.
        JsonNode input = json.writeValueAsString(object).contains("\\u0000") ? withoutNul(object, json) : object;
        int chars = json.writeValueAsString(input).length();
        if (chars <= MAX_CHARS) {
            return new ApprovalInput(input, false, chars);
        }
        for (int limit : STRING_LIMITS) {
            JsonNode shortened = shorten(input, limit, json);
            if (json.writeValueAsString(shortened).length() <= MAX_CHARS) {
                return new ApprovalInput(shortened, true, chars);
            }
        }
        return new ApprovalInput(json.createObjectNode(), true, chars);
    }

    /** The event's members for the input: {@code input}, and the marks of a cut one. */
    void addTo(Map<String, Object> data) {
        data.put("input", input);
        if (truncated) {
            data.put("truncated", true);
            data.put("inputChars", inputChars);
        }
    }

    private static JsonNode shorten(JsonNode node, int limit, JsonMapper json) {
        if (node.isString()) {
            String text = node.stringValue();
            // Not inside a surrogate pair: the cut text stays valid UTF-16.
            int end = limit;
            if (text.length() <= end) {
                return node;
            }
            if (Character.isHighSurrogate(text.charAt(end - 1))) {
                end--;
            }
            return StringNode.valueOf(text.substring(0, end) + "…");
        }
        if (node.isObject()) {
            ObjectNode copy = json.createObjectNode();
            for (Map.Entry<String, JsonNode> member : node.properties()) {
                copy.set(shortenName(member.getKey(), limit), shorten(member.getValue(), limit, json));
            }
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = json.createArrayNode();
            node.forEach(item -> copy.add(shorten(item, limit, json)));
            return copy;
        }
        return node;
    }

    /** The text with U+0000 replaced by U+FFFD (neither text nor jsonb can hold it). */
    static String withoutNul(String text) {
        return text.indexOf('\u0000') < 0 ? text : text.replace('\u0000', '\uFFFD');
    }

    private static JsonNode withoutNul(JsonNode node, JsonMapper json) {
        if (node.isString()) {
            return StringNode.valueOf(withoutNul(node.stringValue()));
        }
        if (node.isObject()) {
            ObjectNode copy = json.createObjectNode();
            for (Map.Entry<String, JsonNode> member : node.properties()) {
                copy.set(withoutNul(member.getKey()), withoutNul(member.getValue(), json));
            }
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = json.createArrayNode();
            node.forEach(item -> copy.add(withoutNul(item, json)));
            return copy;
        }
        return node;
    }

    private static String shortenName(String name, int limit) {
        return name.length() <= limit ? name : name.substring(0, limit) + "…";
    }

}
