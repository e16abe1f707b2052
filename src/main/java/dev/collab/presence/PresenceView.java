package dev.collab.presence;

import java.util.List;
import java.util.UUID;

import dev.collab.session.SessionPresence;

/**
 * Who is watching a session: {@code GET /api/sessions/{id}/presence} and the session
 * stream's {@code presence} messages.
 *
 * @param count the number of people watching (each once, whatever their tabs)
 * @param watchers the most recently arrived of them, newest first (up to 200 here, 50 on
 * the stream)
 */
record PresenceView(UUID sessionId, int count, List<SessionPresence.Watcher> watchers) {
}
