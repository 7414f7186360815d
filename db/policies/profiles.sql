-- profiles: people. Everyone reads their own row; client admins the members of their organization; agents staff
-- and the members of their organizations; admins all. Client members read no colleague's row (GDPR data
-- minimisation): colleagues' names come from private.display_names() (db/schema/0310). Privileged columns are
-- guarded by private.guard_profile_update().
alter table public.profiles enable row level security;
alter table public.profiles force row level security;

-- anon gets nothing; authenticated gets reads and the listed columns, RLS decides which rows.
-- TRUNCATE ignores RLS, so it is never granted. No INSERT for anybody, admins included: a profile is created
-- only when an invited person accepts (private.create_invited_profile(), the definer trigger on auth.users
-- behind the before-user-created hook, db/policies/README.md §9). A direct INSERT let a client admin attach
-- any auth account without a profile to their organization, skipping the invitation gate.
revoke all on public.profiles from anon, authenticated;
grant select on public.profiles to authenticated;
-- role, organization_id, email and the markers are granted for admins; the guard trigger refuses them to
-- everyone else (a column grant cannot depend on the row).
grant update (
    first_name, surname, position, email, phone, organization_id, role, language, theme,
    notify_ticket_replies, notify_status_changes, notify_sla_alerts, restricted_at, deactivated_at
) on public.profiles to authenticated;

-- NexK staff (agents, admins) get nothing at all unless their session passed multi-factor authentication.
create policy profiles_staff_need_mfa on public.profiles
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- Every active user reads their own profile; client admins read the members of their organization (they
-- manage them), client members no colleague at all (a colleague's phone, preferences or GDPR restriction
-- marker is none of their business; display names: private.display_names()); agents read NexK staff and the
-- members of the organizations assigned to them; admins read everyone.
create policy profiles_select on public.profiles
for select
to authenticated
using (
    ((select private.current_app_role()) is not null and id = (select auth.uid()))
    or (
        (select private.current_app_role()) = 'client_admin'
        and organization_id = (select private.current_org_id())
    )
    or organization_id = any(array(select private.agent_org_ids()))
    or ((select private.current_app_role()) = 'agent' and role in ('agent', 'admin'))
    or (select private.is_admin())
);

-- No INSERT policy: no INSERT privilege either (above); invitations (private.invitations) are the way in.

-- Users update their own profile (which stays in their organization); client admins update the members of
-- their organization, who stay in it with a client role; admins update anyone. Columns: the guard trigger.
-- Never an erased profile (erased_at set: an erased person, an "Erased person" placeholder that carries
-- every erased person's tickets and messages): renaming or reactivating one would put a name and a live
-- account on that content (README §8b). The trigger profiles_erased_guard refuses it to every role too; here
-- it keeps erased rows out of an API UPDATE's reach, so a client admin's UPDATE of their whole organization
-- skips them instead of failing. WITH CHECK needs no such test: erased_at is granted to nobody, so the new
-- row keeps the old row's erased_at.
create policy profiles_update on public.profiles
for update
to authenticated
using (
    erased_at is null
    and (
        ((select private.current_app_role()) is not null and id = (select auth.uid()))
        or (
            (select private.current_app_role()) = 'client_admin'
            and organization_id = (select private.current_org_id())
        )
        or (select private.is_admin())
    )
)
with check (
    (
        (select private.current_app_role()) is not null
        and id = (select auth.uid())
        and organization_id is not distinct from (select private.current_org_id())
    )
    or (
        (select private.current_app_role()) = 'client_admin'
        and organization_id = (select private.current_org_id())
        and role in ('client_member', 'client_admin')
    )
    or (select private.is_admin())
);

-- No DELETE policy: profiles are never deleted through the API (erasure anonymises them server-side).
