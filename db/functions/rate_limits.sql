-- Attempt limits: sign-in, TOTP, password-reset and invitation attempts decided in one call each, shared by every
-- portal instance (the tables and the model: db/schema/0373_rate_limits.sql, db/policies/README.md §6).

-- One take on a bucket: null when admitted (the attempt's time recorded), else the seconds to wait.
-- Not a definer: it runs inside the definers below, as their owner, and nobody else may call it.
create or replace function private.rate_limit_take(
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
create or replace function private.rate_limit_give_back(p_scope text, p_key bytea, p_at timestamptz) returns void
language sql
set search_path = ''
as $$
    update private.rate_limit_buckets as b
    set hits = b.hits[:pg_catalog.array_position(b.hits, p_at) - 1]
    || b.hits[pg_catalog.array_position(b.hits, p_at) + 1:]
    where b.scope = p_scope and b.key_hash = p_key and p_at = any(b.hits);
$$;

-- The rule of one scope. Its result is two OUT columns rather than the table's row type: this file is applied
-- on a new database before db/schema/0373 creates the table, and a signature may only name types that exist
-- (a plpgsql body is resolved when it first runs).
create or replace function private.rate_limit_rule(
    p_scope text, out max_attempts integer, out period interval
)
language plpgsql stable
set search_path = ''
as $$
begin
    select r.max_attempts, r.period into max_attempts, period
    from private.rate_limit_rules as r where r.scope = p_scope;
    if not found then
        raise exception 'rate limits: no scope named %', p_scope
            using errcode = '22023', hint = 'Use a scope of private.rate_limit_rules (db/schema/0373).';
    end if;
end
$$;

-- One attempt: admitted (with its time, to hand back on success) or refused with the seconds to wait.
-- Executable by anon: sign-in, reset and invitation links are tried before anyone has a session.
create or replace function private.rate_limit_attempt(p_scope text, p_account bytea, p_client_ip bytea)
returns table (admitted boolean, retry_after_seconds integer, attempt_at timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_now constant timestamptz := pg_catalog.clock_timestamp();
    v_rule record;
    v_address record := private.rate_limit_rule('client_ip');
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
create or replace function private.rate_limit_succeeded(
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
create or replace function private.purge_expired_rate_limits(
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

-- Only the portal's `authenticated` transactions may decide attempts (it calls them without a `sub`, before
-- any session: app/rate_limits.py); `anon` executes nothing in `private`. The HMAC bucket names are the
-- functions' real caller check.
revoke all on function
private.rate_limit_take(text, bytea, integer, interval, timestamptz),
private.rate_limit_give_back(text, bytea, timestamptz),
private.rate_limit_rule(text),
private.rate_limit_attempt(text, bytea, bytea),
private.rate_limit_succeeded(text, bytea, bytea, timestamptz),
private.purge_expired_rate_limits(timestamptz, boolean)
from public, anon, authenticated;
grant execute on function private.rate_limit_attempt(text, bytea, bytea) to authenticated;
grant execute on function private.rate_limit_succeeded(text, bytea, bytea, timestamptz) to authenticated;
