/**
 * Unread counts: how far each person has read each session, and how many notable events
 * (a message, a finished run, a request for permission) came after that.
 * <p>
 * Owns the {@code read_positions} table, {@code PUT /api/sessions/{id}/read}, the
 * {@code unread} and {@code readSeq} fields of a session's JSON (a per-user
 * {@code session.SessionDetails}: one query per page) and the {@code collab_reads} NOTIFY
 * channel, on which every instance learns that a person's read position moved and
 * publishes {@code session.SessionListChanged} for that person locally (their live
 * lists). The count itself ({@code sessions.notable_count}) is kept by the event log's
 * appends, in their own statements ({@code event.Event.NOTABLE_TYPES}).
 * <p>
 * Depends on {@code session} (the session, its JSON, the change event), {@code event}
 * (the notable types), {@code cluster} (the notifications), {@code access} (the caller
 * and their role), {@code web} and {@code api} (problems, the OpenAPI annotations).
 */
@NullMarked
package dev.collab.unread;

import org.jspecify.annotations.NullMarked;
