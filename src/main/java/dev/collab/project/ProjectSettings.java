package dev.collab.project;

import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import org.jspecify.annotations.Nullable;

/**
 * The body of {@code PUT /api/projects/{key}}.
 *
 * @param name 1..200 characters, not blank
 * @param repoUrl a repository URL ({@code https://…}, {@code ssh://…},
 * {@code user@host:path}, {@code file://…} where allowed: {@link RepositoryUrls}) or null
 * @param approvers who decides the agents' requests for permission, {@code members} (role
 * member or admin) or {@code admins}; null: {@code members} for a new project, unchanged
 * for an existing one
 * @param busyPolicy what a send to a busy session does: {@code reject} (409
 * {@code session-busy}) or {@code queue} (it waits for the run in progress); null:
 * {@code queue} for a new project, unchanged for an existing one
 */
record ProjectSettings(@NotBlank @Size(max = 200) String name, @Schema(types = {
        "string", "null" }) @Size(max = 2048) @Pattern(regexp = RepositoryUrls.PATTERN,
                message = RepositoryUrls.ALLOWED) @Nullable String repoUrl,
        @Schema(types = { "string", "null" }, pattern = "^(members|admins)$",
                description = "`members` (role member or admin) or `admins`; absent or null: `members` for a new "
                        + "project, unchanged for an existing one") @Pattern(regexp = "^(members|admins)$",
                                message = "must be members or admins") @Nullable String approvers,
        @Schema(types = { "string", "null" }, pattern = "^(reject|queue)$",
                description = "`reject` (a send to a busy session gets 409 session-busy) or `queue` (it waits); "
                        + "absent or null: `queue` for a new project, unchanged for an existing one") @Pattern(
                                regexp = "^(reject|queue)$",
                                message = "must be reject or queue") @Nullable String busyPolicy){

    /** {@code approvers}: the project's members (role member or admin) decide. */
    static final String MEMBERS = "members";

    /** {@code approvers}: only the project's admins decide. */
    static final String ADMINS = "admins";

    /** {@code busyPolicy}: a send to a busy session gets {@code 409 session-busy}. */
    static final String REJECT = "reject";

    /** {@code busyPolicy}: a send to a busy session waits in the session's queue. */
    static final String QUEUE = "queue";

}
