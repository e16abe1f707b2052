package dev.collab;

import java.nio.file.Path;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings shared by every feature.
 *
 * @param dataDir where the built-in database files and, by default, the workspaces live
 *                ({@code collab.data-dir}, default {@code ~/.collab})
 */
@ConfigurationProperties("collab")
public record CollabProperties(Path dataDir) {

    public CollabProperties {
        if (dataDir == null) {
            dataDir = Path.of(System.getProperty("user.home"), ".collab");
        }
        dataDir = dataDir.toAbsolutePath().normalize();
    }
}
