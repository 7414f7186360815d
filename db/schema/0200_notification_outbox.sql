-- Notifications outbox (issue 7, item 2): every e-mail the portal owes somebody is first a row here, written
-- by triggers in the SAME transaction as the event (new ticket, staff reply, status change), so an event
-- that commits always has its notification and a rolled-back event never has one. The worker
-- (app/notifications/worker.py) sends the rows through Brevo with retries and marks them; Brevo's delivery
-- webhook updates their status (private.record_delivery_event). SLA alerts are enqueued by the worker's scan.
-- The table lives in `private`: only server-side jobs (owner or service_role) read or write it; the API never
-- exposes it. Rows hold personal data (recipient e-mail, first name, ticket subject): they cascade with the
-- ticket and the profile, and need a retention period (see the report to the lead).
create table private.notifications (
    id uuid primary key default gen_random_uuid(),
    -- What happened, unique per event ('ticket:<id>:created', 'message:<id>', 'sla:<ticket>:<target>:...').
    event_key text not null check (length(event_key) between 1 and 300),
    kind text not null check (
        kind in ('ticket_created', 'agent_reply', 'status_changed', 'ticket_resolved', 'sla_warning', 'sla_breach')
    ),
    -- The Brevo template family provisioned by infra/templates/notifications.yaml (mynexk.<template>.<language>).
    template_key text not null check (
        template_key in ('ticket_created', 'agent_reply', 'status_changed', 'ticket_resolved', 'sla_at_risk')
    ),
    recipient_id uuid not null references public.profiles (id) on delete cascade,
    -- Null only for suppressed rows (nothing is sent, so no address is kept).
    recipient_email extensions.citext,
    language text not null check (language in ('en', 'fr', 'nl')),
    ticket_id uuid references public.tickets (id) on delete cascade,
    -- Raw facts for the template (ticket_id, subject, first_name, ...); the worker renders links, references
    -- and localized labels at send time (app/notifications/templates.py).
    params jsonb not null default '{}' check (jsonb_typeof(params) = 'object'),
    status text not null default 'queued' check (
        status in ('queued', 'sending', 'sent', 'delivered', 'failed', 'suppressed')
    ),
    attempts integer not null default 0 check (attempts >= 0),
    next_attempt_at timestamptz not null default now(),
    -- A claimed row belongs to one worker until this instant; after it, another worker may take it over.
    locked_until timestamptz,
    last_attempt_at timestamptz,
    -- Set when an attempt may have reached Brevo without us learning the outcome (timeout, 5xx, crash):
    -- the next attempt first asks Brevo whether the e-mail exists (app/notifications/outbox.py).
    ambiguous_since timestamptz,
    last_error text,
    brevo_message_id text unique,
    last_event text,
    created_at timestamptz not null default now(),
    sent_at timestamptz,
    delivered_at timestamptz,
    constraint notifications_idempotency unique (event_key, recipient_id, template_key),
    constraint notifications_suppressed_keep_no_address check (
        (status = 'suppressed') = (recipient_email is null)
    )
);

comment on table private.notifications is
'Transactional outbox of e-mail notifications (app/notifications): written with the event, sent by the worker.';

create index notifications_due_idx on private.notifications (next_attempt_at)
where status in ('queued', 'sending');
create index notifications_recipient_id_idx on private.notifications (recipient_id);
create index notifications_ticket_id_idx on private.notifications (ticket_id);

-- Enqueue one notification for one person, honouring their preferences and GDPR state:
-- deactivated or erased people get nothing; a restricted person (Art. 18) gets a `suppressed` row with no
-- address and no parameters (evidence that the restriction was honoured); an opted-out person gets nothing.
-- Idempotent: the same (event, recipient, template_key) is enqueued once. Returns whether a row was added.
create or replace function private.enqueue_notification(
    p_event_key text,
    p_kind text,
    p_template text,
    p_recipient_id uuid,
    p_ticket_id uuid,
    p_preference text,
    p_params jsonb
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_profile public.profiles;
    v_wanted boolean;
    v_added integer;
begin
    select p.* into v_profile from public.profiles as p where p.id = p_recipient_id;
    if not found or v_profile.deactivated_at is not null or v_profile.erased_at is not null then
        return false;
    end if;
    v_wanted := case p_preference
        when 'ticket_replies' then v_profile.notify_ticket_replies
        when 'status_changes' then v_profile.notify_status_changes
        when 'sla_alerts' then v_profile.notify_sla_alerts
    end;
    if v_wanted is null then
        raise exception 'enqueue_notification: unknown preference %', p_preference
            using errcode = '22023', hint = 'Use ticket_replies, status_changes or sla_alerts.';
    end if;
    if v_profile.restricted_at is not null then
        insert into private.notifications as n (
            event_key, kind, template_key, recipient_id, recipient_email, language, ticket_id, params, status,
            last_error
        )
        values (
            p_event_key, p_kind, p_template, p_recipient_id, null, v_profile.language, p_ticket_id, '{}',
            'suppressed', 'processing restricted (GDPR Art. 18)'
        )
        on conflict on constraint notifications_idempotency do nothing;
        get diagnostics v_added = row_count;
        return v_added > 0;
    end if;
    if not v_wanted then
        return false;
    end if;
    insert into private.notifications as n (
        event_key, kind, template_key, recipient_id, recipient_email, language, ticket_id, params
    )
    values (
        p_event_key, p_kind, p_template, p_recipient_id, v_profile.email, v_profile.language, p_ticket_id,
        p_params || jsonb_build_object('first_name', v_profile.first_name)
    )
    on conflict on constraint notifications_idempotency do nothing;
    get diagnostics v_added = row_count;
    return v_added > 0;
end
$$;

-- A new ticket: the requester gets the acknowledgement (template ticket_created, audience client).
create or replace function private.notify_ticket_created() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.enqueue_notification(
        'ticket:' || new.id || ':created', 'ticket_created', 'ticket_created', new.requester_id, new.id,
        'status_changes', jsonb_build_object('ticket_id', new.id, 'subject', new.subject)
    );
    return null;
end
$$;

create trigger tickets_notify_created
after insert on public.tickets
for each row execute function private.notify_ticket_created();

-- A status change: the requester is told (ticket_resolved when it became resolved, else status_changed),
-- unless they made the change themselves.
create or replace function private.notify_ticket_status() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_kind text := case when new.status = 'resolved' then 'ticket_resolved' else 'status_changed' end;
begin
    if new.status is not distinct from old.status or new.requester_id = (select auth.uid()) then
        return null;
    end if;
    perform private.enqueue_notification(
        'ticket:' || new.id || ':status:' || new.status || ':'
        || to_char(clock_timestamp() at time zone 'UTC', 'YYYYMMDD"T"HH24MISS.US'),
        v_kind, v_kind, new.requester_id, new.id, 'status_changes',
        jsonb_build_object('ticket_id', new.id, 'subject', new.subject, 'status', new.status)
    );
    return null;
end
$$;

create trigger tickets_notify_status
after update of status on public.tickets
for each row execute function private.notify_ticket_status();

-- A public staff reply: the requester is told that there is a reply (the reply itself stays in the portal).
create or replace function private.notify_agent_reply() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_author public.profiles;
    v_ticket public.tickets;
begin
    if new.internal then
        return null;
    end if;
    select p.* into v_author from public.profiles as p where p.id = new.author_id;
    if not found or v_author.role not in ('agent', 'admin') then
        return null;
    end if;
    select t.* into v_ticket from public.tickets as t where t.id = new.ticket_id;
    perform private.enqueue_notification(
        'message:' || new.id, 'agent_reply', 'agent_reply', v_ticket.requester_id, v_ticket.id,
        'ticket_replies',
        jsonb_build_object('ticket_id', v_ticket.id, 'subject', v_ticket.subject, 'agent_name', v_author.first_name)
    );
    return null;
end
$$;

create trigger ticket_messages_notify_reply
after insert on public.ticket_messages
for each row execute function private.notify_agent_reply();

-- Brevo's delivery webhook, applied idempotently. The row is found by the outbox id we put in the
-- X-Mailin-custom header (works even before the worker recorded the message id) or by Brevo's message id.
-- Never downgrades: delivered stays delivered; a hard failure after delivery is only recorded as last_event.
create or replace function private.record_delivery_event(
    p_notification_id uuid, p_message_id text, p_event text, p_at timestamptz
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_id uuid;
begin
    select n.id into v_id
    from private.notifications as n
    where n.id = p_notification_id or (p_message_id is not null and n.brevo_message_id = p_message_id)
    order by (n.id = p_notification_id) desc
    limit 1
    for update;
    if v_id is null then
        return false;
    end if;
    update private.notifications as n
    set
        brevo_message_id = coalesce(n.brevo_message_id, p_message_id),
        last_event = p_event,
        status = case
            when p_event = 'delivered' then 'delivered'
            when p_event in ('hardBounce', 'invalid', 'blocked', 'error') and n.status <> 'delivered' then 'failed'
            when p_event in ('request', 'sent') and n.status in ('queued', 'sending') then 'sent'
            else n.status
        end,
        delivered_at = case when p_event = 'delivered' then coalesce(n.delivered_at, p_at) else n.delivered_at end,
        sent_at = case when p_event in ('request', 'sent', 'delivered') then coalesce(n.sent_at, p_at) else n.sent_at end,
        locked_until = case when p_event in ('request', 'sent', 'delivered') then null else n.locked_until end,
        last_error = case
            when p_event in ('hardBounce', 'softBounce', 'invalid', 'blocked', 'error', 'deferred', 'spam')
                then 'brevo: ' || p_event
            else n.last_error
        end
    where n.id = v_id;
    return true;
end
$$;

revoke all on function private.enqueue_notification(text, text, text, uuid, uuid, text, jsonb),
private.notify_ticket_created(), private.notify_ticket_status(), private.notify_agent_reply(),
private.record_delivery_event(uuid, text, text, timestamptz) from public, anon, authenticated;
revoke all on private.notifications from public, anon, authenticated;

-- The worker and the webhook run server-side as the owner or as service_role (the portal's webhook route
-- switches to it after checking Brevo's bearer token). service_role needs the schema to reach them.
grant usage on schema private to service_role;
grant select, insert, update on private.notifications to service_role;
grant execute on function private.enqueue_notification(text, text, text, uuid, uuid, text, jsonb),
private.record_delivery_event(uuid, text, text, timestamptz) to service_role;
