-- Service levels: business calendars (time zone, working hours, holidays) and SLA plans whose policies
-- give per-priority first-response and resolution targets in business minutes. The SLA clock (app/) reads
-- these; organizations point at a plan (next migration). Reference data: no personal data here.
create table public.business_calendars (
    id uuid primary key default gen_random_uuid(),
    name text not null unique check (length(name) between 1 and 100),
    time_zone text not null default 'Europe/Brussels' check (time_zone ~ '^[A-Za-z_]+(/[A-Za-z_+-]+)*$'),
    created_at timestamptz not null default now()
);

-- One row per opening interval; ISO weekdays (1 = Monday ... 7 = Sunday).
create table public.business_hours (
    id uuid primary key default gen_random_uuid(),
    calendar_id uuid not null references public.business_calendars (id) on delete cascade,
    day_of_week smallint not null check (day_of_week between 1 and 7),
    opens_at time not null,
    closes_at time not null,
    constraint business_hours_interval_check check (opens_at < closes_at),
    constraint business_hours_unique_interval unique (calendar_id, day_of_week, opens_at)
);

create table public.holidays (
    id uuid primary key default gen_random_uuid(),
    calendar_id uuid not null references public.business_calendars (id) on delete cascade,
    day date not null,
    name text not null check (length(name) between 1 and 100),
    constraint holidays_unique_day unique (calendar_id, day)
);

create table public.sla_plans (
    id uuid primary key default gen_random_uuid(),
    code text not null unique check (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    name text not null check (length(name) between 1 and 100),
    calendar_id uuid not null references public.business_calendars (id),
    created_at timestamptz not null default now()
);

create index sla_plans_calendar_id_idx on public.sla_plans (calendar_id);

create table public.sla_policies (
    id uuid primary key default gen_random_uuid(),
    plan_id uuid not null references public.sla_plans (id) on delete cascade,
    priority text not null check (priority in ('low', 'normal', 'high', 'urgent')),
    first_response_minutes integer not null check (first_response_minutes > 0),
    resolution_minutes integer not null check (resolution_minutes > 0),
    constraint sla_policies_resolution_after_response check (resolution_minutes >= first_response_minutes),
    constraint sla_policies_unique_priority unique (plan_id, priority)
);

-- The unique constraints above lead with calendar_id / plan_id, so they cover those foreign keys.

-- RLS on from birth: a table created in SQL is public under Supabase's default grants until policies land.
alter table public.business_calendars enable row level security;
alter table public.business_calendars force row level security;
alter table public.business_hours enable row level security;
alter table public.business_hours force row level security;
alter table public.holidays enable row level security;
alter table public.holidays force row level security;
alter table public.sla_plans enable row level security;
alter table public.sla_plans force row level security;
alter table public.sla_policies enable row level security;
alter table public.sla_policies force row level security;
revoke all on public.business_calendars, public.business_hours, public.holidays, public.sla_plans,
public.sla_policies from anon, authenticated;
