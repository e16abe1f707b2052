/**
 * Sends: {@code POST /api/sessions/{id}/messages}, which starts a run.
 * <p>
 * Owns the {@code idempotency_keys} table (a retried send with the same
 * {@code Idempotency-Key} gets the first answer; keys are purged after 24 hours) and the
 * send transaction: claim the key, flip the session IDLE to RUNNING (busy is a 409),
 * append {@code message} and {@code run.started}, record the run with its lease; the
 * agent starts after the commit.
 * <p>
 * Offers no types: it is the top of the dependency graph. Depends on {@code session} (the
 * state flip), {@code event} (the appends), {@code run} (the run's row and its launch),
 * {@code web} and {@code api} (problems).
 */
@NullMarked
package dev.collab.message;

import org.jspecify.annotations.NullMarked;
