-- Erasure of one person (GDPR Art. 17), shared by the DSR workflow (private.dsr_erase, 0104) and the
-- contract-end retention step (private.run_retention, 0100). private.erase_person(subject):
--   - deletes the person's attachments (rows) and their storage objects, and any object they own;
--   - replaces every occurrence of their identifiers (e-mail addresses, phone number in any common spelling,
--     full name, first name, surname: from the profile and from the auth user) with '[erased]' in every free-
--     text column of the schema: ticket subjects and descriptions, message bodies (also where colleagues or
--     agents quoted them, internal notes included), attachment file names, DSR notes, objection reasons,
--     the DSR journal's refused attempts;
--   - deletes their access-log rows (public.audit_log where they are the actor: IP addresses, user agents),
--     their auth sessions, MFA factors and, on real Supabase, identities, refresh and one-time tokens;
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
-- before the function returns or rolled back with it.

create or replace function private.regex_escape(p_text text) returns text
language sql immutable strict
set search_path = ''
as $$
    select regexp_replace(p_text, '([.^$*+?(){}|\[\]\\-])', '\\\1', 'g')
$$;

-- A phone number as people write it: the last nine digits with any separators between them, after an
-- optional international (+32, 0032) or trunk (0) prefix. Null for fewer than six digits.
create or replace function private.phone_pattern(p_phone text) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
    v_digits text := regexp_replace(coalesce(p_phone, ''), '[^0-9]', '', 'g');
begin
    if length(v_digits) < 6 then
        return null;
    end if;
    v_digits := right(v_digits, 9);
    return '(?:(?:\+|00)[0-9]{1,3}[ ./()-]*(?:\(0\)[ ./()-]*)?|0[ ./()-]*)?'
        || array_to_string(regexp_split_to_array(v_digits, ''), '[ ./()-]*');
end
$$;

-- The regular expressions (case-insensitive) that find a person's identifiers in free text, most specific
-- first (e-mails before the names they contain, full names before their parts).
create or replace function private.identifier_patterns(p_subject uuid) returns text[]
language plpgsql stable
set search_path = ''
as $$
declare
    v_emails text [];
    v_phones text [];
    v_full text [];
    v_parts text [];
    v_result text [] := '{}';
    v_item text;
begin
    select
        array_remove(array[p.email::text, u.email, u.raw_user_meta_data ->> 'email'], null),
        array_remove(array[p.phone, u.phone, u.raw_user_meta_data ->> 'phone'], null),
        array_remove(array[
            p.first_name || ' ' || p.surname,
            p.surname || ' ' || p.first_name,
            u.raw_user_meta_data ->> 'full_name',
            u.raw_user_meta_data ->> 'name'
        ], null),
        array_remove(array[
            p.first_name, p.surname, u.raw_user_meta_data ->> 'first_name', u.raw_user_meta_data ->> 'last_name'
        ], null)
    into v_emails, v_phones, v_full, v_parts
    from public.profiles as p
    left join auth.users as u on p.id = u.id
    where p.id = p_subject;

    foreach v_item in array coalesce(v_emails, '{}') loop
        if length(trim(v_item)) > 0 then
            v_result := v_result || private.regex_escape(trim(v_item));
        end if;
    end loop;
    foreach v_item in array coalesce(v_phones, '{}') loop
        if private.phone_pattern(v_item) is not null then
            v_result := v_result || private.phone_pattern(v_item);
        end if;
    end loop;
    foreach v_item in array coalesce(v_full, '{}') || coalesce(v_parts, '{}') loop
        if length(trim(v_item)) >= 2 then
            -- Whole words only (so "Ann" never eats "Annual"); any whitespace between the parts of a name.
            v_result := v_result || (
                '(?<![[:alnum:]_])'
                || regexp_replace(private.regex_escape(trim(v_item)), '\s+', '\\s+', 'g')
                || '(?![[:alnum:]_])'
            );
        end if;
    end loop;
    -- Without duplicates, keeping the first (most specific) position of each.
    return array(
        select x.pattern from unnest(v_result) with ordinality as x (pattern, n)
        group by x.pattern
        order by min(x.n)
    );
end
$$;

create or replace function private.replace_patterns(p_text text, p_patterns text[], p_replacement text)
returns text
language plpgsql immutable
set search_path = ''
as $$
declare
    v_pattern text;
    v_text text := p_text;
begin
    if v_text is null then
        return null;
    end if;
    foreach v_pattern in array coalesce(p_patterns, '{}') loop
        v_text := regexp_replace(v_text, v_pattern, p_replacement, 'gi');
    end loop;
    return v_text;
end
$$;

-- One regular expression matching any of the patterns (for WHERE clauses; replacing uses the ordered list).
create or replace function private.any_pattern(p_patterns text[]) returns text
language sql immutable
set search_path = ''
as $$
    select case when cardinality(p_patterns) > 0 then '(' || array_to_string(p_patterns, ')|(') || ')' end
$$;

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
    v_column record;
    v_assignments text [] := '{}';
begin
    select p.* into v_profile from public.profiles as p where p.id = p_subject for update;
    if not found then
        raise exception 'erasure: there is no person with id %', p_subject
            using errcode = 'P0002', hint = 'Check the id (nexk dsr list shows the subjects of open requests).';
    end if;
    if v_profile.erased_at is not null then
        return jsonb_build_object('already_erased', true, 'storage_paths', '[]'::jsonb);
    end if;
    if v_profile.restricted_at is not null then
        -- Erasure ends the restriction (the subject asked for it, or the retention period ended).
        update public.profiles as p set restricted_at = null where p.id = p_subject;
    end if;

    v_patterns := private.identifier_patterns(p_subject);
    v_any := private.any_pattern(v_patterns);

    alter table public.ticket_messages disable trigger ticket_messages_immutable;
    alter table public.ticket_messages disable trigger ticket_messages_restriction_guard;
    alter table public.attachments disable trigger attachments_immutable;
    alter table public.attachments disable trigger attachments_restriction_guard;
    alter table public.tickets disable trigger tickets_restriction_guard;

    -- Their files: metadata, storage objects (the bytes are removed by the caller through Storage).
    select coalesce(array_agg(a.storage_path order by a.storage_path), '{}') into v_paths
    from public.attachments as a where a.uploaded_by = p_subject;
    delete from storage.objects as so
    where
        (so.bucket_id = 'attachments' and so.name = any(v_paths))
        or so.owner = p_subject
        or so.owner_id = p_subject::text;
    get diagnostics v_n = row_count;
    v_counts := v_counts || jsonb_build_object('storage_objects_deleted', v_n);
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

    -- The auth user: every text column emptied, metadata cleared, banned for good (GoTrue soft delete).
    for v_column in
        select c.column_name, c.data_type, c.is_nullable
        from information_schema.columns as c
        where
            c.table_schema = 'auth'
            and c.table_name = 'users'
            and c.is_generated = 'NEVER'
            and c.column_name not in ('id', 'aud', 'role', 'instance_id')
            and c.data_type in ('text', 'character varying', 'jsonb')
    loop
        v_assignments := v_assignments || format(
            '%I = %s', v_column.column_name,
            case
                when v_column.data_type = 'jsonb' then '''{}''::jsonb'
                when v_column.is_nullable = 'YES' then 'null'
                else ''''''
            end
        );
    end loop;
    execute format(
        'update auth.users set %s, email_confirmed_at = null, last_sign_in_at = null, banned_until = ''infinity'', '
        'deleted_at = $2, updated_at = $2 where id = $1',
        array_to_string(v_assignments, ', ')
    ) using p_subject, p_at;

    update public.profiles as p
    set
        first_name = 'Erased',
        surname = 'person',
        position = null,
        email = v_anon_email,
        phone = null,
        language = 'en',
        theme = 'system',
        notify_ticket_replies = false,
        notify_status_changes = false,
        notify_sla_alerts = false,
        erased_at = p_at
    where p.id = p_subject;

    return v_counts || jsonb_build_object(
        'reason', p_reason, 'storage_paths', to_jsonb(v_paths), 'erased_at', p_at
    );
end
$$;

comment on function private.erase_person(uuid, text, timestamptz) is
'Art. 17: anonymises one person everywhere (see db/schema/0103_dsr_erasure.sql); returns counts and the '
'storage paths whose bytes the caller removes from Storage.';

revoke all on function private.regex_escape(text), private.phone_pattern(text),
private.identifier_patterns(uuid), private.replace_patterns(text, text[], text), private.any_pattern(text[]),
private.erase_person(uuid, text, timestamptz)
from public, anon, authenticated;
