package dev.collab.presence;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

import dev.collab.session.SessionDetails;
import dev.collab.session.SessionPresence;
import dev.collab.session.SessionView;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The {@code presence} field of sessions' JSON: how many watch, and the five who arrived
 * last (per user: the earliest of their streams, active if any is), as one JSON item of
 * the query that reads the sessions. The same for every caller.
 */
@Component
class PresenceDetails implements SessionDetails {

    /** Watchers in a session's JSON. */
    static final int LIST_WATCHERS = 5;

    private final JsonMapper json;

    PresenceDetails(JsonMapper json) {
        this.json = json;
    }

    /**
     * Served by the presence table's index on the session; one entry per user, as in GET
     * presence.
     */
    @Override
    public String columns() {
        // The exists probe first: most sessions of a page have nobody watching, and the
        // aggregate below (grouping, a window, JSON) costs its plan nodes even over no
        // rows.
        return """
                case when exists (select 1 from presence p0 where p0.session_id = s.id) then
                (select json_build_object('count', count(*), 'watchers',
                          coalesce(json_agg(json_build_object('login', w.login, 'displayName', w.display_name,
                                                              'since', w.since, 'active', w.active)
                                            order by w.since desc, w.login) filter (where w.rank <= %d), '[]'::json))
                   from (select min(p.login) as login, min(p.display_name) as display_name, min(p.since) as since,
                                bool_or(p.active) as active,
                                row_number() over (order by min(p.since) desc, min(p.login)) as rank
                           from presence p where p.session_id = s.id group by p.user_id) w)::text
                end as presence_json""".formatted(LIST_WATCHERS);
    }

    @Override
    public void read(ResultSet row, SessionView.Draft draft) throws SQLException {
        String text = row.getString("presence_json");
        if (text == null) {
            return;
        }
        JsonNode presence = json.readTree(text);
        int count = presence.path("count").asInt();
        if (count == 0) {
            return;
        }
        List<SessionPresence.Watcher> watchers = new ArrayList<>();
        for (JsonNode watcher : presence.path("watchers")) {
            watchers.add(new SessionPresence.Watcher(watcher.path("login").asString(),
                    watcher.path("displayName").asString(),
                    OffsetDateTime.parse(watcher.path("since").asString()).toInstant(),
                    watcher.path("active").asBoolean() ? "active" : "idle"));
        }
        draft.presence(new SessionPresence(count, watchers));
    }

}
