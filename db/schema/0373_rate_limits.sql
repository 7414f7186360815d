-- 0373: sign-in, TOTP, password-reset and invitation limits kept in the database (issue 13, finding 6).
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

-- One take on a bucket: null when admitted (the attempt's time recorded), else the seconds to wait.
-- Not a definer: it runs inside the definers below, as their owner, and nobody else may call it.
create function private.rate_limit_take(
    p_scope text, p_key bytea, p_max integer, p_period interval, p_now timestamptz
) returns integer
language plpgsql
set search_path = ''
as $$
declare
    v_wait integer;
begin
    insert into private.rate_limit_buckets as b (scope, key_hash, hits, expires_at)
    values (p_scope, p_key, array[p_now], p_now + p_period)
    on conflict (scope, key_hash) do update
        set
            hits = array(select h.at from unnest(b.hits) as h (at) where h.at > p_now - p_period) || p_now,
            expires_at = greatest(b.expires_at, p_now + p_period)
        where (select count(*) from unnest(b.hits) as h (at) where h.at > p_now - p_period) < p_max;
    if found then
        return null;
    end if;
    -- Refused: the statement above locked the row, so this reads the version that refused us.
    select greatest(1, ceil(extract(epoch from min(h.at) + p_period - p_now)))::integer into v_wait
    from private.rate_limit_buckets as b
    cross join lateral unnest(b.hits) as h (at)
    where b.scope = p_scope and b.key_hash = p_key and h.at > p_now - p_period;
    return coalesce(v_wait, 1);
end
$$;

-- Give one attempt's slot back (one occurrence of its time: two attempts may share a microsecond).
create function private.rate_limit_give_back(p_scope text, p_key bytea, p_at timestamptz) returns void
language sql
set search_path = ''
as $$
    update private.rate_limit_buckets as b
    set hits = b.hits[:pg_catalog.array_position(b.hits, p_at) - 1]
    || b.hits[pg_catalog.array_position(b.hits, p_at) + 1:]
    where b.scope = p_scope and b.key_hash = p_key and p_at = any(b.hits);
$$;

create function private.rate_limit_rule(p_scope text) returns private.rate_limit_rules
language plpgsql stable
set search_path = ''
as $$
declare
    v_rule private.rate_limit_rules;
begin
    select r.* into v_rule from private.rate_limit_rules as r where r.scope = p_scope;
    if not found then
        raise exception 'rate limits: no scope named %', p_scope
            using errcode = '22023', hint = 'Use a scope of private.rate_limit_rules (db/schema/0373).';
    end if;
    return v_rule;
end
$$;

-- One attempt: admitted (with its time, to hand back on success) or refused with the seconds to wait.
-- Executable by anon: sign-in, reset and invitation links are tried before anyone has a session.
create function private.rate_limit_attempt(p_scope text, p_account bytea, p_client_ip bytea)
returns table (admitted boolean, retry_after_seconds integer, attempt_at timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_now constant timestamptz := pg_catalog.clock_timestamp();
    v_rule private.rate_limit_rules;
    v_address private.rate_limit_rules := private.rate_limit_rule('client_ip');
    v_wait integer;
begin
    if p_scope = 'client_ip' then
        raise exception 'rate limits: client_ip is the address of an attempt, not its scope'
            using errcode = '22023';
    end if;
    v_rule := private.rate_limit_rule(p_scope);
    if p_account is null and p_client_ip is null then
        raise exception 'rate limits: an attempt needs an account or a client address' using errcode = '22023';
    end if;
    if p_client_ip is not null then
        v_wait := private.rate_limit_take('client_ip', p_client_ip, v_address.max_attempts, v_address.period, v_now);
        if v_wait is not null then
            return query select false, v_wait, null::timestamptz;
            return;
        end if;
    end if;
    if p_account is not null then
        v_wait := private.rate_limit_take(p_scope, p_account, v_rule.max_attempts, v_rule.period, v_now);
        if v_wait is not null then
            -- Refused for the account: not a failure of the address (it never reached the password check).
            if p_client_ip is not null then
                perform private.rate_limit_give_back('client_ip', p_client_ip, v_now);
            end if;
            return query select false, v_wait, null::timestamptz;
            return;
        end if;
    end if;
    -- Opportunistic purge, last (this call's rows are locked already) and skip locked (it never waits).
    delete from private.rate_limit_buckets as b
    where b.ctid = any(array(
        select e.ctid from private.rate_limit_buckets as e
        where e.expires_at < v_now
        limit 20
        for update skip locked
    ));
    return query select true, null::integer, v_now;
end
$$;

-- A success: the address gets the attempt's slot back (only failures count against it) and the account
-- starts afresh. Executable by anon too: a valid invitation link proves itself before anyone has a session.
-- Only the portal can name a bucket (the HMAC key is its own), so no other caller can empty someone's.
create function private.rate_limit_succeeded(
    p_scope text, p_account bytea, p_client_ip bytea, p_attempt_at timestamptz
) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.rate_limit_rule(p_scope);
    -- The address first, as in rate_limit_attempt: the same lock order, so the two never deadlock.
    if p_client_ip is not null and p_attempt_at is not null then
        perform private.rate_limit_give_back('client_ip', p_client_ip, p_attempt_at);
    end if;
    if p_account is not null and p_scope <> 'client_ip' then
        delete from private.rate_limit_buckets as b where b.scope = p_scope and b.key_hash = p_account;
    end if;
end
$$;

-- The retention job's purge: buckets whose window has ended. `now` allows time travel, like run_retention.
create function private.purge_expired_rate_limits(
    now timestamptz default now(), dry_run boolean default false
) returns bigint
language plpgsql
set search_path = ''
as $$
declare
    v_n bigint;
begin
    if dry_run then
        select count(*) into v_n from private.rate_limit_buckets as b where b.expires_at < purge_expired_rate_limits.now;
    else
        delete from private.rate_limit_buckets as b where b.expires_at < purge_expired_rate_limits.now;
        get diagnostics v_n = row_count;
    end if;
    return v_n;
end
$$;

comment on function private.rate_limit_attempt(text, bytea, bytea) is
'One attempt against the limits of its scope and client address (db/policies/README.md §6, 0373).';
comment on function private.rate_limit_succeeded(text, bytea, bytea, timestamptz) is
'A successful attempt: the address gets its slot back, the account starts afresh (0373).';
comment on function private.purge_expired_rate_limits(timestamptz, boolean) is
'Deletes rate-limit buckets whose window has ended; dry_run only counts them (0373).';

-- Privileges: the tables are the definers' alone; anon needs USAGE on `private` for the two functions it may
-- call (every other function there is revoked from public, anon and authenticated: db/tests checks it).
alter table private.rate_limit_rules enable row level security;
alter table private.rate_limit_buckets enable row level security;
revoke all on private.rate_limit_rules, private.rate_limit_buckets from public, anon, authenticated;
revoke all on function
private.rate_limit_take(text, bytea, integer, interval, timestamptz),
private.rate_limit_give_back(text, bytea, timestamptz),
private.rate_limit_rule(text),
private.rate_limit_attempt(text, bytea, bytea),
private.rate_limit_succeeded(text, bytea, bytea, timestamptz),
private.purge_expired_rate_limits(timestamptz, boolean)
from public, anon, authenticated;
grant usage on schema private to anon;
grant execute on function private.rate_limit_attempt(text, bytea, bytea) to anon, authenticated;
grant execute on function private.rate_limit_succeeded(text, bytea, bytea, timestamptz) to anon, authenticated;

-- The daily purge, only where pg_cron is available (as 0100 and 0280 schedule theirs).
do $cron$
begin
    if exists (select from pg_catalog.pg_available_extensions as e where e.name = 'pg_cron') then
        create extension if not exists pg_cron;
        perform cron.schedule('nexk-rate-limits-purge', '*/15 * * * *', 'select private.purge_expired_rate_limits()');
    end if;
end
$cron$;
