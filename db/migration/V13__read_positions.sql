-- Unread counts (issue 16): how far each user has read each session, and how many notable
-- events (message, run.finished, approval.requested: event.Event.NOTABLE_TYPES) each
-- session's log holds, kept by the appends' own statements. A user's unread count is
-- sessions.notable_count - read_positions.notable_at_read: no count over the log on a read.
alter table sessions add column notable_count bigint not null default 0;

update sessions s
   set notable_count = e.n
  from (select session_id, count(*) as n
          from events
         where type in ('message', 'run.finished', 'approval.requested')
         group by session_id) e
 where s.id = e.session_id;

-- The notable events up to a read position, counted when it moves: one index range.
create index events_notable on events (session_id, seq)
 where type in ('message', 'run.finished', 'approval.requested');

create table read_positions (
    user_id uuid not null references users (id) on delete cascade,
    session_id uuid not null references sessions (id) on delete cascade,
    -- Never moves backwards (greatest of what was sent).
    seq bigint not null check (seq >= 0),
    -- sessions.notable_count when the position moved, less the notable events after seq
    -- then: unread = sessions.notable_count - notable_at_read, the notable events after seq
    -- (right even if notable_count missed events, e.g. appended by an older version).
    notable_at_read bigint not null,
    updated_at timestamptz not null,
    primary key (user_id, session_id)
);
