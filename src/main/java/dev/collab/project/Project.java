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
 * @param busyPolicy what a send to a busy session does: {@code reject} or {@code queue}
 * @param createdAt when it was first created
 */
@Table("projects")
public record Project(@Id String key, String name, @Schema(types = {
        "string", "null" }) @Nullable String repoUrl,
        @Schema(allowableValues = { ProjectSettings.MEMBERS, ProjectSettings.ADMINS }) String approvers,
        @Schema(allowableValues = { ProjectSettings.REJECT, ProjectSettings.QUEUE }) String busyPolicy,
        Instant createdAt){

    /**
     * Whether these settings change nothing (an absent {@code approvers} or
     * {@code busyPolicy} keeps it).
     */
    boolean hasSettings(ProjectSettings settings) {
        return name.equals(settings.name()) && java.util.Objects.equals(repoUrl, settings.repoUrl())
                && (settings.approvers() == null || approvers.equals(settings.approvers()))
                && (settings.busyPolicy() == null || busyPolicy.equals(settings.busyPolicy()));
    }

    /**
     * The same project (key, creation time) with these settings; an absent
     * {@code approvers} or {@code busyPolicy} is kept.
     */
    Project with(ProjectSettings settings) {
        String approvers = settings.approvers();
        String busyPolicy = settings.busyPolicy();
        return new Project(key, settings.name(), settings.repoUrl(), approvers == null ? this.approvers : approvers,
                busyPolicy == null ? this.busyPolicy : busyPolicy, createdAt);
    }

    /**
     * Whether only the project's admins (not its members too) decide its agents' requests
     * for permission.
     */
    public boolean onlyAdminsApprove() {
        return ProjectSettings.ADMINS.equals(approvers);
    }

    /**
     * Whether a send to a busy session waits in the session's queue (rather than getting
     * {@code 409 session-busy}).
     */
    public boolean queuesWhileBusy() {
        return ProjectSettings.QUEUE.equals(busyPolicy);
    }
}
