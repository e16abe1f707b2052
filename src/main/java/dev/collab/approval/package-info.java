/**
 * Approvals: an agent's requests for permission to use a tool, decided by a person (or
 * denied at a deadline, or when the run ends first).
 * <p>
 * Owns the {@code approvals} table, {@code GET /api/sessions/{id}/approvals} and
 * {@code POST /api/sessions/{id}/approvals/{approvalId}}, and the
 * {@code collab.runner.approval-timeout} setting. Implements {@code run}'s
 * {@link dev.collab.run.ApprovalGate}: the runner asks on the instance that runs the
 * agent and waits for the decision there, whichever instance the person's decision
 * reached; the decision travels over PostgreSQL NOTIFY on a channel of its own
 * ({@code collab_approvals}, through {@code cluster}), with a periodic database check as
 * the fallback, since NOTIFY is best effort.
 * <p>
 * Depends on {@code run} (the interface it implements), {@code event} (the
 * {@code approval.*} events), {@code session} (the session and its project),
 * {@code project} (who may decide: the project's {@code approvers}), {@code access} (the
 * caller's role, the audit log), {@code cluster} (the notifications), {@code web} and
 * {@code api} (problems).
 */
@NullMarked
package dev.collab.approval;

import org.jspecify.annotations.NullMarked;
