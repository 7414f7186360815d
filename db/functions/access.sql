-- Access helpers: who the caller is (staff, client admin, MFA) and what they may reach; the RLS policies call them.

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
revoke all on function private.current_app_role() from public;
grant execute on function private.current_app_role() to authenticated;

-- The caller's organization when the caller is an active client; null for staff and strangers.
create or replace function private.current_org_id() returns uuid
language sql stable security definer
set search_path = ''
as $$
    select p.organization_id
    from public.profiles as p
    where p.id = (select auth.uid()) and p.deactivated_at is null and p.erased_at is null
$$;
revoke all on function private.current_org_id() from public;
grant execute on function private.current_org_id() to authenticated;

create or replace function private.is_client() returns boolean
language sql stable
set search_path = ''
as $$
    select coalesce(private.current_app_role() in ('client_member', 'client_admin'), false)
$$;
revoke all on function private.is_client() from public;
grant execute on function private.is_client() to authenticated;

create or replace function private.is_staff() returns boolean
language sql stable
set search_path = ''
as $$
    select coalesce(private.current_app_role() in ('agent', 'admin'), false)
$$;
revoke all on function private.is_staff() from public;
grant execute on function private.is_staff() to authenticated;

create or replace function private.is_admin() returns boolean
language sql stable
set search_path = ''
as $$
    select coalesce(private.current_app_role() = 'admin', false)
$$;
revoke all on function private.is_admin() from public;
grant execute on function private.is_admin() to authenticated;

-- Multi-factor: the access token says the session passed a second factor. No aal claim means aal1.
create or replace function private.has_mfa() returns boolean
language sql stable
set search_path = ''
as $$
    select coalesce((select auth.jwt() ->> 'aal') = 'aal2', false)
$$;
revoke all on function private.has_mfa() from public;
grant execute on function private.has_mfa() to authenticated;

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
revoke all on function private.agent_org_ids() from public;
grant execute on function private.agent_org_ids() to authenticated;

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
revoke all on function private.sees_all_org_tickets() from public;
grant execute on function private.sees_all_org_tickets() to authenticated;

-- Policy performance (bench/results/rls_overhead.md, 1,000 organizations / 1M tickets / 3M messages): the
-- tickets policies OR'ed an own-organization arm, an assigned-organizations arm and `or (select
-- private.is_admin())`, none of which the planner can turn into an index condition, so a client admin's
-- organization list filtered all 1M tickets (8x the hand-filtered query). The policies now test one
-- indexable condition, `organization_id = any (array(select private.ticket_org_ids()))`, and then the
-- per-row rule (requester, shared organization or client admin, staff). Same meaning as before (README §2,
-- "visible ticket"): this helper returns exactly the organizations one of the old arms admitted.
--
-- private.ticket_org_ids() -> setof uuid: the organizations whose tickets the caller may see at all, for
-- active profiles only (deactivated or erased people, strangers: none):
--   client_member, client_admin  their own organization
--   agent                        the organizations assigned to them (as private.agent_org_ids())
--   admin                        every organization
-- Like the 0006 helpers it is stable, security definer (it reads profiles, agent_assignments and
-- organizations, whose own policies call helpers), pins search_path = '' and takes no arguments, so a caller
-- learns only about itself. Executable by authenticated only.
--
-- No new index. An index on tickets (organization_id, created_at) was measured on the benchmark's world with
-- these policies (rolled back, 2026-11-26): client admin list 78 -> 91 ms (no gain: with the organization
-- as a run-time array the planner cannot read the index in order), agent queue 146 -> 107 ms, both already
-- at or below the hand-filtered query (88 and 303 ms). Not worth the write cost on the largest table.
create or replace function private.ticket_org_ids() returns setof uuid
language sql stable security definer
set search_path = ''
as $$
    select p.organization_id
    from public.profiles as p
    where
        p.id = (select auth.uid())
        and p.role in ('client_member', 'client_admin')
        and p.deactivated_at is null
        and p.erased_at is null
    union all
    select a.organization_id
    from public.agent_assignments as a
    inner join public.profiles as p on a.agent_id = p.id
    where
        a.agent_id = (select auth.uid())
        and p.role = 'agent'
        and p.deactivated_at is null
        and p.erased_at is null
    union all
    select o.id
    from public.organizations as o
    where exists (
        select 1
        from public.profiles as p
        where
            p.id = (select auth.uid())
            and p.role = 'admin'
            and p.deactivated_at is null
            and p.erased_at is null
    )
$$;
revoke all on function private.ticket_org_ids() from public;
grant execute on function private.ticket_org_ids() to authenticated;
