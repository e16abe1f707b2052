package dev.collab.session;

import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Published inside the transaction that ends a session, once per session. Listeners
 * interrupt the run that was in progress ({@code interruptedRunId}, may be null) and
 * remove the workspace after commit.
 */
public record SessionEnded(UUID sessionId, @Nullable UUID interruptedRunId) {
}
