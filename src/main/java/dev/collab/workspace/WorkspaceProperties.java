package dev.collab.workspace;

import java.nio.file.Path;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Where session workspaces live ({@code collab.workspace.*}, docs/configuration.md).
 *
 * @param root one directory per session, named by the session id; in team mode all
 * replicas share it (EFS). Unset: the workspaces directory under collab.data-dir
 * @param allowFileRepos whether a project's repoUrl may be a file:// URL (a repository on
 * the server's own disk): for tests and single-user setups, never on a shared server
 */
@ConfigurationProperties("collab.workspace")
record WorkspaceProperties(@Nullable Path root, @DefaultValue("false") boolean allowFileRepos) {

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
