package dev.collab.session;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;

/**
 * Turns session rows into what a caller sees ({@link SessionView}): the
 * {@link SessionDetails} beans' select-list items are computed in one query with the rows
 * (the list's page: {@link #page}) or in one query for sessions already read (the
 * others).
 */
@Service
public class SessionViews {

    /**
     * Through a provider: the implementations live in modules that depend on this one.
     */
    private final ObjectProvider<SessionDetails> details;

    private final JdbcClient jdbc;

    SessionViews(ObjectProvider<SessionDetails> details, JdbcClient jdbc) {
        this.details = details;
        this.jdbc = jdbc;
    }

    /** The views of these sessions (of one project), in their order, for the user. */
    public List<SessionView> views(List<Session> sessions, @Nullable UUID userId) {
        List<SessionView.Draft> drafts = sessions.stream().map(SessionView.Draft::new).toList();
        fill(drafts, modules(module -> userId != null || !module.perUser()), userId);
        return drafts.stream().map(SessionView.Draft::build).toList();
    }

    /** The view of one session for the user. */
    public SessionView view(Session session, @Nullable UUID userId) {
        return views(List.of(session), userId).getFirst();
    }

    /**
     * The views of these sessions with only the fields that do not depend on a caller
     * (per-user fields at their defaults): computed once for every watcher of a live
     * list, then completed per watcher by {@link #forUser}.
     */
    public List<SessionView.Draft> shared(List<Session> sessions) {
        List<SessionView.Draft> drafts = sessions.stream().map(SessionView.Draft::new).toList();
        fill(drafts, modules(module -> !module.perUser()), null);
        return drafts;
    }

    /**
     * Completes {@link #shared} drafts with the per-user fields of one user (the drafts
     * are copied, never changed: they are shared by every watcher).
     */
    public List<SessionView> forUser(List<SessionView.Draft> shared, UUID userId) {
        List<SessionView.Draft> drafts = shared.stream().map(SessionView.Draft::copy).toList();
        fill(drafts, modules(SessionDetails::perUser), userId);
        return drafts.stream().map(SessionView.Draft::build).toList();
    }

    /**
     * The list's page as views, in ONE query: the page's SQL ({@link Sessions#pageSql})
     * as a subquery, the modules' items computed over its rows only (not over every row
     * the index scan passes), in the page's order.
     */
    List<SessionView> page(String pageSql, Map<String, ?> parameters, @Nullable UUID userId) {
        List<SessionDetails> modules = modules(module -> userId != null || !module.perUser());
        String sql = "select s.*" + items(modules) + " from (" + pageSql
                + ") s order by s.last_activity_at desc, s.id desc";
        var statement = jdbc.sql(sql).params(parameters);
        if (userId != null) {
            statement = statement.param("details_user", userId);
        }
        return statement.query((rs, row) -> {
            SessionView.Draft draft = new SessionView.Draft(Sessions.map(rs, row));
            read(rs, draft, modules);
            return draft.build();
        }).list();
    }

    private void fill(List<SessionView.Draft> drafts, List<SessionDetails> modules, @Nullable UUID userId) {
        if (drafts.isEmpty() || modules.isEmpty()) {
            return;
        }
        Map<UUID, SessionView.Draft> byId = new HashMap<>();
        drafts.forEach(draft -> byId.put(draft.id(), draft));
        var statement = jdbc.sql("select s.id" + items(modules) + " from sessions s where s.id = any(:ids)")
            .param("ids", byId.keySet().toArray(UUID[]::new));
        if (userId != null) {
            statement = statement.param("details_user", userId);
        }
        statement.query((ResultSet rs) -> {
            SessionView.Draft draft = byId.get(rs.getObject("id", UUID.class));
            if (draft != null) {
                read(rs, draft, modules);
            }
        });
    }

    private List<SessionDetails> modules(Predicate<SessionDetails> which) {
        return details.orderedStream().filter(which).toList();
    }

    private static String items(List<SessionDetails> modules) {
        StringBuilder items = new StringBuilder();
        for (SessionDetails module : modules) {
            items.append(", ").append(module.columns());
        }
        return items.toString();
    }

    private static void read(ResultSet rs, SessionView.Draft draft, List<SessionDetails> modules) throws SQLException {
        for (SessionDetails module : modules) {
            module.read(rs, draft);
        }
    }

}
