package dev.collab.access;

import java.util.List;

import dev.collab.api.ProblemResponses;
import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /api/projects/{key}/members}: who may do what in a project (docs/api.md).
 * Viewers list; project admins add, change and remove.
 */
@RestController
class MemberController {

    private final Members members;

    MemberController(Members members) {
        this.members = members;
    }

    @Operation(summary = "The project's members, ordered by login (project viewer+)")
    @ProblemResponses(ProblemCode.FORBIDDEN)
    @GetMapping(path = "/api/projects/{key}/members", produces = "application/json")
    MemberList list(@PathVariable @Parameter(schema = @Schema(pattern = Members.KEY_PATTERN)) String key) {
        return new MemberList(members.list(key));
    }

    @Operation(summary = "Add a user to the project or change their role (project admin)")
    @ApiResponse(responseCode = "200", description = "Changed (or unchanged)")
    @ApiResponse(responseCode = "201", description = "Added")
    @ProblemResponses({ ProblemCode.FORBIDDEN, ProblemCode.NOT_FOUND, ProblemCode.LAST_ADMIN })
    @PutMapping(path = "/api/projects/{key}/members/{login}", consumes = "application/json",
            produces = "application/json")
    ResponseEntity<Members.Member> put(
            @PathVariable @Parameter(schema = @Schema(pattern = Members.KEY_PATTERN)) String key,
            @PathVariable @Parameter(schema = @Schema(pattern = Users.LOGIN_PATTERN)) String login,
            @RequestBody MemberRole body) {
        Role role = Role.ofSlug(body.role());
        if (role == null) {
            throw ApiException.invalid("role", "must be one of viewer, member, admin");
        }
        Members.Change change = members.put(key, login, role);
        return ResponseEntity.status(change.added() ? HttpStatus.CREATED : HttpStatus.OK).body(change.member());
    }

    @Operation(summary = "Remove a user from the project (project admin); a non-member is also 204")
    @ApiResponse(responseCode = "204", description = "Removed, or was not a member")
    @ProblemResponses({ ProblemCode.FORBIDDEN, ProblemCode.LAST_ADMIN })
    @DeleteMapping("/api/projects/{key}/members/{login}")
    ResponseEntity<Void> remove(@PathVariable @Parameter(schema = @Schema(pattern = Members.KEY_PATTERN)) String key,
            @PathVariable @Parameter(schema = @Schema(pattern = Users.LOGIN_PATTERN)) String login) {
        members.remove(key, login);
        return ResponseEntity.noContent().build();
    }

    record MemberList(List<Members.Member> items) {
    }

    /** {@code PUT} body. */
    record MemberRole(@Schema(allowableValues = {
            "viewer", "member", "admin" }, requiredMode = Schema.RequiredMode.REQUIRED) @Nullable String role){
    }

}
