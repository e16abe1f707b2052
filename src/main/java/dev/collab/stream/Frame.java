package dev.collab.stream;

import java.nio.charset.StandardCharsets;

import dev.collab.event.Event;
import tools.jackson.databind.json.JsonMapper;

/**
 * An event with its SSE message already encoded: the hub encodes each live event once and
 * every stream of the session writes the same bytes (5,000 watchers must not mean 5,000
 * serializations).
 */
record Frame(Event event, byte[] bytes) {

    static Frame of(Event event, JsonMapper json) {
        String message = "id: " + event.seq() + "\nevent: " + event.type() + "\ndata: " + json.writeValueAsString(event)
                + "\n\n";
        return new Frame(event, message.getBytes(StandardCharsets.UTF_8));
    }

    long seq() {
        return event.seq();
    }
}
