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

    /**
     * The types a person would want to know are new in a session they are not looking at
     * (issue 16's unread count): a message, a finished run, a request for permission.
     * {@code sessions.notable_count} counts them; output and the rest do not count.
     */
    public static final java.util.List<String> NOTABLE_TYPES = java.util.List.of("message", "run.finished",
            "approval.requested");

    /**
     * {@link #NOTABLE_TYPES} as an SQL list, {@code ('message', …)}, for statements that
     * count them (constants: nothing to escape). The V13 migration's partial index on
     * {@code events} has the same list: change both together.
     */
    public static final String NOTABLE_TYPES_SQL = NOTABLE_TYPES.stream()
        .map(type -> "'" + type + "'")
        .collect(java.util.stream.Collectors.joining(", ", "(", ")"));

}
