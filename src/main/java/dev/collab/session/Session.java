package dev.collab.session;

import java.time.Instant;
import java.util.UUID;

import io.swagger.v3.oas.annotations.media.Schema;
import org.springframework.data.annotation.Id;
import org.springframework.data.relational.core.mapping.Column;
import org.springframework.data.relational.core.mapping.Table;
import org.jspecify.annotations.Nullable;

/**
 * A session as clients see it; the aggregate root of a session's row, read through
 * {@link SessionRepository}. Its writes are conditional UPDATEs in {@link Sessions} (see
 * there).
 *
 * @param headSeq seq of the last event in the session's log, 0 if none
 * @param currentRunId the run in progress, or {@code null}
 */
@Table("sessions")
public record Session(@Id UUID id, @Column("project_key") String project, @Schema(types = {
        "string", "null" }) @Nullable String title, SessionState state, Instant createdAt, Instant lastActivityAt,
        long headSeq, @Schema(types = { "string", "null" }, format = "uuid") @Nullable UUID currentRunId){
}
