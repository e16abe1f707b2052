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
import org.springframework.util.function.SingletonSupplier;

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

    /**
     * The modules, looked up once: {@code orderedStream()} resolves and sorts the beans
     * at every call, a measurable share of a list request (docs/performance.md, "Session
     * list: the regression taken apart"). The beans are singletons, fixed once the
     * context runs.
     */
    private final SingletonSupplier<Modules> modules;

    SessionViews(ObjectProvider<SessionDetails> details, JdbcClient jdbc) {
        this.details = details;
        this.jdbc = jdbc;
        this.modules = SingletonSupplier.of(this::lookUpModules);
    }

    /** The views of these sessions (of one project), in their order, for the user. */
    public List<SessionView> views(List<Session> sessions, @Nullable UUID userId) {
        List<SessionView.Draft> drafts = sessions.stream().map(SessionView.Draft::new).toList();
        fill(drafts, userId != null ? modules.obtain().all() : modules.obtain().shared(), userId);
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
        fill(drafts, modules.obtain().shared(), null);
        return drafts;
    }

    /**
     * Completes {@link #shared} drafts with the per-user fields of one user (the drafts
     * are copied, never changed: they are shared by every watcher).
     */
    public List<SessionView> forUser(List<SessionView.Draft> shared, UUID userId) {
        List<SessionView.Draft> drafts = shared.stream().map(SessionView.Draft::copy).toList();
        fill(drafts, modules.obtain().perUser(), userId);
        return drafts.stream().map(SessionView.Draft::build).toList();
    }

    /**
     * The list's page as views, in ONE query: the page's SQL ({@link Sessions#pageSql})
     * as a subquery, the modules' items computed over its rows only (not over every row
     * the index scan passes), in the page's order.
     */
    List<SessionView> page(String pageSql, Map<String, ?> parameters, @Nullable UUID userId) {
        Selection modules = userId != null ? this.modules.obtain().all() : this.modules.obtain().shared();
        String sql = "select s.*" + modules.items() + " from (" + pageSql
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

    private void fill(List<SessionView.Draft> drafts, Selection modules, @Nullable UUID userId) {
        if (drafts.isEmpty() || modules.modules().isEmpty()) {
            return;
        }
        Map<UUID, SessionView.Draft> byId = new HashMap<>();
        drafts.forEach(draft -> byId.put(draft.id(), draft));
        var statement = jdbc.sql("select s.id" + modules.items() + " from sessions s where s.id = any(:ids)")
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

    private Modules lookUpModules() {
        List<SessionDetails> ordered = details.orderedStream().toList();
        return new Modules(Selection.of(ordered, module -> true), Selection.of(ordered, module -> !module.perUser()),
                Selection.of(ordered, SessionDetails::perUser));
    }

    private static void read(ResultSet rs, SessionView.Draft draft, Selection modules) throws SQLException {
        for (SessionDetails module : modules.modules()) {
            module.read(rs, draft);
        }
    }

    /**
     * The modules for a caller ({@code all}), for none ({@code shared}), and the rest.
     */
    private record Modules(Selection all, Selection shared, Selection perUser) {
    }

    /** Some modules, and their select-list items joined, each after a comma. */
    private record Selection(List<SessionDetails> modules, String items) {

        static Selection of(List<SessionDetails> ordered, Predicate<SessionDetails> which) {
            List<SessionDetails> chosen = ordered.stream().filter(which).toList();
            StringBuilder items = new StringBuilder();
            for (SessionDetails module : chosen) {
                items.append(", ").append(module.columns());
            }
            return new Selection(chosen, items.toString());
        }

    }

}
