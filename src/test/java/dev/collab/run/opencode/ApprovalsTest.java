package dev.collab.run.opencode;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import dev.collab.run.ApprovalGate;
import dev.collab.run.opencode.OpencodeDriver.PermissionDecision;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * opencode's questions through the approval gate's contract (a small in-memory gate: the
 * approval module is not part of this module).
 */
class ApprovalsTest {

    private final UUID session = UUID.randomUUID();

    private final UUID run = UUID.randomUUID();

    private final JsonNode input = JsonNodeFactory.instance.objectNode().put("command", "ls");

    /** Records requests; each one's decision is completed by the test. */
    static class Gate implements ApprovalGate {

        final List<String> requests = new ArrayList<>();

        final CompletableFuture<Decision> decision = new CompletableFuture<>();

        @Override
        public Pending request(UUID sessionId, UUID runId, String tool, JsonNode input) {
            this.requests.add(sessionId + " " + runId + " " + tool + " " + input);
            UUID id = UUID.randomUUID();
            return new Pending() {
                @Override
                public UUID approvalId() {
                    return id;
                }

                @Override
                public CompletableFuture<Decision> decision() {
                    return Gate.this.decision;
                }
            };
        }

        @Override
        public void runEnded(UUID sessionId, UUID runId) {
        }

    }

    @Test
    void theGateIsAskedAndItsDecisionAnswersOpencode() {
        Gate gate = new Gate();
        CompletableFuture<PermissionDecision> answer = Approvals.asker(gate, this.session, this.run)
            .ask("bash", this.input);

        assertThat(gate.requests).containsExactly(this.session + " " + this.run + " bash {\"command\":\"ls\"}");
        assertThat(answer).isNotDone();
        gate.decision.complete(new ApprovalGate.Decision(true, "alice", null));
        assertThat(answer).isCompletedWithValue(new PermissionDecision(true, null));
    }

    @Test
    void denialsSayWhyWithoutNamingAnyone() {
        assertThat(Approvals.decision(new ApprovalGate.Decision(false, "alice", null)))
            .isEqualTo(new PermissionDecision(false, "A person denied this tool call."));
        assertThat(Approvals.decision(new ApprovalGate.Decision(false, null, "timeout")).message())
            .isEqualTo("Nobody approved this tool call in time.");
        assertThat(Approvals.decision(new ApprovalGate.Decision(false, null, "run-ended")).message())
            .isEqualTo("The run ended before this tool call was approved.");
    }

    @Test
    void withoutAGateOrWhenTheRequestCannotBeRecordedTheToolIsDenied() {
        assertThat(Approvals.asker(null, this.session, this.run).ask("bash", this.input))
            .isCompletedWithValueMatching(decision -> !decision.allowed());
        Gate broken = new Gate() {
            @Override
            public Pending request(UUID sessionId, UUID runId, String tool, JsonNode input) {
                throw new IllegalStateException("database unavailable");
            }
        };
        assertThat(Approvals.asker(broken, this.session, this.run).ask("bash", this.input))
            .isCompletedWithValue(new PermissionDecision(false, "The approval request could not be recorded."));
    }

    @Test
    void aRunsPasswordIsLongAndNewEachTime() {
        assertThat(OpencodeDriver.newPassword()).hasSize(43).isNotEqualTo(OpencodeDriver.newPassword());
    }

}
