-- holidays: SLA reference data. Every active user reads it (clients follow their SLA); only admins change it.
alter table public.holidays enable row level security;
alter table public.holidays force row level security;

-- anon gets nothing; authenticated gets reads and the listed columns, RLS decides which rows.
-- TRUNCATE ignores RLS, so it is never granted.
revoke all on public.holidays from anon, authenticated;
grant select, delete on public.holidays to authenticated;
grant insert (calendar_id, day, name), update (calendar_id, day, name) on public.holidays to authenticated;

-- NexK staff (agents, admins) get nothing at all unless their session passed multi-factor authentication.
create policy holidays_staff_need_mfa on public.holidays
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- Every active profile (client, agent, admin) reads the service levels.
create policy holidays_select on public.holidays
for select
to authenticated
using ((select private.current_app_role()) is not null);

-- Only admins create, change or remove them.
create policy holidays_insert on public.holidays
for insert
to authenticated
with check ((select private.is_admin()));

create policy holidays_update on public.holidays
for update
to authenticated
using ((select private.is_admin()))
with check ((select private.is_admin()));

create policy holidays_delete on public.holidays
for delete
to authenticated
using ((select private.is_admin()));
