/**
 * Presence: who is watching a session now, across instances, never in the event log.
 * <p>
 * Owns the {@code presence} table (UNLOGGED: one row per open live stream), {@code GET
 * /api/sessions/{id}/presence}, {@code PUT /api/sessions/{id}/presence} (active or idle),
 * the {@code presence} messages on the session stream, the {@code presence} field of a
 * session's JSON (a {@code session.SessionDetails}) and the {@code collab.presence.*}
 * settings. Implements {@code stream}'s {@link dev.collab.stream.StreamWatchers}: the
 * streams of this instance that open and close are written in batches, with one NOTIFY on
 * {@code collab_presence} (through {@code cluster}) naming the sessions; every instance
 * then tells its live lists ({@code session.SessionListChanged}) and sends its streams of
 * those sessions who is watching, at most once per session per 250 ms. Rows of an
 * instance that died expire: each instance renews its own every heartbeat and deletes any
 * past the expiry.
 * <p>
 * Depends on {@code stream} (the SPI it implements, the messages it sends), {@code
 * session} (the session, its JSON, the list's change event), {@code cluster} (the
 * notifications), {@code access} (the caller and their role), {@code ops} (the shutdown
 * order), {@code web} and {@code api} (problems, the OpenAPI annotations).
 */
@NullMarked
package dev.collab.presence;

import org.jspecify.annotations.NullMarked;
