-- organizations: clients see their own company, agents the companies assigned to them, admins all.
alter table public.organizations enable row level security;
alter table public.organizations force row level security;

-- anon gets nothing; authenticated gets reads and the listed columns, RLS decides which rows.
-- TRUNCATE ignores RLS, so it is never granted.
revoke all on public.organizations from anon, authenticated;
grant select, delete on public.organizations to authenticated;
grant insert (name, enterprise_number, contract_start, contract_end, sla_plan_id, shared_tickets),
update (name, enterprise_number, contract_start, contract_end, sla_plan_id, shared_tickets)
on public.organizations to authenticated;

-- NexK staff (agents, admins) get nothing at all unless their session passed multi-factor authentication.
create policy organizations_staff_need_mfa on public.organizations
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- Clients see their own organization, agents the organizations assigned to them, admins every one.
create policy organizations_select on public.organizations
for select
to authenticated
using (
    id = (select private.current_org_id())
    or id = any(array(select private.agent_org_ids()))
    or (select private.is_admin())
);

-- Only admins create, change or delete organizations (contracts, SLA plan, shared_tickets).
create policy organizations_insert on public.organizations
for insert
to authenticated
with check ((select private.is_admin()));

create policy organizations_update on public.organizations
for update
to authenticated
using ((select private.is_admin()))
with check ((select private.is_admin()));

create policy organizations_delete on public.organizations
for delete
to authenticated
using ((select private.is_admin()));
