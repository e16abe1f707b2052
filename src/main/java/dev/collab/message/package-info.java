/**
 * Sends: {@code POST /api/sessions/{id}/messages}, which starts a run or, while one is in
 * progress, queues the message; and the queue, {@code /api/sessions/{id}/queue}.
 * <p>
 * Owns the {@code idempotency_keys} table (a retried send with the same
 * {@code Idempotency-Key} gets the first answer; keys are purged after 24 hours), the
 * {@code queued_messages} table (messages waiting for a session's run to end, in
 * acceptance order) and the send transaction: claim the key, lock the session's row, flip
 * it IDLE to RUNNING, append {@code message} and {@code run.started}, record the run with
 * its lease; the agent starts after the commit. While a run is in progress, the project's
 * {@code busyPolicy} decides: {@code reject} is a 409, {@code queue} appends
 * {@code message.queued} ({@code collab.messages.max-queued}, {@code MessageProperties}).
 * The {@code collab_messages_queued} gauge counts the queued messages of the cluster in
 * the background ({@code QueuedMessagesGauge}).
 * <p>
 * Offers no types: it is the top of the dependency graph. Implements {@code run}'s
 * {@code WaitingMessages} (a run's end starts the next queued message, on that instance),
 * {@code session}'s {@code SessionEnding} (ending a session cancels its queue) and
 * {@code SessionDetails} ({@code queueLength}). Depends on {@code session} (the state
 * flip), {@code project} (the busy policy), {@code event} (the appends), {@code run} (the
 * run's row and its launch), {@code access} (roles, audit), {@code web} and {@code api}
 * (problems).
 */
@NullMarked
package dev.collab.message;

import org.jspecify.annotations.NullMarked;
