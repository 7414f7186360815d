-- 0374: the attempt-limit definers of 0373 are executable by `authenticated` only, like every other definer.
--
-- Why: 0373 let `anon` execute private.rate_limit_attempt and private.rate_limit_succeeded (and gave it USAGE
-- on `private`), because attempts come before any session. That broke an invariant the project states and
-- tests (db/policies/README.md §6, db/tests/test_schema.py, db/tests/test_attacks.py): `anon` executes no
-- function of `private` and has no business there at all. The portal now calls the limits in a transaction as
-- `authenticated` without a `sub` (its own bookkeeping, for no user: app/rate_limits.py); the HMAC bucket names
-- remain the functions' real caller check. The portal's login is a member of `authenticated` everywhere.
revoke execute on function
private.rate_limit_attempt(text, bytea, bytea),
private.rate_limit_succeeded(text, bytea, bytea, timestamptz)
from anon;
revoke usage on schema private from anon;
