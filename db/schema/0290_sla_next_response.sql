-- The next-response target gets its own column. The SLA clock (app/domain/sla.py) has three targets: first
-- response, next response (after a customer reply staff have not answered yet) and resolution; until now
-- sla_policies stored only the first and the last, and the clock silently reused the first-response target
-- for next response. Existing policies keep exactly the behaviour they had: the new column is backfilled
-- from first_response_minutes, then becomes mandatory like the other targets. It is positive like them and
-- no ordering is imposed against the other two: the next-response clock starts at a customer reply, not at
-- creation, so neither "shorter than" nor "longer than" the first response is a rule.
-- Column grants (insert/update for admins, under RLS) are in db/policies/sla_policies.sql.
alter table public.sla_policies add column next_response_minutes integer;

update public.sla_policies as s set next_response_minutes = s.first_response_minutes;

alter table public.sla_policies
alter column next_response_minutes set not null,
add constraint sla_policies_next_response_minutes_check check (next_response_minutes > 0);

comment on column public.sla_policies.next_response_minutes is
'Business minutes from the oldest unanswered customer reply to the next public staff reply.';

-- The notifier's SLA scan input (0203) reads the new target too. Its result columns change, which
-- `create or replace` cannot do, so it is dropped and recreated; body, security and grants are otherwise
-- those of 0203.
drop function private.notifier_open_tickets();

create function private.notifier_open_tickets()
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

revoke all on function private.notifier_open_tickets() from public, anon, authenticated;
grant execute on function private.notifier_open_tickets() to nexk_notifier, service_role;
