-- The SLA clock's memory (issue 7, item 1): the pure clock in app/domain/sla.py needs to know when a ticket
-- was not running (pending, resolved, closed) and since when a customer reply is unanswered; tickets keeps
-- only the current status. private.ticket_sla_clocks records exactly that, one row per ticket, maintained by
-- definer triggers for every writer. It sits in `private` (not exposed by the Data API) and is readable by
-- `authenticated` only for the tickets the caller can see (the tickets policies decide), so the portal can
-- show due times in the RLS-scoped transaction. Nobody writes it but the triggers.
create table private.ticket_sla_clocks (
    ticket_id uuid primary key references public.tickets (id) on delete cascade,
    -- Periods in which the clocks did not run (status pending, resolved or closed); the last may be open.
    paused_periods tstzmultirange not null default '{}',
    -- Oldest client message not yet answered by a public staff reply (the next-response clock starts here).
    awaiting_reply_since timestamptz
);

comment on table private.ticket_sla_clocks is
'SLA clock state per ticket (paused periods, unanswered customer reply), kept by triggers; read by app/domain.';

-- Open a paused period when the ticket leaves new/open, close it when it comes back.
create or replace function private.track_sla_pause() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_running_before boolean := tg_op = 'UPDATE' and old.status in ('new', 'open');
    v_running_now boolean := new.status in ('new', 'open');
begin
    if tg_op = 'INSERT' then
        insert into private.ticket_sla_clocks as c (ticket_id, paused_periods)
        values (
            new.id,
            case when v_running_now then '{}'::tstzmultirange else tstzmultirange(tstzrange(new.created_at, null)) end
        );
    elsif v_running_before and not v_running_now then
        update private.ticket_sla_clocks as c
        set paused_periods = c.paused_periods + tstzmultirange(tstzrange(now(), null))
        where c.ticket_id = new.id;
    elsif not v_running_before and v_running_now then
        update private.ticket_sla_clocks as c
        set paused_periods = c.paused_periods * tstzmultirange(tstzrange(null, now()))
        where c.ticket_id = new.id;
    end if;
    return null;
end
$$;

create trigger tickets_track_sla_pause
after insert or update of status on public.tickets
for each row execute function private.track_sla_pause();

-- A client message starts the next-response clock (if not already running); a public staff reply stops it.
create or replace function private.track_awaiting_reply() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_role text;
begin
    if new.internal then
        return null;
    end if;
    select p.role into v_role from public.profiles as p where p.id = new.author_id;
    if v_role in ('agent', 'admin') then
        update private.ticket_sla_clocks as c set awaiting_reply_since = null
        where c.ticket_id = new.ticket_id and c.awaiting_reply_since is not null;
    elsif v_role in ('client_member', 'client_admin') then
        update private.ticket_sla_clocks as c set awaiting_reply_since = new.created_at
        where c.ticket_id = new.ticket_id and c.awaiting_reply_since is null;
    end if;
    return null;
end
$$;

create trigger ticket_messages_track_awaiting_reply
after insert on public.ticket_messages
for each row execute function private.track_awaiting_reply();

revoke all on function private.track_sla_pause(), private.track_awaiting_reply() from public, anon, authenticated;

-- Reads follow the tickets: whoever sees the ticket sees its clock (staff only with MFA, like everywhere).
alter table private.ticket_sla_clocks enable row level security;
alter table private.ticket_sla_clocks force row level security;
revoke all on private.ticket_sla_clocks from public, anon, authenticated;
grant select on private.ticket_sla_clocks to authenticated, service_role;

create policy ticket_sla_clocks_staff_need_mfa on private.ticket_sla_clocks
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

create policy ticket_sla_clocks_select on private.ticket_sla_clocks
for select
to authenticated
using (ticket_id in (select t.id from public.tickets as t));

-- Existing tickets: one clock each. A ticket not running now has been paused since its last change (the best
-- we know); the oldest client message after the last public staff reply is awaiting an answer.
insert into private.ticket_sla_clocks (ticket_id, paused_periods, awaiting_reply_since)
select
    t.id,
    case
        when t.status in ('new', 'open') then '{}'::tstzmultirange
        else tstzmultirange(tstzrange(coalesce(t.resolved_at, t.updated_at), null))
    end as paused_periods,
    (
        select min(m.created_at)
        from public.ticket_messages as m
        inner join public.profiles as p on m.author_id = p.id
        where
            m.ticket_id = t.id
            and not m.internal
            and p.role in ('client_member', 'client_admin')
            and m.created_at > coalesce((
                select max(s.created_at)
                from public.ticket_messages as s
                inner join public.profiles as sp on s.author_id = sp.id
                where s.ticket_id = t.id and not s.internal and sp.role in ('agent', 'admin')
            ), '-infinity')
    ) as awaiting_reply_since
from public.tickets as t;
