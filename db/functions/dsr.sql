-- Data-subject requests (GDPR Art. 15-21): deadlines, restriction, export, rectification, the admin wrappers.

create or replace function private.dsr_set_due_dates() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.legal_due_at := ((new.received_at at time zone 'Europe/Brussels') + interval '1 month')
        at time zone 'Europe/Brussels';
    new.internal_due_at := ((new.received_at at time zone 'Europe/Brussels') + interval '30 days')
        at time zone 'Europe/Brussels';
    -- An explicit due date (an extension, or an admin's choice) is kept; 0011's check caps it.
    if new.due_at is null or (tg_op = 'UPDATE' and new.due_at is not distinct from old.due_at) then
        new.due_at := least(new.legal_due_at, new.internal_due_at);
    end if;
    return new;
end
$$;
revoke all on function private.dsr_set_due_dates() from public;

-- Restriction of processing (GDPR Art. 18), enforced by the database: while profiles.restricted_at is set,
-- the person's data "are not subject to further processing operations and cannot be changed" (Recital 67).
-- profiles.restricted_at (0005) is the marker; these triggers are the enforcement, for every role (the API's
-- `authenticated`, `service_role` and the owner alike, since triggers do not care about BYPASSRLS):
--   - the restricted profile cannot be updated or deleted, except to lift the restriction (an UPDATE that
--     changes restricted_at to null and nothing else: Art. 18(3) says the subject is told before lifting);
--   - the tickets they requested cannot be created, updated (status, assignee, archiving) or deleted;
--   - no message or attachment is added by them or to their tickets, and none of theirs is deleted.
-- Reads stay allowed (restricted data is stored, and the subject keeps their right of access).
-- Notifications: the outbox (0200, private.enqueue_notification) already turns every e-mail to a restricted
-- person into a `suppressed` row without address or content, and the guards above stop the events (replies,
-- status changes) that would cause one on their tickets. Agent queues should filter on
-- private.is_restricted(requester_id) (the policies' owner decides how the portal shows them).
-- The DSR functions that must change restricted data (rectification, erasure) lift the marker first, in the
-- same transaction, and set it back where the restriction continues.

-- Definer: it must see every profile, whoever asks; only the guards and the service side call it.
create or replace function private.is_restricted(p_profile_id uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
    select exists (
        select from public.profiles as p where p.id = p_profile_id and p.restricted_at is not null
    )
$$;
revoke all on function private.is_restricted(uuid) from public;

create or replace function private.guard_restricted_profile() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if old.restricted_at is null then
        return coalesce(new, old);
    end if;
    if tg_op = 'UPDATE'
        and new.restricted_at is null
        and to_jsonb(new) - 'restricted_at' - 'updated_at' = to_jsonb(old) - 'restricted_at' - 'updated_at'
    then
        return new;  -- lifting the restriction, and nothing else
    end if;
    raise exception 'profiles: the data of profile % is restricted (GDPR Art. 18) and cannot be changed', old.id
        using errcode = '42501',
        hint = 'Lift the restriction first (private.dsr_restrict(subject, false)), after telling the person.';
end
$$;
revoke all on function private.guard_restricted_profile() from public;

create or replace function private.guard_restricted_ticket() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_requester uuid;
begin
    if tg_op = 'INSERT' then
        v_requester := new.requester_id;
    elsif tg_op = 'UPDATE' and private.is_restricted(new.requester_id) then
        v_requester := new.requester_id;
    else
        v_requester := old.requester_id;
    end if;
    if private.is_restricted(v_requester) then
        raise exception 'tickets: the requester''s data is restricted (GDPR Art. 18): the ticket is read-only'
            using errcode = '42501', hint = 'A NexK admin lifts the restriction (private.dsr_restrict).';
    end if;
    return coalesce(new, old);
end
$$;
revoke all on function private.guard_restricted_ticket() from public;

-- Messages and attachments: the author/uploader and the ticket's requester must not be restricted.
-- The ticket and message guards are definer because the writer may not see the requester's profile.
-- `tg_argv[0]` names the person column (author_id or uploaded_by).
create or replace function private.guard_restricted_ticket_content() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_row jsonb := to_jsonb(coalesce(new, old));
    v_person uuid := (v_row ->> tg_argv[0])::uuid;
    v_requester uuid;
begin
    select t.requester_id into v_requester from public.tickets as t where t.id = (v_row ->> 'ticket_id')::uuid;
    if private.is_restricted(v_person) or private.is_restricted(v_requester) then
        raise exception '%: the data of this ticket''s people is restricted (GDPR Art. 18): read-only', tg_table_name
            using errcode = '42501', hint = 'A NexK admin lifts the restriction (private.dsr_restrict).';
    end if;
    return coalesce(new, old);
end
$$;
revoke all on function private.guard_restricted_ticket_content() from public;

-- Data-subject rights as SQL functions: what `nexk dsr ...` (compliance/dsr.py) calls
-- today and what the portal will reach later through narrow security-definer wrappers. They run as the
-- database owner (admin tooling; erasure must disable the immutability triggers, which only the owner can),
-- so none is security definer and none is executable by anon, authenticated or service_role.
--
--   dsr_find_subject(ref)            the person's id from a UUID or an e-mail; unknown -> P0002
--   dsr_open(subject, type, received_at, notes) -> request id; due dates set by 0101's trigger
--   dsr_export(subject) -> jsonb     Art. 15 + 20: profile, account, their tickets with the public thread,
--                                    their messages elsewhere, attachment metadata, their requests,
--                                    objections, access log, sessions and notifications. Never internal
--                                    notes (nor their attachments); other people appear as role labels ("NexK agent",
--                                    "colleague"), their names, e-mails and phones are replaced by the label
--                                    even inside message texts.
--   dsr_rectify(subject, changes)    Art. 16: first_name, surname, position, email, phone (email also on the
--                                    auth user, the login identity); works under restriction (lifted and
--                                    set again in the same transaction)
--   dsr_erase(subject, subprocessors) Art. 17: private.erase_person (0103) + Art. 19 snapshot
--   dsr_restrict(subject, restricted, subprocessors) Art. 18: sets/lifts profiles.restricted_at (enforced by 0102)
--   dsr_object(subject, purpose, reason) Art. 21: records the objection; upheld at once where we have no
--                                    compelling ground, pending review for security logging
--   dsr_complete(request, status, subprocessors) closes the request, stores the Art. 19 recipient list
--   dsr_recipients(subject, subprocessors) Art. 19 / 15(1)(c): who received the person's data
--   dsr_log_failure(ref, type, error) records a refused attempt in its own transaction (the caller's)
-- Art. 19 recipients: the database knows the data-side recipients (the client organization whose admins or
-- members see the person's tickets, NexK agents assigned to it); the subprocessors (Supabase, Vercel,
-- Brevo) live in compliance/subprocessors.yaml, which the database cannot read: the caller passes them as
-- a jsonb array of {"name", "service"} (compliance/dsr.py reads the register), so there is one list only.
-- Every action is journalled in private.dsr_events (whose audit trigger also writes public.audit_log) and
-- its data changes are audited row by row by 0010's triggers. An unknown subject raises P0002 with a clear
-- message; since a raise rolls back, the caller records the attempt with dsr_log_failure() afterwards.
create or replace function private.dsr_find_subject(p_ref text) returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
    v_id uuid;
begin
    if p_ref ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        select p.id into v_id from public.profiles as p where p.id = p_ref::uuid;
    else
        select p.id into v_id from public.profiles as p where p.email = p_ref::extensions.citext;
    end if;
    if v_id is null then
        raise exception 'dsr: no data subject matches % (no profile with this id or e-mail)', p_ref
            using errcode = 'P0002',
            hint = 'Check the id or e-mail; if the person has no account, answer that no data is held.';
    end if;
    return v_id;
end
$$;
revoke all on function private.dsr_find_subject(text) from public;

-- The subject's profile, or a clear error: unknown (P0002) or, unless p_allow_erased, already erased (55000).
create or replace function private.dsr_subject(p_subject uuid, p_allow_erased boolean default false)
returns public.profiles
language plpgsql stable
set search_path = ''
as $$
declare
    v_profile public.profiles;
begin
    select p.* into v_profile from public.profiles as p where p.id = p_subject;
    if not found or p_subject is null then
        raise exception 'dsr: no data subject with id % (no profile)', p_subject
            using errcode = 'P0002', hint = 'Find the id with `nexk dsr list` or by e-mail.';
    end if;
    if v_profile.erased_at is not null and not p_allow_erased then
        raise exception 'dsr: the data of % was erased on %; nothing is left to process', p_subject,
            v_profile.erased_at
            using errcode = '55000';
    end if;
    return v_profile;
end
$$;
revoke all on function private.dsr_subject(uuid, boolean) from public;

-- The open request of these types for the subject (the most recent), if any: actions are attached to it.
create or replace function private.dsr_open_request(p_subject uuid, p_types text[]) returns uuid
language sql stable
set search_path = ''
as $$
    select r.id
    from public.dsr_requests as r
    where r.subject_id = p_subject and r.type = any(p_types) and r.completed_at is null
    order by r.received_at desc, r.id
    limit 1
$$;
revoke all on function private.dsr_open_request(uuid, text[]) from public;

create or replace function private.dsr_journal(
    p_request uuid, p_subject uuid, p_event text, p_detail jsonb default '{}'
) returns void
language plpgsql
set search_path = ''
as $$
begin
    insert into private.dsr_events (request_id, subject_id, event_type, outcome, detail)
    values (p_request, p_subject, p_event, 'done', coalesce(p_detail, '{}'));
    update public.dsr_requests as r set status = 'in_progress'
    where r.id = p_request and r.status in ('received', 'verifying_identity');
end
$$;
revoke all on function private.dsr_journal(uuid, uuid, text, jsonb) from public;

create or replace function private.dsr_log_failure(p_subject_ref text, p_type text, p_error text) returns uuid
language plpgsql
set search_path = ''
as $$
declare
    v_id uuid;
begin
    insert into private.dsr_events (subject_id, event_type, outcome, detail)
    values (
        case
            when p_subject_ref ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                then p_subject_ref::uuid
        end,
        'refused',
        'failed',
        jsonb_build_object('type', p_type, 'subject_ref', p_subject_ref, 'error', left(p_error, 500))
    )
    returning id into v_id;
    return v_id;
end
$$;
revoke all on function private.dsr_log_failure(text, text, text) from public;

create or replace function private.dsr_open(
    subject uuid, type text, received_at timestamptz default now(), notes text default null
) returns uuid
language plpgsql
set search_path = ''
as $$
declare
    v_profile public.profiles := private.dsr_subject(dsr_open.subject);
    v_id uuid;
begin
    if dsr_open.type is null or dsr_open.type not in (
        'access', 'rectification', 'erasure', 'restriction', 'portability', 'objection'
    ) then
        raise exception 'dsr: unknown request type %', dsr_open.type
            using errcode = '22023',
            hint = 'Use access, rectification, erasure, restriction, portability or objection.';
    end if;
    insert into public.dsr_requests as r (subject_id, subject_email, type, received_at, notes)
    values (v_profile.id, v_profile.email, dsr_open.type, dsr_open.received_at, dsr_open.notes)
    returning r.id into v_id;
    insert into private.dsr_events (request_id, subject_id, event_type, outcome, detail)
    values (v_id, v_profile.id, 'opened', 'done', jsonb_build_object('type', dsr_open.type));
    return v_id;
end
$$;
revoke all on function private.dsr_open(uuid, text, timestamptz, text) from public;

-- How a person other than the subject appears in the subject's export.
create or replace function private.dsr_role_label(p_person uuid, p_subject uuid) returns text
language sql stable
set search_path = ''
as $$
    select case
        when p_person = p_subject then 'you'
        when p.role = 'agent' then 'NexK agent'
        when p.role = 'admin' then 'NexK administrator'
        when p.role in ('client_member', 'client_admin') then 'colleague'
        else 'someone else'
    end
    from public.profiles as p
    where p.id = p_person
$$;
revoke all on function private.dsr_role_label(uuid, uuid) from public;

create or replace function private.redact_labels(p_text text, p_patterns text[], p_labels text[]) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
    v_text text := p_text;
begin
    for i in 1..coalesce(cardinality(p_patterns), 0) loop
        v_text := regexp_replace(v_text, p_patterns[i], '[' || p_labels[i] || ']', 'gi');
    end loop;
    return v_text;
end
$$;
revoke all on function private.redact_labels(text, text[], text[]) from public;

create or replace function private.dsr_export(subject uuid) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_profile public.profiles := private.dsr_subject(dsr_export.subject);
    v_patterns text [] := '{}';
    v_labels text [] := '{}';
    v_other record;
    v_pattern text;
    v_export jsonb;
    v_notifications jsonb;
begin
    -- Everyone whose identity could show up in what the subject receives: colleagues, staff, and the
    -- people on the subject's tickets. Their identifiers become role labels.
    for v_other in
        select p.id, private.dsr_role_label(p.id, v_profile.id) as label
        from public.profiles as p
        where
            p.id <> v_profile.id
            and (
                p.organization_id = v_profile.organization_id
                or p.role in ('agent', 'admin')
                or p.id in (
                    select m.author_id
                    from public.ticket_messages as m
                    inner join public.tickets as t on m.ticket_id = t.id
                    where t.requester_id = v_profile.id
                )
                or p.id in (
                    select t.requester_id
                    from public.tickets as t
                    inner join public.ticket_messages as m on t.id = m.ticket_id
                    where m.author_id = v_profile.id
                )
            )
    loop
        foreach v_pattern in array private.identifier_patterns(v_other.id) loop
            v_patterns := v_patterns || v_pattern;
            v_labels := v_labels || v_other.label;
        end loop;
    end loop;

    select jsonb_build_object(
        'format', 'nexk-dsr-export/1',
        'legal_basis', 'GDPR Art. 15 (access) and Art. 20 (portability)',
        'generated_at', now(),
        'subject_id', v_profile.id,
        'excluded', jsonb_build_array(
            'internal notes of NexK staff and their attachments',
            'other people''s identities (shown as role labels such as "NexK agent" or "colleague")'
        ),
        'profile', jsonb_build_object(
            'first_name', v_profile.first_name,
            'surname', v_profile.surname,
            'position', v_profile.position,
            'email', v_profile.email,
            'phone', v_profile.phone,
            'role', v_profile.role,
            'organization', (select o.name from public.organizations as o where o.id = v_profile.organization_id),
            'language', v_profile.language,
            'theme', v_profile.theme,
            'notify_ticket_replies', v_profile.notify_ticket_replies,
            'notify_status_changes', v_profile.notify_status_changes,
            'notify_sla_alerts', v_profile.notify_sla_alerts,
            'restricted_at', v_profile.restricted_at,
            'deactivated_at', v_profile.deactivated_at,
            'created_at', v_profile.created_at,
            'updated_at', v_profile.updated_at
        ),
        'account', (
            select jsonb_build_object(
                'email', u.email, 'phone', u.phone, 'created_at', u.created_at,
                'email_confirmed_at', u.email_confirmed_at, 'last_sign_in_at', u.last_sign_in_at
            )
            from auth.users as u where u.id = v_profile.id
        ),
        'tickets', coalesce((
            select jsonb_agg(jsonb_build_object(
                'id', t.id,
                'subject', private.redact_labels(t.subject, v_patterns, v_labels),
                'description', private.redact_labels(t.description, v_patterns, v_labels),
                'status', t.status,
                'priority', t.priority,
                'assignee', private.dsr_role_label(t.assignee_id, v_profile.id),
                'created_at', t.created_at,
                'first_response_at', t.first_response_at,
                'resolved_at', t.resolved_at,
                'archived_at', t.archived_at,
                'messages', coalesce((
                    select jsonb_agg(jsonb_build_object(
                        'id', m.id,
                        'author', private.dsr_role_label(m.author_id, v_profile.id),
                        'body', private.redact_labels(m.body, v_patterns, v_labels),
                        'created_at', m.created_at
                    ) order by m.created_at, m.id)
                    from public.ticket_messages as m
                    where m.ticket_id = t.id and not m.internal
                ), '[]'::jsonb)
            ) order by t.created_at, t.id)
            from public.tickets as t
            where t.requester_id = v_profile.id
        ), '[]'::jsonb),
        'messages_on_other_tickets', coalesce((
            select jsonb_agg(jsonb_build_object(
                'id', m.id,
                'ticket_id', m.ticket_id,
                'body', private.redact_labels(m.body, v_patterns, v_labels),
                'created_at', m.created_at
            ) order by m.created_at, m.id)
            from public.ticket_messages as m
            inner join public.tickets as t on m.ticket_id = t.id
            where m.author_id = v_profile.id and not m.internal and t.requester_id <> v_profile.id
        ), '[]'::jsonb),
        'attachments', coalesce((
            select jsonb_agg(jsonb_build_object(
                'id', a.id,
                'ticket_id', a.ticket_id,
                'message_id', a.message_id,
                'file_name', private.redact_labels(a.file_name, v_patterns, v_labels),
                'content_type', a.content_type,
                'size_bytes', a.size_bytes,
                'sha256', a.sha256,
                'storage_path', a.storage_path,
                'created_at', a.created_at
            ) order by a.created_at, a.id)
            from public.attachments as a
            where a.uploaded_by = v_profile.id and not a.internal
        ), '[]'::jsonb),
        'requests', coalesce((
            select jsonb_agg(jsonb_build_object(
                'id', r.id, 'type', r.type, 'status', r.status, 'received_at', r.received_at,
                'due_at', r.due_at, 'legal_due_at', r.legal_due_at, 'completed_at', r.completed_at
            ) order by r.received_at, r.id)
            from public.dsr_requests as r where r.subject_id = v_profile.id
        ), '[]'::jsonb),
        'objections', coalesce((
            select jsonb_agg(jsonb_build_object(
                'purpose', o.purpose, 'status', o.status, 'received_at', o.received_at, 'decided_at', o.decided_at
            ) order by o.received_at, o.id)
            from private.processing_objections as o where o.subject_id = v_profile.id
        ), '[]'::jsonb),
        'access_log', coalesce((
            select jsonb_agg(jsonb_build_object(
                'at', a.created_at, 'action', a.action, 'object_table', a.object_table,
                'object_id', a.object_id, 'ip', a.ip, 'user_agent', a.user_agent
            ) order by a.created_at, a.id)
            from public.audit_log as a where a.actor_id = v_profile.id
        ), '[]'::jsonb),
        'sessions', coalesce((
            select jsonb_agg(jsonb_build_object(
                'created_at', s.created_at, 'updated_at', s.updated_at, 'ip', s.ip, 'user_agent', s.user_agent
            ) order by s.created_at, s.id)
            from auth.sessions as s where s.user_id = v_profile.id
        ), '[]'::jsonb)
    ) into v_export;

    -- The e-mails the portal owed them (outbox of 0200, which comes later: looked up by name).
    if to_regclass('private.notifications') is not null then
        execute 'select coalesce(jsonb_agg(jsonb_build_object(''kind'', n.kind, ''status'', n.status, '
            '''ticket_id'', n.ticket_id, ''created_at'', n.created_at, ''sent_at'', n.sent_at, '
            '''delivered_at'', n.delivered_at) order by n.created_at, n.id), ''[]''::jsonb) '
            'from private.notifications as n where n.recipient_id = $1'
        into v_notifications
        using v_profile.id;
        v_export := v_export || jsonb_build_object('notifications', v_notifications);
    end if;

    perform private.write_audit_entry('read', 'profiles', v_profile.id, null);
    perform private.dsr_journal(
        private.dsr_open_request(v_profile.id, array['access', 'portability']),
        v_profile.id,
        'exported',
        jsonb_build_object(
            'tickets', jsonb_array_length(v_export -> 'tickets'),
            'attachments', jsonb_array_length(v_export -> 'attachments')
        )
    );
    return v_export;
end
$$;
revoke all on function private.dsr_export(uuid) from public;

create or replace function private.dsr_rectify(subject uuid, changes jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_profile public.profiles := private.dsr_subject(dsr_rectify.subject);
    v_allowed constant text [] := array['first_name', 'surname', 'position', 'email', 'phone'];
    v_keys text [];
    v_unknown text [];
begin
    if dsr_rectify.changes is null or jsonb_typeof(dsr_rectify.changes) <> 'object' or dsr_rectify.changes = '{}' then
        raise exception 'dsr: rectification needs a JSON object of changes'
            using errcode = '22023', hint = 'For example {"surname": "Peeters"}; fields: ' || array_to_string(v_allowed, ', ');
    end if;
    select array_agg(k.key order by k.key) into v_keys from jsonb_object_keys(dsr_rectify.changes) as k (key);
    v_unknown := array(select x.key from unnest(v_keys) as x (key) where x.key <> all(v_allowed));
    if cardinality(v_unknown) > 0 then
        raise exception 'dsr: cannot rectify %', array_to_string(v_unknown, ', ')
            using errcode = '22023', hint = 'Rectifiable fields: ' || array_to_string(v_allowed, ', ');
    end if;

    if v_profile.restricted_at is not null then
        update public.profiles as p set restricted_at = null where p.id = v_profile.id;
    end if;
    update public.profiles as p
    set
        first_name = case when dsr_rectify.changes ? 'first_name' then dsr_rectify.changes ->> 'first_name' else p.first_name end,
        surname = case when dsr_rectify.changes ? 'surname' then dsr_rectify.changes ->> 'surname' else p.surname end,
        position = case when dsr_rectify.changes ? 'position' then dsr_rectify.changes ->> 'position' else p.position end,
        email = case when dsr_rectify.changes ? 'email' then dsr_rectify.changes ->> 'email' else p.email::text end,
        phone = case when dsr_rectify.changes ? 'phone' then dsr_rectify.changes ->> 'phone' else p.phone end
    where p.id = v_profile.id;
    if dsr_rectify.changes ? 'email' then
        update auth.users as u set email = dsr_rectify.changes ->> 'email', updated_at = now() where u.id = v_profile.id;
    end if;
    if v_profile.restricted_at is not null then
        update public.profiles as p set restricted_at = v_profile.restricted_at where p.id = v_profile.id;
    end if;

    perform private.dsr_journal(
        private.dsr_open_request(v_profile.id, array['rectification']),
        v_profile.id,
        'rectified',
        jsonb_build_object('fields', to_jsonb(v_keys))  -- the field names, never the values
    );
    return jsonb_build_object('subject_id', v_profile.id, 'fields', to_jsonb(v_keys));
end
$$;
revoke all on function private.dsr_rectify(uuid, jsonb) from public;

create or replace function private.dsr_recipients(subject uuid, subprocessors jsonb default '[]')
returns table (recipient text, kind text, reason text)
language plpgsql stable
set search_path = ''
as $$
declare
    v_profile public.profiles := private.dsr_subject(dsr_recipients.subject, true);
    v_org public.organizations;
    v_admins bigint;
    v_members bigint;
    v_agents bigint;
begin
    if v_profile.organization_id is not null then
        select o.* into v_org from public.organizations as o where o.id = v_profile.organization_id;
        select
            count(*) filter (where p.role = 'client_admin'),
            count(*) filter (where p.role = 'client_member')
        into v_admins, v_members
        from public.profiles as p
        where
            p.organization_id = v_org.id
            and p.id <> v_profile.id
            and p.erased_at is null
            and p.deactivated_at is null;
        if v_admins > 0 or (v_org.shared_tickets and v_members > 0) then
            recipient := v_org.name || ' (client organization)';
            kind := 'organization';
            reason := format(
                '%s client administrator(s) see every ticket of the organization%s',
                v_admins,
                case when v_org.shared_tickets then format('; %s member(s) see shared tickets', v_members) else '' end
            );
            return next;
        end if;
        select count(*) into v_agents
        from public.agent_assignments as a
        inner join public.profiles as p on a.agent_id = p.id
        where a.organization_id = v_org.id and p.erased_at is null;
        if v_agents > 0 then
            recipient := 'NexK support agents assigned to ' || v_org.name;
            kind := 'internal';
            reason := format('%s agent(s) handle the organization''s tickets (under NexK''s authority)', v_agents);
            return next;
        end if;
    end if;
    for recipient, reason in
        select s.value ->> 'name', coalesce(s.value ->> 'service', 'subprocessor')
        from jsonb_array_elements(coalesce(dsr_recipients.subprocessors, '[]')) as s (value)
    loop
        kind := 'subprocessor';
        return next;
    end loop;
end
$$;
revoke all on function private.dsr_recipients(uuid, jsonb) from public;

create or replace function private.dsr_recipients_json(p_subject uuid, p_subprocessors jsonb) returns jsonb
language sql stable
set search_path = ''
as $$
    select coalesce(jsonb_agg(jsonb_build_object('recipient', r.recipient, 'kind', r.kind, 'reason', r.reason)),
        '[]'::jsonb)
    from private.dsr_recipients(p_subject, p_subprocessors) as r
$$;
revoke all on function private.dsr_recipients_json(uuid, jsonb) from public;

create or replace function private.dsr_erase(subject uuid, subprocessors jsonb default '[]') returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_profile public.profiles := private.dsr_subject(dsr_erase.subject, true);
    v_request uuid := private.dsr_open_request(v_profile.id, array['erasure']);
    v_recipients jsonb := private.dsr_recipients_json(v_profile.id, dsr_erase.subprocessors);
    v_result jsonb;
begin
    -- Art. 19: who to tell, computed while the person's links still exist.
    update public.dsr_requests as r set recipients = v_recipients where r.id = v_request;
    v_result := private.erase_person(v_profile.id, 'dsr: erasure request (Art. 17)');
    perform private.dsr_journal(v_request, v_profile.id, 'erased', v_result - 'storage_paths' - 'reason');
    return v_result || jsonb_build_object('request_id', v_request, 'recipients', v_recipients);
end
$$;
revoke all on function private.dsr_erase(uuid, jsonb) from public;

create or replace function private.dsr_restrict(
    subject uuid, restricted boolean default true, subprocessors jsonb default '[]'
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_profile public.profiles := private.dsr_subject(dsr_restrict.subject);
    v_request uuid := private.dsr_open_request(v_profile.id, array['restriction', 'objection']);
    v_at timestamptz;
begin
    if dsr_restrict.restricted then
        update public.profiles as p set restricted_at = coalesce(p.restricted_at, now())
        where p.id = v_profile.id
        returning p.restricted_at into v_at;
    else
        update public.profiles as p set restricted_at = null where p.id = v_profile.id;
    end if;
    update public.dsr_requests as r
    set recipients = private.dsr_recipients_json(v_profile.id, dsr_restrict.subprocessors)
    where r.id = v_request;
    perform private.dsr_journal(
        v_request, v_profile.id, case when dsr_restrict.restricted then 'restricted' else 'restriction_lifted' end
    );
    return jsonb_build_object('subject_id', v_profile.id, 'restricted_at', v_at, 'request_id', v_request);
end
$$;
revoke all on function private.dsr_restrict(uuid, boolean, jsonb) from public;

create or replace function private.dsr_object(subject uuid, purpose text, reason text default null) returns text
language plpgsql
set search_path = ''
as $$
declare
    v_profile public.profiles := private.dsr_subject(dsr_object.subject);
    v_status text;
begin
    if dsr_object.purpose in ('support_contract', 'contract', 'legal_obligation') then
        raise exception 'dsr: processing for % is not based on legitimate interest and cannot be objected to',
            dsr_object.purpose
            using errcode = '22023',
            hint = 'Art. 21 covers Art. 6(1)(e)/(f) processing: security_logging, audience_measurement, '
            || 'direct_marketing. The ticket service is contract processing (Art. 6(1)(b)).';
    end if;
    if dsr_object.purpose is null
        or dsr_object.purpose not in ('security_logging', 'audience_measurement', 'direct_marketing') then
        raise exception 'dsr: unknown processing purpose %', dsr_object.purpose
            using errcode = '22023', hint = 'Use security_logging, audience_measurement or direct_marketing.';
    end if;
    -- No compelling ground outweighs the objection for measurement (anonymised anyway) or marketing
    -- (absolute, Art. 21(3)); security logging protects everyone's accounts: an admin weighs it.
    v_status := case when dsr_object.purpose = 'security_logging' then 'pending_review' else 'upheld' end;
    insert into private.processing_objections as o (subject_id, purpose, status, decided_at, reason)
    values (
        v_profile.id, dsr_object.purpose, v_status, case when v_status <> 'pending_review' then now() end,
        dsr_object.reason
    )
    on conflict on constraint processing_objections_unique do update
        set
            status = excluded.status,
            received_at = now(),
            decided_at = excluded.decided_at,
            reason = excluded.reason;
    perform private.dsr_journal(
        private.dsr_open_request(v_profile.id, array['objection']),
        v_profile.id,
        'objected',
        jsonb_build_object('purpose', dsr_object.purpose, 'status', v_status)
    );
    return v_status;
end
$$;
revoke all on function private.dsr_object(uuid, text, text) from public;

-- Whether the person's objection to a purpose stands (the processing then skips them).
create or replace function private.has_objected(p_subject uuid, p_purpose text) returns boolean
language sql stable
set search_path = ''
as $$
    select exists (
        select from private.processing_objections as o
        where o.subject_id = p_subject and o.purpose = p_purpose and o.status = 'upheld'
    )
$$;
revoke all on function private.has_objected(uuid, text) from public;

create or replace function private.dsr_complete(
    request_id uuid, status text default 'completed', subprocessors jsonb default '[]'
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_request public.dsr_requests;
    v_recipients jsonb;
begin
    select r.* into v_request from public.dsr_requests as r where r.id = dsr_complete.request_id for update;
    if not found then
        raise exception 'dsr: no request with id %', dsr_complete.request_id
            using errcode = 'P0002', hint = '`nexk dsr list` shows the open requests.';
    end if;
    if v_request.completed_at is not null then
        raise exception 'dsr: request % was already closed (%) on %', v_request.id, v_request.status,
            v_request.completed_at
            using errcode = '55000';
    end if;
    if dsr_complete.status not in ('completed', 'rejected') then
        raise exception 'dsr: a request is closed as completed or rejected, not %', dsr_complete.status
            using errcode = '22023';
    end if;
    v_recipients := coalesce(
        v_request.recipients,
        private.dsr_recipients_json(v_request.subject_id, dsr_complete.subprocessors)
    );
    update public.dsr_requests as r
    set status = dsr_complete.status, completed_at = now(), recipients = v_recipients
    where r.id = v_request.id
    returning r.* into v_request;
    insert into private.dsr_events (request_id, subject_id, event_type, outcome, detail)
    values (
        v_request.id, v_request.subject_id, 'closed', 'done',
        jsonb_build_object('status', v_request.status, 'on_time', v_request.completed_at <= v_request.due_at)
    );
    return jsonb_build_object(
        'request_id', v_request.id,
        'type', v_request.type,
        'status', v_request.status,
        'received_at', v_request.received_at,
        'due_at', v_request.due_at,
        'completed_at', v_request.completed_at,
        'on_time', v_request.completed_at <= v_request.due_at,
        'recipients', v_recipients
    );
end
$$;
revoke all on function private.dsr_complete(uuid, text, jsonb) from public;

-- The portal's DSR queue: narrow security definer wrappers through which an administrator at
-- aal2 fulfils a recorded data-subject request from the portal. The private.dsr_* functions (0104) stay
-- owner-only; each wrapper here
--   * refuses everyone but an admin with MFA (42501), checked inside the function, since a definer bypasses
--     the policies that would otherwise stop a client or an agent;
--   * acts on one open request of the matching type (the queue's row), never on a free-form subject, so the
--     portal cannot erase or export anybody without a request on record;
--   * stamps `handled_by` with the admin (audited by the dsr_requests row trigger) and then calls the private
--     function, whose journal entry in private.dsr_events is audited too (actor = the admin's JWT subject).
-- They live in `private` (not exposed through /rpc) and are reached only by the portal's SQL.

-- The open request the action applies to, after the admin check. Not a definer: it only runs inside the
-- definer wrappers below (as the owner), and nobody else may execute it.
create or replace function private.admin_dsr_request(p_request uuid, p_types text[])
returns public.dsr_requests
language plpgsql
set search_path = ''
as $$
declare
    v_request public.dsr_requests;
begin
    if not coalesce((select private.is_admin()) and (select private.has_mfa()), false) then
        raise exception 'only a NexK administrator signed in with two-step verification can handle DSR requests'
            using errcode = '42501';
    end if;
    select r.* into v_request from public.dsr_requests as r where r.id = p_request for update;
    if not found then
        raise exception 'dsr: no request with id %', p_request
            using errcode = 'P0002', hint = 'Open the DSR queue and choose a request from the list.';
    end if;
    if v_request.completed_at is not null then
        raise exception 'dsr: request % was already closed (%)', v_request.id, v_request.status
            using errcode = '55000';
    end if;
    if v_request.type <> all(p_types) then
        raise exception 'dsr: this action does not fulfil a % request', v_request.type
            using errcode = '22023', hint = 'Use an action offered for this request in the queue.';
    end if;
    if v_request.subject_id is null then
        raise exception 'dsr: request % names no portal user', v_request.id
            using errcode = '22023', hint = 'Answer it outside the portal (nexk dsr) or link the subject first.';
    end if;
    update public.dsr_requests as r set handled_by = (select auth.uid())
    where r.id = v_request.id and r.handled_by is distinct from (select auth.uid());
    return v_request;
end
$$;
revoke all on function private.admin_dsr_request(uuid, text[]) from public;

-- Art. 15 / 20: the person's data as JSON (access and portability requests).
create or replace function private.admin_dsr_export(p_request uuid) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_request public.dsr_requests := private.admin_dsr_request(p_request, array['access', 'portability']);
begin
    return private.dsr_export(v_request.subject_id);
end
$$;
revoke all on function private.admin_dsr_export(uuid) from public;
grant execute on function private.admin_dsr_export(uuid) to authenticated;

-- Art. 16: correct first_name, surname, position, email, phone.
create or replace function private.admin_dsr_rectify(p_request uuid, p_changes jsonb) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_request public.dsr_requests := private.admin_dsr_request(p_request, array['rectification']);
begin
    return private.dsr_rectify(v_request.subject_id, p_changes);
end
$$;
revoke all on function private.admin_dsr_rectify(uuid, jsonb) from public;
grant execute on function private.admin_dsr_rectify(uuid, jsonb) to authenticated;

-- Art. 17: anonymise the person everywhere (0103); the caller removes the returned storage paths' bytes.
create or replace function private.admin_dsr_erase(p_request uuid, p_subprocessors jsonb) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_request public.dsr_requests := private.admin_dsr_request(p_request, array['erasure']);
begin
    return private.dsr_erase(v_request.subject_id, p_subprocessors);
end
$$;
revoke all on function private.admin_dsr_erase(uuid, jsonb) from public;
grant execute on function private.admin_dsr_erase(uuid, jsonb) to authenticated;

-- Art. 18 (and an objection pending review): set or lift the restriction.
create or replace function private.admin_dsr_restrict(
    p_request uuid, p_restricted boolean, p_subprocessors jsonb
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_request public.dsr_requests := private.admin_dsr_request(p_request, array['restriction', 'objection']);
begin
    return private.dsr_restrict(v_request.subject_id, p_restricted, p_subprocessors);
end
$$;
revoke all on function private.admin_dsr_restrict(uuid, boolean, jsonb) from public;
grant execute on function private.admin_dsr_restrict(uuid, boolean, jsonb) to authenticated;

-- Art. 21: record the objection to a legitimate-interest purpose.
create or replace function private.admin_dsr_object(p_request uuid, p_purpose text, p_reason text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_request public.dsr_requests := private.admin_dsr_request(p_request, array['objection']);
begin
    return private.dsr_object(v_request.subject_id, p_purpose, p_reason);
end
$$;
revoke all on function private.admin_dsr_object(uuid, text, text) from public;
grant execute on function private.admin_dsr_object(uuid, text, text) to authenticated;

-- Close the request (completed or rejected) with its Art. 19 recipients.
create or replace function private.admin_dsr_complete(p_request uuid, p_status text, p_subprocessors jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_request public.dsr_requests := private.admin_dsr_request(
        p_request, array['access', 'rectification', 'erasure', 'restriction', 'portability', 'objection']
    );
begin
    return private.dsr_complete(v_request.id, p_status, p_subprocessors);
end
$$;
revoke all on function private.admin_dsr_complete(uuid, text, jsonb) from public;
grant execute on function private.admin_dsr_complete(uuid, text, jsonb) to authenticated;
