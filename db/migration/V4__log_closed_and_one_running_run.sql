-- Once session.ended is in a session's log, nothing more is appended to it: the stream of an
-- ended session closes at session.ended and answers 204 afterwards, so it must stay the last event.
alter table sessions add column log_closed boolean not null default false;

-- Safety net under the conditional IDLE -> RUNNING update: at most one running run per session.
create unique index runs_one_running_per_session on runs (session_id) where state = 'RUNNING';
