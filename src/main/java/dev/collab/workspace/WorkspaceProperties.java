package dev.collab.workspace;

import java.nio.file.Path;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Where session workspaces live ({@code collab.workspace.*}, docs/configuration.md).
 *
 * @param root one directory per session, named by the session id; in team mode all
 * replicas share it (EFS). Unset: the workspaces directory under collab.data-dir
 */
@ConfigurationProperties("collab.workspace")
record WorkspaceProperties(@Nullable Path root) {

    /**
     * The root to use. The one place that derives the default
     * ({@code <collab.data-dir>/workspaces}): a {@code @DefaultValue} cannot refer to
     * another setting, and a placeholder in application.yaml would be a second place for
     * defaults.
     */
    Path rootUnder(Path dataDir) {
        return (root != null ? root : dataDir.resolve("workspaces")).toAbsolutePath().normalize();
    }
}
