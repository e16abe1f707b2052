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
 * @param createdAt when it was first created
 */
@Table("projects")
public record Project(@Id String key, String name, @Schema(types = {
        "string", "null" }) @Nullable String repoUrl, Instant createdAt){

    boolean hasSettings(ProjectSettings settings) {
        return name.equals(settings.name()) && java.util.Objects.equals(repoUrl, settings.repoUrl());
    }

    /** The same project (key, creation time) with these settings. */
    Project with(ProjectSettings settings) {
        return new Project(key, settings.name(), settings.repoUrl(), createdAt);
    }
}
