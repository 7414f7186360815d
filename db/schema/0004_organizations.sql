-- Client companies: the tenants. Everything a client can see hangs off one organization.
-- contract_end drives retention (data kept five years after the contract ends; built later).
create table public.organizations (
    id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 200),
    enterprise_number text not null unique
    constraint organizations_enterprise_number_valid
    check (private.is_valid_be_enterprise_number(enterprise_number)),
    contract_start date not null,
    contract_end date,
    sla_plan_id uuid not null references public.sla_plans (id),
    -- Whether members see each other's tickets (client admins always see all of them).
    shared_tickets boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint organizations_contract_period check (contract_end is null or contract_end >= contract_start)
);

create index organizations_sla_plan_id_idx on public.organizations (sla_plan_id);
create index organizations_contract_end_idx on public.organizations (contract_end);

create trigger organizations_set_updated_at
before update on public.organizations
for each row execute function private.set_updated_at();

alter table public.organizations enable row level security;
alter table public.organizations force row level security;
revoke all on public.organizations from anon, authenticated;
