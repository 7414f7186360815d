-- Storage objects: the deletion queue the storage sweeper works through, and its identity check.

-- Any attachment deleted without queueing its object (a path added later) still gets its bytes deleted.
create or replace function private.queue_deleted_attachment_object() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    insert into private.storage_deletions (bucket_id, name, reason)
    select so.bucket_id, so.name, 'attachment deleted'
    from storage.objects as so
    where so.bucket_id = 'attachments' and so.name = old.storage_path
    on conflict (bucket_id, name) do nothing;
    return old;
end
$$;
revoke all on function private.queue_deleted_attachment_object() from public;

-- Whether the caller is the storage sweeper: an authenticated session whose app_metadata (set only by the
-- service role, when ops deploy) names it, and which is nobody's profile.
create or replace function private.is_storage_sweeper() returns boolean
language sql stable security definer
set search_path = ''
as $$
    select
        coalesce(auth.jwt() -> 'app_metadata' ->> 'nexk_system', '') = 'storage_sweeper'
        and coalesce(auth.role(), '') = 'authenticated'
        and not exists (select from public.profiles as p where p.id = auth.uid())
$$;
revoke all on function private.is_storage_sweeper() from public;
grant execute on function private.is_storage_sweeper() to authenticated;

-- Whether a storage object waits in the deletion queue (the sweeper's policies ask it for every row). It
-- answers only the sweeper: for anyone else it is false, so it tells nobody whose files were erased.
create or replace function private.is_queued_for_deletion(p_bucket_id text, p_name text) returns boolean
language sql stable security definer
set search_path = ''
as $$
    select
        private.is_storage_sweeper()
        and exists (
            select from private.storage_deletions as q where q.bucket_id = p_bucket_id and q.name = p_name
        )
$$;
revoke all on function private.is_queued_for_deletion(text, text) from public;
grant execute on function private.is_queued_for_deletion(text, text) to authenticated;
