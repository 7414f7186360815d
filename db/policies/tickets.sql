-- tickets: clients see their own tickets (all of the organization's when shared_tickets, or as client admin),
-- agents the tickets of their organizations, admins all. Which columns clients may change:
-- private.guard_ticket_update().
alter table public.tickets enable row level security;
alter table public.tickets force row level security;

-- anon gets nothing; authenticated gets reads and the listed columns, RLS decides which rows.
-- TRUNCATE ignores RLS, so it is never granted.
revoke all on public.tickets from anon, authenticated;
grant select on public.tickets to authenticated;
grant insert (organization_id, requester_id, assignee_id, subject, description, status, priority, follow_up_of),
update (assignee_id, status, priority)
on public.tickets to authenticated;

-- NexK staff (agents, admins) get nothing at all unless their session passed multi-factor authentication.
create policy tickets_staff_need_mfa on public.tickets
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- Clients see their own tickets in their organization, or all of its tickets when the organization shares
-- tickets or the client is its admin; agents see the tickets of the organizations assigned to them; admins
-- see every ticket. One indexable condition first (private.ticket_org_ids(): the client's organization, the
-- agent's assigned ones, every organization for an admin), then who in it: the requester, every client of a
-- sharing organization and the client admin (sees_all_org_tickets), staff.
create policy tickets_select on public.tickets
for select
to authenticated
using (
    organization_id = any(array(select private.ticket_org_ids()))
    and (
        requester_id = (select auth.uid())
        or (select private.sees_all_org_tickets())
        or (select private.is_staff())
    )
);

-- Clients open tickets only in their own organization, as themselves, new and unassigned. Agents open them
-- on a client's behalf (a phone call): in an organization assigned to them, for an active person of that
-- organization (the profiles row the agent may read; erasure deactivates too, 0240), new, and unassigned or
-- assigned to themselves (private.agent_org_ids() is empty for anyone but an active agent). Admins open any.
create policy tickets_insert on public.tickets
for insert
to authenticated
with check (
    (
        organization_id = (select private.current_org_id())
        and requester_id = (select auth.uid())
        and status = 'new'
        and assignee_id is null
    )
    or (
        organization_id = any(array(select private.agent_org_ids()))
        and status = 'new'
        and (assignee_id is null or assignee_id = (select auth.uid()))
        and exists (
            select 1 from public.profiles as p
            where
                p.id = tickets.requester_id
                and p.organization_id = tickets.organization_id
                and p.deactivated_at is null
        )
    )
    or (select private.is_admin())
);

-- Whoever sees a ticket may update it and it must stay visible to them (tenant guard repeated in the
-- check). Clients may only resolve or reopen it; agents and admins assign it and change status and
-- priority (column grants and private.guard_ticket_update()).
create policy tickets_update on public.tickets
for update
to authenticated
using (
    organization_id = any(array(select private.ticket_org_ids()))
    and (
        requester_id = (select auth.uid())
        or (select private.sees_all_org_tickets())
        or (select private.is_staff())
    )
)
with check (
    organization_id = any(array(select private.ticket_org_ids()))
    and (
        requester_id = (select auth.uid())
        or (select private.sees_all_org_tickets())
        or (select private.is_staff())
    )
);

-- No DELETE policy: tickets are archived and purged by the retention job, never deleted through the API.
