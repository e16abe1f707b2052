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

    /**
     * The views of these sessions with only the fields that do not depend on a caller
     * (per-user fields at their defaults): computed once for every watcher of a live
     * list, then completed per watcher by {@link #forUser}.
     */
    public List<SessionView.Draft> shared(List<Session> sessions) {
        List<SessionView.Draft> drafts = sessions.stream().map(SessionView.Draft::new).toList();
        if (!drafts.isEmpty()) {
            details.orderedStream().filter(module -> !module.perUser()).forEach(module -> module.fill(drafts, null));
        }
        return drafts;
    }

    /**
     * Completes {@link #shared} drafts with the per-user fields of one user (the drafts
     * are copied, never changed: they are shared by every watcher).
     */
    public List<SessionView> forUser(List<SessionView.Draft> shared, UUID userId) {
        List<SessionView.Draft> drafts = shared.stream().map(SessionView.Draft::copy).toList();
        if (!drafts.isEmpty()) {
            details.orderedStream().filter(SessionDetails::perUser).forEach(module -> module.fill(drafts, userId));
        }
        return drafts.stream().map(SessionView.Draft::build).toList();
    }

    /** The view of one session for the user. */
    public SessionView view(Session session, @Nullable UUID userId) {
        return views(List.of(session), userId).getFirst();
    }

}
