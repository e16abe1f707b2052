-- The sweeps of the whole cluster (issue 17): every sweep that held the sweep lock, on any
-- instance, records its report here (workspace/SweepHistory). /actuator/sweeper's cluster view,
-- collab_sweeper_backlog and collab_sweeper_last_run_timestamp_seconds read it, so that they say
-- what the cluster's latest sweep found, whichever instance held the lock.
-- A bounded history: each insert deletes the rows older than 7 days and those beyond the newest
-- 1,000 (never the row it inserted).
create table sweep_runs (
    -- In commit order: one sweep at a time holds the lock, and records before releasing it.
    id            bigint generated always as identity primary key,
    -- Who swept: the JVM's pid@host (RuntimeMXBean's name).
    instance      text        not null,
    started_at    timestamptz not null,
    finished_at   timestamptz not null,
    trigger       text        not null check (trigger in ('schedule', 'manual')),
    -- completed, partial (a tree failed), blocked (stopped: deleted nothing), failed (stopped as
    -- a whole by an error; its counts are 0).
    outcome       text        not null check (outcome in ('completed', 'partial', 'blocked', 'failed')),
    -- Why a blocked sweep deleted nothing: database-mismatch, marker-unreadable, orphan-fraction.
    stopped       text,
    -- The sweep listed the workspace root, so its backlog is a count (not a sweep that the marker
    -- stopped first, nor a failed one): collab_sweeper_backlog is the newest such backlog.
    listed        boolean     not null,
    removed       integer     not null,
    failed        integer     not null,
    skipped       integer     not null,
    backlog       integer     not null,
    files_deleted bigint      not null,
    bytes_freed   bigint      not null,
    workspaces    integer     not null,
    orphans       integer     not null,
    unknown       integer     not null
);

-- Each instance's latest sweep.
create index sweep_runs_instance_idx on sweep_runs (instance, id desc);
-- The pruning by age.
create index sweep_runs_finished_at_idx on sweep_runs (finished_at);
