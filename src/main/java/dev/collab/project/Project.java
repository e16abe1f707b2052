package dev.collab.project;

import java.time.Instant;

import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import org.springframework.data.annotation.Id;
import org.springframework.data.relational.core.mapping.Table;

/**
 * A project groups sessions. Aggregate root identified by its client-chosen key.
 *
 * @param key {@code ^[a-z0-9][a-z0-9._-]{0,63}$}
 * @param name display name
 * @param repoUrl the repository the agents work on, or {@code null}
 * @param approvers who decides an agent's requests for permission: {@code members} (role
 * member or admin) or {@code admins}
 * @param createdAt when it was first created
 */
@Table("projects")
public record Project(@Id String key, String name, @Schema(types = {
        "string", "null" }) @Nullable String repoUrl,
        @Schema(allowableValues = { ProjectSettings.MEMBERS, ProjectSettings.ADMINS }) String approvers,
        Instant createdAt){

    /** Whether these settings change nothing (an absent {@code approvers} keeps it). */
    boolean hasSettings(ProjectSettings settings) {
        return name.equals(settings.name()) && java.util.Objects.equals(repoUrl, settings.repoUrl())
                && (settings.approvers() == null || approvers.equals(settings.approvers()));
    }

    /**
     * The same project (key, creation time) with these settings; an absent
     * {@code approvers} is kept.
     */
    Project with(ProjectSettings settings) {
        String approvers = settings.approvers();
        return new Project(key, settings.name(), settings.repoUrl(), approvers == null ? this.approvers : approvers,
                createdAt);
    }

    /**
     * Whether only the project's admins (not its members too) decide its agents' requests
     * for permission.
     */
    public boolean onlyAdminsApprove() {
        return ProjectSettings.ADMINS.equals(approvers);
    }
}
