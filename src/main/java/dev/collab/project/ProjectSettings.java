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
 */
record ProjectSettings(@NotBlank @Size(max = 200) String name, @Schema(types = {
        "string", "null" }) @Size(max = 2048) @Pattern(regexp = RepositoryUrls.PATTERN,
                message = RepositoryUrls.ALLOWED) @Nullable String repoUrl){
}
