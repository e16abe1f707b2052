package dev.collab.run;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import dev.collab.access.Audit;
import dev.collab.access.ProjectAccess;
import dev.collab.access.Role;
import dev.collab.session.Session;
import dev.collab.session.SessionEndedException;
import dev.collab.session.SessionState;
import dev.collab.session.Sessions;
import dev.collab.api.ProblemResponses;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import dev.collab.web.ProblemCode;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code POST /api/sessions/{id}/interrupt}: see docs/api.md. */
@RestController
class RunController {

    private final Sessions sessions;

    private final AgentRunner runner;

    private final ProjectAccess access;

    private final Audit audit;

    RunController(Sessions sessions, AgentRunner runner, ProjectAccess access, Audit audit) {
        this.sessions = sessions;
        this.runner = runner;
        this.access = access;
        this.audit = audit;
    }

    /**
     * 202 with the run that was asked to stop, 204 when nothing runs; never a 5xx for a
     * process already gone.
     */
    @Operation(summary = "Interrupt the run in progress")
    @ApiResponse(responseCode = "202", description = "The run was asked to stop; it ends `interrupted`",
            content = @Content(mediaType = "application/json",
                    schema = @Schema(ref = "#/components/schemas/InterruptAccepted")))
    @ApiResponse(responseCode = "204", description = "Nothing was running", content = @Content)
    @ProblemResponses(ProblemCode.SESSION_ENDED)
    @PostMapping(path = "/api/sessions/{id}/interrupt", produces = "application/json")
    ResponseEntity<Map<String, UUID>> interrupt(@PathVariable UUID id) {
        Session session = sessions.require(id, Role.MEMBER);
        if (session.state() == SessionState.ENDED) {
            throw new SessionEndedException(id, "Session " + id + " has ended.");
        }
        // The request is audited, not its effect: before the stop is sent, also when
        // nothing runs (runId null). A failing audit insert fails the request before
        // anything was stopped, so the client's retry is audited and stops the run.
        UUID runId = runner.interrupt(id, access.currentUser().login(), found -> {
            Map<String, @Nullable Object> details = new HashMap<>();
            details.put("runId", found == null ? null : found.toString());
            audit.record("run.interrupted", "session:" + id, details);
        });
        return runId == null ? ResponseEntity.noContent().build()
                : ResponseEntity.status(HttpStatus.ACCEPTED).body(Map.of("runId", runId));
    }

}
