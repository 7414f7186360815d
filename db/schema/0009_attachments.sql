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

create trigger attachments_immutable
before update on public.attachments
for each row execute function private.refuse_update();

alter table public.attachments enable row level security;
alter table public.attachments force row level security;
revoke all on public.attachments from anon, authenticated;

-- The private bucket (never public: every read goes through the storage.objects policies). 25 MiB cap.
insert into storage.buckets (id, name, public, file_size_limit)
values ('attachments', 'attachments', false, 26214400)
on conflict (id) do nothing;
