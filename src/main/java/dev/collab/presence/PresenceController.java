package dev.collab.presence;

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
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import org.jspecify.annotations.Nullable;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** {@code /api/sessions/{id}/presence}: who is watching a session (docs/api.md). */
@RestController
class PresenceController {

    /** Watchers in the answer of GET. */
    static final int MAX_WATCHERS = 200;

    private final Presence presence;

    private final Sessions sessions;

    private final ProjectAccess access;

    PresenceController(Presence presence, Sessions sessions, ProjectAccess access) {
        this.presence = presence;
        this.sessions = sessions;
        this.access = access;
    }

    @Operation(summary = "Who is watching the session now (project viewer+): each person once, newest first, "
            + "at most 200 of them")
    @GetMapping(path = "/api/sessions/{id}/presence", produces = "application/json")
    PresenceView get(@PathVariable UUID id) {
        sessions.require(id, Role.VIEWER);
        return presence.read(id, MAX_WATCHERS);
    }

    @Operation(summary = "Mark the caller's open streams of the session active or idle (project viewer+)")
    @ApiResponse(responseCode = "204", description = "Marked (also when the caller has no open stream of it)")
    @ProblemResponses({ ProblemCode.VALIDATION_FAILED, ProblemCode.NOT_FOUND })
    @PutMapping(path = "/api/sessions/{id}/presence", consumes = "application/json")
    ResponseEntity<Void> mark(@PathVariable UUID id, @RequestBody StateBody body) {
        // Authorised first: a non-member gets the 404 of an unknown session, whatever the
        // body.
        Session session = sessions.require(id, Role.VIEWER);
        String state = body.state();
        if (!"active".equals(state) && !"idle".equals(state)) {
            throw ApiException.invalid("state", "must be active or idle");
        }
        presence.mark(id, session.project(), access.currentUser().id(), "active".equals(state));
        return ResponseEntity.noContent().build();
    }

    /** {@code PUT} body. */
    record StateBody(@Schema(allowableValues = {
            "active", "idle" }, requiredMode = Schema.RequiredMode.REQUIRED) @Nullable String state){
    }

}
