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

revoke all on function private.ticket_org_ids() from public, anon;
grant execute on function private.ticket_org_ids() to authenticated;
