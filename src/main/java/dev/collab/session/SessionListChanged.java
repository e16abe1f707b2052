package dev.collab.session;

import java.util.UUID;

import org.jspecify.annotations.Nullable;

/**
 * Something a project's session list shows changed without an event being appended to the
 * session's log (who is watching, a read position): published as a Spring application
 * event, locally, on every instance that learns of it (the module that owns the change
 * tells the other instances itself). The live session list listens. Changes that come
 * with an append (state, title, head, activity, queue length) are signalled by the stream
 * module's append notifications instead.
 *
 * @param project the session's project
 * @param sessionId the session whose list entry changed
 * @param userId the only user whose view of it changed (their read position), or
 * {@code null} when it changed for everyone (who is watching)
 */
public record SessionListChanged(String project, UUID sessionId, @Nullable UUID userId) {
}
