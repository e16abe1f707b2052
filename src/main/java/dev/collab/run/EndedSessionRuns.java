package dev.collab.run;

import java.util.UUID;

import dev.collab.session.SessionEnded;
import org.springframework.context.event.EventListener;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;

/** A session that ended with a run in progress: the run is interrupted (after the end committed). */
@Component
class EndedSessionRuns {

    private final AgentRunner runner;
    private final Runs runs;

    EndedSessionRuns(AgentRunner runner, Runs runs) {
        this.runner = runner;
        this.runs = runs;
    }

    /**
     * In the ending transaction, before {@code session.ended} is appended: the run in progress is
     * finished as interrupted, so {@code run.finished} comes before {@code session.ended}, which
     * stays the last event of the log.
     */
    @EventListener
    @Order(Ordered.HIGHEST_PRECEDENCE)
    void onEnding(SessionEnded ended) {
        if (ended.interruptedRunId() != null) {
            runs.finish(ended.interruptedRunId(), new Runs.Outcome("interrupted", null, null, null));
        }
    }

    /** After the commit: the agent's processes are stopped, here or on the instance that runs them. */
    @TransactionalEventListener
    void onEnded(SessionEnded ended) {
        UUID runId = ended.interruptedRunId();
        if (runId != null && !runner.stopLocal(runId, AgentRunner.StopReason.INTERRUPT)) {
            // Not on the committing thread: the transaction's connection is done with.
            Thread.ofVirtual().start(() -> runs.interruptElsewhere(runId));
        }
    }
}
