/**
 * Live delivery of the log: a session's Server-Sent Events stream, {@code GET
 * /api/sessions/{id}/events/stream}, and a project's live session list, {@code GET
 * /api/projects/{key}/sessions/stream} (a snapshot of the first page, then the sessions
 * that changed, coalesced per 250 ms tick; resumable by list version).
 * <p>
 * Owns the streams (replay after the client's {@code Last-Event-ID}, capped with a
 * {@code gap} event, then live events and heartbeats with non-blocking output), the
 * per-instance fan-out hub (reads each new batch once for all the streams of a session,
 * keeps the most recent events in memory for reconnect storms, checks watched sessions'
 * heads periodically for lost notifications), the streams' bounded share of the
 * connection pool, the batched NOTIFY that tells other instances a session moved (ids and
 * seqs only, never payloads), the {@code streams} health component and the listen backlog
 * for reconnect storms. No table: what a stream sends is read from the log.
 * <p>
 * Plugs into the log as its {@code AppendObserver}. Offers other modules who watches
 * ({@link dev.collab.stream.StreamWatchers}, told of each stream that opens and closes,
 * with its user) and a way to send this instance's streams of a session a message without
 * an {@code id:} ({@link dev.collab.stream.SessionStreams}): the presence module uses
 * both. Depends on {@code event} (reads, the observer hook), {@code session} (the live
 * list's rows, list versions and views, and {@code SessionListChanged}), {@code cluster}
 * (the notifications), {@code web} (problems, database-busy answers) and {@code access}
 * (the viewer role a stream needs when it opens, and the periodic check, one query for
 * all open streams, that closes the streams whose users lost access).
 */
@NullMarked
package dev.collab.stream;

import org.jspecify.annotations.NullMarked;
