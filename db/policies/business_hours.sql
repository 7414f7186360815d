-- business_hours: SLA reference data. Every active user reads it (clients follow their SLA); only admins change it.
alter table public.business_hours enable row level security;
alter table public.business_hours force row level security;

-- anon gets nothing; authenticated gets reads and the listed columns, RLS decides which rows.
-- TRUNCATE ignores RLS, so it is never granted.
revoke all on public.business_hours from anon, authenticated;
grant select, delete on public.business_hours to authenticated;
grant insert (calendar_id, day_of_week, opens_at, closes_at),
update (calendar_id, day_of_week, opens_at, closes_at)
on public.business_hours to authenticated;

-- NexK staff (agents, admins) get nothing at all unless their session passed multi-factor authentication.
create policy business_hours_staff_need_mfa on public.business_hours
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- Every active profile (client, agent, admin) reads the service levels.
create policy business_hours_select on public.business_hours
for select
to authenticated
using ((select private.current_app_role()) is not null);

-- Only admins create, change or remove them.
create policy business_hours_insert on public.business_hours
for insert
to authenticated
with check ((select private.is_admin()));

create policy business_hours_update on public.business_hours
for update
to authenticated
using ((select private.is_admin()))
with check ((select private.is_admin()));

create policy business_hours_delete on public.business_hours
for delete
to authenticated
using ((select private.is_admin()));
