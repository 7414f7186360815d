-- storage.objects in the private `attachments` bucket: an object is readable exactly when its attachment row
-- is, and uploadable only by the user who created that row. No other bucket is accessible, no overwrite; only
-- the storage sweeper deletes, and only queued objects (below). Listing shows only objects of visible
-- attachments, so other organizations' prefixes stay empty.
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

-- The storage sweeper (a system account: app_metadata.nexk_system = 'storage_sweeper', no profile) sees and
-- deletes exactly the objects queued in private.storage_deletions (erasure, retention; db/schema/0270), through
-- the Storage API, which removes the bytes with the row. Nobody else deletes anything.
create policy storage_objects_sweeper_select on storage.objects
for select
to authenticated
using (
    (select private.is_storage_sweeper())
    and private.is_queued_for_deletion(objects.bucket_id, objects.name)
);

create policy storage_objects_sweeper_delete on storage.objects
for delete
to authenticated
using (
    (select private.is_storage_sweeper())
    and private.is_queued_for_deletion(objects.bucket_id, objects.name)
);
