-- Notifications: the outbox, the triggers that fill it, and the definer functions of nexk_notifier.

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
revoke all on function private.enqueue_notification(text, text, text, uuid, uuid, text, jsonb) from public;
grant execute on function private.enqueue_notification(text, text, text, uuid, uuid, text, jsonb) to nexk_notifier;

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
revoke all on function private.notify_ticket_status() from public;

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
revoke all on function private.notify_agent_reply() from public;

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
revoke all on function private.record_delivery_event(uuid, text, text, timestamptz) from public;
grant execute on function private.record_delivery_event(uuid, text, text, timestamptz) to nexk_notifier;

-- A new ticket: the requester gets the acknowledgement (ticket_created, audience client) and every agent
-- assigned to the ticket's organization gets `ticket_created_agent`, each under their `notify_status_changes`
-- preference and GDPR state (private.enqueue_notification: opted out -> nothing, restricted -> a suppressed
-- row, deactivated or erased -> nothing). An agent who filed the ticket themselves is not told about it.
create or replace function private.notify_ticket_created() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_organization text;
    v_agent uuid;
begin
    perform private.enqueue_notification(
        'ticket:' || new.id || ':created', 'ticket_created', 'ticket_created', new.requester_id, new.id,
        'status_changes', jsonb_build_object('ticket_id', new.id, 'subject', new.subject)
    );
    select o.name into v_organization from public.organizations as o where o.id = new.organization_id;
    for v_agent in
        select a.agent_id
        from public.agent_assignments as a
        where a.organization_id = new.organization_id and a.agent_id <> new.requester_id
        order by a.agent_id
    loop
        perform private.enqueue_notification(
            'ticket:' || new.id || ':created', 'ticket_created_agent', 'ticket_created_agent', v_agent, new.id,
            'status_changes',
            jsonb_build_object(
                'ticket_id', new.id, 'subject', new.subject, 'priority', new.priority,
                'organization', v_organization
            )
        );
    end loop;
    return null;
end
$$;
revoke all on function private.notify_ticket_created() from public;

-- A business calendar as the SLA clock needs it (reference data, no personal data):
-- {"name", "time_zone", "hours": [{"day_of_week", "opens_at", "closes_at"}], "closed_days": [date]}.
create or replace function private.notifier_business_calendar(p_calendar_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
    select jsonb_build_object(
        'name', bc.name,
        'time_zone', bc.time_zone,
        'hours', coalesce((
            select jsonb_agg(
                jsonb_build_object('day_of_week', h.day_of_week, 'opens_at', h.opens_at, 'closes_at', h.closes_at)
                order by h.day_of_week, h.opens_at
            )
            from public.business_hours as h
            where h.calendar_id = bc.id
        ), '[]'::jsonb),
        'closed_days', coalesce((
            select jsonb_agg(hd.day order by hd.day)
            from public.holidays as hd
            where hd.calendar_id = bc.id
        ), '[]'::jsonb)
    )
    from public.business_calendars as bc
    where bc.id = p_calendar_id
$$;
revoke all on function private.notifier_business_calendar(uuid) from public;
grant execute on function private.notifier_business_calendar(uuid) to nexk_notifier;

-- Who is alerted about a ticket's SLA: the assignee (or, while unassigned, the agents of the organization)
-- and every admin. Ids only; private.enqueue_notification reads the rest.
create or replace function private.notifier_sla_recipients(p_assignee_id uuid, p_organization_id uuid)
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
    select p.id
    from public.profiles as p
    where
        p.role = 'admin'
        or p.id = p_assignee_id
        or (
            p_assignee_id is null
            and p.id in (
                select a.agent_id from public.agent_assignments as a where a.organization_id = p_organization_id
            )
        )
$$;
revoke all on function private.notifier_sla_recipients(uuid, uuid) from public;
grant execute on function private.notifier_sla_recipients(uuid, uuid) to nexk_notifier;

create or replace function private.notifier_open_tickets()
returns table (
    id uuid,
    organization_id uuid,
    assignee_id uuid,
    priority text,
    status text,
    subject text,
    created_at timestamptz,
    first_response_at timestamptz,
    paused_periods tstzmultirange,
    awaiting_reply_since timestamptz,
    calendar_id uuid,
    first_response_minutes integer,
    next_response_minutes integer,
    resolution_minutes integer
)
language sql
stable
security definer
set search_path = ''
as $$
    select
        t.id, t.organization_id, t.assignee_id, t.priority, t.status, t.subject, t.created_at,
        t.first_response_at, c.paused_periods, c.awaiting_reply_since, p.calendar_id, s.first_response_minutes,
        s.next_response_minutes, s.resolution_minutes
    from public.tickets as t
    inner join public.organizations as o on t.organization_id = o.id
    inner join public.sla_plans as p on o.sla_plan_id = p.id
    left join public.sla_policies as s on p.id = s.plan_id and t.priority = s.priority
    left join private.ticket_sla_clocks as c on t.id = c.ticket_id
    where t.status not in ('resolved', 'closed')
$$;
revoke all on function private.notifier_open_tickets() from public;
grant execute on function private.notifier_open_tickets() to nexk_notifier;
