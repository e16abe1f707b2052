package dev.collab.event;

import java.util.List;
import java.util.UUID;

import dev.collab.access.ProjectAccess;
import dev.collab.access.Role;
import dev.collab.web.ApiException;
import dev.collab.web.QueryParameters;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * A session's event history: see docs/api.md (the live stream is the stream module's).
 */
@RestController
class EventController {

    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;

    private final EventLog eventLog;

    private final ProjectAccess access;

    EventController(EventLog eventLog, ProjectAccess access) {
        this.eventLog = eventLog;
        this.access = access;
    }

    @Operation(summary = "A session's events with seq > after, ascending")
    @GetMapping(path = "/api/sessions/{id}/events", produces = MediaType.APPLICATION_JSON_VALUE)
    History history(@PathVariable UUID id,
            @RequestParam(required = false) @Parameter(schema = @Schema(type = "integer", format = "int64",
                    minimum = "0", maximum = "999999999999999999", defaultValue = "0")) @Nullable String after,
            @RequestParam(required = false) @Parameter(
                    schema = @Schema(type = "integer", format = "int32", minimum = "1", maximum = "" + MAX_LIMIT,
                            defaultValue = "" + DEFAULT_LIMIT)) @Nullable String limit) {
        long from = QueryParameters.seq("after", after);
        int size = QueryParameters.limit(limit, DEFAULT_LIMIT, MAX_LIMIT);
        EventLog.SessionOfProject session = eventLog.sessionOfProject(id).orElseThrow(() -> notFound(id));
        // A viewer's read; a non-member gets the 404 of an unknown session.
        access.requireRole(session.project(), Role.VIEWER, () -> notFound(id));
        return new History(eventLog.read(id, from, size), session.headSeq());
    }

    private static ApiException notFound(UUID id) {
        return ApiException.notFound("No session " + id + ".");
    }

    record History(List<Event> items, long headSeq) {
    }

}
