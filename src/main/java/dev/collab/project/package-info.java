/**
 * Projects: the aggregate that groups sessions, identified by a client-chosen key.
 * <p>
 * Owns the {@code projects} table (a Spring Data JDBC repository) and
 * {@code /api/projects} (list, get, create or update with {@code PUT}). Offers
 * {@link dev.collab.project.Projects}, {@link dev.collab.project.Project} and
 * {@link dev.collab.project.ProjectKey} (the key rule, checked before any query), which
 * {@code session} uses to create sessions in a project. Depends on {@code web} and
 * {@code api} (problems), {@code access} (roles) and {@code workspace} (whether
 * {@code file://} repositories are allowed). {@code approval} reads a project's
 * {@code approvers} ({@link dev.collab.project.Project#onlyAdminsApprove}): who may
 * decide its agents' requests for permission; {@code message} reads its
 * {@code busyPolicy} ({@link dev.collab.project.Project#queuesWhileBusy}): whether a send
 * to a busy session waits in its queue or is refused.
 */
@NullMarked
package dev.collab.project;

import org.jspecify.annotations.NullMarked;
