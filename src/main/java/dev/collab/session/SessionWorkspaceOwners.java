package dev.collab.session;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

import dev.collab.workspace.WorkspaceOwners;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/** Tells the workspace sweeper which workspaces still belong to live sessions. */
@Component
class SessionWorkspaceOwners implements WorkspaceOwners {

    private final JdbcClient jdbc;

    private final Sessions sessions;

    SessionWorkspaceOwners(JdbcClient jdbc, Sessions sessions) {
        this.jdbc = jdbc;
        this.sessions = sessions;
    }

    @Override
    public Set<UUID> live(Collection<UUID> ids) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        return new HashSet<>(jdbc.sql("select id from sessions where id = any(:ids) and state in ('IDLE', 'RUNNING')")
            .param("ids", ids.toArray(UUID[]::new))
            .query(UUID.class)
            .list());
    }

    @Override
    public Set<UUID> known(Collection<UUID> ids) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        return new HashSet<>(jdbc.sql("select id from sessions where id = any(:ids)")
            .param("ids", ids.toArray(UUID[]::new))
            .query(UUID.class)
            .list());
    }

}
