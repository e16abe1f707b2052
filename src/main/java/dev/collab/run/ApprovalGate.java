package dev.collab.run;

import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Where a run's agent asks a person for permission to use a tool (Claude Code's
 * permission prompt, opencode's permission API). Implemented by the {@code approval}
 * module; the runner asks and answers the agent with the decision, on the instance that
 * runs it, whichever instance the person's decision reached.
 */
public interface ApprovalGate {

    /**
     * Records a request ({@code approval.requested} in the session's log) and returns at
     * once; its decision completes later: a person's allow or deny, a deny once
     * {@code collab.runner.approval-timeout} passed, or a deny when the run ended first.
     * @param tool the tool's name as the agent gives it
     * @param input the tool's input as the agent gives it
     * @throws RuntimeException when the request cannot be recorded (the database is
     * unavailable): the caller denies the tool
     */
    Pending request(UUID sessionId, UUID runId, String tool, JsonNode input);

    /**
     * The run ended (however, on whichever instance): its requests still waiting are
     * closed, denied, with {@code approval.decided} events saying so. Called inside the
     * transaction that finishes the run, before its {@code run.finished}.
     */
    void runEnded(UUID sessionId, UUID runId);

    /** A request waiting for its decision. */
    interface Pending {

        /** The {@code approvalId} of {@code approval.requested}. */
        UUID approvalId();

        /** Completes once with the decision; never exceptionally. */
        CompletableFuture<Decision> decision();

    }

    /**
     * How a request was decided.
     *
     * @param allowed true: the agent may use the tool
     * @param by the login of the person who decided; null when nobody did
     * @param reason null when a person decided; otherwise {@code timeout} or
     * {@code run-ended}
     */
    record Decision(boolean allowed, @Nullable String by, @Nullable String reason) {
    }

}
