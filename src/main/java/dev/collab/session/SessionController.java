package dev.collab.session;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

import dev.collab.access.ProjectAccess;
import dev.collab.access.Role;
import dev.collab.project.ProjectKey;
import dev.collab.project.ProjectNotFoundException;
import dev.collab.project.Projects;
import dev.collab.web.ApiException;
import dev.collab.web.QueryParameters;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Size;
import org.jspecify.annotations.Nullable;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Session endpoints: see docs/api.md. */
@RestController
class SessionController {

    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 200;

    /**
     * The {@code state} filter: a state's name in any case of ASCII letters (no
     * {@code (?i)}: the document's regex dialect lacks it).
     */
    static final String STATE_PATTERN = "^([Ii][Dd][Ll][Ee]|[Rr][Uu][Nn][Nn][Ii][Nn][Gg]|[Ee][Nn][Dd][Ee][Dd])$";

    private final Sessions sessions;

    private final Projects projects;

    private final ProjectAccess access;

    private final SessionViews views;

    SessionController(Sessions sessions, Projects projects, ProjectAccess access, SessionViews views) {
        this.views = views;
        this.sessions = sessions;
        this.projects = projects;
        this.access = access;
    }

    @Operation(summary = "Create a session (its workspace exists when 201 is sent)")
    @ApiResponse(responseCode = "201", description = "Created",
            headers = @Header(name = "Location", required = true, description = "/api/sessions/{id}",
                    schema = @Schema(type = "string")))
    @PostMapping(path = "/api/projects/{key}/sessions", consumes = "application/json", produces = "application/json")
    ResponseEntity<SessionView> create(
            @PathVariable @Parameter(schema = @Schema(pattern = ProjectKey.PATTERN)) String key,
            @Valid @RequestBody(required = false) @Nullable NewSession body) {
        ProjectKey.require(key);
        access.requireRole(key, Role.MEMBER, () -> new ProjectNotFoundException(key));
        Session session = sessions.create(key, body == null ? null : body.title());
        return ResponseEntity.created(URI.create("/api/sessions/" + session.id()))
            .body(views.view(session, access.currentUser().id()));
    }

    @Operation(summary = "A project's sessions, newest activity first (keyset-paginated)")
    @GetMapping(path = "/api/projects/{key}/sessions", produces = "application/json")
    SessionList list(@PathVariable @Parameter(schema = @Schema(pattern = ProjectKey.PATTERN)) String key,
            @RequestParam(required = false) @Parameter(schema = @Schema(type = "integer", format = "int32",
                    minimum = "1", maximum = "" + MAX_LIMIT, defaultValue = "" + DEFAULT_LIMIT)) @Nullable String limit,
            @RequestParam(required = false) @Parameter(
                    description = "opaque: the `nextCursor` of the page before") @Nullable String cursor,
            @RequestParam(required = false) @Parameter(description = "IDLE, RUNNING or ENDED, in any case",
                    schema = @Schema(type = "string", pattern = STATE_PATTERN)) @Nullable String state) {
        ProjectKey.require(key);
        // The hot list's one extra read: the caller's membership (primary key).
        access.requireRole(key, Role.VIEWER, () -> new ProjectNotFoundException(key));
        int pageSize = QueryParameters.limit(limit, DEFAULT_LIMIT, MAX_LIMIT);
        SessionState stateFilter = parseState(state);
        SessionCursor after = cursor == null || cursor.isEmpty() ? null : SessionCursor.decode(cursor);
        Sessions.Page page = sessions.page(key, stateFilter, after, pageSize, access.currentUser().id());
        // An empty page may mean "no such project": only then is the project looked up.
        if (page.items().isEmpty() && projects.find(key).isEmpty()) {
            throw new ProjectNotFoundException(key);
        }
        return new SessionList(page.items(), page.next() == null ? null : page.next().encode());
    }

    @Operation(summary = "One session")
    @GetMapping(path = "/api/sessions/{id}", produces = "application/json")
    SessionView get(@PathVariable UUID id) {
        return views.view(sessions.require(id, Role.VIEWER), access.currentUser().id());
    }

    @Operation(summary = "End a session (a second DELETE is also 204)")
    @ApiResponse(responseCode = "204",
            description = "Ended: a run in progress is interrupted, the workspace is removed " + "in the background")
    @DeleteMapping("/api/sessions/{id}")
    ResponseEntity<Void> end(@PathVariable UUID id) {
        sessions.require(id, Role.ADMIN);
        sessions.end(id, access.currentUser().login()).orElseThrow(() -> notFound(id));
        return ResponseEntity.noContent().build();
    }

    private static SessionNotFoundException notFound(UUID id) {
        return new SessionNotFoundException(id);
    }

    private static @Nullable SessionState parseState(@Nullable String state) {
        if (state == null || state.isEmpty()) {
            return null;
        }
        // ASCII letters in any case, nothing around them: toUpperCase alone would also
        // take "ıdle" (dotless i).
        if (state.matches(STATE_PATTERN)) {
            return SessionState.valueOf(state.toUpperCase(Locale.ROOT));
        }
        throw ApiException.invalid("state", "must be one of IDLE, RUNNING, ENDED");
    }

    record NewSession(@Schema(types = {
            "string", "null" }) @Size(max = 200) @Nullable String title){
    }

    record SessionList(List<SessionView> items, @Schema(types = {
            "string", "null" }) @Nullable String nextCursor){
    }

}
