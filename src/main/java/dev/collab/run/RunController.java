package dev.collab.run;

import java.util.Map;
import java.util.UUID;

import dev.collab.session.Session;
import dev.collab.session.SessionEndedException;
import dev.collab.session.SessionNotFoundException;
import dev.collab.session.SessionState;
import dev.collab.session.Sessions;
import dev.collab.api.ProblemResponses;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import dev.collab.web.ProblemCode;
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

    RunController(Sessions sessions, AgentRunner runner) {
        this.sessions = sessions;
        this.runner = runner;
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
        Session session = sessions.find(id).orElseThrow(() -> new SessionNotFoundException(id));
        if (session.state() == SessionState.ENDED) {
            throw new SessionEndedException(id, "Session " + id + " has ended.");
        }
        UUID runId = runner.interrupt(id);
        return runId == null ? ResponseEntity.noContent().build()
                : ResponseEntity.status(HttpStatus.ACCEPTED).body(Map.of("runId", runId));
    }

}
