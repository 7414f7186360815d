-- 0373: sign-in, TOTP, password-reset and invitation limits kept in the database (the functions that decide
-- each attempt: db/functions/rate_limits.sql).
--
-- Why: the portal counted attempts in each process (app/security.py's RateLimiter). On Vercel every function
-- instance counted alone, so an attacker spreading guesses over instances met no limit at all. The counters
-- now live here, shared by every instance, and each attempt is decided by the database in one call.
--
-- Model (the same limits as before, db/policies/README.md §6 "Attempt limits"):
--   - private.rate_limit_rules: per scope, how many attempts a key may make within a sliding window, and
--     whether every attempt counts (an account, a token, an inviter) or only failures (a client address).
--   - private.rate_limit_buckets: one row per (scope, key) holding the times of its attempts still inside the
--     window (at most max_attempts of them: the exact sliding window the in-process limiter had).
--   - An attempt takes a slot on the client address's bucket first (a failure until proven otherwise), then on
--     the account's bucket; either refused, nothing is recorded and the caller learns how long to wait. Each
--     take is one `insert ... on conflict do update ... where <room left>`: the row lock it takes makes
--     concurrent attempts on one key queue up and re-read the row, so no two attempts can both take the last
--     slot (READ COMMITTED re-evaluates the conflicting row's latest version). Buckets are always locked in the
--     same order (address, then account) so two attempts never deadlock.
--   - A success gives the address its slot back and clears the account's bucket: 30 colleagues signing in from
--     one office address all get in, while 20 failures from one address lock it for the window.
-- Keys are personal data (an e-mail address, a client IP, an invitation token): the portal stores only a keyed
-- HMAC-SHA256 of each (the key is derived from the portal's session secret and never reaches the database),
-- so neither a copy of this table nor SQL access can recover an address (an IPv4 address is one of 2^32:
-- a plain hash would be reversed in minutes) or aim a lockout at a chosen person (app/rate_limits.py).
-- Expired rows: each attempt purges a few (skip locked, after its own rows, so it never waits), and
-- private.purge_expired_rate_limits() runs with the retention job (`nexk retention run`) and every quarter
-- of an hour with pg_cron;
-- a row lives at most its window (minutes), far within the 90 days of technical logs (compliance/).

create table private.rate_limit_rules (
    scope text primary key check (scope ~ '^[a-z][a-z_]*$'),
    max_attempts integer not null check (max_attempts between 1 and 1000),
    period interval not null check (period > interval '0 seconds' and period <= interval '1 day'),
    counts text not null check (counts in ('every attempt', 'failures')),
    description text not null
);

comment on table private.rate_limit_rules is
'Attempt limits per scope (db/schema/0373): max_attempts within a sliding window of period.';

insert into private.rate_limit_rules (scope, max_attempts, period, counts, description) values
(
    'client_ip', 20, interval '5 minutes', 'failures',
    'Failed sign-ins, TOTP codes, reset and invitation links, and reset requests from one client address.'
),
('sign_in', 5, interval '5 minutes', 'every attempt', 'Password sign-ins to one account (e-mail address).'),
('totp', 5, interval '5 minutes', 'every attempt', 'TOTP codes tried for one account (user id).'),
(
    'password_reset_request', 5, interval '5 minutes', 'every attempt',
    'Password-reset e-mails requested for one address.'
),
('password_reset', 5, interval '5 minutes', 'every attempt', 'New passwords submitted with one reset link.'),
(
    'invitation_acceptance', 5, interval '5 minutes', 'every attempt',
    'Passwords submitted with one invitation link.'
),
(
    'invitation_sending', 30, interval '1 hour', 'every attempt',
    'Invitations sent or sent again by one inviter: keeps one account under a third of the auth service''s '
    || 'hourly e-mail budget (infra settings, rate_limit_email_sent 100 an hour), which sign-in mails share.'
);

create table private.rate_limit_buckets (
    scope text not null,
    key_hash bytea not null check (octet_length(key_hash) = 32),
    hits timestamptz[] not null,
    expires_at timestamptz not null,
    primary key (scope, key_hash)
);

comment on table private.rate_limit_buckets is
'Recent attempts per (scope, HMAC of the key), read and written only by private.rate_limit_* (0373).';

create index rate_limit_buckets_expires_at_idx on private.rate_limit_buckets (expires_at);

-- Privileges: the tables are the definers' alone (db/functions/rate_limits.sql holds the functions and who
-- may execute them).
alter table private.rate_limit_rules enable row level security;
alter table private.rate_limit_buckets enable row level security;
revoke all on private.rate_limit_rules, private.rate_limit_buckets from public, anon, authenticated;

-- The daily purge, only where pg_cron is available (as 0100 and 0280 schedule theirs).
do $cron$
begin
    if exists (select from pg_catalog.pg_available_extensions as e where e.name = 'pg_cron') then
        create extension if not exists pg_cron;
        perform cron.schedule('nexk-rate-limits-purge', '*/15 * * * *', 'select private.purge_expired_rate_limits()');
    end if;
end
$cron$;
