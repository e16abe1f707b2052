/**
 * The {@code opencode} protocol's driver: talks to an {@code opencode serve} process
 * started by the runner in the session's workspace, over its loopback HTTP API with the
 * per-run password (create or reuse the opencode session, subscribe to {@code /event},
 * send the prompt, answer permission requests), and turns its events into
 * {@link dev.collab.run.AgentEvent}s until the session goes idle.
 * <p>
 * Internal to {@code run}: uses only the JDK's HTTP client, Jackson and
 * {@code AgentEvent}; the runner gives it the process, the password, the stored opencode
 * session id and a way to ask for permission (docs/runner.md, section "opencode").
 */
@NullMarked
package dev.collab.run.opencode;

import org.jspecify.annotations.NullMarked;
