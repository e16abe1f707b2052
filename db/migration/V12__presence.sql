-- Who is watching which session now: one row per open live stream, on any instance.
-- UNLOGGED: throwaway state, not worth the WAL (a crash empties it, and the streams it
-- listed were cut by the crash anyway); never in the event log. No foreign keys: rows are
-- written in batches on every stream's open and close, and a session is never deleted.
create unlogged table presence (
    connection_id uuid primary key,
    session_id uuid not null,
    project_key text not null,
    user_id uuid not null,
    -- Denormalised when the stream opened: a session's presence is one indexed read.
    login text not null,
    display_name text not null,
    -- The instance that holds the stream (random per process start): it renews seen_at
    -- every collab.presence.heartbeat; any instance deletes rows past collab.presence.expiry.
    instance_id uuid not null,
    since timestamptz not null,
    seen_at timestamptz not null,
    active boolean not null default true
);

create index presence_by_session on presence (session_id);
create index presence_by_instance on presence (instance_id);
