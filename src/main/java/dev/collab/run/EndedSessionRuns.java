package dev.collab.run;

import dev.collab.session.SessionEnded;
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

    @TransactionalEventListener
    void onEnded(SessionEnded ended) {
        if (ended.interruptedRunId() != null && !runner.stopLocal(ended.interruptedRunId(), AgentRunner.StopReason.INTERRUPT)) {
            runs.interruptElsewhere(ended.interruptedRunId());
        }
    }
}
