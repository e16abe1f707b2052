/**
 * The HTTP rules every endpoint shares: problem+json errors, request ids, the access log
 * and the shape of requests.
 * <p>
 * Owns the servlet filters (request id, access log, request shape, body size, drain
 * during shutdown, Actuator links, problem bodies for empty errors), the error pages
 * (Spring's and Jetty's own), strict JSON and UTF-8 reading, canonical UUIDs, the
 * request-head deadline, and the same rules on the management port. No table and no
 * endpoint of its own.
 * <p>
 * Offers {@link dev.collab.web.ApiException} with its {@link dev.collab.web.ProblemCode}
 * (how a feature answers a request it cannot serve), {@link dev.collab.web.Problems} (how
 * a feature's own {@code @RestControllerAdvice} answers its domain exceptions),
 * {@link dev.collab.web.QueryParameters}, {@link dev.collab.web.Text} (the rules of
 * client strings), and {@link dev.collab.web.DatabaseFailures},
 * {@link dev.collab.web.DatabaseBusyException} and
 * {@link dev.collab.web.DatabaseReachability} (busy or unreachable, answered as a
 * retryable 503; {@code database} implements the last). Depends on no other module: every
 * feature may use it.
 */
@NullMarked
package dev.collab.web;

import org.jspecify.annotations.NullMarked;
