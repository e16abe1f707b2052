/**
 * The database: built-in mode's embedded PostgreSQL and the checks every mode needs.
 * <p>
 * Owns the built-in PostgreSQL under {@code <collab.data-dir>/postgres} (its start,
 * overlapped with Spring's, its password and {@code pg_hba.conf}, its binaries unpacked
 * natively), the {@code COLLAB_DATABASE_URL} alias of the standard datasource URL, the
 * {@code db} health component (reachability and every migration applied, on a connection
 * of its own), the check that the pool commits automatically, and the transaction manager
 * (Spring Boot's, except that a rollback on a connection that already died is no failure:
 * PostgreSQL rolled the transaction back). The Flyway migrations themselves live in the
 * top-level {@code db/migration}.
 * <p>
 * Offers {@link dev.collab.database.DedicatedConnections}: connections outside the pool,
 * for LISTEN ({@code cluster}) and session-level advisory locks ({@code workspace}),
 * which must not go back to a pool. It implements {@code web}'s
 * {@code DatabaseReachability}, so the web layer tells an exhausted pool from a database
 * that is away without depending on this module, and uses {@code ops} for startup checks
 * and background health.
 */
@NullMarked
package dev.collab.database;

import org.jspecify.annotations.NullMarked;
