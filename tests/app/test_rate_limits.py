"""Attempt limits kept in PostgreSQL (app/rate_limits.py, db/schema/0373): per account every attempt counts,
per client address only failures do, concurrent attempts never slip past a limit, keys are stored as keyed
hashes, the tables are reachable only through the definer functions, and expired buckets are purged (by later
attempts and by the retention job)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from portal_testkit import SECRET

from app.database import Database
from app.rate_limits import Attempt, RateLimits, Scope
from app.settings import Settings
from compliance import retention

OFFICE = "203.0.113.7"


@pytest.fixture
def portal_database(portal_settings: Settings) -> Iterator[Database]:
    database = Database(portal_settings.database_url, min_size=1, max_size=4)
    database.open()
    yield database
    database.close()


@pytest.fixture
def limits(portal_database: Database) -> RateLimits:
    """As the portal uses them: over the portal's own login (nexk_portal, as anon), with the session secret."""
    return RateLimits(portal_database, SECRET)


def _age(db: psycopg.Connection, by: timedelta) -> None:
    """Move every recorded attempt `by` into the past (the owner's view; the clock itself is not faked)."""
    db.execute(
        """update private.rate_limit_buckets
           set hits = array(select h - %(by)s from unnest(hits) as h), expires_at = expires_at - %(by)s""",
        {"by": by},
    )


def _rule(db: psycopg.Connection, scope: str) -> tuple[int, timedelta]:
    row = db.execute(
        "select max_attempts, period from private.rate_limit_rules where scope = %s", (scope,)
    ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_the_limits_are_those_the_portal_documents(db: psycopg.Connection) -> None:
    """The same limits as the in-process limiter had (docs/portal.md): 5 per account, 20 failures per address,
    every 5 minutes; the invitations an inviter sends are limited too."""
    five_minutes = timedelta(minutes=5)
    assert _rule(db, "client_ip") == (20, five_minutes)
    for scope in ("sign_in", "totp", "password_reset_request", "password_reset", "invitation_acceptance"):
        assert _rule(db, scope) == (5, five_minutes), scope
    assert _rule(db, "invitation_sending") == (30, timedelta(hours=1))
    assert {str(s) for s in Scope} | {"client_ip"} == {
        r[0] for r in db.execute("select scope from private.rate_limit_rules")
    }


def test_an_account_counts_every_attempt_whatever_the_address(limits: RateLimits) -> None:
    attempts = [
        limits.attempt(Scope.SIGN_IN, account="victim@example.test", client_ip=f"198.51.100.{n}")
        for n in range(6)
    ]
    assert [a.admitted for a in attempts] == [True] * 5 + [False]
    assert 0 < (attempts[5].retry_after or 0) <= 300
    assert attempts[5].minutes_to_wait == 5
    # Another account from the same addresses is not affected, nor the same address in another scope.
    assert limits.attempt(Scope.SIGN_IN, account="other@example.test", client_ip="198.51.100.0").admitted
    assert limits.attempt(Scope.TOTP, account="victim@example.test", client_ip="198.51.100.0").admitted


def test_an_account_address_is_one_account_whatever_its_case_or_spaces(limits: RateLimits) -> None:
    for spelling in (
        "Victim@Example.test",
        " victim@example.test",
        "VICTIM@EXAMPLE.TEST ",
        "victim@example.test",
    ):
        assert limits.attempt(Scope.SIGN_IN, account=spelling, client_ip=None).admitted
    assert limits.attempt(Scope.SIGN_IN, account="victim@example.test", client_ip=None).admitted
    assert not limits.attempt(Scope.SIGN_IN, account="vIctim@example.test", client_ip=None).admitted


def test_a_success_starts_the_account_afresh(limits: RateLimits) -> None:
    for _ in range(4):
        assert limits.attempt(Scope.SIGN_IN, account="member@example.test", client_ip=OFFICE).admitted
    fifth = limits.attempt(Scope.SIGN_IN, account="member@example.test", client_ip=OFFICE)
    assert fifth.admitted
    limits.succeeded(fifth)
    again = [limits.attempt(Scope.SIGN_IN, account="member@example.test", client_ip=OFFICE) for _ in range(6)]
    assert [a.admitted for a in again] == [True] * 5 + [False]


def test_an_address_counts_failures_only(limits: RateLimits) -> None:
    """Invariant: successes give their slot back, so 30 good sign-ins from one office address all pass; 20
    failures from it (one per account, so no account limit applies) lock it, even for a fresh account."""
    for n in range(30):
        attempt = limits.attempt(Scope.SIGN_IN, account=f"colleague{n}@example.test", client_ip=OFFICE)
        assert attempt.admitted, n
        limits.succeeded(attempt)
    failures = [
        limits.attempt(Scope.SIGN_IN, account=f"guess{n}@example.test", client_ip=OFFICE) for n in range(20)
    ]
    assert all(a.admitted for a in failures)
    locked = limits.attempt(Scope.SIGN_IN, account="fresh@example.test", client_ip=OFFICE)
    assert not locked.admitted and 0 < (locked.retry_after or 0) <= 300
    # Failures of every scope share the address: a TOTP code and a reset link are refused from it too.
    assert not limits.attempt(Scope.TOTP, account="some-user-id", client_ip=OFFICE).admitted
    assert not limits.attempt(Scope.INVITATION_ACCEPTANCE, account=None, client_ip=OFFICE).admitted
    # Another address is not affected.
    assert limits.attempt(Scope.SIGN_IN, account="fresh@example.test", client_ip="203.0.113.8").admitted


def test_an_attempt_refused_for_its_account_is_no_failure_of_its_address(limits: RateLimits) -> None:
    for _ in range(5):
        assert limits.attempt(Scope.SIGN_IN, account="target@example.test", client_ip=OFFICE).admitted
    refused = [
        limits.attempt(Scope.SIGN_IN, account="target@example.test", client_ip=OFFICE) for _ in range(30)
    ]
    assert not any(a.admitted for a in refused)
    # 5 failures on the address so far: 15 more are admitted, then it locks.
    more = [
        limits.attempt(Scope.SIGN_IN, account=f"other{n}@example.test", client_ip=OFFICE) for n in range(16)
    ]
    assert [a.admitted for a in more] == [True] * 15 + [False]


def test_an_attempt_is_admitted_again_once_its_window_has_passed(
    limits: RateLimits, db: psycopg.Connection
) -> None:
    for _ in range(5):
        limits.attempt(Scope.TOTP, account="user-1", client_ip=OFFICE)
    assert not limits.attempt(Scope.TOTP, account="user-1", client_ip=OFFICE).admitted
    _age(db, timedelta(minutes=4))
    assert not limits.attempt(Scope.TOTP, account="user-1", client_ip=OFFICE).admitted
    _age(db, timedelta(minutes=1, seconds=1))
    assert limits.attempt(Scope.TOTP, account="user-1", client_ip=OFFICE).admitted


def test_keys_are_stored_as_keyed_hashes_never_as_addresses(
    limits: RateLimits, portal_database: Database, db: psycopg.Connection
) -> None:
    limits.attempt(Scope.SIGN_IN, account="person@example.test", client_ip=OFFICE)
    rows = db.execute("select scope, key_hash from private.rate_limit_buckets order by scope").fetchall()
    assert [r[0] for r in rows] == ["client_ip", "sign_in"]
    stored = {bytes(r[1]) for r in rows}
    assert all(len(k) == 32 for k in stored)
    # Not a plain hash of the address or the e-mail (those could be reversed by trying every address) ...
    plain = {hashlib.sha256(v.encode()).digest() for v in (OFFICE, "person@example.test")}
    assert not stored & plain
    # ... and not the same key under another secret: only the portal that holds the secret can name a bucket.
    other = RateLimits(portal_database, "another-secret-" + "y" * 40)
    assert other.key("client_ip", OFFICE) not in stored and limits.key("client_ip", OFFICE) in stored
    dump = repr(db.execute("select * from private.rate_limit_buckets").fetchall())
    assert OFFICE not in dump and "person@example.test" not in dump


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_the_api_roles_reach_the_tables_only_through_the_definer_functions(
    db: psycopg.Connection, role: str
) -> None:
    for statement in (
        "select * from private.rate_limit_buckets",
        "delete from private.rate_limit_buckets",
        "insert into private.rate_limit_buckets values ('sign_in', sha256('x'), '{}', now())",
        "select * from private.rate_limit_rules",
        "update private.rate_limit_rules set max_attempts = 1000",
        "select private.rate_limit_take('sign_in', sha256('x'), 1000, '1 second', now())",
        "select private.purge_expired_rate_limits()",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction():
            db.execute(f"set local role {role}")
            db.execute(statement)


def test_anon_executes_no_limit_function(db: psycopg.Connection) -> None:
    """The portal never counts as anon: anon executes nothing in `private` (README §6, db/functions/rate_limits.sql)."""
    for call in (
        "select * from private.rate_limit_attempt('sign_in', sha256('x'), null)",
        "select private.rate_limit_succeeded('sign_in', sha256('x'), null, null)",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction():
            db.execute("set local role anon")
            db.execute(call)


def test_an_unknown_scope_or_an_attempt_without_keys_is_refused_with_a_clear_error(
    db: psycopg.Connection,
) -> None:
    for call, message in (
        ("select * from private.rate_limit_attempt('guess', sha256('x'), null)", "no scope named guess"),
        ("select * from private.rate_limit_attempt('client_ip', sha256('x'), null)", "not its scope"),
        ("select * from private.rate_limit_attempt('sign_in', null, null)", "needs an account or a client"),
        ("select * from private.rate_limit_attempt('sign_in', 'short'::bytea, null)", "key_hash_check"),
    ):
        with pytest.raises(psycopg.Error, match=message), db.transaction():
            db.execute("set local role authenticated")  # as the portal calls it: no sub
            db.execute(call)


def _hammer(url: str, threads: int, account: bytes | None, client_ip: bytes | None) -> list[bool]:
    """`threads` attempts at once, each on its own connection as the portal makes them (authenticated, no
    sub), released together by a barrier."""
    barrier = threading.Barrier(threads)
    admitted: list[bool] = []
    lock = threading.Lock()

    def one() -> None:
        with psycopg.connect(url) as conn:
            conn.execute("set role authenticated")
            barrier.wait()
            row = conn.execute(
                "select admitted from private.rate_limit_attempt('sign_in', %s, %s)", (account, client_ip)
            ).fetchone()
            conn.commit()
        with lock:
            admitted.append(bool(row and row[0]))

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return admitted


def test_concurrent_attempts_on_one_account_admit_exactly_the_limit(
    portal_settings: Settings, limits: RateLimits
) -> None:
    """Invariant: however many attempts race for one account, exactly max_attempts are admitted."""
    admitted = _hammer(portal_settings.database_url, 24, limits.key("sign_in", "victim@example.test"), None)
    assert (len(admitted), admitted.count(True)) == (24, 5)


def test_concurrent_failures_from_one_address_admit_exactly_the_limit(
    portal_settings: Settings, limits: RateLimits
) -> None:
    """Invariant: however many attempts race from one address, exactly 20 hold a slot (none succeeded)."""
    admitted = _hammer(portal_settings.database_url, 32, None, limits.key("client_ip", OFFICE))
    assert (len(admitted), admitted.count(True)) == (32, 20)


def _bucket_count(db: psycopg.Connection) -> int:
    row = db.execute("select count(*) from private.rate_limit_buckets").fetchone()
    assert row is not None
    return row[0]


def test_later_attempts_purge_expired_buckets(limits: RateLimits, db: psycopg.Connection) -> None:
    for n in range(10):
        limits.attempt(Scope.SIGN_IN, account=f"old{n}@example.test", client_ip=f"198.51.100.{n}")
    assert _bucket_count(db) == 20
    _age(db, timedelta(minutes=5, seconds=1))  # every window has ended
    limits.attempt(Scope.SIGN_IN, account="new@example.test", client_ip=OFFICE)
    assert _bucket_count(db) == 2  # the new attempt's own two buckets, nothing expired


def test_the_retention_job_purges_expired_buckets_and_keeps_live_ones(
    limits: RateLimits, db: psycopg.Connection, database: str
) -> None:
    for n in range(3):
        limits.attempt(Scope.SIGN_IN, account=f"old{n}@example.test", client_ip=OFFICE)
    _age(db, timedelta(minutes=6))
    db.execute(  # a live bucket, written as an attempt would (no purge runs: the owner writes it directly)
        "insert into private.rate_limit_buckets values ('totp', sha256('live'), array[now()], now() + '5 min')"
    )
    step = "technical_logs: private.rate_limit_buckets"
    dry = retention.run(database, dry_run=True)
    assert dry.counts[step] == 4 and _bucket_count(db) == 5  # 3 accounts and the address; nothing deleted
    assert retention.run(database).counts[step] == 4
    assert db.execute("select scope from private.rate_limit_buckets").fetchall() == [("totp",)]
    # Time travel: the live one goes once its window has ended.
    later = datetime.now(UTC) + timedelta(minutes=10)
    assert retention.run(database, now=later).counts[step] == 1 and _bucket_count(db) == 0


def test_a_refused_attempt_says_how_long_to_wait_in_whole_minutes() -> None:
    def refused(seconds: int) -> Attempt:
        return Attempt(Scope.SIGN_IN, None, None, None, seconds)

    assert [refused(s).minutes_to_wait for s in (1, 59, 60, 61, 299, 300)] == [1, 1, 1, 2, 5, 5]
