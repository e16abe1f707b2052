package dev.collab.event;

import java.time.Instant;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonRawValue;

/**
 * One entry of a session's event log, as clients see it.
 *
 * @param seq 1, 2, 3… per session, no gaps, no duplicates
 * @param data the type's payload, as stored (JSON text)
 */
public record Event(long seq, UUID sessionId, String type, Instant at, @JsonRawValue String data) {

    /** The first event of every session's log. */
    public static final String SESSION_CREATED = "session.created";

    /** The last event of an ended session's log: nothing is appended after it. */
    public static final String SESSION_ENDED = "session.ended";

}
