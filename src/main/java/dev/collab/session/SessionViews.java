package dev.collab.session;

import java.util.List;
import java.util.UUID;

import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Service;

/**
 * Turns session rows into what a caller sees ({@link SessionView}): every
 * {@link SessionDetails} bean fills in its fields, each with one query for the whole
 * page.
 */
@Service
public class SessionViews {

    /**
     * Through a provider: the implementations live in modules that depend on this one.
     */
    private final ObjectProvider<SessionDetails> details;

    SessionViews(ObjectProvider<SessionDetails> details) {
        this.details = details;
    }

    /** The views of these sessions (of one project), in their order, for the user. */
    public List<SessionView> views(List<Session> sessions, @Nullable UUID userId) {
        if (sessions.isEmpty()) {
            return List.of();
        }
        List<SessionView.Draft> drafts = sessions.stream().map(SessionView.Draft::new).toList();
        details.orderedStream().forEach(module -> module.fill(drafts, userId));
        return drafts.stream().map(SessionView.Draft::build).toList();
    }

    /** The view of one session for the user. */
    public SessionView view(Session session, @Nullable UUID userId) {
        return views(List.of(session), userId).getFirst();
    }

}
