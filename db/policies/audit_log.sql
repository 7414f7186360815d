-- audit_log: append-only access log, written only by security-definer triggers and functions.
alter table public.audit_log enable row level security;
alter table public.audit_log force row level security;

-- anon gets nothing; authenticated gets reads and the listed columns, RLS decides which rows.
-- TRUNCATE ignores RLS, so it is never granted.
revoke all on public.audit_log from anon, authenticated;
grant select on public.audit_log to authenticated;

-- NexK staff (agents, admins) get nothing at all unless their session passed multi-factor authentication.
create policy audit_log_staff_need_mfa on public.audit_log
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- Users read the entries about their own actions; admins read everything. Nobody writes through the API.
create policy audit_log_select on public.audit_log
for select
to authenticated
using (
    ((select private.current_app_role()) is not null and actor_id = (select auth.uid()))
    or (select private.is_admin())
);
