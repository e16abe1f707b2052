package dev.collab.run;

import java.util.Map;

/**
 * One typed event read from an agent's structured output, before it is appended to the
 * session's log: {@code agent.text}, {@code tool.call}, {@code tool.result},
 * {@code usage}, or {@code output} for a line that did not parse. The runner adds
 * {@code runId} to {@code data}.
 *
 * @param type the event type (docs/api.md)
 * @param data the event's data without {@code runId}
 */
public record AgentEvent(String type, Map<String, Object> data) {

    public AgentEvent {
        data = Map.copyOf(data);
    }

}
