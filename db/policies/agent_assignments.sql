-- agent_assignments: which organizations an agent serves. Agents read their own, admins manage all.
alter table public.agent_assignments enable row level security;
alter table public.agent_assignments force row level security;

-- anon gets nothing; authenticated gets reads and the listed columns, RLS decides which rows.
-- TRUNCATE ignores RLS, so it is never granted.
revoke all on public.agent_assignments from anon, authenticated;
grant select, delete on public.agent_assignments to authenticated;
grant insert (agent_id, organization_id) on public.agent_assignments to authenticated;

-- NexK staff (agents, admins) get nothing at all unless their session passed multi-factor authentication.
create policy agent_assignments_staff_need_mfa on public.agent_assignments
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- Agents see their own assignments; admins see every assignment.
create policy agent_assignments_select on public.agent_assignments
for select
to authenticated
using (
    ((select private.current_app_role()) = 'agent' and agent_id = (select auth.uid()))
    or (select private.is_admin())
);

-- Only admins assign agents to organizations or take them off (no UPDATE: delete and insert instead).
create policy agent_assignments_insert on public.agent_assignments
for insert
to authenticated
with check ((select private.is_admin()));

create policy agent_assignments_delete on public.agent_assignments
for delete
to authenticated
using ((select private.is_admin()));
