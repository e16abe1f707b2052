/**
 * Identity and access: who the caller is and what they may do.
 * <p>
 * Owns the {@code users}, {@code access_tokens}, {@code project_members},
 * {@code login_failures}, {@code setup_tokens} and {@code audit_log} tables and Spring
 * Session JDBC's {@code spring_session} tables (all in {@code V6__access.sql}); the one
 * Spring Security filter chain ({@code SecurityConfiguration}: the browser session
 * cookie, bearer personal access tokens, CSRF cookie-to-header for cookie writes, the
 * {@code Origin} check, security headers); {@code /api/auth/*} (login, logout, setup),
 * {@code /api/me}, {@code /api/tokens} and {@code /api/users}; login throttling (in
 * PostgreSQL, so every replica counts the same failures); the first-admin bootstrap
 * ({@code collab.auth.first-admin.*} or a one-time setup link in the log), the cleanup of
 * expired browser sessions, and {@code collab_auth_logins_total} (logins by outcome).
 * <p>
 * Offers {@link dev.collab.access.ProjectAccess} (the caller, their role in a project,
 * the projects they see; {@code project} calls it when a project is created) with
 * {@link dev.collab.access.Role} and {@link dev.collab.access.CurrentUser}, and
 * {@link dev.collab.access.Audit} to record who did what. Everything else is
 * package-private. Depends on {@code web} (problems, the database-failure
 * classification), {@code api} (the problems its operations document), {@code ops} (a
 * startup check that fails with one clear line) and {@code cluster} (the invalidations of
 * its token and role cache, {@code AuthCache}, reach every replica) only: it knows
 * projects by key, never the features that use it, so that every feature may depend on it
 * without a cycle.
 * <p>
 * Also offers {@link dev.collab.access.AccessGrants} with
 * {@link dev.collab.access.AccessGrant}: what a long-lived request (a live stream) was
 * authorised with, and which of many such grants no longer hold, in one query.
 */
@NullMarked
package dev.collab.access;

import org.jspecify.annotations.NullMarked;
