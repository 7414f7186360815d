-- The helper functions RLS policies call to learn who the caller is. They read public.profiles and
-- public.agent_assignments server-side (never JWT user_metadata), so they are security definer: a policy on
-- profiles that queried profiles again would recurse. All are stable, pin search_path = '' and take no
-- arguments, so a caller can only ask about itself (no "tell me about user X" oracle).
-- A profile that is deactivated or erased is no one: every helper answers as for a stranger.

-- The caller's role ('client_member', 'client_admin', 'agent', 'admin'), or null (no or inactive profile).
create or replace function private.current_app_role() returns text
language sql stable security definer
set search_path = ''
as $$
    select p.role
    from public.profiles as p
    where p.id = (select auth.uid()) and p.deactivated_at is null and p.erased_at is null
$$;

-- The caller's organization when the caller is an active client; null for staff and strangers.
create or replace function private.current_org_id() returns uuid
language sql stable security definer
set search_path = ''
as $$
    select p.organization_id
    from public.profiles as p
    where p.id = (select auth.uid()) and p.deactivated_at is null and p.erased_at is null
$$;

create or replace function private.is_client() returns boolean
language sql stable
set search_path = ''
as $$
    select coalesce(private.current_app_role() in ('client_member', 'client_admin'), false)
$$;

create or replace function private.is_staff() returns boolean
language sql stable
set search_path = ''
as $$
    select coalesce(private.current_app_role() in ('agent', 'admin'), false)
$$;

create or replace function private.is_admin() returns boolean
language sql stable
set search_path = ''
as $$
    select coalesce(private.current_app_role() = 'admin', false)
$$;

-- Multi-factor: the access token says the session passed a second factor. No aal claim means aal1.
create or replace function private.has_mfa() returns boolean
language sql stable
set search_path = ''
as $$
    select coalesce((select auth.jwt() ->> 'aal') = 'aal2', false)
$$;

-- The organizations an active agent is assigned to (no rows for everyone else, admins included: admin
-- access is granted by its own policy branch). Used as `organization_id = any (array(select ...))`, which
-- the planner runs once per statement.
create or replace function private.agent_org_ids() returns setof uuid
language sql stable security definer
set search_path = ''
as $$
    select a.organization_id
    from public.agent_assignments as a
    inner join public.profiles as p on a.agent_id = p.id
    where
        a.agent_id = (select auth.uid())
        and p.role = 'agent'
        and p.deactivated_at is null
        and p.erased_at is null
$$;

-- Whether the caller, a client, sees every ticket of its organization: client admins always, members
-- when the organization has shared_tickets.
create or replace function private.sees_all_org_tickets() returns boolean
language sql stable security definer
set search_path = ''
as $$
    select coalesce(
        (
            select p.role = 'client_admin' or (p.role = 'client_member' and o.shared_tickets)
            from public.profiles as p
            inner join public.organizations as o on p.organization_id = o.id
            where p.id = (select auth.uid()) and p.deactivated_at is null and p.erased_at is null
        ),
        false
    )
$$;

revoke all on function private.current_app_role(), private.current_org_id(), private.is_client(),
private.is_staff(), private.is_admin(), private.has_mfa(), private.agent_org_ids(),
private.sees_all_org_tickets() from public;
grant execute on function private.current_app_role(), private.current_org_id(), private.is_client(),
private.is_staff(), private.is_admin(), private.has_mfa(), private.agent_org_ids(),
private.sees_all_org_tickets() to authenticated;
