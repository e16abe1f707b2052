package dev.collab.checkout;

import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import dev.collab.access.Role;
import dev.collab.api.ProblemResponses;
import dev.collab.session.Sessions;
import dev.collab.web.ProblemCode;
import io.swagger.v3.oas.annotations.Operation;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /api/sessions/{id}/diff}: see docs/api.md. */
@RestController
class DiffController {

    private final Sessions sessions;

    private final Diffs diffs;

    DiffController(Sessions sessions, Diffs diffs) {
        this.sessions = sessions;
        this.diffs = diffs;
    }

    /**
     * Answered asynchronously: git runs on the diff pool, the request's thread is free
     * meanwhile.
     */
    @Operation(summary = "The workspace's changes against the commit its clone started from (viewer)")
    @ProblemResponses({ ProblemCode.NOT_FOUND, ProblemCode.DIFF_TIMEOUT })
    @GetMapping(path = "/api/sessions/{id}/diff", produces = "application/json")
    CompletableFuture<Diff> diff(@PathVariable UUID id) {
        return diffs.diff(sessions.require(id, Role.VIEWER));
    }

}
