-- The project's repository cloned into a session's workspace (module checkout): one row per
-- session whose project has a repoUrl, written by the first step of a run. 'preparing' while the
-- clone runs, 'ready' once the branch collab/<session-id> exists at base_commit, 'failed' when the
-- last attempt failed (the next run retries from an emptied directory). repo_url never carries
-- credentials: the project's URL is refused when it has a password.
create table checkouts (
    session_id  uuid        primary key references sessions (id),
    repo_url    text        not null,
    branch      text        not null,
    base_commit text,
    state       text        not null check (state in ('preparing', 'ready', 'failed')),
    updated_at  timestamptz not null
);
