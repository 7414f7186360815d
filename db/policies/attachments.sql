-- attachments: file metadata on visible tickets; internal-note files are for NexK staff only.
-- Immutable: no UPDATE or DELETE for anyone (and a trigger refuses UPDATE).
alter table public.attachments enable row level security;
alter table public.attachments force row level security;

-- anon gets nothing; authenticated gets reads and the listed columns, RLS decides which rows.
-- TRUNCATE ignores RLS, so it is never granted.
revoke all on public.attachments from anon, authenticated;
grant select on public.attachments to authenticated;
grant insert (
    ticket_id, organization_id, message_id, uploaded_by, internal, file_name, content_type, size_bytes, sha256
) on public.attachments to authenticated;

-- NexK staff (agents, admins) get nothing at all unless their session passed multi-factor authentication.
create policy attachments_staff_need_mfa on public.attachments
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- Attachments of the tickets the caller sees; those of internal notes only for staff.
create policy attachments_select on public.attachments
for select
to authenticated
using (
    exists (
        select 1 from public.tickets as t
        where t.id = attachments.ticket_id
    )
    and (not attachments.internal or (select private.is_staff()))
);

-- Anyone who sees a ticket may attach files to it, as themselves; only staff attach internal files.
-- The organization must be the ticket's and a message must be of the same ticket (composite foreign keys).
create policy attachments_insert on public.attachments
for insert
to authenticated
with check (
    attachments.uploaded_by = (select auth.uid())
    and exists (
        select 1 from public.tickets as t
        where t.id = attachments.ticket_id
    )
    and (not attachments.internal or (select private.is_staff()))
);
