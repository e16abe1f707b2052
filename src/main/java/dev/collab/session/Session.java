package dev.collab.session;

import java.time.Instant;
import java.util.UUID;

/**
 * A session as clients see it.
 *
 * @param headSeq      seq of the last event in the session's log, 0 if none
 * @param currentRunId the run in progress, or {@code null}
 */
public record Session(UUID id, String project, String title, SessionState state, Instant createdAt,
        Instant lastActivityAt, long headSeq, UUID currentRunId) {
}
