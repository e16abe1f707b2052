package dev.collab.event;

import java.util.Map;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PostgreSQL's {@code jsonb} cannot store U+0000: the log replaces it with U+FFFD
 * wherever it is, also inside a JSON tree (an agent's tool input), instead of failing the
 * append (which the runner would retry forever).
 */
@IntegrationTest
class EventLogNulTest {

    @Autowired
    EventLog eventLog;

    @Autowired
    Api api;

    @Test
    void nulInsideAToolInputBecomesTheReplacementCharacter() {
        UUID session = api.newSession(api.newProject("nul"));
        JsonNode input = Api.JSON.readTree("""
                {"command": "find . -print0\\u0000", "args": ["a\\u0000b", {"k\\u0000": "v"}]}
                """);

        Event event = eventLog.append(session, "tool.call",
                Map.of("runId", UUID.randomUUID().toString(), "callId", "c1", "name", "Bash\u0000", "input", input));

        JsonNode stored = api.get("/api/sessions/" + session + "/events?after=" + (event.seq() - 1))
            .json()
            .get("items")
            .get(0)
            .get("data");
        assertThat(stored.get("name").asString()).isEqualTo("Bash\uFFFD");
        assertThat(stored.get("input").get("command").asString()).isEqualTo("find . -print0\uFFFD");
        assertThat(stored.get("input").get("args").get(0).asString()).isEqualTo("a\uFFFDb");
        assertThat(stored.get("input").get("args").get(1).get("k\uFFFD").asString()).isEqualTo("v");
    }

}
