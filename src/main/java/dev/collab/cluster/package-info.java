/**
 * Messages between the instances of a cluster: PostgreSQL LISTEN/NOTIFY on one dedicated
 * connection per instance.
 * <p>
 * Owns that LISTEN connection, its reconnect with backoff and the {@code pg_notify}
 * sends; no table. Offers {@link dev.collab.cluster.ClusterNotifications}: a module
 * listens to its own channel (the streams to the log's "session moved" notifications, the
 * runner to its control commands) and sends on it; after a reconnect the callbacks
 * re-read whatever a lost notification could have been about, because delivery is best
 * effort by design: the database, not the notification, is the truth. Depends only on
 * {@code database} (a connection outside the pool). Its own module so that {@code stream}
 * and {@code run} share one connection without depending on each other.
 */
@NullMarked
package dev.collab.cluster;

import org.jspecify.annotations.NullMarked;
