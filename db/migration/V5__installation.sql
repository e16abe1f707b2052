-- The identity of this database's data: one row holding a random id, made when the schema is
-- created. The workspace root keeps it in its marker file (.collab-database) and the sweeper
-- deletes nothing while it is connected to a database with another id (workspace/WorkspaceBinding).
-- It is data, not a property of the server: a dump, a snapshot or a copy of this database keeps
-- it; a fresh or another installation's database has its own.
create table installation (
    singleton  boolean     primary key default true check (singleton),
    id         uuid        not null default gen_random_uuid(),
    created_at timestamptz not null default now()
);

insert into installation default values;
