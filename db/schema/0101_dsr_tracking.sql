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

create or replace function private.dsr_set_due_dates() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.legal_due_at := ((new.received_at at time zone 'Europe/Brussels') + interval '1 month')
        at time zone 'Europe/Brussels';
    new.internal_due_at := ((new.received_at at time zone 'Europe/Brussels') + interval '30 days')
        at time zone 'Europe/Brussels';
    -- An explicit due date (an extension, or an admin's choice) is kept; 0011's check caps it.
    if new.due_at is null or (tg_op = 'UPDATE' and new.due_at is not distinct from old.due_at) then
        new.due_at := least(new.legal_due_at, new.internal_due_at);
    end if;
    return new;
end
$$;

revoke all on function private.dsr_set_due_dates() from public;

-- The working due date now comes from the trigger (0011's default of now() + 30 days ignored the receipt
-- date and the calendar month); NOT NULL still holds, since BEFORE triggers run before the check.
alter table public.dsr_requests alter column due_at drop default;

create trigger dsr_requests_set_due_dates
before insert or update of received_at on public.dsr_requests
for each row execute function private.dsr_set_due_dates();

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

create trigger dsr_events_audit after insert or update or delete on private.dsr_events
for each row execute function private.audit_row_change();

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

create trigger processing_objections_audit after insert or update or delete on private.processing_objections
for each row execute function private.audit_row_change();

revoke all on private.dsr_events, private.processing_objections from public, anon, authenticated;
