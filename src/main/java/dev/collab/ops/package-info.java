/**
 * What operators need from every module: startup checks, background health, log format
 * and the shutdown order.
 * <p>
 * Offers {@link dev.collab.ops.StartupCheckException} (a setting that cannot work stops
 * the server with one clear line, which {@code StartupFailureAnalyzer} prints),
 * {@link dev.collab.ops.WritableDirectories},
 * {@link dev.collab.ops.BackgroundHealthIndicator} (health that never runs on the request
 * path, incident 1) and {@link dev.collab.ops.ShutdownOrder}, the phases of all
 * long-running work in one place. Owns no table and no endpoint. Depends on no other
 * module, so that every module may use it.
 */
@NullMarked
package dev.collab.ops;

import org.jspecify.annotations.NullMarked;
