package dev.collab.approval;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import static org.assertj.core.api.Assertions.assertThat;

/** How an approval shows a tool's input: whole when small, cut but shaped when large. */
class ApprovalInputTest {

    static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void aSmallInputIsKeptWhole() {
        ObjectNode input = JSON.createObjectNode().put("command", "ls -la");
        ApprovalInput shown = ApprovalInput.of(input, JSON);
        assertThat(shown.input()).isEqualTo(input);
        assertThat(shown.truncated()).isFalse();
        Map<String, Object> data = new LinkedHashMap<>();
        shown.addTo(data);
        assertThat(data).containsOnlyKeys("input");
    }

    @Test
    void aLargeInputKeepsItsShapeWithShortenedStrings() {
        ObjectNode input = JSON.createObjectNode().put("file_path", "/w/a.txt").put("content", "é".repeat(100_000));
        input.putArray("edits").add("x".repeat(70_000)).add(3);
        ApprovalInput shown = ApprovalInput.of(input, JSON);
        assertThat(shown.truncated()).isTrue();
        assertThat(shown.inputChars()).isEqualTo(JSON.writeValueAsString(input).length());
        assertThat(JSON.writeValueAsString(shown.input()).length()).isLessThanOrEqualTo(ApprovalInput.MAX_CHARS);
        assertThat(shown.input().get("file_path").asString()).isEqualTo("/w/a.txt");
        assertThat(shown.input().get("content").asString()).startsWith("éé").endsWith("…");
        assertThat(shown.input().get("edits").get(1).asInt()).isEqualTo(3);
        Map<String, Object> data = new LinkedHashMap<>();
        shown.addTo(data);
        assertThat(data).containsEntry("truncated", true).containsEntry("inputChars", shown.inputChars());
    }

    @Test
    void anInputOfManySmallMembersThatStillDoesNotFitIsEmpty() {
        ObjectNode input = JSON.createObjectNode();
        for (int i = 0; i < 20_000; i++) {
            input.put("k" + i, "v");
        }
        ApprovalInput shown = ApprovalInput.of(input, JSON);
        assertThat(shown.truncated()).isTrue();
        assertThat(shown.input().isObject()).isTrue();
        assertThat(shown.input().isEmpty()).isTrue();
    }

    @Test
    void anInputThatIsNoObjectIsKeptAsItsValue() {
        JsonNode input = JSON.getNodeFactory().stringNode("rm -rf /");
        ApprovalInput shown = ApprovalInput.of(input, JSON);
        assertThat(shown.input().get("value").asString()).isEqualTo("rm -rf /");
    }

    @Test
    void nulBecomesTheReplacementCharacter() {
        ObjectNode input = JSON.createObjectNode().put("content", "a\u0000b").put("k\u0000", "v");
        input.putArray("args").add("\u0000");
        ApprovalInput shown = ApprovalInput.of(input, JSON);
        assertThat(JSON.writeValueAsString(shown.input())).doesNotContain("\\u0000");
        assertThat(shown.input().get("content").asString()).isEqualTo("a\uFFFDb");
        assertThat(shown.input().get("k\uFFFD").asString()).isEqualTo("v");
        assertThat(shown.input().get("args").get(0).asString()).isEqualTo("\uFFFD");
        assertThat(shown.truncated()).isFalse();
    }

}
