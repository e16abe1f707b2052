/**
 * Sessions: the aggregate and its state machine (IDLE, RUNNING while a run is in
 * progress, ENDED for good), their lists and their end.
 * <p>
 * Owns the {@code sessions} table (but for the log's columns, which {@code event} keeps),
 * the endpoints {@code /api/projects/{key}/sessions} (create, keyset-paginated list) and
 * {@code /api/sessions/{id}} (get, {@code DELETE} to end), and retention: sessions idle
 * longer than {@code collab.session.end-idle-after} are ended by {@code IdleSessions}.
 * Ending is one explicit step in one transaction: the run in progress is finished through
 * {@link dev.collab.session.InterruptedRuns} (implemented by {@code run}), then the
 * modules above cancel what waits for the session through
 * {@link dev.collab.session.SessionEnding} (the message queue), then
 * {@code session.ended} is appended as the log's last event; after the commit
 * {@link dev.collab.session.SessionEnded} lets the run module stop the processes and this
 * module remove the workspace.
 * <p>
 * Offers {@link dev.collab.session.Sessions}, {@link dev.collab.session.Session},
 * {@link dev.collab.session.SessionState} and those two hooks. Depends on {@code project}
 * (a session belongs to one), {@code event} (its log), {@code workspace} (its directory;
 * it implements {@code WorkspaceOwners} so the sweeper knows live sessions without
 * depending on this module) and {@code web}.
 */
@NullMarked
package dev.collab.session;

import org.jspecify.annotations.NullMarked;
