package dev.collab.unread;

import java.util.UUID;

import dev.collab.access.ProjectAccess;
import dev.collab.access.Role;
import dev.collab.api.ProblemResponses;
import dev.collab.session.Session;
import dev.collab.session.Sessions;
import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code PUT /api/sessions/{id}/read}: the caller read the session up to a seq
 * (docs/api.md).
 */
@RestController
class ReadController {

    private final ReadPositions positions;

    private final Sessions sessions;

    private final ProjectAccess access;

    ReadController(ReadPositions positions, Sessions sessions, ProjectAccess access) {
        this.positions = positions;
        this.sessions = sessions;
        this.access = access;
    }

    @Operation(summary = "The caller read the session up to `seq` (project viewer+); never moves backwards")
    @ProblemResponses({ ProblemCode.VALIDATION_FAILED, ProblemCode.NOT_FOUND })
    @PutMapping(path = "/api/sessions/{id}/read", consumes = "application/json", produces = "application/json")
    ReadPositions.Position read(@PathVariable UUID id, @RequestBody ReadBody body) {
        // Authorised first: a non-member gets the 404 of an unknown session, whatever the
        // body.
        Session session = sessions.require(id, Role.VIEWER);
        Long seq = body.seq();
        if (seq == null || seq < 0 || seq > session.headSeq()) {
            throw ApiException.invalid("seq",
                    "must be a whole number from 0 to the session's headSeq (" + session.headSeq() + ")");
        }
        return positions.read(session, access.currentUser().id(), seq);
    }

    /** {@code PUT} body. */
    record ReadBody(
            @Schema(minimum = "0", format = "int64", requiredMode = Schema.RequiredMode.REQUIRED) @Nullable Long seq) {
    }

}
