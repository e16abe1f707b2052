/**
 * Workspaces: one directory per session under the workspace root, their safe removal and
 * the orphan sweeper.
 * <p>
 * Owns the workspace root (checked writable at startup) and its quarantine directory, the
 * delete that never follows a link, the root's binding to one database (the marker file
 * and the {@code installation} table's id), and the sweeper: deferred after boot, capped
 * per run, one instance at a time (an advisory lock on a dedicated connection), on its
 * own threads, guarded against a wrong database, so that health never waits for it
 * (incident 1). Its Actuator endpoint is {@code /actuator/sweeper}; the {@code workspace}
 * and {@code sweeper} health components are here. Owns the {@code sweep_runs} table: the
 * reports of every instance's sweeps, which {@code SweepHistory} writes under the sweep
 * lock and reads back in the background for the cluster's view and gauges.
 * <p>
 * Offers {@link dev.collab.workspace.Workspaces} (a session's directory),
 * {@link dev.collab.workspace.WorkspaceCleanup} (remove one in the background),
 * {@link dev.collab.workspace.WorkspaceOwners} (implemented by {@code session}, so the
 * sweeper knows live sessions while this module stays below {@code session}) and
 * {@link dev.collab.workspace.SweepReport}. Depends on {@code database} (a dedicated
 * connection) and {@code ops}.
 */
@NullMarked
package dev.collab.workspace;

import org.jspecify.annotations.NullMarked;
