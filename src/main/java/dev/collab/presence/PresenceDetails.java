package dev.collab.presence;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.collab.session.SessionDetails;
import dev.collab.session.SessionPresence;
import dev.collab.session.SessionView;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Component;

/**
 * The {@code presence} field of sessions' JSON: how many watch, and the five who arrived
 * last; one read for the whole page. The same for every caller.
 */
@Component
class PresenceDetails implements SessionDetails {

    /** Watchers in a session's JSON. */
    static final int LIST_WATCHERS = 5;

    private final Presence presence;

    PresenceDetails(Presence presence) {
        this.presence = presence;
    }

    @Override
    public void fill(List<SessionView.Draft> drafts, @Nullable UUID userId) {
        Map<UUID, SessionPresence> all = presence
            .readAll(drafts.stream().map(SessionView.Draft::id).toArray(UUID[]::new), LIST_WATCHERS);
        for (SessionView.Draft draft : drafts) {
            SessionPresence watching = all.get(draft.id());
            if (watching != null) {
                draft.presence(watching);
            }
        }
    }

}
