-- Invitations without the service-role key. GoTrue's POST /auth/v1/invite needs the service-role key, which
-- bypasses RLS and which request handlers never hold. Instead, an admin (or a client admin, for their own
-- organization) records the invitation here, in their own RLS transaction, with the sha256 of a one-time
-- nonce; the portal then asks Supabase Auth, with the publishable key, for an e-mail sign-up
-- (POST /auth/v1/otp, create_user, data {"nexk_invitation": <nonce>}). Sign-ups are therefore open in the
-- auth settings (infra/supabase_platform.py), and the gate is Supabase Auth's "before-user-created" hook,
-- private.hook_before_user_created(event): it lets an account be created only when the user metadata carries
-- a nonce whose hash matches a pending, unexpired invitation for the same e-mail address (case-insensitive).
-- A password sign-up, an anonymous sign-in or an OTP request without that nonce is refused with 403 - also
-- for the address of someone who was invited: only the portal ever knows the nonce.
-- When the account row is inserted, two triggers on auth.users (GoTrue runs as supabase_auth_admin, so both
-- are security definer) finish the job in the same transaction: the BEFORE trigger claims the invitation
-- (accepted_by = the new user id) and strips the nonce from raw_user_meta_data; the AFTER trigger creates
-- the profile from the invitation (profile id = user id: role and organization come from the invitation,
-- never from user metadata) and deletes the consumed invitation. No personal data stays here after that.
-- An invitation nobody used expires after 7 days (expires_at) and is deleted by
-- private.purge_expired_invitations() once it has been expired for the period in private.retention_policy
-- ('expired_invitations_after_expiry'); pg_cron runs it daily where the extension exists, and
-- `nexk retention run` runs it too.
-- Who may read, add and cancel invitations: db/policies/invitations.sql (spec: db/policies/README.md §3).

create table private.invitations (
    id uuid primary key default gen_random_uuid(),
    -- Stored lower-case (private.prepare_invitation): GoTrue lower-cases addresses as well.
    email text not null check (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and length(email) <= 254),
    organization_id uuid references public.organizations (id) on delete cascade,
    role text not null check (role in ('client_member', 'client_admin', 'agent', 'admin')),
    first_name text not null check (length(first_name) between 1 and 100),
    surname text not null check (length(surname) between 1 and 100),
    invited_by uuid default auth.uid() references public.profiles (id) on delete set null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null default now() + interval '7 days',
    -- sha256 (hex) of the one-time nonce sent as user metadata; the nonce itself is never stored.
    nonce_hash text not null check (nonce_hash ~ '^[0-9a-f]{64}$'),
    -- Set by the BEFORE INSERT trigger on auth.users for the account being created from this invitation; the
    -- AFTER trigger deletes the row in the same transaction, so it is never seen set outside of it.
    accepted_by uuid,
    constraint invitations_email_key unique (email),
    constraint invitations_nonce_hash_key unique (nonce_hash),
    -- As for profiles: clients are invited into exactly one organization, NexK staff into none.
    constraint invitations_organization_matches_role check (
        (role in ('client_member', 'client_admin')) = (organization_id is not null)
    ),
    constraint invitations_expire_after_creation check (expires_at > created_at)
);

comment on table private.invitations is
'Pending invitations (db/schema/0280): consumed by the auth.users triggers when the invited account is created.';

create index invitations_organization_id_idx on private.invitations (organization_id);
-- Erasing the inviter sets invited_by to null (private.erase_person deletes their profile).
create index invitations_invited_by_idx on private.invitations (invited_by);
create index invitations_expires_at_idx on private.invitations (expires_at);

-- The hash the portal stores for a nonce (app/queries/invitations.py computes the same in Python).
create or replace function private.invitation_nonce_hash(p_nonce text) returns text
language sql immutable strict
set search_path = ''
as $$
    select encode(sha256(convert_to(p_nonce, 'UTF8')), 'hex')
$$;

-- Before an invitation is stored: the address is normalised, and an expired invitation for the same address
-- gives way to the new one (it is dead anyway; the unique e-mail would refuse the new one otherwise).
create or replace function private.prepare_invitation() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    new.email := lower(btrim(new.email));
    delete from private.invitations as i where i.email = new.email and i.expires_at <= now();
    return new;
end
$$;

-- After it is stored (so after the policies accepted the caller: nobody else learns anything): an address
-- that already has an account (auth user or profile) is refused with 23505, as the unique e-mail of profiles
-- would refuse it. Security definer: it must see every account, not only the caller's organization; it
-- answers only about the address the caller typed.
create or replace function private.refuse_invitation_of_account() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if
        exists (select from auth.users as u where lower(u.email) = new.email)
        or exists (select from public.profiles as p where lower(p.email::text) = new.email)
    then
        raise exception 'invitations: % already has an account', new.email
            using errcode = '23505', constraint = 'invitations_email_has_account',
            hint = 'Find the person in the member lists instead of inviting them again.';
    end if;
    return null;
end
$$;

create trigger invitations_prepare
before insert on private.invitations
for each row execute function private.prepare_invitation();

create trigger invitations_refuse_existing_account
after insert on private.invitations
for each row execute function private.refuse_invitation_of_account();

create trigger invitations_audit after insert or update or delete on private.invitations
for each row execute function private.audit_row_change();

-- Supabase Auth's before-user-created hook (Postgres function hook: the auth config names it
-- pg-functions://postgres/private/hook_before_user_created). GoTrue calls it as supabase_auth_admin with
-- {"metadata": {...}, "user": {id, email, user_metadata, ...}} before it inserts any new user (sign-up, OTP
-- with create_user, anonymous sign-in, OAuth, invite; not the Admin API's create user, which needs the
-- service-role key). {} lets the user be created; {"error": {"http_code", "message"}} refuses it and GoTrue
-- returns that message to the caller. Security definer so that GoTrue's role needs no privilege on the
-- table: it learns one yes or no per sign-up attempt.
create or replace function private.hook_before_user_created(event jsonb) returns jsonb
language plpgsql stable
security definer
set search_path = ''
as $$
declare
    v_email text := lower(btrim(event -> 'user' ->> 'email'));
    v_nonce text := event -> 'user' -> 'user_metadata' ->> 'nexk_invitation';
begin
    -- The platform's system accounts (the storage sweeper, 0270) are created by ops' `pulumi up` through the
    -- Admin API. Should that path ever run the hook, let them through: app_metadata can only be written with
    -- the service-role key (a sign-up's app_metadata is GoTrue's own provider fields).
    if event -> 'user' -> 'app_metadata' ->> 'nexk_system' = 'storage_sweeper' then
        return '{}'::jsonb;
    end if;
    if coalesce(v_nonce, '') = '' then
        return jsonb_build_object(
            'error', jsonb_build_object(
                'http_code', 403,
                'message', 'myNexK accounts are created by invitation only: ask your administrator to invite you.'
            )
        );
    end if;
    if coalesce(v_email, '') = '' or not exists (
        select from private.invitations as i
        where
            i.nonce_hash = private.invitation_nonce_hash(v_nonce)
            and i.email = v_email
            and i.expires_at > now()
            and i.accepted_by is null
    ) then
        return jsonb_build_object(
            'error', jsonb_build_object(
                'http_code', 403,
                'message', 'This invitation is not valid (expired, already used or meant for another address): '
                || 'ask your administrator to invite you again.'
            )
        );
    end if;
    return '{}'::jsonb;
end
$$;

comment on function private.hook_before_user_created(jsonb) is
'Supabase Auth before-user-created hook: only invited addresses with their invitation nonce get an account.';

-- BEFORE INSERT on auth.users: claim the invitation the nonce names (same address, unexpired, unclaimed) for
-- the new user id, and strip the nonce from the user metadata. BEFORE UPDATE: strip it too (it is a one-time
-- credential and never stays in an account). A nonce that matches nothing creates no profile: the account is
-- a stranger to every policy (db/policies/README.md §1).
create or replace function private.claim_invitation() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if new.raw_user_meta_data is null or not new.raw_user_meta_data ? 'nexk_invitation' then
        return new;
    end if;
    if tg_op = 'INSERT' then
        update private.invitations as i
        set accepted_by = new.id
        where
            i.nonce_hash = private.invitation_nonce_hash(new.raw_user_meta_data ->> 'nexk_invitation')
            and i.email = lower(btrim(new.email))
            and i.expires_at > now()
            and i.accepted_by is null;
    end if;
    new.raw_user_meta_data := new.raw_user_meta_data - 'nexk_invitation';
    return new;
end
$$;

-- AFTER INSERT on auth.users: the profile of the invited person, from the invitation claimed above, which is
-- then deleted. The profile's audit entry records the creation (actor: none, it is GoTrue's transaction).
create or replace function private.create_invited_profile() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_invitation private.invitations;
begin
    delete from private.invitations as i where i.accepted_by = new.id returning i.* into v_invitation;
    if not found then
        return null;
    end if;
    insert into public.profiles (id, organization_id, role, first_name, surname, email)
    values (
        new.id, v_invitation.organization_id, v_invitation.role, v_invitation.first_name, v_invitation.surname,
        v_invitation.email
    );
    return null;
end
$$;

create trigger users_claim_invitation
before insert or update of raw_user_meta_data on auth.users
for each row execute function private.claim_invitation();

create trigger users_create_invited_profile
after insert on auth.users
for each row execute function private.create_invited_profile();

-- Expired invitations: deleted once expired for longer than the retention period. Returns the rows deleted
-- (or, dry, that would be). `now` allows time travel, like private.run_retention.
insert into private.retention_policy (name, period, description) values (
    'expired_invitations_after_expiry', interval '30 days',
    'Invitations nobody accepted (e-mail address, name, role, organization of the invited person) are deleted '
    || 'this long after they expired (private.invitations.expires_at, 7 days after sending).'
);

create or replace function private.purge_expired_invitations(
    now timestamptz default now(), dry_run boolean default false
) returns bigint
language plpgsql
set search_path = ''
as $$
declare
    v_cutoff timestamptz := purge_expired_invitations.now
    - private.retention_period('expired_invitations_after_expiry');
    v_n bigint;
begin
    if dry_run then
        select count(*) into v_n from private.invitations as i where i.expires_at < v_cutoff;
    else
        delete from private.invitations as i where i.expires_at < v_cutoff;
        get diagnostics v_n = row_count;
    end if;
    return v_n;
end
$$;

comment on function private.purge_expired_invitations(timestamptz, boolean) is
'Deletes invitations expired for longer than expired_invitations_after_expiry; dry_run only counts them.';

-- Privileges. Nobody but the owner runs the helpers and triggers; the hook is GoTrue's alone (Supabase's
-- requirement: execute for supabase_auth_admin, revoked from authenticated, anon and public), and GoTrue's
-- role needs usage on the schema to call it. The table's grants and policies: db/policies/invitations.sql.
revoke all on function private.invitation_nonce_hash(text), private.prepare_invitation(),
private.refuse_invitation_of_account(),
private.claim_invitation(), private.create_invited_profile(),
private.purge_expired_invitations(timestamptz, boolean) from public, anon, authenticated;
revoke all on function private.hook_before_user_created(jsonb) from public, anon, authenticated;
grant usage on schema private to supabase_auth_admin;
grant execute on function private.hook_before_user_created(jsonb) to supabase_auth_admin;

alter table private.invitations enable row level security;
alter table private.invitations force row level security;
revoke all on private.invitations from public, anon, authenticated;

-- The daily purge, only where pg_cron is available (as 0100 schedules private.run_retention).
do $cron$
begin
    if exists (select from pg_catalog.pg_available_extensions as e where e.name = 'pg_cron') then
        create extension if not exists pg_cron;
        perform cron.schedule('nexk-invitations-purge', '23 3 * * *', 'select private.purge_expired_invitations()');
    end if;
end
$cron$;
