-- Queue while busy (issue 16). What a send to a busy session does is a project setting:
-- 'reject' (409 session-busy, the behaviour before this version: existing projects keep it)
-- or 'queue' (the message waits for the run in progress; new projects get it when their PUT
-- does not say).
alter table projects add column busy_policy text not null default 'reject'
    check (busy_policy in ('reject', 'queue'));
alter table projects alter column busy_policy set default 'queue';

-- The order in which queued messages were accepted, across instances: a sequence, not the
-- clock (two instances' clocks may disagree). Moving a message to the front gives it a
-- negative key below every other one (the same sequence, negated).
create sequence queued_messages_order_seq;

-- A message sent while its session was busy. QUEUED until its run starts (STARTED: its
-- message id becomes the run's message id) or it is cancelled (by a user, or because the
-- session ended). The text is kept: the message is appended to the log only when its run
-- starts.
create table queued_messages (
    id           uuid primary key,
    session_id   uuid        not null references sessions (id),
    text         text        not null,
    author_id    uuid        not null,
    author_login text        not null,
    queued_at    timestamptz not null,
    order_key    bigint      not null,
    state        text        not null default 'QUEUED' check (state in ('QUEUED', 'STARTED', 'CANCELLED')),
    -- The login of the user who cancelled it; null while queued, once started, or when the
    -- session's end cancelled it.
    cancelled_by text,
    reason       text check (reason in ('cancelled', 'session-ended')),
    finished_at  timestamptz,
    check ((state = 'CANCELLED') = (reason is not null))
);

-- "Next in line" (Runs.finish, the lease tick), the queue's GET, its length in the list:
-- a session's waiting messages in order.
create index queued_messages_waiting_idx on queued_messages (session_id, order_key) where state = 'QUEUED';
