package dev.collab.stream;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

import org.springframework.stereotype.Component;

/**
 * What other modules may do with this instance's live streams of a session: know whether
 * there are any, and send them a message that is not an event of the log (who is
 * watching).
 */
@Component
public class SessionStreams {

    private final StreamHub hub;

    SessionStreams(StreamHub hub) {
        this.hub = hub;
    }

    /** Whether this instance has a live stream of the session. */
    public boolean watched(UUID sessionId) {
        return hub.watched(sessionId);
    }

    /**
     * Sends {@code event: <type>} {@code data: <json>} to this instance's streams of the
     * session, WITHOUT an {@code id:} line (it is not an event of the log: a client's
     * Last-Event-ID stays where it was). The latest such message of a type replaces one
     * that a stream has not written yet (slow clients take no more memory for it), so it
     * suits state ("who is watching now"), not a sequence of changes. A stream still
     * replaying writes it once live.
     * @param type the SSE event name (lower-case letters, digits and dots)
     * @param json one line of JSON
     */
    public void send(UUID sessionId, String type, String json) {
        hub.sendUnnumbered(sessionId, type, frame(type, json));
    }

    /** The bytes of a message without an id (checked: one line of a known shape). */
    static byte[] frame(String type, String json) {
        if (!type.matches("[a-z0-9.]{1,40}") || json.indexOf('\n') >= 0 || json.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("Not an SSE message of one line: " + type);
        }
        return ("event: " + type + "\ndata: " + json + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

}
