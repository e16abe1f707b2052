package dev.collab.workspace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import dev.collab.CollabProperties;
import dev.collab.ops.WritableDirectories;
import org.springframework.stereotype.Component;

/**
 * The workspace root and the per-session directories under it. Paths are only ever built
 * from a parsed {@link UUID}, never from raw request text. The root is checked at
 * startup: a root the server cannot write stops it with one clear line.
 */
@Component
public class Workspaces {

    private final Path root;

    private final boolean allowFileRepos;

    Workspaces(WorkspaceProperties properties, CollabProperties collab) {
        this.root = WritableDirectories.require(properties.rootUnder(collab.dataDir()), "collab.workspace.root");
        this.allowFileRepos = properties.allowFileRepos();
    }

    /**
     * Whether a project's repository may be a {@code file://} URL
     * ({@code collab.workspace.allow-file-repos}).
     */
    public boolean allowFileRepos() {
        return allowFileRepos;
    }

    public Path root() {
        return root;
    }

    /** The directory of a session (which may not exist). */
    public Path directoryOf(UUID sessionId) {
        return root.resolve(sessionId.toString());
    }

    /** Creates the session's directory; it exists when this returns. */
    public Path create(UUID sessionId) {
        Path directory = directoryOf(sessionId);
        try {
            return Files.createDirectories(directory);
        }
        catch (IOException e) {
            throw new UncheckedIOException("Cannot create workspace " + directory, e);
        }
    }

}
