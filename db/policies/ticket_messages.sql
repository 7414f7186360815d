-- ticket_messages: the conversation on visible tickets. Internal notes are for NexK staff only.
-- Immutable: no UPDATE or DELETE for anyone (and a trigger refuses UPDATE).
alter table public.ticket_messages enable row level security;
alter table public.ticket_messages force row level security;

-- anon gets nothing; authenticated gets reads and the listed columns, RLS decides which rows.
-- TRUNCATE ignores RLS, so it is never granted.
revoke all on public.ticket_messages from anon, authenticated;
grant select on public.ticket_messages to authenticated;
grant insert (ticket_id, author_id, body, internal) on public.ticket_messages to authenticated;

-- NexK staff (agents, admins) get nothing at all unless their session passed multi-factor authentication.
create policy ticket_messages_staff_need_mfa on public.ticket_messages
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- Messages of the tickets the caller sees (the tickets policies decide); internal notes only for staff.
create policy ticket_messages_select on public.ticket_messages
for select
to authenticated
using (
    exists (
        select 1 from public.tickets as t
        where t.id = ticket_messages.ticket_id
    )
    and (not ticket_messages.internal or (select private.is_staff()))
);

-- Anyone who sees a ticket may write on it, as themselves; only staff write internal notes.
create policy ticket_messages_insert on public.ticket_messages
for insert
to authenticated
with check (
    ticket_messages.author_id = (select auth.uid())
    and exists (
        select 1 from public.tickets as t
        where t.id = ticket_messages.ticket_id
    )
    and (not ticket_messages.internal or (select private.is_staff()))
);
