package dev.collab.run;

import java.util.UUID;

import dev.collab.session.InterruptedRuns;
import dev.collab.session.SessionEnded;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;

/**
 * A session that ended with a run in progress: the run is finished as interrupted and its
 * processes stopped.
 */
@Component
class EndedSessionRuns implements InterruptedRuns {

    private final AgentRunner runner;

    private final Runs runs;

    EndedSessionRuns(AgentRunner runner, Runs runs) {
        this.runner = runner;
        this.runs = runs;
    }

    @Override
    public void finishInterrupted(UUID runId, @Nullable String by) {
        runs.finish(runId, new Runs.Outcome("interrupted", null, null, null, by));
    }

    /**
     * After the commit: the agent's processes are stopped, here or on the instance that
     * runs them.
     */
    @TransactionalEventListener
    void onEnded(SessionEnded ended) {
        UUID runId = ended.interruptedRunId();
        if (runId != null && !runner.stopLocal(runId, StopReason.INTERRUPT)) {
            // Not on the committing thread: the transaction's connection is done with.
            Thread.ofVirtual().start(() -> runs.interruptElsewhere(runId));
        }
    }

}
