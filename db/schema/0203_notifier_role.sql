-- The notifier role: the credentials of the notifications worker (Vercel Cron) and of Brevo's delivery webhook.
-- Until now both ran as the owner or as service_role, which bypass row level security; in production the portal
-- would have had to hold such a credential. `nexk_notifier` is a LOGIN role of its own, used only by the
-- worker's cron entry point and the webhook (app/notifications/cron.py, webhook.py), and never granted to
-- `authenticator`, so a request handler cannot `set role` to it. It has no BYPASSRLS and reads no table of
-- the API: it works on private.notifications and reaches the rest only through the security definer functions
-- below, which return exactly what the SLA scan needs. Its password is set by infra (`pulumi up`, resource
-- NotifierRolePassword, a generated secret); a role created here has none, so nobody can log in before that.

do $role$
begin
    -- Roles are cluster-wide: two databases migrated at once (parallel test sessions) must not race.
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('nexk.nexk_notifier'));
    if not exists (select from pg_catalog.pg_roles as r where r.rolname = 'nexk_notifier') then
        create role nexk_notifier login noinherit nobypassrls connection limit 10;
    end if;
    -- Refuse a pre-existing role that breaks the design (only a superuser could fix it, so say so).
    if exists (
        select from pg_catalog.pg_roles as r
        where r.rolname = 'nexk_notifier' and (r.rolsuper or r.rolbypassrls or r.rolcreaterole or not r.rolcanlogin)
    ) or pg_catalog.pg_has_role('authenticator', 'nexk_notifier', 'member') then
        raise exception 'role nexk_notifier exists with privileges it must not have'
            using hint = 'It must be LOGIN, NOSUPERUSER, NOBYPASSRLS, NOCREATEROLE and not granted to authenticator.';
    end if;
end
$role$;

comment on role nexk_notifier is
'myNexK notifications worker and Brevo webhook: private.notifications and definer functions only, no BYPASSRLS.';

alter role nexk_notifier set statement_timeout = '30s';

grant usage on schema private to nexk_notifier;
-- Claim, mark and retry rows. No insert: every row is written by private.enqueue_notification, which applies
-- the preferences and GDPR state; no delete: the retention purge runs as the owner.
grant select, update on private.notifications to nexk_notifier;
grant execute on function private.enqueue_notification(text, text, text, uuid, uuid, text, jsonb),
private.record_delivery_event(uuid, text, text, timestamptz) to nexk_notifier;

-- The SLA scan's input: every open ticket with its plan's targets and clock state (the columns of
-- app/domain/sla_repository._TICKETS) plus the subject the alert quotes. Nothing about people.
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
        s.resolution_minutes
    from public.tickets as t
    inner join public.organizations as o on t.organization_id = o.id
    inner join public.sla_plans as p on o.sla_plan_id = p.id
    left join public.sla_policies as s on p.id = s.plan_id and t.priority = s.priority
    left join private.ticket_sla_clocks as c on t.id = c.ticket_id
    where t.status not in ('resolved', 'closed')
$$;

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

revoke all on function private.notifier_open_tickets(), private.notifier_business_calendar(uuid),
private.notifier_sla_recipients(uuid, uuid) from public, anon, authenticated;
grant execute on function private.notifier_open_tickets(), private.notifier_business_calendar(uuid),
private.notifier_sla_recipients(uuid, uuid) to nexk_notifier, service_role;
