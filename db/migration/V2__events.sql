-- The durable, append-only event log of each session: seq is gap-free per session, allocated
-- under the session row's lock (sessions.head_seq), so commit order equals seq order.
create table events (
    session_id uuid        not null references sessions (id),
    seq        bigint      not null check (seq > 0),
    type       text        not null,
    data       jsonb       not null,
    created_at timestamptz not null,
    primary key (session_id, seq)
);
