-- private.invitations: pending invitations (db/schema/0280). Admins invite anyone; client admins invite
-- colleagues into their own organization with a client role, exactly as they may add profiles
-- (db/policies/profiles.sql); nobody else reads or writes them. An invitation is never edited: it is
-- cancelled (deleted) and sent again. The table is in `private`, so the Data API never exposes it; the portal
-- reaches it with SQL in the caller's RLS transaction.
alter table private.invitations enable row level security;
alter table private.invitations force row level security;

-- anon gets nothing; authenticated gets the listed columns, RLS decides which rows. The nonce hash is
-- written, never read back; invited_by, created_at and expires_at come from their defaults (auth.uid(), now(),
-- now() + 7 days), accepted_by only from the auth.users trigger. TRUNCATE ignores RLS, so it is never granted.
revoke all on private.invitations from public, anon, authenticated;
grant select (
    id, email, organization_id, role, first_name, surname, invited_by, created_at, expires_at
) on private.invitations to authenticated;
grant insert (email, organization_id, role, first_name, surname, nonce_hash) on private.invitations to authenticated;
grant delete on private.invitations to authenticated;

-- NexK staff (agents, admins) get nothing at all unless their session passed multi-factor authentication.
create policy invitations_staff_need_mfa on private.invitations
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- Client admins see the pending invitations of their organization; admins see all of them.
create policy invitations_select on private.invitations
for select
to authenticated
using (
    (
        (select private.current_app_role()) = 'client_admin'
        and organization_id = (select private.current_org_id())
    )
    or (select private.is_admin())
);

-- Client admins invite into their own organization, never with a staff role; admins invite anyone.
create policy invitations_insert on private.invitations
for insert
to authenticated
with check (
    (
        (select private.current_app_role()) = 'client_admin'
        and organization_id = (select private.current_org_id())
        and role in ('client_member', 'client_admin')
    )
    or (select private.is_admin())
);

-- Cancelling: the same rows as SELECT.
create policy invitations_delete on private.invitations
for delete
to authenticated
using (
    (
        (select private.current_app_role()) = 'client_admin'
        and organization_id = (select private.current_org_id())
    )
    or (select private.is_admin())
);

-- No UPDATE policy or grant: the invitation the hook checks is exactly the one that was sent.
