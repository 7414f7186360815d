-- New tickets reach the agents who serve the organization, and SLA breaches get their own e-mail.
-- 0200 only acknowledged a new ticket to its requester and sent one `sla_at_risk` template for both SLA
-- warnings and breaches. infra/templates now provisions `ticket_created_agent` ("new ticket in an
-- organization you serve") and `sla_breach`; this migration lets the outbox hold them and extends the
-- new-ticket trigger function (the trigger tickets_notify_created itself is unchanged).

alter table private.notifications
drop constraint notifications_kind_check,
add constraint notifications_kind_check check (
    kind in (
        'ticket_created', 'ticket_created_agent', 'agent_reply', 'status_changed', 'ticket_resolved',
        'sla_warning', 'sla_breach'
    )
),
drop constraint notifications_template_key_check,
add constraint notifications_template_key_check check (
    template_key in (
        'ticket_created', 'ticket_created_agent', 'agent_reply', 'status_changed', 'ticket_resolved',
        'sla_at_risk', 'sla_breach'
    )
);

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

revoke all on function private.notify_ticket_created() from public, anon, authenticated;
