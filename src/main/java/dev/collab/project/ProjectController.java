package dev.collab.project;

import java.util.List;

import dev.collab.access.ProjectAccess;
import dev.collab.access.Role;
import dev.collab.api.ProblemResponses;
import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import dev.collab.workspace.Workspaces;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import jakarta.validation.Valid;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code /api/projects}: see docs/api.md. */
@RestController
@RequestMapping(path = "/api/projects", produces = "application/json")
class ProjectController {

    private final Projects projects;

    private final ProjectAccess access;

    private final Workspaces workspaces;

    ProjectController(Projects projects, ProjectAccess access, Workspaces workspaces) {
        this.projects = projects;
        this.access = access;
        this.workspaces = workspaces;
    }

    /**
     * Creates (201) or updates (200) a project. With {@code If-None-Match: *} the call
     * only creates: an existing project with other settings is a
     * {@code 409 project-exists}.
     */
    @Operation(summary = "Create or update a project")
    @ApiResponse(responseCode = "201", description = "Created",
            headers = @Header(name = "Location", required = true, description = "/api/projects/{key}",
                    schema = @Schema(type = "string")))
    @ApiResponse(responseCode = "200", description = "It exists with the same settings, or was updated")
    // 404: the project exists and the caller is not a member of it.
    @ProblemResponses({ ProblemCode.PROJECT_EXISTS, ProblemCode.NOT_FOUND })
    @PutMapping(path = "/{key}", consumes = "application/json")
    ResponseEntity<Project> put(@PathVariable @Parameter(schema = @Schema(pattern = ProjectKey.PATTERN)) String key,
            @Valid @RequestBody ProjectSettings settings,
            @RequestHeader(name = "If-None-Match", required = false) @Parameter(
                    description = "`*`: create only (an existing project with other settings is a 409)") @Nullable String ifNoneMatch) {
        ProjectKey.require(key);
        if (settings.repoUrl() != null && RepositoryUrls.isFile(settings.repoUrl()) && !workspaces.allowFileRepos()) {
            throw ApiException.invalid("repoUrl", RepositoryUrls.FILE_NOT_ALLOWED);
        }
        boolean createOnly = ifNoneMatch != null && ifNoneMatch.trim().equals("*");
        Projects.Saved saved = projects.save(key, settings, createOnly);
        return switch (saved.outcome()) {
            case CREATED -> ResponseEntity.status(HttpStatus.CREATED)
                .header("Location", "/api/projects/" + key)
                .body(saved.project());
            case UPDATED, UNCHANGED -> ResponseEntity.ok(saved.project());
        };
    }

    @Operation(summary = "The caller's projects (every project, for a server admin), ordered by key")
    @GetMapping
    ProjectList list() {
        return new ProjectList(projects.visible());
    }

    @Operation(summary = "One project")
    @GetMapping("/{key}")
    Project get(@PathVariable @Parameter(schema = @Schema(pattern = ProjectKey.PATTERN)) String key) {
        ProjectKey.require(key);
        access.requireRole(key, Role.VIEWER, () -> new ProjectNotFoundException(key));
        return projects.find(key).orElseThrow(() -> new ProjectNotFoundException(key));
    }

    record ProjectList(List<Project> items) {
    }

}
