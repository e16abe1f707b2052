package dev.collab.access;

import java.util.List;

import dev.collab.api.ProblemResponses;
import dev.collab.web.ProblemCode;
import dev.collab.web.QueryParameters;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/audit}: the audit log, newest first, for server admins (the filter
 * chain admits only them). Details are not part of the answer: only who, what, when and
 * from where.
 */
@RestController
class AuditController {

    static final int DEFAULT_LIMIT = 50;

    static final int MAX_LIMIT = 200;

    private final AuditLog log;

    AuditController(AuditLog log) {
        this.log = log;
    }

    @Operation(summary = "The audit log, newest first (server admins)")
    @ProblemResponses(ProblemCode.FORBIDDEN)
    @GetMapping(path = "/api/audit", produces = "application/json")
    AuditPage list(
            @RequestParam(required = false) @Parameter(schema = @Schema(type = "integer", format = "int32",
                    minimum = "1", maximum = "" + MAX_LIMIT, defaultValue = "" + DEFAULT_LIMIT)) @Nullable String limit,
            @RequestParam(required = false) @Parameter(
                    description = "opaque: the `nextCursor` of the page before") @Nullable String cursor) {
        int pageSize = QueryParameters.limit(limit, DEFAULT_LIMIT, MAX_LIMIT);
        AuditCursor after = cursor == null || cursor.isEmpty() ? null : AuditCursor.decode(cursor);
        AuditLog.Page page = log.page(after, pageSize);
        return new AuditPage(page.items(), page.nextCursor());
    }

    record AuditPage(List<AuditLog.Entry> items, @Schema(types = {
            "string", "null" }) @Nullable String nextCursor){
    }

}
