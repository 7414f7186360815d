-- Tickets and messages: lifecycle, people checks, first response, follow-ups and client replies.

-- resolved_at follows status: stamped when a ticket becomes resolved/closed, cleared when it reopens.
create or replace function private.ticket_lifecycle() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.status in ('resolved', 'closed') then
        if tg_op = 'INSERT' or old.status not in ('resolved', 'closed') then
            new.resolved_at := now();
        end if;
    else
        new.resolved_at := null;
    end if;
    return new;
end
$$;
revoke all on function private.ticket_lifecycle() from public;

-- The people on a ticket must fit it, whoever writes: the requester is a client of the ticket's
-- organization; the assignee is an agent assigned to it, or an admin. Definer: the check reads profiles and
-- assignments the caller may not see. An AFTER trigger, so it runs after the RLS checks: a client probing
-- another organization gets the RLS error, never this message (no membership oracle).
create or replace function private.check_ticket_people() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if not exists (
        select from public.profiles as p
        where p.id = new.requester_id and p.organization_id = new.organization_id
    ) then
        raise exception 'tickets: the requester must be a member of the ticket''s organization'
            using errcode = '23514';
    end if;
    if new.assignee_id is not null and not exists (
        select from public.profiles as p
        where
            p.id = new.assignee_id
            and p.deactivated_at is null
            and (
                p.role = 'admin'
                or (
                    p.role = 'agent'
                    and exists (
                        select from public.agent_assignments as a
                        where a.agent_id = p.id and a.organization_id = new.organization_id
                    )
                )
            )
    ) then
        raise exception 'tickets: the assignee must be an admin or an agent assigned to the organization'
            using errcode = '23514';
    end if;
    return null;
end
$$;
revoke all on function private.check_ticket_people() from public;

-- Clients may only resolve a ticket (from new/open/pending) or reopen it (resolved -> open); every other
-- column is staff business. Column grants already keep everyone off organization, requester, subject and
-- timestamps; this narrows clients further. Staff transitions are free.
create or replace function private.guard_ticket_update() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if current_user <> 'authenticated' or private.is_staff() then
        return new;
    end if;
    if new.assignee_id is distinct from old.assignee_id
        or new.priority is distinct from old.priority
        or new.organization_id is distinct from old.organization_id
        or new.requester_id is distinct from old.requester_id
        or new.subject is distinct from old.subject
        or new.description is distinct from old.description
        or new.archived_at is distinct from old.archived_at
        or new.first_response_at is distinct from old.first_response_at
        or new.created_at is distinct from old.created_at
    then
        raise exception 'tickets: clients may only resolve or reopen a ticket' using errcode = '42501';
    end if;
    if new.status is distinct from old.status and not (
        (old.status in ('new', 'open', 'pending') and new.status = 'resolved')
        or (old.status = 'resolved' and new.status = 'open')
    ) then
        raise exception 'tickets: clients may only resolve an open ticket or reopen a resolved one (% -> %)',
            old.status, new.status
            using errcode = '42501';
    end if;
    return new;
end
$$;
revoke all on function private.guard_ticket_update() from public;

create or replace function private.refuse_update() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    raise exception '%.%: rows are immutable once written', tg_table_schema, tg_table_name
        using errcode = '42501', hint = 'Add a new row instead of changing this one.';
end
$$;
revoke all on function private.refuse_update() from public;

-- The first public staff reply stamps the ticket's first response (the SLA clock's first target).
-- Definer: the author may not update tickets.first_response_at (no column grant).
create or replace function private.stamp_first_response() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if not new.internal and exists (
        select from public.profiles as p where p.id = new.author_id and p.role in ('agent', 'admin')
    ) then
        update public.tickets as t
        set first_response_at = new.created_at
        where t.id = new.ticket_id and t.first_response_at is null;
    end if;
    return new;
end
$$;
revoke all on function private.stamp_first_response() from public;

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
revoke all on function private.check_follow_up() from public;

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
revoke all on function private.refuse_client_message_on_closed() from public;

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
revoke all on function private.apply_client_reply() from public;
