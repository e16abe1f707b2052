-- Who interrupted a run (a login), written by the interrupting request before the stop is sent,
-- and read when the run finishes 'interrupted'. It travels through the database rather than in
-- the control command, so that the command stays 'interrupt:<runId>', which instances of the
-- previous version understand during a rolling deploy. Null: nobody interrupted it.
alter table runs add column interrupted_by text;
