-- Identity and access (issue 13): users, personal access tokens, project roles, the audit log,
-- login throttling, the one-time setup token, and Spring Session's tables (browser sessions live
-- in PostgreSQL so every replica accepts every login and a logout ends it everywhere).

create table users (
    id            uuid primary key,
    login         text        not null unique check (login ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    display_name  text        not null,
    email         text,
    -- Null for users who only log in through OIDC. A delegating-encoder string ({bcrypt}…).
    password_hash text,
    admin         boolean     not null default false,
    disabled      boolean     not null default false,
    created_at    timestamptz not null,
    oidc_issuer   text,
    oidc_subject  text,
    unique (oidc_issuer, oidc_subject),
    check ((oidc_issuer is null) = (oidc_subject is null))
);

-- Personal access tokens: only the SHA-256 of the token is stored (the token has >= 192 random
-- bits, so a fast hash is enough: nothing to brute-force).
create table access_tokens (
    id           uuid primary key,
    user_id      uuid        not null references users (id) on delete cascade,
    name         text        not null,
    token_hash   bytea       not null unique check (length(token_hash) = 32),
    created_at   timestamptz not null,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);

create index access_tokens_user_idx on access_tokens (user_id, created_at);

create table project_members (
    project_key text not null references projects (key) on delete cascade,
    user_id     uuid not null references users (id) on delete cascade,
    role        text not null check (role in ('viewer', 'member', 'admin')),
    primary key (project_key, user_id)
);

-- "The projects of a user" (GET /api/me, the filtered project list).
create index project_members_user_idx on project_members (user_id);

create table audit_log (
    id         bigint generated always as identity primary key,
    at         timestamptz not null,
    actor      text,
    action     text        not null,
    target     text,
    request_id text,
    address    text,
    details    jsonb
);

-- GET /api/audit pages newest first by (at, id) keyset.
create index audit_log_at_idx on audit_log (at desc, id desc);

-- Failed logins, for throttling (per login and per client address) across every replica.
create table login_failures (
    kind  text        not null check (kind in ('login', 'address')),
    value text        not null,
    at    timestamptz not null
);

create index login_failures_key_idx on login_failures (kind, value, at);
create index login_failures_at_idx on login_failures (at);

-- The one-time setup link's token (only its SHA-256), when no admin was configured.
create table setup_tokens (
    token_hash bytea       primary key check (length(token_hash) = 32),
    created_at timestamptz not null,
    expires_at timestamptz not null,
    used_at    timestamptz
);

-- Spring Session JDBC's PostgreSQL schema (spring-session-jdbc 4.1,
-- org/springframework/session/jdbc/schema-postgresql.sql); Flyway owns it
-- (spring.session.jdbc.initialize-schema=never).
create table spring_session (
    primary_id            char(36)     not null,
    session_id            char(36)     not null,
    creation_time         bigint       not null,
    last_access_time      bigint       not null,
    max_inactive_interval int          not null,
    expiry_time           bigint       not null,
    principal_name        varchar(100),
    constraint spring_session_pk primary key (primary_id)
);

create unique index spring_session_ix1 on spring_session (session_id);
create index spring_session_ix2 on spring_session (expiry_time);
create index spring_session_ix3 on spring_session (principal_name);

create table spring_session_attributes (
    session_primary_id char(36)     not null,
    attribute_name     varchar(200) not null,
    attribute_bytes    bytea        not null,
    constraint spring_session_attributes_pk primary key (session_primary_id, attribute_name),
    constraint spring_session_attributes_fk foreign key (session_primary_id)
        references spring_session (primary_id) on delete cascade
);
