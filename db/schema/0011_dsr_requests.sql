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

create trigger dsr_requests_set_updated_at
before update on public.dsr_requests
for each row execute function private.set_updated_at();

create trigger dsr_requests_audit after insert or update or delete on public.dsr_requests
for each row execute function private.audit_row_change();

alter table public.dsr_requests enable row level security;
alter table public.dsr_requests force row level security;
revoke all on public.dsr_requests from anon, authenticated;
