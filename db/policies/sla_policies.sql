-- sla_policies: SLA reference data. Every active user reads it (clients follow their SLA); only admins change it.
alter table public.sla_policies enable row level security;
alter table public.sla_policies force row level security;

-- anon gets nothing; authenticated gets reads and the listed columns, RLS decides which rows.
-- TRUNCATE ignores RLS, so it is never granted.
revoke all on public.sla_policies from anon, authenticated;
grant select, delete on public.sla_policies to authenticated;
grant insert (plan_id, priority, first_response_minutes, next_response_minutes, resolution_minutes),
update (plan_id, priority, first_response_minutes, next_response_minutes, resolution_minutes)
on public.sla_policies to authenticated;

-- NexK staff (agents, admins) get nothing at all unless their session passed multi-factor authentication.
create policy sla_policies_staff_need_mfa on public.sla_policies
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- Every active profile (client, agent, admin) reads the service levels.
create policy sla_policies_select on public.sla_policies
for select
to authenticated
using ((select private.current_app_role()) is not null);

-- Only admins create, change or remove them.
create policy sla_policies_insert on public.sla_policies
for insert
to authenticated
with check ((select private.is_admin()));

create policy sla_policies_update on public.sla_policies
for update
to authenticated
using ((select private.is_admin()))
with check ((select private.is_admin()));

create policy sla_policies_delete on public.sla_policies
for delete
to authenticated
using ((select private.is_admin()));
