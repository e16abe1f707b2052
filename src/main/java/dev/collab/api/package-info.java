/**
 * The OpenAPI document of the HTTP contract, served at {@code /v3/api-docs} by springdoc.
 * <p>
 * The document is generated from the controllers (their mappings, parameters, bodies and
 * return types) plus their annotations; what every operation shares (the problem
 * responses, the {@code X-Request-Id} header) and the Actuator endpoints the contract
 * names are added here, so nothing is written twice. The tests hold the server to the
 * document: every response an HTTP test gets is validated against it, and a fuzzing test
 * generates requests from it.
 * <p>
 * Offers other modules {@link dev.collab.api.ProblemResponses}, the annotation with which
 * a controller names the problems its operation can answer with. Depends on {@code web}
 * (the {@code ProblemCode}s the document lists) and on {@code workspace} (the
 * {@code SweepReport} of the sweeper's Actuator endpoint, whose schema it documents);
 * nothing depends on it at run time but springdoc.
 */
@NullMarked
package dev.collab.api;

import org.jspecify.annotations.NullMarked;
