-- Invitations: recording, claiming (before-user-created hook), profile creation, status, purge.

-- The hash the portal stores for a nonce (app/queries/invitations.py computes the same in Python).
create or replace function private.invitation_nonce_hash(p_nonce text) returns text
language sql immutable strict
set search_path = ''
as $$
    select encode(sha256(convert_to(p_nonce, 'UTF8')), 'hex')
$$;
revoke all on function private.invitation_nonce_hash(text) from public;

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
revoke all on function private.prepare_invitation() from public;

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
revoke all on function private.refuse_invitation_of_account() from public;

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
revoke all on function private.hook_before_user_created(jsonb) from public;
grant execute on function private.hook_before_user_created(jsonb) to supabase_auth_admin;

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
revoke all on function private.claim_invitation() from public;

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
revoke all on function private.create_invited_profile() from public;

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
revoke all on function private.purge_expired_invitations(timestamptz, boolean) from public;

-- Whether an invited person has accepted, and sending their invitation link again (docs/admin.md,
-- "Invitations"). Once Supabase Auth has created an invited account (0280), the person is a profile like any
-- other; whether they have accepted is whether they used the e-mailed link, which confirms the address
-- (auth.users.email_confirmed_at). The admin's RLS transaction cannot read auth.users, so two narrow security
-- definer wrappers answer for it, in the manner of the admin DSR wrappers (0220):
--
--   private.admin_invitation_status(p_ids uuid[]) -> table (id uuid, accepted boolean, link_sent_at timestamptz)
--       for each id among p_ids with a profile that is not erased: whether the account confirmed its address,
--       and when the sign-in service last sent the confirmation link. Nothing for any other id, and no other
--       column of auth.users. Called once per page with the page's people, never once per row.
--   private.admin_resend_invitation(p_person uuid) -> text
--       for a person who has not accepted yet: writes the audit entry of the resend (actor = the admin; action
--       `update`, table `auth_users`, the columns the sign-in service rewrites) and returns the account's
--       address, to which the portal then asks Supabase Auth (POST /auth/v1/resend, type signup) to send a
--       fresh link. The portal does so inside the same transaction, so the entry is committed only when the
--       sign-in service accepted. Refused: unknown or erased person P0002, already accepted 55000.
--
-- Both refuse everyone but an admin signed in with two-step verification (42501), checked inside the function:
-- a definer bypasses the policies that would otherwise stop a client or an agent. They live in `private`
-- (not exposed through /rpc) and are reached only by the portal's SQL.

-- The caller check of both wrappers. Not a definer: it only runs inside them (as the owner), and nobody else
-- may execute it.
create or replace function private.require_admin_with_mfa() returns void
language plpgsql stable
set search_path = ''
as $$
begin
    if not coalesce((select private.is_admin()) and (select private.has_mfa()), false) then
        raise exception 'only a NexK administrator signed in with two-step verification can manage invitations'
            using errcode = '42501';
    end if;
end
$$;
revoke all on function private.require_admin_with_mfa() from public;

create or replace function private.admin_invitation_status(p_ids uuid[])
returns table (id uuid, accepted boolean, link_sent_at timestamptz)
language plpgsql stable
security definer
set search_path = ''
as $$
begin
    perform private.require_admin_with_mfa();
    return query
    select p.id, u.email_confirmed_at is not null, u.confirmation_sent_at
    from public.profiles as p
    inner join auth.users as u on p.id = u.id
    where p.id = any(p_ids) and p.erased_at is null;
end
$$;
revoke all on function private.admin_invitation_status(uuid[]) from public;
grant execute on function private.admin_invitation_status(uuid[]) to authenticated;

create or replace function private.admin_resend_invitation(p_person uuid) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_email text;
    v_confirmed_at timestamptz;
begin
    perform private.require_admin_with_mfa();
    select u.email, u.email_confirmed_at into v_email, v_confirmed_at
    from public.profiles as p
    inner join auth.users as u on p.id = u.id
    where p.id = p_person and p.erased_at is null;
    if not found or v_email is null then
        raise exception 'invitations: no person with id %', p_person
            using errcode = 'P0002', hint = 'Open the member list and choose a person from it.';
    end if;
    if v_confirmed_at is not null then
        raise exception 'invitations: % has already accepted the invitation', v_email
            using errcode = '55000', hint = 'A person who forgot their password uses "Forgot your password?".';
    end if;
    perform private.write_audit_entry(
        'update', 'auth_users', p_person, array['confirmation_sent_at', 'confirmation_token']
    );
    return v_email;
end
$$;
revoke all on function private.admin_resend_invitation(uuid) from public;
grant execute on function private.admin_resend_invitation(uuid) to authenticated;
