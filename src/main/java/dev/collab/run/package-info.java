/**
 * Agent runs: the configured command started for a message, its output streamed into the
 * log, and its end however it comes.
 * <p>
 * Owns the {@code runs} table (which run is in progress, on which instance, until when
 * its lease holds) and {@code agent_conversations} (the agent's own session id per collab
 * session, which the next run continues), the agent protocols
 * ({@code collab.runner.protocol}: {@code text}, {@code claude-code}; one
 * {@code AgentProtocol} bean each, turning structured output into typed events), the
 * runner (process without a shell in the session's workspace, allow-listed environment,
 * output batched into {@code output} events, process-tree kill on interrupt, timeout and
 * shutdown), lease renewal and the reaper of runs whose instance died
 * ({@code runner-lost}), the control channel to the instance that runs a run, and
 * {@code POST /api/sessions/{id}/interrupt}. Every run ends with {@code run.finished} and
 * the session back to IDLE, exactly once, whoever gets there first.
 * <p>
 * Offers {@link dev.collab.run.Runs} and {@link dev.collab.run.AgentRunner} to
 * {@code message}, which records and launches a run, and implements {@code session}'s
 * {@code InterruptedRuns}, so that ending a session finishes its run without
 * {@code session} depending on this module. Depends on {@code session} (the state),
 * {@code event} (the appends), {@code workspace} (the working directory),
 * {@code checkout} (the project's repository, cloned before the agent starts),
 * {@code cluster} (the control channel), {@code ops}, {@code web} and {@code api}. Asks
 * tool approvals of an {@link dev.collab.run.ApprovalGate}, which the approval module
 * implements, and starts a session's next queued message through
 * {@link dev.collab.run.WaitingMessages}, which the message module implements (when a run
 * ends, and as the lease check's safety net for idle sessions with waiting messages). The
 * sub-package {@code demo} is internal: the demo agent's main class, copied out and
 * started as its own JVM when no command is configured; the sub-package {@code opencode}
 * is the driver of the {@code opencode} protocol (opencode's HTTP server and event
 * stream).
 */
@NullMarked
package dev.collab.run;

import org.jspecify.annotations.NullMarked;
