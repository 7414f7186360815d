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

revoke all on function private.require_admin_with_mfa() from public, anon, authenticated;
revoke all on function private.admin_invitation_status(uuid[]), private.admin_resend_invitation(uuid)
from public, anon;
grant execute on function private.admin_invitation_status(uuid[]), private.admin_resend_invitation(uuid)
to authenticated;
