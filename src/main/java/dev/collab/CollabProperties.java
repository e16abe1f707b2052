package dev.collab;

import java.nio.file.Path;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings shared by every feature ({@code collab.*}, docs/configuration.md). Each
 * feature has a record of its own for the rest, with its defaults in
 * {@code @DefaultValue}.
 *
 * @param dataDir where the built-in database files, its PostgreSQL binaries and, by
 * default, the workspaces live. Unset: .collab in the home directory of the user running
 * the server
 */
@ConfigurationProperties("collab")
public record CollabProperties(Path dataDir) {

    /**
     * The one place that derives the default data directory ({@code ~/.collab}): a
     * {@code @DefaultValue} cannot refer to the user's home directory. The built-in
     * database binds this record before the context exists (BuiltInPostgresStartup), so
     * it gets the same default.
     */
    public CollabProperties {
        if (dataDir == null) {
            dataDir = Path.of(System.getProperty("user.home"), ".collab");
        }
        dataDir = dataDir.toAbsolutePath().normalize();
    }
}
