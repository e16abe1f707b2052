/**
 * The project's repository in a session's workspace, and the diff of what the agent
 * changed there.
 * <p>
 * Owns the {@code checkouts} table (per session: the repository URL, the branch
 * {@code collab/<session-id>}, the base commit, preparing / ready / failed), the clone as
 * the first step of a run ({@link dev.collab.checkout.Checkouts#prepare}, called by
 * {@code run} before the agent starts: git CLI without a shell, a scratch environment,
 * credentials from {@code collab.workspace.git.*} for the git process only, bounded in
 * time and size, killed with its process tree when the run stops) with its
 * {@code workspace.preparing} / {@code workspace.ready} events, and {@code GET
 * /api/sessions/{id}/diff} (viewer), computed on a small pool of its own with a timeout,
 * on a temporary index, with the agent's hooks, filters and diff drivers off.
 * <p>
 * Offers {@link dev.collab.checkout.Checkouts} to {@code run}. Depends on {@code session}
 * (the session, its access check), {@code project} (the repository URL), {@code event}
 * (the appends), {@code workspace} (the directory), {@code access} (the role),
 * {@code web} and {@code api} (problems).
 */
@NullMarked
package dev.collab.checkout;

import org.jspecify.annotations.NullMarked;
