-- The conversation on a ticket: client and agent replies, and internal notes (`internal`, agent-only).
-- Messages are immutable once written (no UPDATE/DELETE grants for the API, and a trigger refusing UPDATE
-- for every role): the exchange is evidence of what was said and when.
create table public.ticket_messages (
    id uuid primary key default gen_random_uuid(),
    ticket_id uuid not null references public.tickets (id) on delete cascade,
    author_id uuid not null default auth.uid() references public.profiles (id),
    body text not null check (length(body) between 1 and 20000),
    internal boolean not null default false,
    created_at timestamptz not null default now(),
    -- Lets an attachment prove it sits on the same ticket, with the same visibility, as its message.
    constraint ticket_messages_id_ticket_internal_key unique (id, ticket_id, internal)
);

create index ticket_messages_ticket_id_idx on public.ticket_messages (ticket_id, created_at);
create index ticket_messages_author_id_idx on public.ticket_messages (author_id);

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

create trigger ticket_messages_immutable
before update on public.ticket_messages
for each row execute function private.refuse_update();

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

create trigger ticket_messages_stamp_first_response
after insert on public.ticket_messages
for each row execute function private.stamp_first_response();

alter table public.ticket_messages enable row level security;
alter table public.ticket_messages force row level security;
revoke all on public.ticket_messages from anon, authenticated;
