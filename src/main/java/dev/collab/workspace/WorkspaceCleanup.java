package dev.collab.workspace;

import java.util.UUID;

import org.springframework.stereotype.Component;

/** Public entry point for removing a session's workspace in the background. */
@Component
public class WorkspaceCleanup {

    private final WorkspaceRemoval removal;

    WorkspaceCleanup(WorkspaceRemoval removal) {
        this.removal = removal;
    }

    /** Moves the workspace into quarantine and deletes it, off the caller's thread. */
    public void removeLater(UUID sessionId) {
        removal.removeInBackground(sessionId);
    }

}
