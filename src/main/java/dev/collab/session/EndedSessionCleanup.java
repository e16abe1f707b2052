package dev.collab.session;

import dev.collab.workspace.WorkspaceCleanup;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;

/** After a session has ended (committed), its workspace goes, in the background. */
@Component
class EndedSessionCleanup {

    private final WorkspaceCleanup cleanup;

    EndedSessionCleanup(WorkspaceCleanup cleanup) {
        this.cleanup = cleanup;
    }

    @TransactionalEventListener
    void onEnded(SessionEnded ended) {
        cleanup.removeLater(ended.sessionId());
    }

}
