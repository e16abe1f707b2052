package dev.collab.event;

import java.util.HashMap;
import java.util.Map;

import dev.collab.session.SessionCreated;
import dev.collab.session.SessionEnded;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Logs {@code session.created} and {@code session.ended} in the same transaction that creates
 * or ends the session, so the log and the session row never disagree.
 */
@Component
class SessionLifecycleEvents {

    private final EventLog eventLog;

    SessionLifecycleEvents(EventLog eventLog) {
        this.eventLog = eventLog;
    }

    @EventListener
    void created(SessionCreated created) {
        Map<String, Object> data = new HashMap<>();
        data.put("title", created.title());
        eventLog.append(created.sessionId(), "session.created", data);
    }

    /** Last of the listeners: a run in progress has written its run.finished by now. */
    @EventListener
    @org.springframework.core.annotation.Order(org.springframework.core.Ordered.LOWEST_PRECEDENCE)
    void ended(SessionEnded ended) {
        eventLog.append(ended.sessionId(), EventStreams.SESSION_ENDED, Map.of());
    }
}
