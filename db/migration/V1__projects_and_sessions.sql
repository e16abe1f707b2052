-- Projects group sessions; the key is the natural, client-chosen id.
create table projects (
    key        text primary key check (key ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    name       text        not null,
    repo_url   text,
    created_at timestamptz not null
);

create table sessions (
    id               uuid primary key,
    project_key      text        not null references projects (key),
    title            text,
    state            text        not null check (state in ('IDLE', 'RUNNING', 'ENDED')),
    created_at       timestamptz not null,
    last_activity_at timestamptz not null,
    ended_at         timestamptz,
    head_seq         bigint      not null default 0 check (head_seq >= 0),
    current_run_id   uuid
);

-- Serves the session list: newest activity first, id as the tie breaker, keyset-paginated.
create index sessions_project_activity_idx
    on sessions (project_key, last_activity_at desc, id desc);

-- Same order for the list filtered by state (?state=IDLE|RUNNING|ENDED).
create index sessions_project_state_activity_idx
    on sessions (project_key, state, last_activity_at desc, id desc);
