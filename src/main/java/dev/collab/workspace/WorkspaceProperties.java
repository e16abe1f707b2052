package dev.collab.workspace;

import java.nio.file.Path;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Where session workspaces live.
 *
 * @param root one directory per session, named by the session id ({@code collab.workspace.root},
 *             default {@code <collab.data-dir>/workspaces})
 */
@ConfigurationProperties("collab.workspace")
record WorkspaceProperties(@Nullable Path root) {
}
