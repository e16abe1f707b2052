/**
 * The stored event log: every session's append-only, gap-free sequence of events in
 * PostgreSQL.
 * <p>
 * Owns the {@code events} table and the log's columns of {@code sessions}
 * ({@code head_seq}, {@code last_activity_at}, {@code log_closed}), the group commit of
 * appends made outside a transaction, and the history endpoint {@code GET
 * /api/sessions/{id}/events}.
 * <p>
 * Offers {@link dev.collab.event.EventLog} (append, read, head),
 * {@link dev.collab.event.Event}, {@link dev.collab.event.LogClosedException} (the log
 * ended with {@code session.ended}) and {@link dev.collab.event.AppendObserver}, through
 * which the live streams learn of each committed append without the log knowing them.
 * Depends only on {@code web} (query parameters, problems): writers ({@code session},
 * {@code message}, {@code run}) and readers ({@code stream}) depend on the log, never the
 * other way round.
 */
@NullMarked
package dev.collab.event;

import org.jspecify.annotations.NullMarked;
