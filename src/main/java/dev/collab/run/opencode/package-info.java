/**
 * The {@code opencode} protocol's driver: talks to an {@code opencode serve} process
 * started by the runner in the session's workspace, over its loopback HTTP API with the
 * per-run password (create or reuse the opencode session, subscribe to {@code /event},
 * send the prompt, answer permission requests), and turns its events into
 * {@link dev.collab.run.AgentEvent}s until the session goes idle.
 * <p>
 * Internal to {@code run}: uses only the JDK's HTTP client, Jackson, {@code AgentEvent}
 * and {@code ApprovalGate} ({@link dev.collab.run.opencode.Approvals}); the runner gives
 * it the process (started with {@link dev.collab.run.opencode.OpencodeDriver#environment}
 * and {@link dev.collab.run.opencode.OpencodeDriver#serveArguments}), its stdout as the
 * runner's reader reads it ({@link dev.collab.run.opencode.OpencodeDriver.Stdout}), the
 * password, the stored opencode session id and the approval gate (the runner's
 * {@code OpencodeProtocol}; docs/runner.md, section "opencode").
 */
@NullMarked
package dev.collab.run.opencode;

import org.jspecify.annotations.NullMarked;
