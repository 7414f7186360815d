-- People: one profile per auth.users row, holding identity, contact details, role and preferences
-- (privacy policy: identity, contact details, preferences). Authorization reads `role` and
-- `organization_id` from here, never from the user-editable JWT user_metadata. Staff (agent, admin)
-- belong to no organization; agent_assignments say which organizations an agent serves.
create table public.profiles (
    id uuid primary key references auth.users (id) on delete cascade,
    organization_id uuid references public.organizations (id),
    role text not null check (role in ('client_member', 'client_admin', 'agent', 'admin')),
    first_name text not null check (length(first_name) between 1 and 100),
    surname text not null check (length(surname) between 1 and 100),
    position text check (length(position) between 1 and 100),
    email extensions.citext not null unique check (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
    phone text check (phone ~ '^\+?[0-9 ./()-]{6,25}$'),
    language text not null default 'en' check (language in ('en', 'fr', 'nl')),
    theme text not null default 'system' check (theme in ('light', 'dark', 'system')),
    notify_ticket_replies boolean not null default true,
    notify_status_changes boolean not null default true,
    notify_sla_alerts boolean not null default true,
    -- GDPR Art. 18 processing restriction, set by NexK admins from a DSR; the app stops processing.
    restricted_at timestamptz,
    -- Access withdrawn by a client admin or NexK admin: the profile then gets nothing (see private helpers).
    deactivated_at timestamptz,
    -- Erasure done (identity fields anonymised by the DSR workflow); also gets nothing.
    erased_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- Clients belong to exactly one organization, NexK staff to none.
    constraint profiles_organization_matches_role check (
        (role in ('client_member', 'client_admin')) = (organization_id is not null)
    )
);

create index profiles_organization_id_idx on public.profiles (organization_id);
create index profiles_role_idx on public.profiles (role);

create trigger profiles_set_updated_at
before update on public.profiles
for each row execute function private.set_updated_at();

create table public.agent_assignments (
    id uuid primary key default gen_random_uuid(),
    agent_id uuid not null references public.profiles (id) on delete cascade,
    organization_id uuid not null references public.organizations (id) on delete cascade,
    created_at timestamptz not null default now(),
    constraint agent_assignments_unique unique (agent_id, organization_id)
);

-- agent_id is covered by the unique constraint's index.
create index agent_assignments_organization_id_idx on public.agent_assignments (organization_id);

-- Only agents are assigned (admins see every organization anyway, clients never are).
create or replace function private.check_agent_assignment() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if not exists (select from public.profiles as p where p.id = new.agent_id and p.role = 'agent') then
        raise exception 'agent_assignments: profile % is not an agent', new.agent_id
            using errcode = '23514', hint = 'Give the profile the agent role before assigning it.';
    end if;
    return new;
end
$$;

revoke all on function private.check_agent_assignment() from public;

create trigger agent_assignments_check_agent
before insert or update on public.agent_assignments
for each row execute function private.check_agent_assignment();

alter table public.profiles enable row level security;
alter table public.profiles force row level security;
alter table public.agent_assignments enable row level security;
alter table public.agent_assignments force row level security;
revoke all on public.profiles, public.agent_assignments from anon, authenticated;

-- Column grants (db/policies/profiles.sql) let `authenticated` update the privileged columns at all only
-- because admins need them; this guard narrows them per caller: a user edits only their own personal
-- fields and preferences; a client admin edits colleagues' names, position, phone, client role and
-- deactivation, never their organization, email, preferences or a staff role. Admins are unrestricted.
-- Calls private.current_app_role() (0006) at run time. Service jobs and definer functions are trusted.
create or replace function private.guard_profile_update() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    caller_role text := private.current_app_role();
begin
    if current_user <> 'authenticated' or caller_role = 'admin' then
        return new;
    end if;
    if new.id = (select auth.uid()) then
        if new.role is distinct from old.role
            or new.organization_id is distinct from old.organization_id
            or new.email is distinct from old.email
            or new.restricted_at is distinct from old.restricted_at
            or new.deactivated_at is distinct from old.deactivated_at
        then
            raise exception 'profiles: you may change only your own name, position, phone and preferences'
                using errcode = '42501';
        end if;
        return new;
    end if;
    if caller_role = 'client_admin' then
        if new.organization_id is distinct from old.organization_id
            or new.email is distinct from old.email
            or new.restricted_at is distinct from old.restricted_at
            or new.language is distinct from old.language
            or new.theme is distinct from old.theme
            or new.notify_ticket_replies is distinct from old.notify_ticket_replies
            or new.notify_status_changes is distinct from old.notify_status_changes
            or new.notify_sla_alerts is distinct from old.notify_sla_alerts
            or new.role not in ('client_member', 'client_admin')
        then
            raise exception 'profiles: a client admin may change a member''s name, position, phone, '
                'client role (client_member or client_admin) and deactivation only'
                using errcode = '42501';
        end if;
        return new;
    end if;
    raise exception 'profiles: you may change only your own profile' using errcode = '42501';
end
$$;

revoke all on function private.guard_profile_update() from public;

create trigger profiles_guard_update
before update on public.profiles
for each row execute function private.guard_profile_update();
