-- A run: one execution of the agent command for one message. The instance running it holds a
-- lease and renews it; a run whose lease expired is ended as 'lost' by any instance.
create table runs (
    id               uuid primary key,
    session_id       uuid        not null references sessions (id),
    message_id       uuid        not null,
    state            text        not null check (state in ('RUNNING', 'FINISHED')),
    status           text check (status in ('succeeded', 'failed', 'interrupted', 'lost')),
    exit_code        integer,
    instance_id      text        not null,
    lease_expires_at timestamptz not null,
    started_at       timestamptz not null,
    finished_at      timestamptz
);

create index runs_session_idx on runs (session_id);
-- The reaper's query: running runs by lease expiry.
create index runs_running_lease_idx on runs (lease_expires_at) where state = 'RUNNING';

-- Idempotent sends: the first answer to a key, kept at least 24 h.
create table idempotency_keys (
    session_id  uuid        not null references sessions (id),
    key         text        not null,
    fingerprint text        not null,
    response    jsonb,
    created_at  timestamptz not null,
    primary key (session_id, key)
);

create index idempotency_keys_created_idx on idempotency_keys (created_at);
