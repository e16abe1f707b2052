-- The agent's own conversation behind a collab session (Claude Code's session id, opencode's
-- session id): the next run of the session, on any instance, continues it. One row per session,
-- replaced when the agent reports another id; the protocol says whose id it is (a session whose
-- server switched protocols starts a new conversation).
create table agent_conversations (
    session_id       uuid        primary key references sessions (id) on delete cascade,
    protocol         text        not null,
    agent_session_id text        not null,
    updated_at       timestamptz not null
);
