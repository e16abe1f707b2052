-- The live session list's version (issue 16): every change of what the list shows of a session
-- row (created, state, title, head, activity) takes a new number from one sequence, so that a
-- live list resumed with Last-Event-ID v sends the sessions with list_version > v.
-- A trigger rather than the writing statements: the log's append SQL (EventLog) is changed by
-- other work, and every writer gets it without knowing. The per-append cost (one nextval) is in
-- docs/performance.md.
create sequence session_list_version_seq;

alter table sessions add column list_version bigint not null default 0;

update sessions set list_version = nextval('session_list_version_seq');

create function sessions_bump_list_version() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT'
       or new.head_seq is distinct from old.head_seq
       or new.state is distinct from old.state
       or new.title is distinct from old.title
       or new.last_activity_at is distinct from old.last_activity_at then
        new.list_version := nextval('session_list_version_seq');
    end if;
    return new;
end;
$$;

create trigger sessions_list_version
    before insert or update on sessions
    for each row execute function sessions_bump_list_version();

-- Resume: a project's sessions changed since a version.
create index sessions_project_list_version_idx on sessions (project_key, list_version);
