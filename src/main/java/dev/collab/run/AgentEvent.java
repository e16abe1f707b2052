package dev.collab.run;

import java.util.Map;

/**
 * One typed event read from an agent's structured output, before it is appended to the
 * session's log: {@code agent.text}, {@code tool.call}, {@code tool.result},
 * {@code usage}, or {@code output} for a line that did not parse. The runner adds
 * {@code runId} to {@code data}.
 *
 * @param type the event type (docs/api.md)
 * @param data the event's data without {@code runId}; values may be null
 */
public record AgentEvent(String type, Map<String, Object> data) {

    public AgentEvent {
        // Unmodifiable, in the given order, and with nulls (usage's costUsd may be null).
        data = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(data));
    }

}
