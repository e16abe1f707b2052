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
                .query(UUID.class).list());
    }

    @Override
    public Set<UUID> known(Collection<UUID> ids) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        return new HashSet<>(jdbc.sql("select id from sessions where id = any(:ids)")
                .param("ids", ids.toArray(UUID[]::new))
                .query(UUID.class).list());
    }

    @Override
    public int endIdleSince(Instant cutoff, int limit) {
        var idle = jdbc.sql("""
                        select id from sessions where state = 'IDLE' and last_activity_at < :cutoff
                        order by last_activity_at limit :limit""")
                .param("cutoff", cutoff.atOffset(ZoneOffset.UTC)).param("limit", limit).query(UUID.class).list();
        int ended = 0;
        for (UUID id : idle) {
            // One by one through the normal path: each ended session publishes SessionEnded.
            if (sessions.endIfIdleSince(id, cutoff)) {
                ended++;
            }
        }
        return ended;
    }
}
