-- 0376: erased profiles are immutable for every role (db/policies/README.md §8b).
--
-- Why: a client admin could rename, reactivate (deactivated_at) or change the role of their organization's
-- "Erased person" placeholder (the requester and author of every erased person's tickets and messages) and
-- of any erased profile, putting a name and a live account back on erased people's content; admins could do
-- the same everywhere. The profiles UPDATE policy (db/policies/profiles.sql) now skips erased rows for API
-- callers; this trigger refuses every UPDATE and DELETE of an erased profile to everyone (service_role and
-- the owner included: BYPASSRLS does not skip triggers), except the erasure workflow, private.erase_person.
--
-- private.erasure_in_progress is how erase_person announces itself to the guard (private.guard_erased_profile,
-- db/functions/profiles.sql): one row per (transaction, subject), written and deleted inside erase_person's
-- own transaction, so no other transaction ever sees one. No privilege for any API role nor service_role, RLS
-- on without a policy: nobody but the owner's functions can write the marker. A GUC would not do (any role
-- sets any custom GUC), nor disabling the trigger (an ACCESS EXCLUSIVE lock on profiles, which every policy
-- reads, for the whole erasure).

create table private.erasure_in_progress (
    transaction_id xid8 not null default pg_current_xact_id(),
    subject_id uuid not null,
    primary key (transaction_id, subject_id)
);

comment on table private.erasure_in_progress is
'Transaction-local marker of private.erase_person: the one writer private.guard_erased_profile() lets '
'change an erased profile (db/schema/0376).';

alter table private.erasure_in_progress enable row level security;
revoke all on private.erasure_in_progress from public, anon, authenticated, service_role;

-- nexk: functions
create trigger profiles_erased_guard
before update or delete on public.profiles
for each row execute function private.guard_erased_profile();
