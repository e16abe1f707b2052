package dev.collab.run.opencode;

import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import dev.collab.run.ApprovalGate;
import dev.collab.run.opencode.OpencodeDriver.PermissionAsker;
import dev.collab.run.opencode.OpencodeDriver.PermissionDecision;
import org.jspecify.annotations.Nullable;

/**
 * opencode's permission requests asked through the {@link ApprovalGate}: what the runner
 * gives {@link OpencodeDriver#run} at integration. A denial tells the model why (opencode
 * passes the message on with the rejection).
 */
public final class Approvals {

    private Approvals() {
    }

    /**
     * @param gate the approval module's gate; null (the module is absent) denies every
     * request
     */
    public static PermissionAsker asker(@Nullable ApprovalGate gate, UUID sessionId, UUID runId) {
        return (tool, input) -> {
            if (gate == null) {
                return CompletableFuture
                    .completedFuture(new PermissionDecision(false, "This server cannot ask anyone for approval."));
            }
            ApprovalGate.Pending pending;
            try {
                pending = gate.request(sessionId, runId, tool, input);
            }
            catch (RuntimeException ex) {
                // Not recorded, so nobody could approve it: denied (ApprovalGate's
                // contract).
                return CompletableFuture
                    .completedFuture(new PermissionDecision(false, "The approval request could not be recorded."));
            }
            return pending.decision().thenApply(Approvals::decision);
        };
    }

    static PermissionDecision decision(ApprovalGate.Decision decision) {
        if (decision.allowed()) {
            return new PermissionDecision(true, null);
        }
        String reason = decision.reason();
        String message;
        if ("timeout".equals(reason)) {
            message = "Nobody approved this tool call in time.";
        }
        else if ("run-ended".equals(reason)) {
            message = "The run ended before this tool call was approved.";
        }
        else {
            message = "A person denied this tool call.";
        }
        return new PermissionDecision(false, message);
    }

}
