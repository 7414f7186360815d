-- Erasure (GDPR Art. 17): pseudonymising a person (private.erase_person) and what it touches.

-- Erasure of one person (GDPR Art. 17), shared by the DSR workflow (private.dsr_erase, 0104) and the
-- contract-end retention step (private.run_retention, 0100). private.erase_person(subject):
--   - deletes the person's attachments (rows) and their storage objects, and any object they own;
--   - replaces every occurrence of their identifiers (e-mail addresses, phone number in any common spelling,
--     full name, first name, surname: from the profile and from the auth user) with '[erased]' in every free-
--     text column of the schema: ticket subjects and descriptions, message bodies (also where colleagues or
--     agents quoted them, internal notes included), attachment file names, DSR notes, objection reasons,
--     the DSR journal's refused attempts;
--   - deletes their access-log rows (public.audit_log where they are the actor: IP addresses, user agents),
--     their GoTrue audit-log entries (and scrubs them from other people's), their auth sessions, MFA
--     factors and, on real Supabase, identities, refresh and one-time tokens;
--   - anonymises the auth user in place and bans it forever: every text column emptied, metadata cleared,
--     deleted_at set (GoTrue's own "soft delete" shape). The row itself stays because the data model keeps
--     the anonymised profile as the anchor of the person's tickets and messages (profiles.id references
--     auth.users on delete cascade, and tickets/messages reference profiles): deleting the auth user would
--     delete the profile and so force deleting the organization's tickets, which Art. 17(3)(b)/(e) lets us
--     keep (contract evidence until contract end + 5 years). What remains is a random UUID with no
--     identifying attribute;
--   - anonymises the profile: name 'Erased person', e-mail erased-<uuid>@erased.invalid, no phone, no
--     position, notifications off, erased_at set (0006's helpers then treat the profile as no one);
--   - deletes the e-mails queued or sent to them (private.notifications, when that outbox exists) and scrubs
--     their identifiers from other notifications' template parameters.
-- Kept, in this restricted (no longer attributable) state: the ticket rows with their status and timestamps
-- (the organization's support history and SLA evidence, until the organization's retention ends), the other
-- people's messages, the DSR requests with their dates (accountability, Art. 5(2)) under the anonymised
-- e-mail. Nothing that was kept contains the name, e-mail or phone (tests/compliance/test_dsr.py scans every
-- text column of every table to prove it).
-- Immutable tables (messages, attachments) and the Art. 18 guards are bypassed by disabling their triggers
-- for the duration of the transaction: only the table owner can do that (never an API role), and it is undone
-- before the function returns or rolled back with it. The guard of erased profiles (a legacy erased person
-- is finished here) is not disabled, which would lock profiles against every request: erase_person writes a
-- marker row in private.erasure_in_progress instead (db/policies/README.md §8b).
-- Finding their identifiers in free text (every spelling of the e-mail, phone and names) and replacing them:
-- db/functions/redaction.sql (private.identifier_patterns, private.replace_patterns, private.any_pattern).

-- Erasure deletes the person's auth user and profile ("delete ... their auth user; keep only what a
-- legal obligation requires, in a restricted state"). Until now private.erase_person (0103) anonymised the
-- auth user and banned it, because public.profiles.id references auth.users (on delete cascade) and the
-- organization's tickets, messages and DSR records reference the profile: deleting the user would have taken
-- the organization's support history with it.
-- Now the rows the organization keeps are re-pointed, inside erase_person's transaction, to a placeholder
-- identity, "Erased person": one per organization (created on first need), one global placeholder for NexK
-- staff (no organization). A placeholder is an auth.users row with no e-mail, no phone, no password, banned
-- forever and marked raw_app_meta_data.nexk_placeholder = 'erased_person', plus a profile that is deactivated
-- and erased (deactivated_at, erased_at set): 0006's helpers and the policies treat it as a stranger
-- (db/policies/README.md §1), so it can never sign in nor see anything. Then the person's auth user is
-- deleted, and their profile with it. Per reference to auth.users / public.profiles (pg_constraint):
--   tickets.requester_id -> placeholder;  tickets.assignee_id -> null (staff; the ticket returns to the queue);
--   ticket_messages.author_id, attachments.uploaded_by (none left: their attachments are deleted) ->
--   placeholder;  dsr_requests.subject_id and handled_by -> placeholder (the request stays as Art. 5(2)
--   evidence with its dates and the anonymised e-mail; the admin queue can still close it);
--   private.processing_objections -> deleted (no one is left to process);  agent_assignments -> deleted;
--   private.notifications -> deleted (as before; also on delete cascade);  auth.sessions, auth.mfa_factors
--   (and Supabase's identities/tokens) -> deleted (as before; also cascade). public.audit_log.actor_id and
--   private.dsr_events.subject_id hold ids without a foreign key: the person's access log is deleted (as
--   before); the journal keeps the bare, now meaningless, UUID. Any other non-cascading reference found in
--   the catalog stops the erasure with a clear message rather than letting the delete fail or lose data.
-- People erased before this migration (anonymised profile, banned user) are finished the same way below.
-- The identifier scrubbing of free text, attachments and storage objects is unchanged (0103).

-- Whether this profile / auth user is an "Erased person" placeholder.
create or replace function private.is_erased_placeholder(p_id uuid) returns boolean
language sql stable
set search_path = ''
as $$
    select exists (
        select from auth.users as u
        where u.id = p_id and u.raw_app_meta_data ->> 'nexk_placeholder' = 'erased_person'
    )
$$;
revoke all on function private.is_erased_placeholder(uuid) from public;

-- The placeholder of an organization (null: the NexK staff placeholder), created on first need.
create or replace function private.erased_person_placeholder(p_organization uuid) returns uuid
language plpgsql
set search_path = ''
as $$
declare
    v_id uuid;
begin
    -- Two erasures in the same organization at once must not create two placeholders.
    perform pg_advisory_xact_lock(
        hashtext('nexk.erased_person_placeholder'), hashtext(coalesce(p_organization::text, 'staff'))
    );
    select p.id into v_id
    from public.profiles as p
    inner join auth.users as u on p.id = u.id
    where
        u.raw_app_meta_data ->> 'nexk_placeholder' = 'erased_person'
        and p.organization_id is not distinct from p_organization
    order by p.created_at, p.id
    limit 1;
    if v_id is not null then
        return v_id;
    end if;
    v_id := gen_random_uuid();
    insert into auth.users (
        id, aud, role, email, encrypted_password, phone, raw_app_meta_data, raw_user_meta_data, banned_until,
        created_at, updated_at
    )
    values (
        v_id, 'authenticated', 'authenticated', null, null, null,
        jsonb_build_object('nexk_placeholder', 'erased_person', 'organization_id', p_organization),
        '{}'::jsonb, 'infinity', now(), now()
    );
    insert into public.profiles (
        id, organization_id, role, first_name, surname, email, language, theme,
        notify_ticket_replies, notify_status_changes, notify_sla_alerts, deactivated_at, erased_at
    )
    values (
        v_id, p_organization, case when p_organization is null then 'agent' else 'client_member' end,
        'Erased', 'person', 'erased-person-' || v_id::text || '@erased.invalid', 'en', 'system',
        false, false, false, now(), now()
    );
    return v_id;
end
$$;
comment on function private.erased_person_placeholder(uuid) is
'The banned, erased, deactivated "Erased person" identity of an organization (null: NexK staff) that keeps '
'the references of erased people (db/schema/0240).';
revoke all on function private.erased_person_placeholder(uuid) from public;

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
    -- This transaction is the erasure of this person: the only writer the guard of erased profiles
    -- (private.guard_erased_profile(), db/functions/profiles.sql) lets through, for this subject only. The
    -- marker goes before this function returns (below) or with the transaction's rollback.
    insert into private.erasure_in_progress (subject_id) values (p_subject) on conflict do nothing;
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

    -- The notification outbox (0200; looked up by name, it comes later): the e-mails owed to them
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
    v_counts := v_counts || private.erase_auth_audit_entries(p_subject, v_patterns);
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
    delete from private.erasure_in_progress as e
    where e.transaction_id = pg_current_xact_id() and e.subject_id = p_subject;

    return v_counts || jsonb_build_object(
        'reason', p_reason, 'storage_paths', to_jsonb(v_paths), 'erased_at', p_at
    );
end
$$;
comment on function private.erase_person(uuid, text, timestamptz) is
'Art. 17: anonymises one person everywhere, re-points what the organization keeps to its "Erased person" '
'placeholder, deletes their auth user and profile (db/schema/0103, 0240) and queues their storage objects '
'for the storage sweeper (0270); returns counts and the storage paths of their attachments.';
revoke all on function private.erase_person(uuid, text, timestamptz) from public;
