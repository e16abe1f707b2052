package dev.collab.stream;

import java.time.Instant;
import java.util.UUID;

import dev.collab.access.CurrentUser;

/**
 * One live stream of a session, as {@link StreamWatchers} are told of it.
 *
 * @param connectionId this stream's id (random, unique across instances)
 * @param sessionId the session it streams
 * @param project the session's project
 * @param user who opened it
 * @param since when it went live (to the microsecond, as the database keeps it)
 */
public record StreamWatch(UUID connectionId, UUID sessionId, String project, CurrentUser user, Instant since) {
}
