package dev.collab.session;

import java.util.UUID;

/**
 * Published inside the transaction that creates a session (its workspace already exists), so
 * a listener can append to the same transaction (for example the {@code session.created} event).
 */
public record SessionCreated(UUID sessionId, String project, String title) {
}
