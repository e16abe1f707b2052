/**
 * Identity and access: users (password and, later, OIDC logins), browser sessions (Spring
 * Session JDBC), personal access tokens, project membership and roles, login throttling,
 * the first-admin bootstrap and the audit log. Spring Security's filter chain
 * ({@code SecurityConfiguration}) authenticates every {@code /api/**} request; features
 * ask {@link dev.collab.access.ProjectAccess} whether the caller may act on a project and
 * record what they did through {@link dev.collab.access.Audit}. Everything else here is
 * package-private.
 */
package dev.collab.access;
