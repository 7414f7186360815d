-- storage.objects in the private `attachments` bucket: an object is readable exactly when its attachment row
-- is, and uploadable only by the user who created that row. No other bucket is accessible, no overwrite, no
-- delete. Listing shows only objects of visible attachments, so other organizations' prefixes stay empty.
-- Supabase owns storage.objects (RLS is on there, and we may not alter the table or its grants), so this
-- file holds only policies.

-- NexK staff (agents, admins) get nothing at all unless their session passed multi-factor authentication.
create policy storage_objects_staff_need_mfa on storage.objects
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- Download (and list) an attachment's file only when the attachment row itself is visible to the caller.
create policy storage_objects_select on storage.objects
for select
to authenticated
using (
    bucket_id = 'attachments'
    and exists (
        select 1 from public.attachments as a
        where a.storage_path = objects.name
    )
);

-- Upload to an attachment's path only when the caller created that (visible) attachment row.
create policy storage_objects_insert on storage.objects
for insert
to authenticated
with check (
    bucket_id = 'attachments'
    and exists (
        select 1 from public.attachments as a
        where a.storage_path = objects.name and a.uploaded_by = (select auth.uid())
    )
);
