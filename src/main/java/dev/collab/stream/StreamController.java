package dev.collab.stream;

import java.io.IOException;
import java.util.UUID;

import dev.collab.access.AccessGrant;
import dev.collab.access.AccessGrants;
import dev.collab.access.ProjectAccess;
import dev.collab.access.Role;
import dev.collab.event.EventLog;
import dev.collab.web.ApiException;
import dev.collab.web.DatabaseFailures;
import dev.collab.web.QueryParameters;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The live stream of a session (Server-Sent Events): see docs/api.md. */
@RestController
class StreamController {

    private final EventStreams streams;

    private final DatabaseFailures databaseFailures;

    private final ProjectAccess access;

    private final AccessGrants grants;

    private final StreamReads reads;

    StreamController(EventStreams streams, DatabaseFailures databaseFailures, ProjectAccess access, AccessGrants grants,
            StreamReads reads) {
        this.streams = streams;
        this.databaseFailures = databaseFailures;
        this.access = access;
        this.grants = grants;
        this.reads = reads;
    }

    /**
     * The live stream. The cursor is {@code Last-Event-ID} (what a browser's EventSource
     * sends when it reconnects), else {@code ?after=}, else 0.
     */
    @Operation(summary = "The live stream (Server-Sent Events): the events after the cursor, then live ones")
    @ApiResponse(responseCode = "200", description = "`retry: 3000`, then one SSE message per event (`id: <seq>`, "
            + "`event: <type>`, `data: <Event JSON>`), a `gap` event past the replay cap, `: ping` comments. When the "
            + "database is busy or unreachable before the first event, only `retry: <ms>` (1000 busy, 5000 unreachable) "
            + "and the end, never a 503: the client resumes with Last-Event-ID",
            content = @Content(mediaType = "text/event-stream", schema = @Schema(type = "string")))
    @ApiResponse(responseCode = "204",
            description = "The session ended and the client has all of it: stop reconnecting")
    @GetMapping(path = "/api/sessions/{id}/events/stream")
    void stream(@PathVariable UUID id,
            @RequestHeader(name = "Last-Event-ID", required = false) @Parameter(
                    description = "the cursor; wins over " + "`after`",
                    schema = @Schema(type = "integer", format = "int64", minimum = "0",
                            maximum = "999999999999999999")) @Nullable String lastEventId,
            @RequestParam(required = false) @Parameter(schema = @Schema(type = "integer", format = "int64",
                    minimum = "0", maximum = "999999999999999999", defaultValue = "0")) @Nullable String after,
            @Parameter(hidden = true) HttpServletRequest request,
            @Parameter(hidden = true) HttpServletResponse response) throws IOException {
        long cursor = lastEventId != null && !lastEventId.isBlank() ? QueryParameters.seq("Last-Event-ID", lastEventId)
                : QueryParameters.seq("after", after);
        try {
            openStream(id, cursor, request, response);
        }
        catch (RuntimeException e) {
            java.util.Optional<java.time.Duration> retry = databaseFailures.retryAfter(e);
            if (retry.isEmpty() || response.isCommitted()) {
                throw e;
            }
            retryLater(retry.get(), request, response);
        }
    }

    private void openStream(UUID id, long cursor, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        // Authorised when it opens (a viewer's read; a non-member gets the 404 of an
        // unknown session). The session's project is one look-up shared by the streams of
        // the session that open together (EventStreams.project); the caller's membership
        // is
        // a primary-key read in one turn of the streams' reads, so that a reconnect storm
        // of
        // thousands of streams does not borrow as many pooled connections at once.
        String project = streams.project(id).orElseThrow(() -> notFound(id));
        reads.read("access", () -> access.requireRole(project, Role.VIEWER, () -> notFound(id)));
        // Authorised now; what with is checked again periodically (StreamAccessCheck),
        // and the stream is closed once that no longer holds.
        AccessGrant grant = grants.current(project, request);
        EventLog.SessionHead head = streams.sessionHead(id, cursor).orElseThrow(() -> notFound(id));
        if (head.ended() && cursor >= head.headSeq()) {
            // Everything of an ended session is with the client: 204 tells EventSource to
            // stop reconnecting.
            response.setStatus(HttpServletResponse.SC_NO_CONTENT);
            return;
        }
        // A cursor from the future (a restored database) is treated as the head: nothing
        // is skipped.
        cursor = Math.min(cursor, head.headSeq());
        if (!streamHeaders(request, response)) {
            return;
        }
        try {
            streams.stream(id, cursor, head.headSeq(), grant, access.caller().orElse(null), request,
                    unwrapped(response));
        }
        catch (IOException e) {
            // The client went away: it resumes with Last-Event-ID.
        }
    }

    /**
     * Sets a stream's status and headers; false for a HEAD, which gets the headers a GET
     * would and no stream (it has no body to stream into).
     */
    static boolean streamHeaders(HttpServletRequest request, HttpServletResponse response) {
        response.setStatus(HttpServletResponse.SC_OK);
        response.setContentType("text/event-stream;charset=UTF-8");
        response.setHeader("Cache-Control", "no-cache, no-store");
        response.setHeader("X-Accel-Buffering", "no");
        return !"HEAD".equals(request.getMethod());
    }

    /**
     * The database is busy or unreachable before the stream's first byte: 200 with a
     * {@code retry:} and the end, not a 503, which a browser's EventSource treats as
     * final (it never reconnects). The client comes back after the delay with its
     * Last-Event-ID; nothing is lost. Counted by the pool's and the read queue's timeout
     * metrics.
     */
    static void retryLater(java.time.Duration retry, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        response.resetBuffer();
        if (!streamHeaders(request, response)) {
            return;
        }
        try {
            var out = response.getOutputStream();
            out.write(("retry: " + retry.toMillis() + "\n: the database is busy or unreachable; resume later\n\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.flush();
        }
        catch (IOException e) {
            // The client went away.
        }
    }

    /**
     * The response without Spring MVC's async-lifecycle wrapper, which takes a lock on
     * every write to guard writes after an async request that Spring started completed;
     * the stream does its own async processing (the servlet API's, not Spring's) and
     * never writes after completing it. Other wrappers (filters') stay.
     */
    static ServletResponse unwrapped(ServletResponse response) {
        while (response instanceof ServletResponseWrapper wrapper
                && wrapper.getClass().getName().startsWith(SPRING_ASYNC_WRAPPERS)) {
            response = wrapper.getResponse();
        }
        return response;
    }

    private static ApiException notFound(UUID id) {
        return ApiException.notFound("No session " + id + ".");
    }

    private static final String SPRING_ASYNC_WRAPPERS = "org.springframework.web.context.request.async.";

}
