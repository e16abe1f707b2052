package dev.collab.run;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.collab.event.EventLog;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * TEST ONLY: an in-memory {@link ApprovalGate} for the protocol tests while the approval
 * module (which records requests in its table and takes decisions over HTTP) is not in
 * this branch. It appends the same events, and the test decides directly. The real gate
 * replaces it once the approval module is merged.
 */
final class TestApprovalGate implements ApprovalGate {

    record Request(UUID approvalId, UUID sessionId, UUID runId, String tool, JsonNode input,
            CompletableFuture<Decision> decision) implements Pending {
    }

    private final EventLog eventLog;

    final List<Request> requests = new CopyOnWriteArrayList<>();

    TestApprovalGate(EventLog eventLog) {
        this.eventLog = eventLog;
    }

    @Override
    public Pending request(UUID sessionId, UUID runId, String tool, JsonNode input) {
        Request request = new Request(UUID.randomUUID(), sessionId, runId, tool, input, new CompletableFuture<>());
        eventLog.append(sessionId, "approval.requested", Map.of("approvalId", request.approvalId().toString(), "runId",
                runId.toString(), "tool", tool, "input", input));
        requests.add(request);
        return request;
    }

    @Override
    public void runEnded(UUID sessionId, UUID runId) {
        requests.stream()
            .filter(r -> r.runId().equals(runId) && !r.decision().isDone())
            .forEach(r -> decide(r, false, null, "run-ended"));
    }

    /** The request of the session's run, once it was made. */
    @Nullable Request of(UUID sessionId) {
        return requests.stream().filter(r -> r.sessionId().equals(sessionId)).findFirst().orElse(null);
    }

    void decide(Request request, boolean allowed, @Nullable String by, @Nullable String reason) {
        java.util.HashMap<String, Object> data = new java.util.HashMap<>();
        data.put("approvalId", request.approvalId().toString());
        data.put("runId", request.runId().toString());
        data.put("decision", allowed ? "allow" : "deny");
        data.put("by", by);
        data.put("reason", reason);
        eventLog.append(request.sessionId(), "approval.decided", data);
        request.decision().complete(new Decision(allowed, by, reason));
    }

}
