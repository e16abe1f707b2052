package dev.collab.stream;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import dev.collab.access.AccessGrant;
import dev.collab.access.AccessGrants;
import dev.collab.access.ProjectAccess;
import dev.collab.access.Role;
import dev.collab.web.ApiException;
import dev.collab.web.DatabaseFailures;
import dev.collab.web.QueryParameters;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The live session list of a project (Server-Sent Events): see docs/api.md. */
@RestController
class SessionListController {

    static final int DEFAULT_LIMIT = 50;

    static final int MAX_LIMIT = 200;

    private static final Logger log = LoggerFactory.getLogger(SessionListController.class);

    private final SessionListHub hub;

    private final ProjectAccess access;

    private final AccessGrants grants;

    private final StreamReads reads;

    private final DatabaseFailures databaseFailures;

    private final StreamProperties properties;

    SessionListController(SessionListHub hub, ProjectAccess access, AccessGrants grants, StreamReads reads,
            DatabaseFailures databaseFailures, StreamProperties properties) {
        this.hub = hub;
        this.access = access;
        this.grants = grants;
        this.reads = reads;
        this.databaseFailures = databaseFailures;
        this.properties = properties;
    }

    @Operation(summary = "A project's live session list (Server-Sent Events): the first page, then what changes")
    @ApiResponse(responseCode = "200", description = "`retry: 3000`, then `event: snapshot` (`id: <list version>`, "
            + "`data: {\"items\": [Session…], \"nextCursor\"}`: the first page as the list gives it) or, resumed with "
            + "Last-Event-ID, `event: sessions` with what changed meanwhile; then `event: sessions` "
            + "(`data: {\"items\": [Session…]}`, at most one per 250 ms, with an `id:` when the list version moved), "
            + "`: ping` comments. When the database is busy or unreachable before the first message, only "
            + "`retry: <ms>` and the end",
            content = @Content(mediaType = "text/event-stream", schema = @Schema(type = "string")))
    @GetMapping(path = "/api/projects/{key}/sessions/stream")
    void stream(@PathVariable @Parameter(schema = @Schema(pattern = dev.collab.project.ProjectKey.PATTERN)) String key,
            @RequestParam(required = false) @Parameter(schema = @Schema(type = "integer", format = "int32",
                    minimum = "1", maximum = "" + MAX_LIMIT, defaultValue = "" + DEFAULT_LIMIT)) @Nullable String limit,
            @RequestHeader(name = "Last-Event-ID", required = false) @Parameter(
                    description = "the list version to resume after; anything else gets a snapshot") @Nullable String lastEventId,
            @Parameter(hidden = true) HttpServletRequest request,
            @Parameter(hidden = true) HttpServletResponse response) throws IOException {
        int pageSize = QueryParameters.limit(limit, DEFAULT_LIMIT, MAX_LIMIT);
        try {
            open(key, pageSize, resumeFrom(lastEventId), request, response);
        }
        catch (RuntimeException e) {
            java.util.Optional<Duration> retry = databaseFailures.retryAfter(e);
            if (retry.isEmpty() || response.isCommitted()) {
                throw e;
            }
            StreamController.retryLater(retry.get(), request, response);
        }
    }

    /** The version to resume after, or -1 (a snapshot) for none or anything invalid. */
    static long resumeFrom(@Nullable String lastEventId) {
        if (lastEventId == null || lastEventId.isBlank() || lastEventId.length() > 18) {
            return -1;
        }
        try {
            long version = Long.parseLong(lastEventId.trim());
            return version >= 0 ? version : -1;
        }
        catch (NumberFormatException e) {
            return -1;
        }
    }

    private void open(String key, int limit, long after, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        // A viewer's read; a non-member gets the 404 of an unknown project, as the list.
        reads.read("access",
                () -> access.requireRole(key, Role.VIEWER, () -> ApiException.notFound("No project '" + key + "'.")));
        AccessGrant grant = grants.current(key, request);
        ListStream stream = new ListStream(key, access.currentUser().id(), grant);
        // Registered before anything is read: a change from here on reaches it.
        hub.watch(stream);
        boolean live = false;
        try {
            ListStream.@Nullable Message first = after < 0 ? null : hub.resume(stream, after, limit);
            if (first == null) {
                first = hub.snapshot(stream, limit);
            }
            if (!StreamController.streamHeaders(request, response)) {
                return;
            }
            AsyncContext async = request.startAsync();
            async.setTimeout(0); // ended by the stream: shutdown, age, a failed write
            ListStream.Message opening = first;
            long age = properties.maxConnectionAge().toNanos();
            // Up to 10 % earlier at random: lists opened together do not all reconnect
            // at once.
            long deadline = System.nanoTime() + age - ThreadLocalRandom.current().nextLong(age / 10 + 1);
            var out = StreamController.unwrapped(response).getOutputStream();
            Thread.ofVirtual().name("session-list-stream").start(() -> {
                try {
                    stream.run(out, opening, properties.heartbeat().toNanos(), deadline);
                }
                catch (IOException | RuntimeException e) {
                    // The client went away or stopped reading: it resumes with
                    // Last-Event-ID.
                    log.debug("Session list stream of {} ended: {}", key, e.toString());
                }
                finally {
                    hub.unwatch(stream);
                    try {
                        async.complete();
                    }
                    catch (RuntimeException e) {
                        // the container ended it already
                    }
                }
            });
            live = true;
        }
        finally {
            if (!live) {
                hub.unwatch(stream);
            }
        }
    }

}
