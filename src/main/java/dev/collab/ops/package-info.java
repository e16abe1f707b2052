/**
 * What operators need from every module: startup checks, background health, log format,
 * the shutdown order, and the metrics of readiness and of requests.
 * <p>
 * Offers {@link dev.collab.ops.StartupCheckException} (a setting that cannot work stops
 * the server with one clear line, which {@code StartupFailureAnalyzer} prints),
 * {@link dev.collab.ops.WritableDirectories},
 * {@link dev.collab.ops.BackgroundHealthIndicator} (health that never runs on the request
 * path, incident 1), {@link dev.collab.ops.BackgroundRead} (a value for metrics and
 * operator endpoints read from the database in the background, never on a scrape) and
 * {@link dev.collab.ops.ShutdownOrder}, the phases of all long-running work in one place.
 * Exports {@code collab_health_readiness} and its changes ({@code ReadinessMetrics}) and
 * keeps the active-requests timer free of the latency buckets
 * ({@code ActiveRequestsMeterFilter}). Owns no table and no endpoint. Depends on no other
 * module, so that every module may use it.
 */
@NullMarked
package dev.collab.ops;

import org.jspecify.annotations.NullMarked;
