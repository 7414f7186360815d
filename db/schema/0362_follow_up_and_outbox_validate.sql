-- nexk: no-transaction
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
create index concurrently if not exists tickets_follow_up_of_idx on public.tickets (follow_up_of, organization_id);
