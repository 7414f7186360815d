-- Client replies get attention (issue 12, finding 3; docs/portal.md, "Helpdesk semantics of replies").
-- Until now a client's reply changed nothing: a Pending ticket stayed Pending with its SLA clock paused, a
-- Resolved one stayed resolved, nobody at NexK was e-mailed, and a reply on a Closed ticket was stored on a
-- ticket outside every queue. The rules now live in the database, so the portal, the JSON API and any other
-- writer behave the same:
-- * a public client message on a Pending or Resolved ticket moves it to Open (the status trigger of 0201
--   resumes the SLA clock; 0007's lifecycle trigger clears resolved_at);
-- * a client may not write on a Closed ticket (55000): they open a follow-up ticket instead, which points to
--   the closed one through the new column tickets.follow_up_of;
-- * every public client message is e-mailed (outbox, template `client_reply`) to the ticket's assignee, or,
--   while nobody is assigned, to the agents assigned to the ticket's organization, each under their
--   `notify_ticket_replies` preference and GDPR state (private.enqueue_notification, 0200).

-- The ticket a follow-up continues. Same organization by construction (composite key on tickets' existing
-- unique (id, organization_id)); a purged original leaves the follow-up standing, unlinked. Both constraints
-- are added `not valid` (instant, new rows are checked) and validated, with the column's index built
-- concurrently, by 0362 (docs/migrations.md): the tickets table is live.
alter table public.tickets
add column follow_up_of uuid,
add constraint tickets_follow_up_of_fkey foreign key (follow_up_of, organization_id)
references public.tickets (id, organization_id) on delete set null (follow_up_of) not valid,
add constraint tickets_follow_up_of_not_itself check (follow_up_of <> id) not valid;

comment on column public.tickets.follow_up_of is
'The closed ticket this one follows up (same organization); set once, when the ticket is opened.';

-- Whoever opens a follow-up must see the ticket it continues, and that ticket must be closed. Invoker (not
-- definer) on purpose: the lookup runs under the caller's own row-level security, so a client can link only
-- to a ticket the tickets policies show them. AFTER INSERT, so the insert policy has already accepted the row
-- (no oracle about other organizations' tickets: the composite key already keeps them out).
create or replace function private.check_follow_up() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.follow_up_of is not null and not exists (
        select from public.tickets as t where t.id = new.follow_up_of and t.status = 'closed'
    ) then
        raise exception 'tickets: a follow-up continues a closed ticket you can see'
            using errcode = '23503', constraint = 'tickets_follow_up_of_visible_closed';
    end if;
    return null;
end
$$;

create trigger tickets_check_follow_up
after insert on public.tickets
for each row execute function private.check_follow_up();

-- A client does not write on a closed ticket: the conversation is over, a follow-up ticket starts a new one.
-- Invoker, for API callers only (current_user = authenticated): migrations and the seed, which write as the
-- owner, may record history as it happened. Staff may still add notes and replies to a closed ticket.
create or replace function private.refuse_client_message_on_closed() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if current_user = 'authenticated' and not new.internal and not (select private.is_staff()) and exists (
        select from public.tickets as t where t.id = new.ticket_id and t.status = 'closed'
    ) then
        raise exception 'ticket_messages: this ticket is closed; open a follow-up ticket instead'
            using errcode = '55000', hint = 'Insert into public.tickets with follow_up_of = the closed ticket.';
    end if;
    return null;
end
$$;

create trigger ticket_messages_refuse_client_on_closed
after insert on public.ticket_messages
for each row execute function private.refuse_client_message_on_closed();

-- The outbox may hold the new e-mail (template provisioned by infra/templates, en/fr/nl). Each check is
-- replaced in the same statement by a wider one (one value more), added `not valid` and validated by 0362:
-- nothing the old check guaranteed is lost, so dropping it is safe.
-- squawk-ignore ban-drop-constraint
alter table private.notifications drop constraint notifications_kind_check;
alter table private.notifications add constraint notifications_kind_check check (
    kind in (
        'ticket_created', 'ticket_created_agent', 'agent_reply', 'client_reply', 'status_changed',
        'ticket_resolved', 'sla_warning', 'sla_breach'
    )
) not valid;
-- squawk-ignore ban-drop-constraint
alter table private.notifications drop constraint notifications_template_key_check;
alter table private.notifications add constraint notifications_template_key_check check (
    template_key in (
        'ticket_created', 'ticket_created_agent', 'agent_reply', 'client_reply', 'status_changed',
        'ticket_resolved', 'sla_at_risk', 'sla_breach'
    )
) not valid;

-- A public client message: reopen a waiting ticket and tell the people who work on it. Definer: the client
-- may not set status `open` from `pending` (private.guard_ticket_update lets only the owner and staff do it)
-- and reads neither assignments nor the agents' profiles. Only a message the client writes themselves counts
-- (author_id = auth.uid(), which the insert policy requires of every API and portal write): messages the owner
-- writes without a caller, as the seed and data imports do to record history, reopen nothing (the retention
-- job must still archive old resolved tickets) and e-mail nobody.
create or replace function private.apply_client_reply() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_author public.profiles;
    v_ticket public.tickets;
    v_organization text;
    v_params jsonb;
    v_agent uuid;
begin
    if new.internal or new.author_id is distinct from (select auth.uid()) then
        return null;
    end if;
    select p.* into v_author from public.profiles as p where p.id = new.author_id;
    if not found or v_author.role not in ('client_member', 'client_admin') then
        return null;
    end if;
    select t.* into v_ticket from public.tickets as t where t.id = new.ticket_id for update;
    if v_ticket.status in ('pending', 'resolved') then
        update public.tickets as t set status = 'open' where t.id = v_ticket.id;
    end if;
    select o.name into v_organization from public.organizations as o where o.id = v_ticket.organization_id;
    v_params := jsonb_build_object(
        'ticket_id', v_ticket.id, 'subject', v_ticket.subject, 'author_name', v_author.first_name,
        'organization', v_organization
    );
    if v_ticket.assignee_id is not null then
        perform private.enqueue_notification(
            'message:' || new.id, 'client_reply', 'client_reply', v_ticket.assignee_id, v_ticket.id,
            'ticket_replies', v_params
        );
        return null;
    end if;
    for v_agent in
        select a.agent_id
        from public.agent_assignments as a
        where a.organization_id = v_ticket.organization_id
        order by a.agent_id
    loop
        perform private.enqueue_notification(
            'message:' || new.id, 'client_reply', 'client_reply', v_agent, v_ticket.id, 'ticket_replies', v_params
        );
    end loop;
    return null;
end
$$;

create trigger ticket_messages_apply_client_reply
after insert on public.ticket_messages
for each row execute function private.apply_client_reply();

revoke all on function private.check_follow_up(), private.refuse_client_message_on_closed(),
private.apply_client_reply() from public, anon, authenticated;
