-- business_calendars: SLA reference data. Every active user reads it (clients follow their SLA); only admins change it.
alter table public.business_calendars enable row level security;
alter table public.business_calendars force row level security;

-- anon gets nothing; authenticated gets reads and the listed columns, RLS decides which rows.
-- TRUNCATE ignores RLS, so it is never granted.
revoke all on public.business_calendars from anon, authenticated;
grant select, delete on public.business_calendars to authenticated;
grant insert (name, time_zone), update (name, time_zone) on public.business_calendars to authenticated;

-- NexK staff (agents, admins) get nothing at all unless their session passed multi-factor authentication.
create policy business_calendars_staff_need_mfa on public.business_calendars
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- Every active profile (client, agent, admin) reads the service levels.
create policy business_calendars_select on public.business_calendars
for select
to authenticated
using ((select private.current_app_role()) is not null);

-- Only admins create, change or remove them.
create policy business_calendars_insert on public.business_calendars
for insert
to authenticated
with check ((select private.is_admin()));

create policy business_calendars_update on public.business_calendars
for update
to authenticated
using ((select private.is_admin()))
with check ((select private.is_admin()));

create policy business_calendars_delete on public.business_calendars
for delete
to authenticated
using ((select private.is_admin()));
