-- Approvals (issue 15): an agent's request for permission to use a tool, and its one decision.
-- Who may decide is a project setting: its members (role member or admin) or its admins only.
alter table projects add column approvers text not null default 'members'
    check (approvers in ('members', 'admins'));

create table approvals (
    id           uuid primary key,
    session_id   uuid        not null references sessions (id),
    run_id       uuid        not null references runs (id),
    tool         text        not null,
    -- The tool's input as the approval.requested event shows it (capped like tool.call's).
    input        jsonb       not null,
    requested_at timestamptz not null,
    -- After it, the instance running the run denies the request (reason 'timeout').
    deadline     timestamptz not null,
    -- Null while it waits. Set once, by one conditional UPDATE (... where decision is null):
    -- whoever gets there first wins, on any instance.
    decision     text check (decision in ('allow', 'deny')),
    -- The login of the person who decided; null when nobody did (timeout, run ended).
    decided_by   text,
    reason       text check (reason in ('timeout', 'run-ended')),
    decided_at   timestamptz,
    check ((decision is null) = (decided_at is null)),
    check (decided_by is null or reason is null)
);

-- GET /api/sessions/{id}/approvals, in request order.
create index approvals_session_idx on approvals (session_id, requested_at, id);
-- Closing a run's pending requests when it ends (Runs.finish).
create index approvals_pending_run_idx on approvals (run_id) where decision is null;
