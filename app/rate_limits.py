"""Attempt limits that hold across every portal instance: the counters live in PostgreSQL (db/schema/0373).

On Vercel each function instance is its own process, so counters in memory let an attacker spread guesses
over instances. Here every attempt is one call of `private.rate_limit_attempt`, which decides atomically in
the database that every instance shares; the rules (how many attempts in which window) are the database's
(`private.rate_limit_rules`), the same as the in-process limiter had:

- per account, every attempt: 5 sign-ins, 5 TOTP codes, 5 reset requests per address, 5 passwords per reset
  or invitation link, every 5 minutes; a success starts afresh. 30 invitations sent per inviter an hour.
- per client address, failures only: 20 every 5 minutes. An attempt holds a slot until it succeeds, so a
  whole office signing in from one address at 9:00 is never locked out, while guessing across accounts from
  one address (made of failures) is, and concurrent guesses cannot slip past the limit.

Keys are personal data (e-mail addresses, client IPs, invitation tokens): the database stores only a keyed
HMAC-SHA256 of each. The key is derived from the portal's session secret and never reaches the database, so
a copy of the table reveals no address (a plain SHA-256 of an IPv4 address is reversed by trying all 2^32),
and SQL access alone cannot aim a lockout at a chosen person: without the key it cannot name their bucket.
The scope is part of the hashed text, so one person's buckets in different scopes cannot be linked.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.database import Database


class Scope(StrEnum):
    """What is being attempted (a row of private.rate_limit_rules), and so which account bucket counts it."""

    SIGN_IN = "sign_in"
    TOTP = "totp"
    RESET_REQUEST = "password_reset_request"
    RESET_LINK = "password_reset"
    INVITATION_ACCEPTANCE = "invitation_acceptance"
    INVITATION_SENDING = "invitation_sending"


@dataclass(frozen=True)
class Attempt:
    """The database's decision about one attempt. Admitted: `retry_after` is None and `at` names the
    attempt's slot (given back on success); refused: `retry_after` is the seconds to wait (Retry-After)."""

    scope: Scope
    account_key: bytes | None
    client_ip_key: bytes | None
    at: datetime | None
    retry_after: int | None

    @property
    def admitted(self) -> bool:
        return self.retry_after is None

    @property
    def minutes_to_wait(self) -> int:
        """What the person is told: whole minutes, rounded up (a refused attempt always waits at least one)."""
        return max(1, -(-(self.retry_after or 0) // 60))


# The transaction the limits run in: `authenticated` without a `sub`. The counting is the portal's own
# bookkeeping, for no user (most attempts come before any session), and `anon` executes no function of
# `private` (db/policies/README.md §6); the HMAC bucket names are what no other caller can produce.
_BOOKKEEPING: dict[str, str] = {"role": "authenticated"}


class RateLimits:
    """Ask before each attempt (`attempt`), and report a success (`succeeded`); a failure needs no call: the
    attempt's slot on the client address simply stays taken until its window ends."""

    def __init__(self, database: Database, secret: str) -> None:
        self._database = database
        # Domain separation: the session secret also signs tokens; this key only ever names buckets.
        self._key = hmac.new(secret.encode(), b"nexk rate-limit keys v1", hashlib.sha256).digest()

    def key(self, scope: str, value: str) -> bytes:
        """The bucket name of `value` (an e-mail address, user id, token or client IP) in `scope`."""
        # Case-folded because e-mail addresses are case-insensitive; for a token it can only merge two buckets
        # (stricter), never split one.
        normalised = value.strip().lower()
        return hmac.new(self._key, f"{scope}\x00{normalised}".encode(), hashlib.sha256).digest()

    def attempt(self, scope: Scope, *, account: str | None, client_ip: str | None) -> Attempt:
        """Count one attempt against `account` in `scope` (every attempt) and `client_ip` (until it succeeds);
        either limit reached, nothing is counted and the attempt is refused. `client_ip` None: not counted
        against an address (e.g. an invitation sent by a signed-in admin); "" (no address known) is one
        address like any other."""
        account_key = None if account is None else self.key(scope, account)
        ip_key = None if client_ip is None else self.key("client_ip", client_ip)
        with self._database.rls_transaction(_BOOKKEEPING) as conn:
            row = conn.execute(
                "select admitted, retry_after_seconds, attempt_at from private.rate_limit_attempt(%s, %s, %s)",
                (str(scope), account_key, ip_key),
            ).fetchone()
        if row is None:  # the function always answers one row: anything else is a broken database
            raise RuntimeError("private.rate_limit_attempt answered no row (db/schema/0373 not applied?)")
        return Attempt(
            scope=scope,
            account_key=account_key,
            client_ip_key=ip_key,
            at=row["attempt_at"],
            retry_after=None if row["admitted"] else int(row["retry_after_seconds"]),
        )

    def succeeded(self, attempt: Attempt) -> None:
        """The attempt proved itself (right password, code or link): the address gets its slot back and the
        account starts afresh."""
        if not attempt.admitted:
            return
        with self._database.rls_transaction(_BOOKKEEPING) as conn:
            conn.execute(
                "select private.rate_limit_succeeded(%s, %s, %s, %s)",
                (str(attempt.scope), attempt.account_key, attempt.client_ip_key, attempt.at),
            )
