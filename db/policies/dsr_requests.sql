-- dsr_requests: the data-subject request queue. Subjects follow their own requests; admins run the queue.
alter table public.dsr_requests enable row level security;
alter table public.dsr_requests force row level security;

-- anon gets nothing; authenticated gets reads and the listed columns, RLS decides which rows.
-- TRUNCATE ignores RLS, so it is never granted.
revoke all on public.dsr_requests from anon, authenticated;
grant select on public.dsr_requests to authenticated;
grant insert (
    subject_id, subject_email, type, status, received_at, due_at, completed_at, handled_by, notes
),
update (
    subject_id, subject_email, type, status, received_at, due_at, completed_at, handled_by, notes
) on public.dsr_requests to authenticated;

-- NexK staff (agents, admins) get nothing at all unless their session passed multi-factor authentication.
create policy dsr_requests_staff_need_mfa on public.dsr_requests
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- A user sees the requests made about themselves; admins see the whole queue.
create policy dsr_requests_select on public.dsr_requests
for select
to authenticated
using (
    ((select private.current_app_role()) is not null and subject_id = (select auth.uid()))
    or (select private.is_admin())
);

-- Only admins register and process requests (no DELETE: the queue is evidence of compliance).
create policy dsr_requests_insert on public.dsr_requests
for insert
to authenticated
with check ((select private.is_admin()));

create policy dsr_requests_update on public.dsr_requests
for update
to authenticated
using ((select private.is_admin()))
with check ((select private.is_admin()));
