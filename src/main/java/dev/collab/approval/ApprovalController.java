package dev.collab.approval;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import dev.collab.access.ProjectAccess;
import dev.collab.access.Role;
import dev.collab.api.ProblemResponses;
import dev.collab.project.Project;
import dev.collab.project.Projects;
import dev.collab.session.Session;
import dev.collab.session.SessionNotFoundException;
import dev.collab.session.Sessions;
import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /api/sessions/{id}/approvals}: the agent's requests for permission, and a
 * person's decision on one (docs/api.md).
 */
@RestController
class ApprovalController {

    private final Approvals approvals;

    private final Sessions sessions;

    private final Projects projects;

    private final ProjectAccess access;

    ApprovalController(Approvals approvals, Sessions sessions, Projects projects, ProjectAccess access) {
        this.approvals = approvals;
        this.sessions = sessions;
        this.projects = projects;
        this.access = access;
    }

    @Operation(summary = "The session's requests for permission, in request order (project viewer+; "
            + "at most the 1,000 most recent)")
    @GetMapping(path = "/api/sessions/{id}/approvals", produces = "application/json")
    ApprovalList list(@PathVariable UUID id, @RequestParam(required = false) @Parameter(
            description = "`pending`: only those waiting for a decision; `all` (the default): every one",
            schema = @Schema(allowableValues = { "pending", "all" }, defaultValue = "all")) @Nullable String state) {
        boolean pendingOnly = switch (state == null || state.isEmpty() ? "all" : state) {
            case "pending" -> true;
            case "all" -> false;
            default -> throw ApiException.invalid("state", "must be pending or all");
        };
        sessions.require(id, Role.VIEWER);
        return new ApprovalList(approvals.list(id, pendingOnly).stream().map(ApprovalView::of).toList());
    }

    @Operation(summary = "Allow or deny a request for permission (a project member, or only a project admin when "
            + "the project's approvers are admins)")
    @ProblemResponses({ ProblemCode.FORBIDDEN, ProblemCode.APPROVAL_DECIDED })
    @PostMapping(path = "/api/sessions/{id}/approvals/{approvalId}", consumes = "application/json",
            produces = "application/json")
    Approvals.Decided decide(@PathVariable UUID id, @PathVariable UUID approvalId, @RequestBody DecisionBody body) {
        Session session = sessions.require(id, Role.VIEWER);
        Project project = projects.find(session.project()).orElseThrow(() -> new SessionNotFoundException(id));
        access.requireRole(session.project(), project.onlyAdminsApprove() ? Role.ADMIN : Role.MEMBER,
                () -> new SessionNotFoundException(id));
        String decision = body.decision();
        if (!"allow".equals(decision) && !"deny".equals(decision)) {
            throw ApiException.invalid("decision", "must be allow or deny");
        }
        return approvals.decide(id, approvalId, "allow".equals(decision), access.currentUser().login());
    }

    /** {@code POST} body. */
    record DecisionBody(@Schema(allowableValues = {
            "allow", "deny" }, requiredMode = Schema.RequiredMode.REQUIRED) @Nullable String decision){
    }

    record ApprovalList(List<ApprovalView> items) {
    }

    /**
     * One request for permission.
     *
     * @param input the tool's input as the agent gave it (capped like
     * {@code approval.requested}'s)
     * @param decision null while it waits
     * @param by the login of who decided; null while it waits, and when nobody did
     * @param reason {@code timeout} or {@code run-ended} when nobody decided; else null
     */
    record ApprovalView(UUID approvalId, UUID runId, String tool, @Schema(types = {
            "object" }, description = "the tool's input") Object input, Instant requestedAt, Instant deadline,
            @Schema(types = { "string", "null" },
                    description = "`allow` or `deny`; null while it waits") @Nullable String decision,
            @Schema(types = { "string", "null" }) @Nullable String by,
            @Schema(types = { "string", "null" },
                    description = "`timeout` or `run-ended` when nobody decided; else null") @Nullable String reason,
            @Schema(types = { "string", "null" }, format = "date-time") @Nullable Instant decidedAt){

        static ApprovalView of(Approvals.Row row) {
            return new ApprovalView(row.approvalId(), row.runId(), row.tool(), row.input(), row.requestedAt(),
                    row.deadline(), row.decision(), row.decidedBy(), row.reason(), row.decidedAt());
        }

    }

}
