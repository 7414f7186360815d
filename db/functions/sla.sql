-- SLA: business-time arithmetic and the per-ticket SLA clock (pauses, awaiting reply).

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
revoke all on function private.track_sla_pause() from public;

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
revoke all on function private.track_awaiting_reply() from public;
