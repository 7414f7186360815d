-- Baseline: the schema of migrations 0001 to 0362 in one file, for a new database (issue 15).
-- Those 38 files copied every SQL function forward in full whenever they changed it (private.erase_person
-- stood in three of them). Function bodies now live once, in db/functions/*.sql; this file keeps the rest of
-- what the old files built, statement for statement and in their order, with their comments: schemas, roles,
-- tables, indexes, grants, comments, the retention and invitation defaults, the pg_cron jobs, 0360's
-- revocations. Left out: every function definition, grant and comment on a function (db/functions/), the drop
-- of 0290 (the function is defined once, in its final form), and three backfills of rows that a new database
-- does not have (0201's SLA clocks, 0240's re-erasure, 0290's next-response targets).
--
-- On a new database the runner applies the part before the `-- nexk: functions` line, then every db/functions
-- file, then the part after it (the triggers and the one check that call functions), all in one transaction
-- (docs/migrations.md, "Functions"). A database that applied the 38 files listed below, with these
-- checksums, already has all of this: the runner records the baseline as applied there and runs nothing of
-- it (docs/migrations.md, "The baseline"). The old files are in git history (`git log -- db/schema/`).
-- Comments elsewhere that cite a migration by number (db/schema/0280) mean its section here (`from
-- 0280_invitations.sql`) and, for its functions, the file of db/functions that declares them.
-- nexk: replaces 0001_private_schema 82d4b6c288f5b47f990b7bbcd326846fbb46fcefb3e1e51c419a4116cdbcd2df
-- nexk: replaces 0002_private_utilities 47a41cb8fa0a4bfa4ac603e9f5fcee9a8501c7566f487bb57f249fa7d05b0c69
-- nexk: replaces 0003_sla b75e8e1c9cc949a00a8b61825205f73d94a6ab8b6f7d38347c37d55cfd68966f
-- nexk: replaces 0004_organizations fe6bf9a627da86298a4a5a4f4537f725aeb4fb4fe75942e1d4b055ffc4171b7b
-- nexk: replaces 0005_profiles 090424c31372c865ac59a4dac4017fbc5a350c725e15127e0b0fec45c6e85501
-- nexk: replaces 0006_access_helpers ba88d9ee873425765a663c1780bdf9d92af1731badc2835ea50f30fb0e0738c4
-- nexk: replaces 0007_tickets 1b492461646e1dd0d68269bb66ad8dd070559d996539eef96a5196c211a84e99
-- nexk: replaces 0008_ticket_messages 9e37e1f1cfdac1bed4a85d4571c6654df54adc1a09a025600e59fa595a725151
-- nexk: replaces 0009_attachments 478cfcad74cd1ad0252e9e9f12969b14b4828302afe039b2104e8a8c8fdfede7
-- nexk: replaces 0010_audit_log cda35f7ab5da2b372aff25f6bd6b4f5ed6c37e781d38a8ab34cafa01fd6e3f2c
-- nexk: replaces 0011_dsr_requests 89a6e3480c439226612d5e609355edb82a02a24ce26d7cf47e7f4bafe7fcddcd
-- nexk: replaces 0100_retention 3f2d6ac79f1f4bd708f1386955092eb4de32f20cdea1e4399f6f5914e38524c4
-- nexk: replaces 0101_dsr_tracking 1b7d8f59ef033cd07e94c527be06b2e16a39112af2cfadc2e2224d778c89bbcd
-- nexk: replaces 0102_dsr_restriction 9f040d692548e9261d9819b6ade47a727f8bf10c047bd0547656c8fb0730e265
-- nexk: replaces 0103_dsr_erasure 1231c1be3c9db2fcc4beb2b76ae5d2c226e43a665ce2ad333d5399837c5383f4
-- nexk: replaces 0104_dsr_functions 8edd3a8f0eb096cb072c94a4c01b9d7fc1bbd4217cc2cf0f3f0e71ddf2c88c5a
-- nexk: replaces 0200_notification_outbox 3cb892ec8f09e1732b0b9ddba6011ed2648b1a90c8fa145f19a1d7f2b8e3602f
-- nexk: replaces 0201_ticket_sla_clock 20dd35a65efe03236abf27a702f2f2da56b0c14e7fb53e3b42772820ecbef20f
-- nexk: replaces 0202_notify_agents_new_ticket fda4ea0e89d25241c830cf5dc95e2f2c8b6fe3afdf6decbc4cea93ec86c3460b
-- nexk: replaces 0203_notifier_role abf350da49023e12db43f679cf4410fb8b264359bbb9e7f63af7e15985434801
-- nexk: replaces 0210_self_service 087dbe97538f86ad5668e5bcde8775917601ee336c64fe5fcd112ca9a2375fc2
-- nexk: replaces 0220_admin_dsr 74e4cb31ef0b8ea7f63c63f5065ad171b58f50c66f6ffb0b9bcaffc3150b3be3
-- nexk: replaces 0240_erasure_deletes_auth_user 4c8ef52f1965407218ca0b397c8475b30145c49d4f9102278c6a7e422732494c
-- nexk: replaces 0250_sla_clock_policy_join 8c817d2e4a9a9d2849b28ba8357442392c9a7baaebbced46a171ab08acb64ed5
-- nexk: replaces 0260_policy_performance 34bcdad63c855c8fdccbc7e533b49abd5a10786834a961bd7f689e8772d17b73
-- nexk: replaces 0270_storage_deletion_queue 98393895c3ad1abee7a9d07ed1a249ab8d502b04db6ab8c25d4447b8b66a46d9
-- nexk: replaces 0280_invitations bf794e53b342b969698ff80082fb6c36a47e698eb1b0f753160f271f94c0d542
-- nexk: replaces 0290_sla_next_response 8685f57bf59898d1802be835e1a2b8147345785f0a131df91d40713c5a136bc7
-- nexk: replaces 0300_service_role_leaves_private 0e017d73fd0bcef784426e11ce5c1c1912d3a1103f88d93842352b0e3969e094
-- nexk: replaces 0310_profile_display_names 06e0903e55e3e89e6ca5e5c6326e8dd81a5f97ea731d5206807709953f93ad42
-- nexk: replaces 0320_invitation_status 5aeb393ab97c1f3df005177719f1331c818ceb43913af57574281a39178bff17
-- nexk: replaces 0330_client_reply_semantics b01fed65cfe87022239498342fd51ce6e3678f6857264e9406b21d8aed7681c7
-- nexk: replaces 0341_staff_first_names_for_clients 63c3921a3d40bcd4ab2125a6d3d5cfafbd5812c2b8046764bee1a0dd46aba8fb
-- nexk: replaces 0342_ticket_activity 45b895ce78a5de557ecd409fcc3d84e78351725e30a0f9bd2b4c29cc6ef2cb07
-- nexk: replaces 0343_client_admin_company 3ec03a78cd86c70a0eec47daa4af018ec11318e603633655f6909e44ef688f26
-- nexk: replaces 0360_api_roles_no_ddl_privileges 12a786d6003828d09e0972947dfcf88cd17b7dcc26ab1e4e902a0227fd7849ec
-- nexk: replaces 0361_record_read_checks_its_caller 96cbbc386bf08e7b95d8810aa0fe2428c791c2eed7cb88baa16f3a04e63d60d7
-- nexk: replaces 0362_follow_up_and_outbox_validate ad8e533d5a894aa3539648d65196bcea7750d0a1a8283fe533c0543a383738e7

-- ---------------------------------------------------------------- from 0001_private_schema.sql
-- The `private` schema holds the helper functions that RLS policies and triggers call.
-- PostgREST exposes only `public` (pgrst.db_schemas), so nothing here is reachable through the Data API
-- (/rpc); `authenticated` still needs USAGE because policy expressions run with the caller's privileges.
create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to authenticated;
comment on schema private is 'Helpers for RLS policies and triggers; never exposed through the API.';

-- ---------------------------------------------------------------- from 0002_private_utilities.sql
-- Small, table-independent helpers the later migrations use: the `updated_at` trigger and the Belgian
-- enterprise-number validator (check constraints call it). Functions in `private` are not executable by
-- anyone by default; each migration grants exactly what the API roles need.
alter default privileges in schema private revoke execute on functions from public;

-- ---------------------------------------------------------------- from 0003_sla.sql
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

-- ---------------------------------------------------------------- from 0004_organizations.sql
-- Client companies: the tenants. Everything a client can see hangs off one organization.
-- contract_end drives retention (data kept five years after the contract ends; built later).
create table public.organizations (
    id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 200),
    enterprise_number text not null unique,
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
alter table public.organizations enable row level security;
alter table public.organizations force row level security;
revoke all on public.organizations from anon, authenticated;

-- ---------------------------------------------------------------- from 0005_profiles.sql
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
create table public.agent_assignments (
    id uuid primary key default gen_random_uuid(),
    agent_id uuid not null references public.profiles (id) on delete cascade,
    organization_id uuid not null references public.organizations (id) on delete cascade,
    created_at timestamptz not null default now(),
    constraint agent_assignments_unique unique (agent_id, organization_id)
);
-- agent_id is covered by the unique constraint's index.
create index agent_assignments_organization_id_idx on public.agent_assignments (organization_id);
alter table public.profiles enable row level security;
alter table public.profiles force row level security;
alter table public.agent_assignments enable row level security;
alter table public.agent_assignments force row level security;
revoke all on public.profiles, public.agent_assignments from anon, authenticated;

-- ---------------------------------------------------------------- from 0007_tickets.sql
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
alter table public.tickets enable row level security;
alter table public.tickets force row level security;
revoke all on public.tickets from anon, authenticated;

-- ---------------------------------------------------------------- from 0008_ticket_messages.sql
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
alter table public.ticket_messages enable row level security;
alter table public.ticket_messages force row level security;
revoke all on public.ticket_messages from anon, authenticated;

-- ---------------------------------------------------------------- from 0009_attachments.sql
-- Files on tickets: this table holds the metadata; the bytes live in the private Storage bucket
-- `attachments` under `<organization_id>/<ticket_id>/<attachment id>` (the generated `storage_path`), so the
-- storage.objects policies can match an object to exactly one attachment row. Attachments of internal notes
-- are internal too (enforced by the composite foreign key). Immutable once written, like messages.
create table public.attachments (
    id uuid primary key default gen_random_uuid(),
    ticket_id uuid not null,
    organization_id uuid not null,
    message_id uuid,
    uploaded_by uuid not null default auth.uid() references public.profiles (id),
    internal boolean not null default false,
    file_name text not null check (length(file_name) between 1 and 255 and file_name !~ '[/\\[:cntrl:]]'),
    content_type text not null check (content_type ~ '^[a-z]+/[A-Za-z0-9.+_-]+$'),
    size_bytes bigint not null check (size_bytes between 1 and 26214400),
    sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    storage_path text not null generated always as (
        organization_id::text || '/' || ticket_id::text || '/' || id::text
    ) stored,
    created_at timestamptz not null default now(),
    -- The organization in the path is the ticket's organization.
    constraint attachments_ticket_fkey foreign key (ticket_id, organization_id)
    references public.tickets (id, organization_id) on delete cascade,
    -- A file attached to a message sits on the message's ticket and shares its internal flag.
    constraint attachments_message_fkey foreign key (message_id, ticket_id, internal)
    references public.ticket_messages (id, ticket_id, internal) on delete cascade,
    constraint attachments_storage_path_key unique (storage_path)
);
create index attachments_ticket_id_idx on public.attachments (ticket_id, organization_id);
create index attachments_message_id_idx on public.attachments (message_id, ticket_id, internal);
create index attachments_uploaded_by_idx on public.attachments (uploaded_by);
alter table public.attachments enable row level security;
alter table public.attachments force row level security;
revoke all on public.attachments from anon, authenticated;
-- The private bucket (never public: every read goes through the storage.objects policies). 25 MiB cap.
insert into storage.buckets (id, name, public, file_size_limit)
values ('attachments', 'attachments', false, 26214400)
on conflict (id) do nothing;

-- ---------------------------------------------------------------- from 0010_audit_log.sql
-- The access log promised by the privacy policy ("access logging"): who did what to which object, when,
-- from which IP and user agent. Append-only: only the security-definer functions below write it (the API
-- roles have no INSERT/UPDATE/DELETE privilege), UPDATE is refused for every role, and only the retention
-- job (service role; technical data is purged after 90 days, hence the created_at index) deletes.
-- actor_id has no foreign key on purpose: the log outlives the accounts it mentions.
create table public.audit_log (
    id uuid primary key default gen_random_uuid(),
    created_at timestamptz not null default now(),
    actor_id uuid,
    -- The JWT role claim of the request ('authenticated', 'service_role'), null for direct SQL sessions.
    jwt_role text,
    action text not null check (action in ('insert', 'update', 'delete', 'read')),
    object_table text not null check (object_table ~ '^[a-z_][a-z0-9_]*$'),
    object_id uuid,
    ip inet,
    user_agent text check (length(user_agent) <= 512),
    -- For updates: the names (never the values) of the columns that changed.
    changed_columns text[]
);
create index audit_log_created_at_idx on public.audit_log (created_at);
create index audit_log_actor_id_idx on public.audit_log (actor_id);
create index audit_log_object_idx on public.audit_log (object_table, object_id);
alter table public.audit_log enable row level security;
alter table public.audit_log force row level security;
revoke all on public.audit_log from anon, authenticated;

-- ---------------------------------------------------------------- from 0011_dsr_requests.sql
-- Data-subject requests (GDPR Art. 15-21): the admins' queue, with the legal clock. The answer is due one
-- month after receipt (we use 30 days), extendable to three months in total (Art. 12(3)).
-- subject_id links a portal user when the subject has one; subject_email always says who asked.
create table public.dsr_requests (
    id uuid primary key default gen_random_uuid(),
    subject_id uuid references public.profiles (id),
    subject_email extensions.citext not null check (subject_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
    type text not null check (
        type in ('access', 'rectification', 'erasure', 'restriction', 'portability', 'objection')
    ),
    status text not null default 'received' check (
        status in ('received', 'verifying_identity', 'in_progress', 'completed', 'rejected')
    ),
    received_at timestamptz not null default now(),
    due_at timestamptz not null default now() + interval '30 days',
    completed_at timestamptz,
    handled_by uuid references public.profiles (id),
    notes text check (length(notes) <= 10000),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint dsr_requests_due_within_legal_limit check (
        due_at > received_at and due_at <= received_at + interval '3 months'
    ),
    constraint dsr_requests_completed_when_closed check (
        (completed_at is not null) = (status in ('completed', 'rejected'))
    ),
    constraint dsr_requests_completed_after_receipt check (completed_at >= received_at)
);
create index dsr_requests_subject_id_idx on public.dsr_requests (subject_id);
create index dsr_requests_handled_by_idx on public.dsr_requests (handled_by);
create index dsr_requests_open_due_idx on public.dsr_requests (due_at) where completed_at is null;
alter table public.dsr_requests enable row level security;
alter table public.dsr_requests force row level security;
revoke all on public.dsr_requests from anon, authenticated;

-- ---------------------------------------------------------------- from 0100_retention.sql
-- Retention in the database (issue 5, item 5): the retention periods in ONE table, the purge routine that
-- applies them, and its daily schedule with pg_cron where the extension exists (Supabase; not locally).
--
-- private.retention_policy is the single source of the periods: private.run_retention() reads them, and the
-- register's cross-check (compliance/) reads them too, so the privacy policy, the register and what the
-- database actually does cannot drift apart silently.
--
-- What run_retention(now, dry_run) does, step by step (time travel = pass `now`):
--   1. technical_logs (90 days, privacy policy "Technical data (logs) is purged after 90 days"): deletes
--      public.audit_log rows, auth.sessions not used for 90 days, auth.mfa_challenges, settled e-mails of
--      the notification outbox (private.notifications, 0200: sent, delivered, failed or suppressed; queued
--      ones stay), and on real Supabase GoTrue's auth.audit_log_entries (tables looked up by name: the local
--      emulation has no audit_log_entries, and the outbox migration comes after this one).
--   2. resolved_ticket_archive_after (30 days): stamps archived_at on tickets resolved or closed for longer.
--      30 days mirrors the SLA reopening window in practice (a client reopens within weeks, not months);
--      archived tickets stay readable (the policies do not look at archived_at), they only leave queues.
--   3. contract_data_after_contract_end (5 years, privacy policy "duration of the support contract, plus
--      five (5) years after the end of the contract"): for each organization whose contract_end + 5 years
--      has passed, erases the personal data: every client person of the organization is anonymised with
--      private.erase_person() (profile, auth user, their attachments, and their name/e-mail/phone wherever
--      they occur in free text), then all ticket texts of the organization are replaced by a placeholder,
--      its messages, attachments and storage objects are deleted, and its agent assignments removed.
--      KEPT, and why: the organization row (legal name, enterprise number, contract dates: data about a
--      legal person, not personal data (GDPR Recital 14), and the proof of which contract existed when) and
--      the ticket rows without their texts (status, priority, created/first response/resolved/archived
--      timestamps: after the anonymisation nothing links them to a person; they keep the service history and
--      SLA statistics). Accounting law: Belgian bookkeeping and VAT rules (7 to 10 years) bind invoices and
--      their supporting documents; this portal holds no invoices, prices or payments (they live in the
--      accounting system), so no accounting obligation extends the retention of anything here. Caveat: for
--      a sole trader the enterprise number identifies a natural person; it is kept as the contract's legal
--      identifier (legal claims, Art. 17(3)(e)) and listed in docs/data-subject-rights.md.
--      People under an Art. 18 restriction (restricted_at) and their tickets are skipped and reported: their
--      data may only be stored until the restriction is lifted; the organization is then retried next run.
--   4. dsr_records_after_completion (5 years): completed/rejected data-subject requests and their journal
--      (the proof we answered, kept for the limitation period of a complaint or claim), and the journal's
--      refused attempts (unknown subject) of the same age.
-- A dry run performs every step inside a subtransaction that is then rolled back, so its counts are exactly
-- those a real run would report, and nothing changes.
-- Storage bytes: deleting storage.objects rows does not delete the files in Supabase Storage's backend; the
-- service-side sweep (Storage API) removes objects without a metadata row (docs/data-subject-rights.md).
create table private.retention_policy (
    name text primary key check (name ~ '^[a-z][a-z0-9_]*$'),
    period interval not null check (period > interval '0 seconds'),
    description text not null
);
comment on table private.retention_policy is
'Retention periods, one row per category: private.run_retention() enforces them, the register reads them.';
insert into private.retention_policy (name, period, description) values
(
    'technical_logs', interval '90 days',
    'Access log (public.audit_log), inactive auth sessions, MFA challenges and GoTrue audit entries: IP '
    || 'addresses, user agents. Purged after 90 days (privacy policy, "Retention period").'
),
(
    'resolved_ticket_archive_after', interval '30 days',
    'Tickets resolved or closed for this long get archived_at (leave the working queues, stay readable).'
),
(
    'contract_data_after_contract_end', interval '5 years',
    'Personal data of a client organization (people, ticket texts, messages, attachments) is erased this '
    || 'long after its contract_end; the organization and anonymous ticket metadata are kept.'
),
(
    'dsr_records_after_completion', interval '5 years',
    'Completed or rejected data-subject requests and their journal, kept as proof of the answer.'
);
revoke all on private.retention_policy from public, anon, authenticated;
grant select on private.retention_policy to service_role;
-- Marks the organizations whose personal data the retention job has erased (so the job runs once each).
-- Added here rather than in 0004 because the retention job owns it; the API has no column grant on it.
alter table public.organizations add column personal_data_erased_at timestamptz;
comment on column public.organizations.personal_data_erased_at is
'Set by private.run_retention() when the contract-end retention period erased this organization''s people.';
-- The daily schedule, only where pg_cron is available (Supabase: enable it in the dashboard or here). Locally
-- the extension does not exist and this block does nothing; `nexk retention run` is the manual trigger.
do $cron$
begin
    if exists (select from pg_catalog.pg_available_extensions as e where e.name = 'pg_cron') then
        create extension if not exists pg_cron;
        perform cron.schedule('nexk-retention', '17 3 * * *', 'select private.run_retention()');
    end if;
end
$cron$;

-- ---------------------------------------------------------------- from 0101_dsr_tracking.sql
-- Data-subject requests (issue 5, item 6), the tracking part: the legal clock on public.dsr_requests, the
-- journal of every DSR action, and the register of objections (Art. 21).
--
-- public.dsr_requests (0011) has one due date; Art. 12(3) needs two facts beside it, added here:
--   legal_due_at    = received_at + 1 calendar month (Regulation 1182/71: the same date of the next month,
--                     or its last day), computed in Europe/Brussels so a request received on 31 January is
--                     due on 28/29 February, not on 2 or 3 March;
--   internal_due_at = received_at + 30 days (the privacy policy promises "within 30 days maximum"), also on
--                     the Brussels wall clock, so a daylight-saving change never shifts it by an hour;
--   due_at          = the earlier of the two when not given: the date the queue is sorted by. An explicit
--                     due_at (an extension, Art. 12(3): two further months) is kept; 0011's check caps it at
--                     three months. 0011's column default (now() + 30 days) is dropped for this.
-- A trigger computes them on every insert (the API's admins and the DSR functions alike), so no caller can
-- get the clock wrong. `recipients` keeps the Art. 19 list (who must be told of a rectification, erasure or
-- restriction) as it was when the request was handled: after an erasure it can no longer be recomputed.
alter table public.dsr_requests
add column legal_due_at timestamptz,
add column internal_due_at timestamptz,
add column recipients jsonb;
comment on column public.dsr_requests.legal_due_at is 'Art. 12(3): received_at + 1 calendar month (Brussels).';
comment on column public.dsr_requests.internal_due_at is 'Privacy policy: received_at + 30 days.';
comment on column public.dsr_requests.recipients is 'Art. 19: recipients to inform, snapshot at handling time.';
-- The working due date now comes from the trigger (0011's default of now() + 30 days ignored the receipt
-- date and the calendar month); NOT NULL still holds, since BEFORE triggers run before the check.
alter table public.dsr_requests alter column due_at drop default;
-- The journal: one row per DSR action (opened, exported, rectified, erased, restricted, objected, completed)
-- and per refused attempt (unknown subject). subject_id has no foreign key on purpose: an attempt about an
-- unknown subject is recorded too. detail holds counts and ids, never personal data (the erasure scan
-- checks it). Every insert is also written to public.audit_log by the audit trigger below.
create table private.dsr_events (
    id uuid primary key default gen_random_uuid(),
    created_at timestamptz not null default now(),
    request_id uuid references public.dsr_requests (id) on delete cascade,
    subject_id uuid,
    event_type text not null check (event_type ~ '^[a-z_]+$'),
    outcome text not null check (outcome in ('done', 'failed')),
    detail jsonb not null default '{}',
    actor_id uuid default auth.uid(),
    db_role text not null default current_user
);
create index dsr_events_request_id_idx on private.dsr_events (request_id);
create index dsr_events_subject_id_idx on private.dsr_events (subject_id);
-- Objections to processing based on legitimate interest (Art. 21). The purposes are those the privacy
-- policy bases on Art. 6(1)(f): security logging (authentication, session security, the access log) and
-- audience measurement; direct_marketing is listed because an objection to it is absolute (Art. 21(3)),
-- although the portal does none. Contract processing (tickets) is not objectable (Art. 6(1)(b)).
create table private.processing_objections (
    id uuid primary key default gen_random_uuid(),
    subject_id uuid not null references public.profiles (id),
    purpose text not null check (purpose in ('security_logging', 'audience_measurement', 'direct_marketing')),
    status text not null check (status in ('upheld', 'pending_review', 'rejected')),
    received_at timestamptz not null default now(),
    decided_at timestamptz,
    reason text check (length(reason) <= 2000),
    constraint processing_objections_unique unique (subject_id, purpose),
    constraint processing_objections_decided check ((decided_at is null) = (status = 'pending_review'))
);
revoke all on private.dsr_events, private.processing_objections from public, anon, authenticated;

-- ---------------------------------------------------------------- from 0200_notification_outbox.sql
-- Notifications outbox (issue 7, item 2): every e-mail the portal owes somebody is first a row here, written
-- by triggers in the SAME transaction as the event (new ticket, staff reply, status change), so an event
-- that commits always has its notification and a rolled-back event never has one. The worker
-- (app/notifications/worker.py) sends the rows through Brevo with retries and marks them; Brevo's delivery
-- webhook updates their status (private.record_delivery_event). SLA alerts are enqueued by the worker's scan.
-- The table lives in `private`: only server-side jobs (owner or service_role) read or write it; the API never
-- exposes it. Rows hold personal data (recipient e-mail, first name, ticket subject): they cascade with the
-- ticket and the profile, and need a retention period (see the report to the lead).
create table private.notifications (
    id uuid primary key default gen_random_uuid(),
    -- What happened, unique per event ('ticket:<id>:created', 'message:<id>', 'sla:<ticket>:<target>:...').
    event_key text not null check (length(event_key) between 1 and 300),
    kind text not null check (
        kind in ('ticket_created', 'agent_reply', 'status_changed', 'ticket_resolved', 'sla_warning', 'sla_breach')
    ),
    -- The Brevo template family provisioned by infra/templates/notifications.yaml (mynexk.<template>.<language>).
    template_key text not null check (
        template_key in ('ticket_created', 'agent_reply', 'status_changed', 'ticket_resolved', 'sla_at_risk')
    ),
    recipient_id uuid not null references public.profiles (id) on delete cascade,
    -- Null only for suppressed rows (nothing is sent, so no address is kept).
    recipient_email extensions.citext,
    language text not null check (language in ('en', 'fr', 'nl')),
    ticket_id uuid references public.tickets (id) on delete cascade,
    -- Raw facts for the template (ticket_id, subject, first_name, ...); the worker renders links, references
    -- and localized labels at send time (app/notifications/templates.py).
    params jsonb not null default '{}' check (jsonb_typeof(params) = 'object'),
    status text not null default 'queued' check (
        status in ('queued', 'sending', 'sent', 'delivered', 'failed', 'suppressed')
    ),
    attempts integer not null default 0 check (attempts >= 0),
    next_attempt_at timestamptz not null default now(),
    -- A claimed row belongs to one worker until this instant; after it, another worker may take it over.
    locked_until timestamptz,
    last_attempt_at timestamptz,
    -- Set when an attempt may have reached Brevo without us learning the outcome (timeout, 5xx, crash):
    -- the next attempt first asks Brevo whether the e-mail exists (app/notifications/outbox.py).
    ambiguous_since timestamptz,
    last_error text,
    brevo_message_id text unique,
    last_event text,
    created_at timestamptz not null default now(),
    sent_at timestamptz,
    delivered_at timestamptz,
    constraint notifications_idempotency unique (event_key, recipient_id, template_key),
    constraint notifications_suppressed_keep_no_address check (
        (status = 'suppressed') = (recipient_email is null)
    )
);
comment on table private.notifications is
'Transactional outbox of e-mail notifications (app/notifications): written with the event, sent by the worker.';
create index notifications_due_idx on private.notifications (next_attempt_at)
where status in ('queued', 'sending');
create index notifications_recipient_id_idx on private.notifications (recipient_id);
create index notifications_ticket_id_idx on private.notifications (ticket_id);
revoke all on private.notifications from public, anon, authenticated;
-- The worker and the webhook run server-side as the owner or as service_role (the portal's webhook route
-- switches to it after checking Brevo's bearer token). service_role needs the schema to reach them.
grant usage on schema private to service_role;
grant select, insert, update on private.notifications to service_role;

-- ---------------------------------------------------------------- from 0201_ticket_sla_clock.sql
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
-- Reads follow the tickets: whoever sees the ticket sees its clock (staff only with MFA, like everywhere).
alter table private.ticket_sla_clocks enable row level security;
alter table private.ticket_sla_clocks force row level security;
revoke all on private.ticket_sla_clocks from public, anon, authenticated;
grant select on private.ticket_sla_clocks to authenticated, service_role;
create policy ticket_sla_clocks_select on private.ticket_sla_clocks
for select
to authenticated
using (ticket_id in (select t.id from public.tickets as t));

-- ---------------------------------------------------------------- from 0202_notify_agents_new_ticket.sql
-- New tickets reach the agents who serve the organization, and SLA breaches get their own e-mail.
-- 0200 only acknowledged a new ticket to its requester and sent one `sla_at_risk` template for both SLA
-- warnings and breaches. infra/templates now provisions `ticket_created_agent` ("new ticket in an
-- organization you serve") and `sla_breach`; this migration lets the outbox hold them and extends the
-- new-ticket trigger function (the trigger tickets_notify_created itself is unchanged).
alter table private.notifications
drop constraint notifications_kind_check,
add constraint notifications_kind_check check (
    kind in (
        'ticket_created', 'ticket_created_agent', 'agent_reply', 'status_changed', 'ticket_resolved',
        'sla_warning', 'sla_breach'
    )
),
drop constraint notifications_template_key_check,
add constraint notifications_template_key_check check (
    template_key in (
        'ticket_created', 'ticket_created_agent', 'agent_reply', 'status_changed', 'ticket_resolved',
        'sla_at_risk', 'sla_breach'
    )
);

-- ---------------------------------------------------------------- from 0203_notifier_role.sql
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

-- ---------------------------------------------------------------- from 0210_self_service.sql
-- Self-service for the portal (issue 7): what a signed-in person may do about their own data and sessions
-- without an admin, through narrow security-definer wrappers that act for auth.uid() only, plus the list
-- index the portal engineer measured (ticket list p95 6.7 -> 2.1 ms).
--
--   private.record_sign_in()         a dedicated 'sign_in' entry in public.audit_log for the caller's session
--                                    (until now the portal logged a sign-in as a read of auth_sessions)
--   private.my_dsr_export() -> jsonb Art. 15/20 for the caller: private.dsr_export(auth.uid()), nobody else
--   private.request_my_dsr(type, details) -> uuid  Art. 16/17/18/21: the caller files a request about
--                                    themselves (0101's trigger computes the due dates; dsr_open journals it)
--
-- The 0104 functions stay owner-only (admin tooling taking any subject); these wrappers take no subject at
-- all, so a caller can never reach another person's data through them. Staff must have passed MFA, as the
-- restrictive *_staff_need_mfa policies demand everywhere else, and deactivated or erased people get nothing.

-- Keyset pagination of the ticket lists (organization slice, newest update first, id as tie-breaker).
create index tickets_org_updated_id_idx on public.tickets (organization_id, updated_at desc, id desc);
alter table public.audit_log drop constraint audit_log_action_check;
alter table public.audit_log add constraint audit_log_action_check check (
    action in ('insert', 'update', 'delete', 'read', 'sign_in')
);

-- ---------------------------------------------------------------- from 0250_sla_clock_policy_join.sql
-- The SLA clocks' read policy, rewritten as a correlated EXISTS.
--
-- 0201 wrote it as `ticket_id in (select t.id from public.tickets as t)`. PostgreSQL does not turn that into
-- a join under RLS: every list page evaluated the caller's whole set of visible tickets (about 1M rows through
-- the tickets policies at the benchmark's scale: 245-480 ms and ~220 ms of database CPU per page,
-- bench/results/portal.md). The EXISTS form probes one ticket by primary key per clock row. The rule is
-- unchanged: a clock is visible exactly when its ticket is visible (the tickets policies decide).
alter policy ticket_sla_clocks_select on private.ticket_sla_clocks
using (
    exists (
        select 1 from public.tickets as t
        where t.id = ticket_sla_clocks.ticket_id
    )
);

-- ---------------------------------------------------------------- from 0270_storage_deletion_queue.sql
-- Attachment bytes leave Supabase Storage through the Storage API, never by SQL (issue 5: erasure "delete their
-- attachments and storage objects"; retention at contract end + 5 years).
-- Supabase Storage keeps an object's bytes in its backend and its metadata in storage.objects. Deleting the row
-- by SQL leaves the bytes behind for ever (Supabase docs, "Delete Objects"), and since storage#817 a statement
-- trigger on storage.objects refuses any DELETE that does not come from the Storage API (the local emulation
-- does the same: db/compat/supabase.sql). Until now private.erase_person (0240) and private.run_retention
-- (0100) deleted those rows by SQL. From here on:
--   - they queue the objects in private.storage_deletions, in the same transaction as the rest of the erasure;
--     the attachment rows still go at once, so no one can download the files any more (the storage.objects
--     SELECT policy follows the attachment row); a trigger on public.attachments queues the object of any
--     attachment deleted another way, so no path can orphan bytes;
--   - the storage sweeper deletes the queued objects through the Storage API, which removes the row and the
--     bytes. The sweeper is a system account (a GoTrue user whose app_metadata.nexk_system is
--     'storage_sweeper': only the service role can set app_metadata, at deploy time, infra/) and holds no key
--     that bypasses RLS: two policies on storage.objects (db/policies/storage_objects.sql) let exactly that
--     identity see and delete exactly the queued objects. The portal runs it from a Vercel cron and right
--     after an admin fulfils an erasure (app/storage_sweep.py); `nexk storage sweep` runs it by hand;
--   - run_retention forgets queue entries whose object is gone; `nexk storage status` shows what waits.
-- The erasure and retention bodies below are those of 0240 and 0100 with only the storage statements
-- changed (and run_retention's new step 5); the result key storage_objects_deleted becomes
-- storage_objects_queued.
create table private.storage_deletions (
    bucket_id text not null,
    name text not null,
    reason text not null check (reason in ('erasure', 'retention: contract end', 'attachment deleted')),
    queued_at timestamptz not null default now(),
    primary key (bucket_id, name)
);
comment on table private.storage_deletions is
'Storage objects waiting for the storage sweeper to delete them through the Storage API (db/schema/0270).';

-- ---------------------------------------------------------------- from 0280_invitations.sql
-- Invitations without the service-role key. GoTrue's POST /auth/v1/invite needs the service-role key, which
-- bypasses RLS and which request handlers never hold. Instead, an admin (or a client admin, for their own
-- organization) records the invitation here, in their own RLS transaction, with the sha256 of a one-time
-- nonce; the portal then asks Supabase Auth, with the publishable key, for an e-mail sign-up
-- (POST /auth/v1/otp, create_user, data {"nexk_invitation": <nonce>}). Sign-ups are therefore open in the
-- auth settings (infra/supabase_platform.py), and the gate is Supabase Auth's "before-user-created" hook,
-- private.hook_before_user_created(event): it lets an account be created only when the user metadata carries
-- a nonce whose hash matches a pending, unexpired invitation for the same e-mail address (case-insensitive).
-- A password sign-up, an anonymous sign-in or an OTP request without that nonce is refused with 403 - also
-- for the address of someone who was invited: only the portal ever knows the nonce.
-- When the account row is inserted, two triggers on auth.users (GoTrue runs as supabase_auth_admin, so both
-- are security definer) finish the job in the same transaction: the BEFORE trigger claims the invitation
-- (accepted_by = the new user id) and strips the nonce from raw_user_meta_data; the AFTER trigger creates
-- the profile from the invitation (profile id = user id: role and organization come from the invitation,
-- never from user metadata) and deletes the consumed invitation. No personal data stays here after that.
-- An invitation nobody used expires after 7 days (expires_at) and is deleted by
-- private.purge_expired_invitations() once it has been expired for the period in private.retention_policy
-- ('expired_invitations_after_expiry'); pg_cron runs it daily where the extension exists, and
-- `nexk retention run` runs it too.
-- Who may read, add and cancel invitations: db/policies/invitations.sql (spec: db/policies/README.md §3).
create table private.invitations (
    id uuid primary key default gen_random_uuid(),
    -- Stored lower-case (private.prepare_invitation): GoTrue lower-cases addresses as well.
    email text not null check (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and length(email) <= 254),
    organization_id uuid references public.organizations (id) on delete cascade,
    role text not null check (role in ('client_member', 'client_admin', 'agent', 'admin')),
    first_name text not null check (length(first_name) between 1 and 100),
    surname text not null check (length(surname) between 1 and 100),
    invited_by uuid default auth.uid() references public.profiles (id) on delete set null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null default now() + interval '7 days',
    -- sha256 (hex) of the one-time nonce sent as user metadata; the nonce itself is never stored.
    nonce_hash text not null check (nonce_hash ~ '^[0-9a-f]{64}$'),
    -- Set by the BEFORE INSERT trigger on auth.users for the account being created from this invitation; the
    -- AFTER trigger deletes the row in the same transaction, so it is never seen set outside of it.
    accepted_by uuid,
    constraint invitations_email_key unique (email),
    constraint invitations_nonce_hash_key unique (nonce_hash),
    -- As for profiles: clients are invited into exactly one organization, NexK staff into none.
    constraint invitations_organization_matches_role check (
        (role in ('client_member', 'client_admin')) = (organization_id is not null)
    ),
    constraint invitations_expire_after_creation check (expires_at > created_at)
);
comment on table private.invitations is
'Pending invitations (db/schema/0280): consumed by the auth.users triggers when the invited account is created.';
create index invitations_organization_id_idx on private.invitations (organization_id);
-- Erasing the inviter sets invited_by to null (private.erase_person deletes their profile).
create index invitations_invited_by_idx on private.invitations (invited_by);
create index invitations_expires_at_idx on private.invitations (expires_at);
-- Expired invitations: deleted once expired for longer than the retention period. Returns the rows deleted
-- (or, dry, that would be). `now` allows time travel, like private.run_retention.
insert into private.retention_policy (name, period, description) values (
    'expired_invitations_after_expiry', interval '30 days',
    'Invitations nobody accepted (e-mail address, name, role, organization of the invited person) are deleted '
    || 'this long after they expired (private.invitations.expires_at, 7 days after sending).'
);
grant usage on schema private to supabase_auth_admin;
alter table private.invitations enable row level security;
alter table private.invitations force row level security;
revoke all on private.invitations from public, anon, authenticated;
-- The daily purge, only where pg_cron is available (as 0100 schedules private.run_retention).
do $cron$
begin
    if exists (select from pg_catalog.pg_available_extensions as e where e.name = 'pg_cron') then
        create extension if not exists pg_cron;
        perform cron.schedule('nexk-invitations-purge', '23 3 * * *', 'select private.purge_expired_invitations()');
    end if;
end
$cron$;

-- ---------------------------------------------------------------- from 0290_sla_next_response.sql
-- The next-response target gets its own column. The SLA clock (app/domain/sla.py) has three targets: first
-- response, next response (after a customer reply staff have not answered yet) and resolution; until now
-- sla_policies stored only the first and the last, and the clock silently reused the first-response target
-- for next response. Existing policies keep exactly the behaviour they had: the new column is backfilled
-- from first_response_minutes, then becomes mandatory like the other targets. It is positive like them and
-- no ordering is imposed against the other two: the next-response clock starts at a customer reply, not at
-- creation, so neither "shorter than" nor "longer than" the first response is a rule.
-- Column grants (insert/update for admins, under RLS) are in db/policies/sla_policies.sql.
alter table public.sla_policies add column next_response_minutes integer;
alter table public.sla_policies
alter column next_response_minutes set not null,
add constraint sla_policies_next_response_minutes_check check (next_response_minutes > 0);
comment on column public.sla_policies.next_response_minutes is
'Business minutes from the oldest unanswered customer reply to the next public staff reply.';

-- ---------------------------------------------------------------- from 0300_service_role_leaves_private.sql
-- service_role gives up what 0100-0203 granted it in `private`. Those grants were for server-side jobs. The
-- retention and DSR tooling runs as the owner (`nexk retention`, `nexk dsr`, pg_cron); the notification worker
-- and the Brevo webhook run as `nexk_notifier` since 0203 (least privilege, no BYPASSRLS); the storage sweeper
-- (0270) signs in as a system account and invitations (0280) go through the before-user-created hook. Nothing
-- of the platform uses service_role any more, and since it bypasses RLS, grants it keeps are reach nothing
-- needs; db/tests/test_schema.py proves none is left in `private`.
revoke select, insert, update on private.notifications from service_role;
revoke select on private.ticket_sla_clocks from service_role;
revoke select on private.retention_policy from service_role;
revoke usage on schema private from service_role;

-- ---------------------------------------------------------------- from 0330_client_reply_semantics.sql
-- Client replies get attention (issue 12, finding 3; docs/portal.md, "Helpdesk semantics of replies").
-- Until now a client's reply changed nothing: a Pending ticket stayed Pending with its SLA clock paused, a
-- Resolved one stayed resolved, nobody at NexK was e-mailed, and a reply on a Closed ticket was stored on a
-- ticket outside every queue. The rules now live in the database, so the portal, the JSON API and any other
-- writer behave the same:
-- * a public client message on a Pending or Resolved ticket moves it to Open (the status trigger of 0201
--   resumes the SLA clock; 0007's lifecycle trigger clears resolved_at);
-- * a client may not write on a Closed ticket (55000): they open a follow-up ticket instead, which points to
--   the closed one through the new column tickets.follow_up_of;
-- * every public client message is e-mailed (outbox, template `client_reply`) to the ticket's assignee, or,
--   while nobody is assigned, to the agents assigned to the ticket's organization, each under their
--   `notify_ticket_replies` preference and GDPR state (private.enqueue_notification, 0200).

-- The ticket a follow-up continues. Same organization by construction (composite key on tickets' existing
-- unique (id, organization_id)); a purged original leaves the follow-up standing, unlinked. Both constraints
-- are added `not valid` (instant, new rows are checked) and validated, with the column's index built
-- concurrently, by 0362 (docs/migrations.md): the tickets table is live.
alter table public.tickets
add column follow_up_of uuid,
add constraint tickets_follow_up_of_fkey foreign key (follow_up_of, organization_id)
references public.tickets (id, organization_id) on delete set null (follow_up_of) not valid,
add constraint tickets_follow_up_of_not_itself check (follow_up_of <> id) not valid;
comment on column public.tickets.follow_up_of is
'The closed ticket this one follows up (same organization); set once, when the ticket is opened.';
-- The outbox may hold the new e-mail (template provisioned by infra/templates, en/fr/nl). Each check is
-- replaced in the same statement by a wider one (one value more), added `not valid` and validated by 0362:
-- nothing the old check guaranteed is lost, so dropping it is safe.
-- squawk-ignore ban-drop-constraint
alter table private.notifications drop constraint notifications_kind_check;
alter table private.notifications add constraint notifications_kind_check check (
    kind in (
        'ticket_created', 'ticket_created_agent', 'agent_reply', 'client_reply', 'status_changed',
        'ticket_resolved', 'sla_warning', 'sla_breach'
    )
) not valid;
-- squawk-ignore ban-drop-constraint
alter table private.notifications drop constraint notifications_template_key_check;
alter table private.notifications add constraint notifications_template_key_check check (
    template_key in (
        'ticket_created', 'ticket_created_agent', 'agent_reply', 'client_reply', 'status_changed',
        'ticket_resolved', 'sla_at_risk', 'sla_breach'
    )
) not valid;

-- ---------------------------------------------------------------- from 0342_ticket_activity.sql
-- The activity timeline of a ticket (who opened it, changed its status, priority or assignee, added a file,
-- and when), built from the access log (0010) rather than from a second history table, and readable through
-- one narrow function (db/policies/README.md §6, "Ticket activity"):
--
-- 1. public.audit_log.new_values: the log keeps the NAMES of changed columns, never values, which is right
--    for personal data. A ticket's workflow columns are not personal content, and a history that says
--    "status changed" without saying to what is of no use to the client or the agent, so for `update` entries
--    of `tickets` only, the new values of status, priority and assignee_id that changed are kept (jsonb). Every
--    other table and column stays names-only (private.audit_row_change below).
-- 2. private.ticket_activity(p_ticket): the audit_log SELECT rule shows a caller only their own entries, and
--    its rows carry the actor's IP and user agent. This security definer answers, for a ticket the caller sees
--    (the tickets SELECT rule restated, with the staff MFA rule: a definer does not get RLS), its `opened`,
--    `changed` (status, priority, assignee) and `attachment` events, oldest first, with the actor's id and
--    never the IP, user agent or any `read` entry. Attachments follow the attachments SELECT rule: a client
--    never sees the file of an internal note. Nothing (no error) for a ticket the caller does not see.
alter table public.audit_log add column new_values jsonb;
comment on column public.audit_log.new_values is
'For update entries of tickets only: the new values of the changed workflow columns (status, priority, '
'assignee_id). Null elsewhere: the log keeps column names, never values, of personal data.';

-- ---------------------------------------------------------------- from 0360_api_roles_no_ddl_privileges.sql
-- 0360: the API roles lose every table privilege that is not row access, and TEMP (issue 13, finding 1).
--
-- Why: RLS governs SELECT, INSERT, UPDATE and DELETE only. Whoever holds the other table privileges can do
-- harm no policy sees: TRUNCATE empties a table past RLS and past Storage's delete guard; TRIGGER attaches
-- code that then runs as whoever writes the table next (an attack as `authenticated` put a trigger with a
-- pg_temp function on storage.objects, which ran as the superuser on the next upload and leaked another
-- tenant's ticket subjects and JWT claims through pg_notify); REFERENCES lets a foreign key from the
-- caller's own table probe keys or block deletes; MAINTAIN (PostgreSQL 17) allows VACUUM FULL, CLUSTER,
-- REINDEX and LOCK TABLE on it. db/policies/README.md §4: none of them goes to `anon` or `authenticated`.
-- TEMP is what creates pg_temp functions (the attack's vehicle) and temporary tables; the portal uses
-- neither, so the API roles, and the logins that can become them, lose it.
--
-- What the project owner may revoke differs on hosted Supabase (db/README.md, "API roles and table
-- privileges"): tables owned by a platform role (storage.*, auth.*) are revoked only where the migration
-- runs as a member of the owner (locally: the superuser); anything left is reported as a WARNING here, and
-- `nexk rls lint --database-url ...` fails on it (rules nexk_api_role_table_privilege and
-- nexk_api_role_temp).

-- Every relation anon or authenticated holds one of these privileges on, in any schema (directly, through
-- PUBLIC, or through a role they inherit from).
do $revoke_table_privileges$
declare
    privileges text[] := array['truncate', 'references', 'trigger']
        || case when current_setting('server_version_num')::int >= 170000 then array['maintain'] else '{}' end;
    target record;
    left_over text[];
begin
    for target in
        select c.oid::regclass::text as name, c.relowner
        from pg_catalog.pg_class as c
        inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
        where
            c.relkind in ('r', 'p', 'v', 'm', 'f')
            and n.nspname not in ('pg_catalog', 'information_schema')
            and n.nspname not like 'pg\_%'
            and exists (
                select from unnest(privileges) as p (privilege)
                cross join unnest(array['anon', 'authenticated']) as r (role_name)
                where pg_catalog.has_table_privilege(r.role_name, c.oid, p.privilege)
            )
    loop
        -- REVOKE removes only the grants made by the role it runs as (or, for a member of the owner, by the
        -- owner): elsewhere it would silently do nothing, so it is not even attempted.
        if pg_catalog.pg_has_role(current_user, target.relowner, 'usage') then
            execute format(
                'revoke %s on table %s from public, anon, authenticated',
                array_to_string(privileges, ', '),
                target.name
            );
        end if;
    end loop;

    select coalesce(array_agg(c.oid::regclass::text order by c.oid::regclass::text), '{}')
    into left_over
    from pg_catalog.pg_class as c
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    where
        c.relkind in ('r', 'p', 'v', 'm', 'f')
        and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname not like 'pg\_%'
        and exists (
            select from unnest(privileges) as p (privilege)
            cross join unnest(array['anon', 'authenticated']) as r (role_name)
            where pg_catalog.has_table_privilege(r.role_name, c.oid, p.privilege)
        );
    if cardinality(left_over) > 0 then
        raise warning 'anon or authenticated still hold one of % on: %', privileges, left_over
        using hint = 'Only their owner (a Supabase platform role for storage.* and auth.*) can revoke these; '
        || 'see db/README.md, "API roles and table privileges".';
    end if;
end
$revoke_table_privileges$;
-- Tables this project creates later in public start without them too (Supabase's default privileges grant
-- ALL on new tables to the API roles; the policy files revoke and re-grant, this covers a forgotten one).
alter default privileges in schema public revoke truncate, references, trigger on tables from anon, authenticated;
do $revoke_default_maintain$
begin
    if current_setting('server_version_num')::int >= 170000 then
        execute 'alter default privileges in schema public revoke maintain on tables from anon, authenticated';
    end if;
end
$revoke_default_maintain$;
-- TEMP comes from PUBLIC. Supabase's platform roles (supabase/postgres init scripts and migrations) keep it
-- by name; nobody else gets it back: not anon, authenticated, authenticator, nor this project's logins (the
-- portal's, nexk_notifier, the storage sweeper), none of which uses a temporary object. Only the database's
-- owner may change this; elsewhere a WARNING says so.
do $revoke_temp$
declare
    platform_role text;
begin
    if not pg_catalog.pg_has_role(
        current_user,
        (select d.datdba from pg_catalog.pg_database as d where d.datname = current_database()),
        'usage'
    ) then
        raise warning 'TEMP on database % is left as it is: only its owner may revoke it', current_database()
        using hint = 'See db/README.md, "API roles and table privileges".';
        return;
    end if;
    for platform_role in
        select r.rolname
        from pg_catalog.pg_roles as r
        where r.rolname in (
            'postgres', 'service_role', 'dashboard_user', 'pgbouncer', 'supabase_admin',
            'supabase_auth_admin', 'supabase_storage_admin', 'supabase_functions_admin',
            'supabase_realtime_admin', 'supabase_replication_admin', 'supabase_read_only_user',
            'supabase_etl_admin'
        )
    loop
        execute format('grant temporary on database %I to %I', current_database(), platform_role);
    end loop;
    execute format('revoke temporary on database %I from public, anon, authenticated', current_database());
end
$revoke_temp$;

-- ---------------------------------------------------------------- from 0362_follow_up_and_outbox_validate.sql
-- 0362: the validate step of 0330 (docs/migrations.md, expand/contract): the follow-up link's constraints and
-- the outbox's widened checks are proved without blocking writes, and the follow-up index is built
-- concurrently. Each statement is safe to run again: validating a valid constraint does nothing, which
-- squawk's prefer-robust-stmts cannot know (docs/migrations.md).
-- squawk-ignore prefer-robust-stmts
alter table public.tickets validate constraint tickets_follow_up_of_fkey;
-- squawk-ignore prefer-robust-stmts
alter table public.tickets validate constraint tickets_follow_up_of_not_itself;
-- squawk-ignore prefer-robust-stmts
alter table private.notifications validate constraint notifications_kind_check;
-- squawk-ignore prefer-robust-stmts
alter table private.notifications validate constraint notifications_template_key_check;
-- (built concurrently by 0362 on the live table; here the table is new and empty)
create index if not exists tickets_follow_up_of_idx on public.tickets (follow_up_of, organization_id);

-- nexk: functions

-- ---------------------------------------------------------------- from 0004_organizations.sql
-- Valid Belgian enterprise numbers only (the check calls a function, so it comes after them).
alter table public.organizations add constraint organizations_enterprise_number_valid
check (private.is_valid_be_enterprise_number(enterprise_number));

-- ---------------------------------------------------------------- from 0004_organizations.sql
create trigger organizations_set_updated_at
before update on public.organizations
for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------- from 0005_profiles.sql
create trigger profiles_set_updated_at
before update on public.profiles
for each row execute function private.set_updated_at();
create trigger agent_assignments_check_agent
before insert or update on public.agent_assignments
for each row execute function private.check_agent_assignment();
create trigger profiles_guard_update
before update on public.profiles
for each row execute function private.guard_profile_update();

-- ---------------------------------------------------------------- from 0007_tickets.sql
create trigger tickets_set_updated_at
before update on public.tickets
for each row execute function private.set_updated_at();
create trigger tickets_lifecycle
before insert or update of status on public.tickets
for each row execute function private.ticket_lifecycle();
create trigger tickets_check_people
after insert or update of organization_id, requester_id, assignee_id on public.tickets
for each row execute function private.check_ticket_people();
create trigger tickets_guard_update
before update on public.tickets
for each row execute function private.guard_ticket_update();

-- ---------------------------------------------------------------- from 0008_ticket_messages.sql
create trigger ticket_messages_immutable
before update on public.ticket_messages
for each row execute function private.refuse_update();
create trigger ticket_messages_stamp_first_response
after insert on public.ticket_messages
for each row execute function private.stamp_first_response();

-- ---------------------------------------------------------------- from 0009_attachments.sql
create trigger attachments_immutable
before update on public.attachments
for each row execute function private.refuse_update();

-- ---------------------------------------------------------------- from 0010_audit_log.sql
create trigger audit_log_append_only
before update on public.audit_log
for each row execute function private.refuse_update();
create trigger organizations_audit after insert or update or delete on public.organizations
for each row execute function private.audit_row_change();
create trigger profiles_audit after insert or update or delete on public.profiles
for each row execute function private.audit_row_change();
create trigger agent_assignments_audit after insert or update or delete on public.agent_assignments
for each row execute function private.audit_row_change();
create trigger tickets_audit after insert or update or delete on public.tickets
for each row execute function private.audit_row_change();
create trigger ticket_messages_audit after insert or update or delete on public.ticket_messages
for each row execute function private.audit_row_change();
create trigger attachments_audit after insert or update or delete on public.attachments
for each row execute function private.audit_row_change();

-- ---------------------------------------------------------------- from 0011_dsr_requests.sql
create trigger dsr_requests_set_updated_at
before update on public.dsr_requests
for each row execute function private.set_updated_at();
create trigger dsr_requests_audit after insert or update or delete on public.dsr_requests
for each row execute function private.audit_row_change();

-- ---------------------------------------------------------------- from 0101_dsr_tracking.sql
create trigger dsr_requests_set_due_dates
before insert or update of received_at on public.dsr_requests
for each row execute function private.dsr_set_due_dates();
create trigger dsr_events_audit after insert or update or delete on private.dsr_events
for each row execute function private.audit_row_change();
create trigger processing_objections_audit after insert or update or delete on private.processing_objections
for each row execute function private.audit_row_change();

-- ---------------------------------------------------------------- from 0102_dsr_restriction.sql
create trigger profiles_restriction_guard
before update or delete on public.profiles
for each row execute function private.guard_restricted_profile();
create trigger tickets_restriction_guard
before insert or update or delete on public.tickets
for each row execute function private.guard_restricted_ticket();
create trigger ticket_messages_restriction_guard
before insert or delete on public.ticket_messages
for each row execute function private.guard_restricted_ticket_content('author_id');
create trigger attachments_restriction_guard
before insert or delete on public.attachments
for each row execute function private.guard_restricted_ticket_content('uploaded_by');

-- ---------------------------------------------------------------- from 0200_notification_outbox.sql
create trigger tickets_notify_created
after insert on public.tickets
for each row execute function private.notify_ticket_created();
create trigger tickets_notify_status
after update of status on public.tickets
for each row execute function private.notify_ticket_status();
create trigger ticket_messages_notify_reply
after insert on public.ticket_messages
for each row execute function private.notify_agent_reply();

-- ---------------------------------------------------------------- from 0201_ticket_sla_clock.sql
create trigger tickets_track_sla_pause
after insert or update of status on public.tickets
for each row execute function private.track_sla_pause();
create trigger ticket_messages_track_awaiting_reply
after insert on public.ticket_messages
for each row execute function private.track_awaiting_reply();
create policy ticket_sla_clocks_staff_need_mfa on private.ticket_sla_clocks
as restrictive
for all
to authenticated
using (not (select private.is_staff()) or (select private.has_mfa()))
with check (not (select private.is_staff()) or (select private.has_mfa()));

-- ---------------------------------------------------------------- from 0270_storage_deletion_queue.sql
create trigger attachments_queue_storage_deletion
after delete on public.attachments
for each row execute function private.queue_deleted_attachment_object();

-- ---------------------------------------------------------------- from 0280_invitations.sql
create trigger invitations_prepare
before insert on private.invitations
for each row execute function private.prepare_invitation();
create trigger invitations_refuse_existing_account
after insert on private.invitations
for each row execute function private.refuse_invitation_of_account();
create trigger invitations_audit after insert or update or delete on private.invitations
for each row execute function private.audit_row_change();
create trigger users_claim_invitation
before insert or update of raw_user_meta_data on auth.users
for each row execute function private.claim_invitation();
create trigger users_create_invited_profile
after insert on auth.users
for each row execute function private.create_invited_profile();

-- ---------------------------------------------------------------- from 0330_client_reply_semantics.sql
create trigger tickets_check_follow_up
after insert on public.tickets
for each row execute function private.check_follow_up();
create trigger ticket_messages_refuse_client_on_closed
after insert on public.ticket_messages
for each row execute function private.refuse_client_message_on_closed();
create trigger ticket_messages_apply_client_reply
after insert on public.ticket_messages
for each row execute function private.apply_client_reply();
