package dev.collab.session;

import java.time.Instant;
import java.util.UUID;

import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/**
 * A session as clients see it.
 *
 * @param headSeq      seq of the last event in the session's log, 0 if none
 * @param currentRunId the run in progress, or {@code null}
 */
public record Session(UUID id, String project, @Schema(types = {"string", "null"}) @Nullable String title, SessionState state, Instant createdAt,
        Instant lastActivityAt, long headSeq,
        @Schema(types = {"string", "null"}, format = "uuid") @Nullable UUID currentRunId) {
}
