-- Attachment bytes leave Supabase Storage through the Storage API, never by SQL (issue 5: erasure "delete their
-- attachments and storage objects"; retention at contract end + 5 years).
-- Supabase Storage keeps an object's bytes in its backend and its metadata in storage.objects. Deleting the row
-- by SQL leaves the bytes behind for ever (Supabase docs, "Delete Objects"), and since storage#817 a statement
-- trigger on storage.objects refuses any DELETE that does not come from the Storage API (the local emulation
-- does the same: db/compat/supabase.sql). Until now private.erase_person (0240) and private.run_retention
-- (0100) deleted those rows by SQL. From here on:
--   - they queue the objects in private.storage_deletions, in the same transaction as the rest of the erasure;
--     the attachment rows still go at once, so no one can download the files any more (the storage.objects
--     SELECT policy follows the attachment row); a trigger on public.attachments queues the object of any
--     attachment deleted another way, so no path can orphan bytes;
--   - the storage sweeper deletes the queued objects through the Storage API, which removes the row and the
--     bytes. The sweeper is a system account (a GoTrue user whose app_metadata.nexk_system is
--     'storage_sweeper': only the service role can set app_metadata, at deploy time, infra/) and holds no key
--     that bypasses RLS: two policies on storage.objects (db/policies/storage_objects.sql) let exactly that
--     identity see and delete exactly the queued objects. The portal runs it from a Vercel cron and right
--     after an admin fulfils an erasure (app/storage_sweep.py); `nexk storage sweep` runs it by hand;
--   - run_retention forgets queue entries whose object is gone; `nexk storage status` shows what waits.
-- The erasure and retention bodies below are those of 0240 and 0100 with only the storage statements
-- changed (and run_retention's new step 5); the result key storage_objects_deleted becomes
-- storage_objects_queued.

create table private.storage_deletions (
    bucket_id text not null,
    name text not null,
    reason text not null check (reason in ('erasure', 'retention: contract end', 'attachment deleted')),
    queued_at timestamptz not null default now(),
    primary key (bucket_id, name)
);

comment on table private.storage_deletions is
'Storage objects waiting for the storage sweeper to delete them through the Storage API (db/schema/0270).';

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

create trigger attachments_queue_storage_deletion
after delete on public.attachments
for each row execute function private.queue_deleted_attachment_object();

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

revoke all on function private.queue_deleted_attachment_object() from public, anon, authenticated;
revoke all on function private.is_storage_sweeper(), private.is_queued_for_deletion(text, text) from public, anon;
grant execute on function private.is_storage_sweeper(), private.is_queued_for_deletion(text, text)
to authenticated;


create or replace function private.erase_person(
    p_subject uuid, p_reason text, p_at timestamptz default now()
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_profile public.profiles;
    v_patterns text [];
    v_any text;
    v_anon_email text := 'erased-' || p_subject::text || '@erased.invalid';
    v_paths text [];
    v_counts jsonb := '{}';
    v_n bigint;
    v_table text;
    v_legacy boolean := false;
    v_placeholder uuid;
    v_fk record;
begin
    select p.* into v_profile from public.profiles as p where p.id = p_subject for update;
    if not found then
        raise exception 'erasure: there is no person with id %', p_subject
            using errcode = 'P0002', hint = 'Check the id (nexk dsr list shows the subjects of open requests).';
    end if;
    if v_profile.erased_at is not null then
        if private.is_erased_placeholder(p_subject) then
            return jsonb_build_object('already_erased', true, 'storage_paths', '[]'::jsonb);
        end if;
        -- Anonymised before 0240 (profile kept, auth user banned): finish it. Its identifiers are gone
        -- already, and scrubbing 'Erased' / 'person' would damage other people's texts.
        v_legacy := true;
    end if;
    if v_profile.restricted_at is not null then
        -- Erasure ends the restriction (the subject asked for it, or the retention period ended).
        update public.profiles as p set restricted_at = null where p.id = p_subject;
    end if;

    v_patterns := case when v_legacy then '{}'::text [] else private.identifier_patterns(p_subject) end;
    v_placeholder := private.erased_person_placeholder(v_profile.organization_id);
    v_any := private.any_pattern(v_patterns);

    alter table public.ticket_messages disable trigger ticket_messages_immutable;
    alter table public.ticket_messages disable trigger ticket_messages_restriction_guard;
    alter table public.attachments disable trigger attachments_immutable;
    alter table public.attachments disable trigger attachments_restriction_guard;
    alter table public.tickets disable trigger tickets_restriction_guard;

    -- Their files: the attachment rows go now, so nobody can download them any more; the objects (any they
    -- own) are queued for the storage sweeper, which deletes rows and bytes through the Storage API (0270).
    select coalesce(array_agg(a.storage_path order by a.storage_path), '{}') into v_paths
    from public.attachments as a where a.uploaded_by = p_subject;
    insert into private.storage_deletions (bucket_id, name, reason)
    select
        so.bucket_id,
        so.name,
        case when p_reason like 'retention:%' then 'retention: contract end' else 'erasure' end
    from storage.objects as so
    where
        (so.bucket_id = 'attachments' and so.name = any(v_paths))
        or so.owner = p_subject
        or so.owner_id = p_subject::text
    on conflict (bucket_id, name) do nothing;
    get diagnostics v_n = row_count;
    v_counts := v_counts || jsonb_build_object('storage_objects_queued', v_n);
    delete from public.attachments as a where a.uploaded_by = p_subject;
    get diagnostics v_n = row_count;
    v_counts := v_counts || jsonb_build_object('attachments_deleted', v_n);

    -- Their identifiers wherever they were written, by them or by anyone else.
    update public.tickets as t
    set
        subject = private.replace_patterns(t.subject, v_patterns, '[erased]'),
        description = private.replace_patterns(t.description, v_patterns, '[erased]')
    where t.subject ~* v_any or t.description ~* v_any;
    get diagnostics v_n = row_count;
    v_counts := v_counts || jsonb_build_object('ticket_texts_scrubbed', v_n);

    update public.ticket_messages as m
    set body = private.replace_patterns(m.body, v_patterns, '[erased]')
    where m.body ~* v_any;
    get diagnostics v_n = row_count;
    v_counts := v_counts || jsonb_build_object('messages_scrubbed', v_n);

    update public.attachments as a
    set file_name = private.replace_patterns(a.file_name, v_patterns, '[erased]')
    where a.file_name ~* v_any;
    get diagnostics v_n = row_count;
    v_counts := v_counts || jsonb_build_object('attachment_names_scrubbed', v_n);

    update public.dsr_requests as r
    set
        subject_email = case when r.subject_id = p_subject then v_anon_email else r.subject_email end,
        notes = private.replace_patterns(r.notes, v_patterns, '[erased]')
    where r.subject_id = p_subject or r.notes ~* v_any or r.subject_email::text ~* v_any;
    get diagnostics v_n = row_count;
    v_counts := v_counts || jsonb_build_object('dsr_requests_scrubbed', v_n);

    -- The notification outbox (0200, issue 7; looked up by name, it comes later): the e-mails owed to them
    -- go, and their identifiers leave other people's template parameters.
    if to_regclass('private.notifications') is not null then
        execute 'delete from private.notifications as n where n.recipient_id = $1' using p_subject;
        get diagnostics v_n = row_count;
        v_counts := v_counts || jsonb_build_object('notifications_deleted', v_n);
        execute 'update private.notifications as n '
            'set params = private.replace_patterns(n.params::text, $1, ''[erased]'')::jsonb, '
            'last_error = private.replace_patterns(n.last_error, $1, ''[erased]'') '
            'where n.params::text ~* $2 or n.last_error ~* $2'
        using v_patterns, v_any;
    end if;

    update private.processing_objections as o
    set reason = private.replace_patterns(o.reason, v_patterns, '[erased]')
    where o.reason ~* v_any;

    -- The DSR journal holds ids and counts, except refused attempts, which quote the reference given (an
    -- e-mail tried before the person had an account, for instance).
    update private.dsr_events as e
    set detail = private.replace_patterns(e.detail::text, v_patterns, '[erased]')::jsonb
    where e.detail::text ~* v_any;

    -- What the organization keeps now points at its "Erased person" placeholder (or, for staff, the staff one),
    -- so that the person's own rows (auth user, profile) can be deleted below.
    update public.tickets as t set requester_id = v_placeholder where t.requester_id = p_subject;
    get diagnostics v_n = row_count;
    v_counts := v_counts || jsonb_build_object('tickets_reassigned_to_placeholder', v_n);
    update public.tickets as t set assignee_id = null where t.assignee_id = p_subject;
    get diagnostics v_n = row_count;
    v_counts := v_counts || jsonb_build_object('tickets_unassigned', v_n);
    update public.ticket_messages as m set author_id = v_placeholder where m.author_id = p_subject;
    get diagnostics v_n = row_count;
    v_counts := v_counts || jsonb_build_object('messages_reassigned_to_placeholder', v_n);
    update public.attachments as a set uploaded_by = v_placeholder where a.uploaded_by = p_subject;
    -- The requests stay as Art. 5(2) evidence (dates, type, status, anonymised e-mail, recipients).
    update public.dsr_requests as r set subject_id = v_placeholder where r.subject_id = p_subject;
    update public.dsr_requests as r set handled_by = v_placeholder where r.handled_by = p_subject;
    -- Objections concern processing of a person who no longer exists (the journal keeps that they objected).
    delete from private.processing_objections as o where o.subject_id = p_subject;
    delete from public.agent_assignments as aa where aa.agent_id = p_subject;

    alter table public.ticket_messages enable trigger ticket_messages_immutable;
    alter table public.ticket_messages enable trigger ticket_messages_restriction_guard;
    alter table public.attachments enable trigger attachments_immutable;
    alter table public.attachments enable trigger attachments_restriction_guard;
    alter table public.tickets enable trigger tickets_restriction_guard;

    -- Their technical trail.
    delete from public.audit_log as a where a.actor_id = p_subject or a.user_agent ~* v_any;
    get diagnostics v_n = row_count;
    v_counts := v_counts || jsonb_build_object('audit_rows_deleted', v_n);
    delete from auth.sessions as s where s.user_id = p_subject;
    delete from auth.mfa_factors as f where f.user_id = p_subject;
    -- GoTrue tables that exist on Supabase only (identities hold the provider's profile: e-mail, name).
    foreach v_table in array array['auth.identities', 'auth.one_time_tokens', 'auth.refresh_tokens'] loop
        if to_regclass(v_table) is not null then
            execute format('delete from %s where user_id::text = $1', v_table) using p_subject::text;
        end if;
    end loop;

    -- Any other reference (a table added later) would block the delete or be cascaded away unseen: stop with
    -- a clear message instead, so that the new table gets its own rule above.
    for v_fk in
        select c.conrelid::regclass as tbl, a.attname as col
        from pg_catalog.pg_constraint as c
        inner join pg_catalog.pg_attribute as a on c.conrelid = a.attrelid and a.attnum = any(c.conkey)
        where
            c.contype = 'f'
            and c.confrelid in ('auth.users'::regclass, 'public.profiles'::regclass)
            and c.conname <> 'profiles_id_fkey'
            and c.confdeltype not in ('c', 'n', 'd')
    loop
        execute format('select count(*) from %s where %I = $1', v_fk.tbl, v_fk.col) into v_n using p_subject;
        if v_n > 0 then
            raise exception 'erasure: %.% still references % (% rows)', v_fk.tbl, v_fk.col, p_subject, v_n
                using errcode = '23503', hint = 'Teach private.erase_person (db/schema/0240) what to do with it.';
        end if;
    end loop;

    -- The person's account and profile go (the profile by cascade from auth.users).
    delete from auth.users as u where u.id = p_subject;
    get diagnostics v_n = row_count;
    v_counts := v_counts || jsonb_build_object('auth_user_deleted', v_n = 1, 'placeholder_id', v_placeholder);

    return v_counts || jsonb_build_object(
        'reason', p_reason, 'storage_paths', to_jsonb(v_paths), 'erased_at', p_at
    );
end
$$;

create or replace function private.run_retention(
    now timestamptz default now(), dry_run boolean default false
) returns table (step text, affected bigint)
language plpgsql
set search_path = ''
as $$
declare
    v_now constant timestamptz := run_retention.now;
    v_log_cutoff timestamptz := v_now - private.retention_period('technical_logs');
    v_archive_cutoff timestamptz := v_now - private.retention_period('resolved_ticket_archive_after');
    v_contract_period interval := private.retention_period('contract_data_after_contract_end');
    v_dsr_cutoff timestamptz := v_now - private.retention_period('dsr_records_after_completion');
    v_today_brussels date := (v_now at time zone 'Europe/Brussels')::date;
    v_steps text [] := '{}';
    v_counts bigint [] := '{}';
    v_n bigint;
    v_org record;
    v_person record;
    v_erased jsonb;
    v_people bigint := 0;
    v_kept bigint := 0;
    v_orgs bigint := 0;
    v_tickets bigint := 0;
    v_messages bigint := 0;
    v_attachments bigint := 0;
    v_objects bigint := 0;
    v_assignments bigint := 0;
begin
    begin
        -- 1. Technical logs.
        delete from public.audit_log as a where a.created_at < v_log_cutoff;
        get diagnostics v_n = row_count;
        v_steps := v_steps || 'technical_logs: public.audit_log'::text;
        v_counts := v_counts || v_n;

        delete from auth.sessions as s
        where greatest(s.created_at, s.updated_at, s.refreshed_at at time zone 'UTC') < v_log_cutoff;
        get diagnostics v_n = row_count;
        v_steps := v_steps || 'technical_logs: auth.sessions'::text;
        v_counts := v_counts || v_n;

        delete from auth.mfa_challenges as c where c.created_at < v_log_cutoff;
        get diagnostics v_n = row_count;
        v_steps := v_steps || 'technical_logs: auth.mfa_challenges'::text;
        v_counts := v_counts || v_n;

        -- The e-mail outbox (0200, issue 7) once an e-mail is settled: a delivery log like the others.
        if to_regclass('private.notifications') is not null then
            execute 'delete from private.notifications as n '
                'where n.status in (''sent'', ''delivered'', ''failed'', ''suppressed'') '
                'and coalesce(n.delivered_at, n.sent_at, n.last_attempt_at, n.created_at) < $1'
            using v_log_cutoff;
            get diagnostics v_n = row_count;
            v_steps := v_steps || 'technical_logs: private.notifications'::text;
            v_counts := v_counts || v_n;
        end if;

        if to_regclass('auth.audit_log_entries') is not null then
            execute 'delete from auth.audit_log_entries where created_at < $1' using v_log_cutoff;
            get diagnostics v_n = row_count;
            v_steps := v_steps || 'technical_logs: auth.audit_log_entries'::text;
            v_counts := v_counts || v_n;
        end if;

        -- 2. Archive resolved tickets; a restricted requester's tickets are only stored (Art. 18).
        update public.tickets as t
        set archived_at = v_now
        where
            t.archived_at is null
            and t.status in ('resolved', 'closed')
            and t.resolved_at < v_archive_cutoff
            and not private.is_restricted(t.requester_id);
        get diagnostics v_n = row_count;
        v_steps := v_steps || 'archive: tickets archived'::text;
        v_counts := v_counts || v_n;

        select count(*) into v_n
        from public.tickets as t
        where
            t.archived_at is null
            and t.status in ('resolved', 'closed')
            and t.resolved_at < v_archive_cutoff
            and private.is_restricted(t.requester_id);
        v_steps := v_steps || 'archive: skipped (requester restricted)'::text;
        v_counts := v_counts || v_n;

        -- 3. Organizations whose contract ended more than the retention period ago.
        for v_org in
            select o.id
            from public.organizations as o
            where
                o.contract_end is not null
                and o.personal_data_erased_at is null
                and o.contract_end + v_contract_period <= v_today_brussels
            order by o.contract_end, o.id
        loop
            for v_person in
                select p.id, p.restricted_at is not null as restricted
                from public.profiles as p
                where p.organization_id = v_org.id and p.erased_at is null
                order by p.id
            loop
                if v_person.restricted then
                    v_kept := v_kept + 1;
                else
                    v_erased := private.erase_person(
                        v_person.id, 'retention: contract end + ' || v_contract_period, v_now
                    );
                    v_people := v_people + 1;
                    v_attachments := v_attachments + (v_erased ->> 'attachments_deleted')::bigint;
                    v_objects := v_objects + (v_erased ->> 'storage_objects_queued')::bigint;
                end if;
            end loop;

            -- The files' bytes go through the Storage API: queued here for the storage sweeper (0270).
            insert into private.storage_deletions (bucket_id, name, reason)
            select so.bucket_id, so.name, 'retention: contract end'
            from storage.objects as so
            inner join public.attachments as a on so.bucket_id = 'attachments' and so.name = a.storage_path
            inner join public.tickets as t on a.ticket_id = t.id
            where a.organization_id = v_org.id and not private.is_restricted(t.requester_id)
            on conflict (bucket_id, name) do nothing;
            get diagnostics v_n = row_count;
            v_objects := v_objects + v_n;

            delete from public.attachments as a
            using public.tickets as t
            where a.ticket_id = t.id and a.organization_id = v_org.id and not private.is_restricted(t.requester_id);
            get diagnostics v_n = row_count;
            v_attachments := v_attachments + v_n;

            delete from public.ticket_messages as m
            using public.tickets as t
            where m.ticket_id = t.id and t.organization_id = v_org.id and not private.is_restricted(t.requester_id);
            get diagnostics v_n = row_count;
            v_messages := v_messages + v_n;

            if to_regclass('private.notifications') is not null then
                execute 'delete from private.notifications as n using public.tickets as t '
                    'where n.ticket_id = t.id and t.organization_id = $1 and not private.is_restricted(t.requester_id)'
                using v_org.id;
            end if;

            update public.tickets as t
            set
                subject = '[erased: retention period ended]',
                description = '[erased: retention period ended]'
            where
                t.organization_id = v_org.id
                and t.subject <> '[erased: retention period ended]'
                and not private.is_restricted(t.requester_id);
            get diagnostics v_n = row_count;
            v_tickets := v_tickets + v_n;

            if not exists (
                select from public.profiles as p
                where p.organization_id = v_org.id and p.erased_at is null
            ) then
                delete from public.agent_assignments as aa where aa.organization_id = v_org.id;
                get diagnostics v_n = row_count;
                v_assignments := v_assignments + v_n;
                update public.organizations as o set personal_data_erased_at = v_now where o.id = v_org.id;
                v_orgs := v_orgs + 1;
            end if;
        end loop;

        v_steps := v_steps || array[
            'contract_end: organizations erased',
            'contract_end: people anonymised',
            'contract_end: people kept (restricted)',
            'contract_end: ticket texts erased',
            'contract_end: messages deleted',
            'contract_end: attachments deleted',
            'contract_end: storage objects queued for deletion',
            'contract_end: agent assignments deleted'
        ];
        v_counts := v_counts || array[
            v_orgs, v_people, v_kept, v_tickets, v_messages, v_attachments, v_objects, v_assignments
        ];

        -- 4. Closed data-subject requests past their own retention (the journal follows by cascade).
        delete from public.dsr_requests as r where r.completed_at < v_dsr_cutoff;
        get diagnostics v_n = row_count;
        v_steps := v_steps || 'dsr_records: requests deleted'::text;
        v_counts := v_counts || v_n;

        -- Refused attempts (unknown subject) belong to no request: same period, from the attempt.
        delete from private.dsr_events as e where e.request_id is null and e.created_at < v_dsr_cutoff;
        get diagnostics v_n = row_count;
        v_steps := v_steps || 'dsr_records: refused attempts deleted'::text;
        v_counts := v_counts || v_n;

        -- 5. The storage deletion queue forgets the objects the sweeper has deleted (their rows are gone).
        delete from private.storage_deletions as q
        where not exists (
            select from storage.objects as so where so.bucket_id = q.bucket_id and so.name = q.name
        );
        get diagnostics v_n = row_count;
        v_steps := v_steps || 'storage: deletions confirmed and forgotten'::text;
        v_counts := v_counts || v_n;

        if dry_run then
            -- Undo everything this block did; the counts in the variables survive the rollback.
            raise exception 'retention dry run' using errcode = 'NXDRY';
        end if;
    exception when sqlstate 'NXDRY' then
        null;
    end;
    return query select s.step, s.affected from unnest(v_steps, v_counts) as s (step, affected);
end
$$;

comment on function private.erase_person(uuid, text, timestamptz) is
'Art. 17: anonymises one person everywhere, re-points what the organization keeps to its "Erased person" '
'placeholder, deletes their auth user and profile (db/schema/0103, 0240) and queues their storage objects '
'for the storage sweeper (0270); returns counts and the storage paths of their attachments.';

comment on function private.run_retention(timestamptz, boolean) is
'Applies private.retention_policy as of `now` (time travel); dry_run reports the same counts, changes nothing.';

revoke all on function private.erase_person(uuid, text, timestamptz), private.run_retention(timestamptz, boolean)
from public, anon, authenticated;
