-- Support tickets: the core of the portal (privacy policy: ticket content). A ticket belongs to one
-- organization and one requester of that organization; the assignee is an agent assigned to that
-- organization, or an admin. Lifecycle timestamps feed the SLA clock (first_response_at, resolved_at) and
-- retention (archived_at: set by the archiving job; archived tickets stay readable).
create table public.tickets (
    id uuid primary key default gen_random_uuid(),
    organization_id uuid not null references public.organizations (id),
    requester_id uuid not null references public.profiles (id),
    assignee_id uuid references public.profiles (id),
    subject text not null check (length(subject) between 1 and 200),
    description text not null check (length(description) between 1 and 20000),
    status text not null default 'new' check (status in ('new', 'open', 'pending', 'resolved', 'closed')),
    priority text not null default 'normal' check (priority in ('low', 'normal', 'high', 'urgent')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    first_response_at timestamptz,
    resolved_at timestamptz,
    archived_at timestamptz,
    -- Lets attachments prove their organization matches their ticket's with a composite foreign key.
    constraint tickets_id_organization_key unique (id, organization_id),
    constraint tickets_first_response_after_creation check (first_response_at >= created_at),
    constraint tickets_resolved_after_creation check (resolved_at >= created_at),
    -- resolved_at is set exactly while the ticket is resolved or closed (the lifecycle trigger keeps it).
    constraint tickets_resolved_at_matches_status check (
        (resolved_at is not null) = (status in ('resolved', 'closed'))
    ),
    constraint tickets_archived_only_when_done check (archived_at is null or status in ('resolved', 'closed'))
);

create index tickets_organization_id_idx on public.tickets (organization_id);
create index tickets_requester_id_idx on public.tickets (requester_id);
create index tickets_assignee_id_idx on public.tickets (assignee_id);
create index tickets_status_idx on public.tickets (status);
create index tickets_archived_at_idx on public.tickets (archived_at);

create trigger tickets_set_updated_at
before update on public.tickets
for each row execute function private.set_updated_at();

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

create trigger tickets_lifecycle
before insert or update of status on public.tickets
for each row execute function private.ticket_lifecycle();

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

create trigger tickets_check_people
after insert or update of organization_id, requester_id, assignee_id on public.tickets
for each row execute function private.check_ticket_people();

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

create trigger tickets_guard_update
before update on public.tickets
for each row execute function private.guard_ticket_update();

revoke all on function private.ticket_lifecycle(), private.check_ticket_people(),
private.guard_ticket_update() from public;

alter table public.tickets enable row level security;
alter table public.tickets force row level security;
revoke all on public.tickets from anon, authenticated;
