-- A client's reply reopens a ticket and is e-mailed to NexK only when the client writes it themselves
-- (0330 applied it to every writer). Messages written by the owner without a signed-in caller, as the seed
-- and data imports do to record history as it happened, must not reopen resolved tickets of the past (the
-- retention job would then never archive them) nor e-mail anybody. Every API and portal write is the
-- caller's own (the ticket_messages insert policy requires author_id = auth.uid()), so the page and the API
-- keep exactly the semantics of 0330. Body otherwise as in 0330.
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

revoke all on function private.apply_client_reply() from public, anon, authenticated;
