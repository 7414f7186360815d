-- Supabase compatibility layer for plain PostgreSQL (local cluster and CI).
--
-- Recreates just enough of a Supabase database for our migrations, policies and tests to behave exactly
-- as in production: the API roles, the `auth` and `storage` schemas the project uses, GoTrue's current
-- auth.*() helpers and Supabase's default privileges on `public` (so RLS is the only barrier).
-- It is idempotent and is never applied to a real Supabase database (db/compat.py detects one).
-- db/README.md lists what is emulated and what is not.

-- Roles, as supabase/postgres's initial schema defines them --------------------------------------------
do $roles$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
    end if;
    -- GoTrue's own role: it owns the auth schema and runs Postgres auth hooks (db/schema/0280). Locally
    -- nobody logs in as it; the local auth adapter (app/auth/local.py) `set local role`s to it, as GoTrue
    -- would run. The comment marks it as ours: db/compat.py must not take it for a real Supabase.
    if not exists (select from pg_catalog.pg_roles where rolname = 'supabase_auth_admin') then
        create role supabase_auth_admin nologin noinherit;
    end if;
end
$roles$;

comment on role supabase_auth_admin is 'nexk: Supabase compatibility layer (emulated GoTrue role)';

grant anon to authenticator;
grant authenticated to authenticator;
grant service_role to authenticator;

-- Supabase sets these per role; PostgREST applies them to each request.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- Extensions live in their own schema, as on Supabase ---------------------------------------------------
create schema if not exists extensions;
grant usage on schema extensions to anon, authenticated, service_role;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists citext with schema extensions;
create extension if not exists pg_trgm with schema extensions;

-- Schema auth: the GoTrue tables the project uses ---------------------------------------------------------
create schema if not exists auth;
comment on schema auth is 'nexk: Supabase compatibility layer (emulated GoTrue schema)';
grant usage on schema auth to anon, authenticated, service_role;

do $types$
begin
    if not exists (select from pg_catalog.pg_type where typname = 'factor_type' and typnamespace = 'auth'::regnamespace) then
        create type auth.factor_type as enum ('totp', 'webauthn', 'phone');
    end if;
    if not exists (select from pg_catalog.pg_type where typname = 'factor_status' and typnamespace = 'auth'::regnamespace) then
        create type auth.factor_status as enum ('unverified', 'verified');
    end if;
    if not exists (select from pg_catalog.pg_type where typname = 'aal_level' and typnamespace = 'auth'::regnamespace) then
        create type auth.aal_level as enum ('aal1', 'aal2', 'aal3');
    end if;
end
$types$;

create table if not exists auth.users (
    instance_id uuid,
    id uuid primary key,
    aud varchar(255) default 'authenticated',
    role varchar(255) default 'authenticated',
    email varchar(255),
    encrypted_password varchar(255),  -- bcrypt, as GoTrue stores it
    email_confirmed_at timestamptz,
    invited_at timestamptz,
    confirmation_token varchar(255),
    confirmation_sent_at timestamptz,
    recovery_token varchar(255),
    recovery_sent_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    phone text unique,
    phone_confirmed_at timestamptz,
    banned_until timestamptz,
    deleted_at timestamptz,
    is_sso_user boolean not null default false,
    is_anonymous boolean not null default false
);

-- GoTrue keeps e-mails unique among non-SSO users only.
create unique index if not exists users_email_partial_key on auth.users (email) where (is_sso_user = false);

create table if not exists auth.sessions (
    id uuid primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    aal auth.aal_level,
    not_after timestamptz,
    refreshed_at timestamp,
    user_agent text,
    ip inet
);

create index if not exists sessions_user_id_idx on auth.sessions (user_id);

create table if not exists auth.mfa_factors (
    id uuid primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    friendly_name text,
    factor_type auth.factor_type not null,
    status auth.factor_status not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    secret text,
    phone text,
    last_challenged_at timestamptz unique
);

create index if not exists mfa_factors_user_id_idx on auth.mfa_factors (user_id);

create table if not exists auth.mfa_challenges (
    id uuid primary key,
    factor_id uuid not null references auth.mfa_factors (id) on delete cascade,
    created_at timestamptz not null,
    verified_at timestamptz,
    ip_address inet not null
);

create index if not exists mfa_challenges_factor_id_idx on auth.mfa_challenges (factor_id);

-- GoTrue's audit trail, as supabase/auth defines it: migrations/00_init_auth_schema.up.sql (instance_id,
-- id, payload json, created_at), 20220614074223_add_ip_address_to_audit_log (ip_address), 20240612123726
-- (row level security, no policy). GoTrue writes one row per login, logout, token refresh, invitation,
-- ... (internal/models/audit_log_entry.go): payload {actor_id, actor_username (e-mail or phone),
-- actor_name, action, log_type, traits}. The local auth adapter writes the same rows (app/auth/local.py);
-- erasure and the technical-logs retention clear them (db/functions/redaction.sql, retention.sql).
create table if not exists auth.audit_log_entries (
    instance_id uuid,
    id uuid not null,
    payload json,
    created_at timestamptz,
    ip_address varchar(64) not null default '',
    constraint audit_log_entries_pkey primary key (id)
);

create index if not exists audit_logs_instance_id_idx on auth.audit_log_entries (instance_id);
comment on table auth.audit_log_entries is 'Auth: Audit trail for user actions.';
alter table auth.audit_log_entries enable row level security;

-- GoTrue's current helpers (supabase/auth migration 20240624145325): the legacy per-claim GUC wins, then the
-- JSON claims; nullif(.., '') because a GUC reads '' (not NULL) after the transaction that set it ended.
create or replace function auth.uid() returns uuid
language sql stable
set search_path = ''
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
set search_path = ''
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;

create or replace function auth.email() returns text
language sql stable
set search_path = ''
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.email', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
set search_path = ''
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
to anon, authenticated, service_role;

-- The API roles never read GoTrue's tables directly (on Supabase only supabase_auth_admin does).
revoke all on all tables in schema auth from anon, authenticated;
grant all on all tables in schema auth to service_role;
grant usage on schema auth to supabase_auth_admin;
grant all on all tables in schema auth to supabase_auth_admin;

-- Schema storage: buckets and objects (Supabase Storage's metadata) -------------------------------------
create schema if not exists storage;
comment on schema storage is 'nexk: Supabase compatibility layer (emulated Storage schema)';
grant usage on schema storage to anon, authenticated, service_role;

create table if not exists storage.buckets (
    id text primary key,
    name text not null unique,
    owner uuid,
    public boolean not null default false,
    file_size_limit bigint,
    allowed_mime_types text[],
    created_at timestamptz default now(),
    updated_at timestamptz default now()
);

create table if not exists storage.objects (
    id uuid primary key default extensions.gen_random_uuid(),
    bucket_id text references storage.buckets (id),
    name text,
    owner uuid,
    owner_id text,
    metadata jsonb,
    path_tokens text[] generated always as (string_to_array(name, '/')) stored,
    version text,
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    last_accessed_at timestamptz default now(),
    unique (bucket_id, name)
);

create index if not exists objects_bucket_id_idx on storage.objects (bucket_id);

-- Supabase enables RLS on storage tables and grants them to the API roles: policies decide.
alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;

-- The grants Supabase Storage's own migrations leave on its two tables, set once when the tables are new
-- (as Storage runs each migration once; re-applying the layer must not undo db/schema/0360's revocations):
-- supabase/storage migrations/tenant/0046-buckets-objects-grants.sql grants ALL to service_role,
-- authenticated and anon, and 0073-revoke-grants-to-unused-operations.sql (supabase/storage PR #1395,
-- September 2026) takes TRUNCATE, REFERENCES and TRIGGER back from anon and authenticated. On PostgreSQL 17
-- ALL also carries MAINTAIN, which 0073 leaves in place: db/schema/0360 revokes it (db/README.md).
do $storage_grants$
begin
    if (select c.relacl from pg_catalog.pg_class as c where c.oid = 'storage.objects'::regclass) is null then
        grant all on storage.buckets, storage.objects to anon, authenticated, service_role;
        revoke truncate, references, trigger on storage.buckets, storage.objects from anon, authenticated;
    end if;
end
$storage_grants$;

-- Supabase Storage (storage#817) refuses any DELETE on its tables that does not come from the Storage API,
-- which sets storage.allow_delete_query = 'true' on its own connection: a row deleted by SQL would leave its
-- bytes orphaned in the backend. Emulated with a statement trigger of the same rule; the local byte store
-- (app/storage.py LocalStorage) plays the Storage API and sets the flag as it does.
create or replace function storage.protect_delete() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if coalesce(current_setting('storage.allow_delete_query', true), '') <> 'true' then
        raise exception 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
            using errcode = '42501',
                hint = 'Queue the object in private.storage_deletions; the storage sweeper deletes it.';
    end if;
    return null;
end
$$;

create or replace trigger protect_buckets_delete
before delete on storage.buckets
for each statement execute function storage.protect_delete();

create or replace trigger protect_objects_delete
before delete on storage.objects
for each statement execute function storage.protect_delete();

create or replace function storage.foldername(name text) returns text[]
language plpgsql immutable
set search_path = ''
as $$
declare
    _parts text[];
begin
    select string_to_array(name, '/') into _parts;
    return _parts[1:array_length(_parts, 1) - 1];
end
$$;

create or replace function storage.filename(name text) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
    _parts text[];
begin
    select string_to_array(name, '/') into _parts;
    return _parts[array_length(_parts, 1)];
end
$$;

create or replace function storage.extension(name text) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
    _parts text[];
begin
    select string_to_array(name, '/') into _parts;
    return reverse(split_part(reverse(_parts[array_length(_parts, 1)]), '.', 1));
end
$$;

grant execute on function storage.foldername(text), storage.filename(text), storage.extension(text)
to anon, authenticated, service_role;

-- Supabase's default privileges on public: everything to the API roles, so RLS is the only barrier ------
grant usage on schema public to anon, authenticated, service_role;
-- Supabase sets these once, when it creates the project; what the project's own migrations change later stays
-- changed (0360 revokes TRUNCATE, REFERENCES and TRIGGER on future tables). This file runs on every migrate,
-- so it sets each of them only where postgres has no default privileges of that kind in public yet.
do $default_privileges$
declare
    kind record;
begin
    for kind in
        select * from (values ('r', 'tables'), ('S', 'sequences'), ('f', 'functions')) as k (code, objects)
    loop
        if not exists (
            select from pg_catalog.pg_default_acl as d
            where
                d.defaclrole = 'postgres'::regrole
                and d.defaclnamespace = 'public'::regnamespace
                and d.defaclobjtype = kind.code::"char"
        ) then
            execute format(
                'alter default privileges for role postgres in schema public grant all on %s '
                'to anon, authenticated, service_role',
                kind.objects
            );
        end if;
    end loop;
end
$default_privileges$;

-- pg_cron's catalogue, where the real extension is absent ------------------------------------
-- Supabase runs the project's scheduled jobs with pg_cron (db/schema/0377 enables it and schedules them).
-- A plain PostgreSQL has no pg_cron, so this section emulates its catalogue: the same tables, columns, types,
-- defaults, row level security and functions as pg_cron 1.6 (citusdata/pg_cron pg_cron.sql and the upgrade
-- scripts up to pg_cron--1.5--1.6.sql: `cron.job`, `cron.job_run_details`, `cron.schedule(job_name,
-- schedule, command)` upserting on (jobname, username), `cron.unschedule` by id or by name). Nothing runs
-- the jobs locally: `nexk retention run` runs the purges and records each run in cron.job_run_details as
-- pg_cron's background worker would (status 'succeeded' or 'failed', start and end times), so
-- `nexk retention status` reads the same rows here as on Supabase. The schema's comment marks it as the
-- emulation (db/compat.py EMULATED_CRON_COMMENT): only an emulated catalogue ever gets a run written by hand.
-- Skipped when the extension exists or the server preloads pg_cron (a developer's server with the real one:
-- the migration then creates it).
do $pg_cron$
begin
    if
        exists (select from pg_catalog.pg_extension as e where e.extname = 'pg_cron')
        or pg_catalog.current_setting('shared_preload_libraries') ~ '(^|[\s,])pg_cron($|[\s,])'
    then
        return;
    end if;
    if pg_catalog.to_regnamespace('cron') is not null then
        return;  -- created by an earlier run of this layer: it is applied on every migrate
    end if;

    create schema cron;
    comment on schema cron is 'nexk: Supabase compatibility layer (emulated pg_cron catalogue)';
    create sequence cron.jobid_seq;
    create sequence cron.runid_seq;
    -- pg_cron.sql, plus active (1.1) and jobname (1.3, text since 1.5) with its unique (jobname, username).
    create table cron.job (
        jobid bigint primary key default pg_catalog.nextval('cron.jobid_seq'),
        schedule text not null,
        command text not null,
        nodename text not null default 'localhost',
        nodeport int not null default pg_catalog.inet_server_port(),
        database text not null default pg_catalog.current_database(),
        username text not null default current_user,
        active boolean not null default true,
        jobname text,
        constraint jobname_username_uniq unique (jobname, username)
    );
    alter sequence cron.jobid_seq owned by cron.job.jobid;
    -- pg_cron--1.2--1.3.sql.
    create table cron.job_run_details (
        jobid bigint,
        runid bigint primary key default pg_catalog.nextval('cron.runid_seq'),
        job_pid integer,
        database text,
        username text,
        command text,
        status text,
        return_message text,
        start_time timestamptz,
        end_time timestamptz
    );
    alter sequence cron.runid_seq owned by cron.job_run_details.runid;
    -- pg_cron's privileges: everyone reads (and may delete from the run log) the rows of their own jobs only.
    grant select on cron.job to public;
    grant select, delete on cron.job_run_details to public;
    grant select on sequence cron.jobid_seq, cron.runid_seq to public;
    alter table cron.job enable row level security;
    alter table cron.job_run_details enable row level security;
    create policy cron_job_policy on cron.job using (username = current_user);
    create policy cron_job_run_details_policy on cron.job_run_details using (username = current_user);

    -- cron_schedule_named (src/job_metadata.c): checks the schedule, then inserts or, for the same job name
    -- and user, updates schedule, command and database; returns the job's id. pg_cron's own parser accepts
    -- five cron fields or '[1-59] seconds'; this check accepts the same shapes without evaluating the fields.
    create function cron.schedule(job_name text, schedule text, command text) returns bigint
    language plpgsql
    set search_path = ''
    as $schedule$
    declare
        _jobid bigint;
    begin
        if job_name is null then
            raise exception 'job_name can not be NULL';
        elsif schedule is null then
            raise exception 'schedule can not be NULL';
        elsif command is null then
            raise exception 'command can not be NULL';
        end if;
        if
            schedule !~ '^\s*[0-9*/,$A-Za-z-]+(\s+[0-9*/,$A-Za-z-]+){4}\s*$'
            and schedule !~ '^\s*([1-9]|[1-5][0-9])\s+seconds?\s*$'
        then
            raise exception 'invalid schedule: %', schedule
            using hint = 'Use cron format (e.g. 5 4 * * *), or interval format ''[1-59] seconds''';
        end if;
        insert into cron.job (schedule, command, nodename, nodeport, database, username, active, jobname)
        values (
            schedule, command, 'localhost', pg_catalog.inet_server_port(), pg_catalog.current_database(),
            current_user, true, job_name
        )
        on conflict on constraint jobname_username_uniq do update
            set schedule = excluded.schedule, command = excluded.command, database = excluded.database
        returning jobid into _jobid;
        return _jobid;
    end
    $schedule$;

    -- cron_unschedule and cron_unschedule_named: the caller's own job, or an error naming it.
    create function cron.unschedule(job_id bigint) returns boolean
    language plpgsql strict
    set search_path = ''
    as $unschedule$
    begin
        delete from cron.job as j where j.jobid = job_id and j.username = current_user;
        if not found then
            raise exception 'could not find valid entry for job %', job_id;
        end if;
        return true;
    end
    $unschedule$;

    create function cron.unschedule(job_name text) returns boolean
    language plpgsql strict
    set search_path = ''
    as $unschedule$
    begin
        delete from cron.job as j where j.jobname = job_name and j.username = current_user;
        if not found then
            raise exception 'could not find valid entry for job ''%''', job_name;
        end if;
        return true;
    end
    $unschedule$;
    comment on function cron.schedule(text, text, text) is 'schedule a pg_cron job';
    comment on function cron.unschedule(bigint) is 'unschedule a pg_cron job';
    comment on function cron.unschedule(text) is 'unschedule a pg_cron job';
end
$pg_cron$;
