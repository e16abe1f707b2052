package dev.collab.run;

import java.time.Clock;
import java.util.Optional;
import java.util.UUID;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The agent's own conversation behind each collab session ({@code agent_conversations}):
 * the id the agent gave its session (Claude Code's {@code session_id}), so that the next
 * run of the collab session, on whichever instance, continues that conversation instead
 * of starting a new one.
 */
@Repository
class AgentConversations {

    private final JdbcClient jdbc;

    private final Clock clock;

    AgentConversations(JdbcClient jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    /**
     * The agent's session id of the collab session, if an agent of this protocol reported
     * one.
     */
    Optional<String> find(UUID sessionId, String protocol) {
        return jdbc.sql("""
                select agent_session_id from agent_conversations where session_id = :session and protocol = :protocol
                """).param("session", sessionId).param("protocol", protocol).query(String.class).optional();
    }

    /** Remembers (or replaces) the agent's session id of the collab session. */
    void save(UUID sessionId, String protocol, String agentSessionId) {
        jdbc.sql("""
                insert into agent_conversations (session_id, protocol, agent_session_id, updated_at)
                values (:session, :protocol, :agent, :now)
                on conflict (session_id) do update
                   set protocol = excluded.protocol, agent_session_id = excluded.agent_session_id,
                       updated_at = excluded.updated_at
                """)
            .param("session", sessionId)
            .param("protocol", protocol)
            .param("agent", agentSessionId)
            .param("now", clock.instant().atOffset(java.time.ZoneOffset.UTC))
            .update();
    }

}
