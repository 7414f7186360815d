"""A migration that needs a lock on a busy table, applied while the portal serves requests on it.

The runner gives each file a lock_timeout (docs/migrations.md): a migration waiting for its ACCESS EXCLUSIVE
lock makes every later query on the table queue behind it, so the wait is capped, and the portal's requests
are held up for at most that long. Here a real uvicorn portal serves the JSON API to a client member in
several threads while a long transaction (a slow report) holds the tickets table; the migration gives up after
its tries, nothing of it is applied, and not one request fails or waits past the lock timeout. Once the long
transaction ends, the same migration goes through, still with every request answered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from portal_testkit import World, bearer
from test_e2e_browser import server_url  # noqa: F401 (the uvicorn fixture)

from db import migrate as runner
from db.migrate import POLICIES_DIR, SCHEMA_DIR, MigrationError, Timeouts

LOCK_TIMEOUT = 1.0  # seconds; production's default is 2 s
TIMEOUTS = Timeouts(lock=f"{int(LOCK_TIMEOUT * 1000)}ms", statement="60s", tries=2, backoff=(0.2,))
MIGRATION = "alter table public.tickets add column load_test_note text;\n"


@pytest.fixture
def schema_with_one_more_migration(tmp_path: Path) -> Path:
    """The project's migrations plus one that takes ACCESS EXCLUSIVE on public.tickets."""
    schema = tmp_path / "schema"
    schema.mkdir()
    for path in sorted(SCHEMA_DIR.glob("*.sql")):
        (schema / path.name).symlink_to(path)
    (schema / "9999_tickets_load_test_note.sql").write_text(
        "-- A column on the busiest table: needs ACCESS EXCLUSIVE for an instant.\n" + MIGRATION
    )
    return schema


class Load:
    """Client staff reading their ticket list and one ticket over HTTP, in threads, until stopped."""

    def __init__(self, base: str, headers: dict[str, str], ticket: str, threads: int = 4) -> None:
        self.base, self.headers, self.ticket = base, headers, ticket
        self.durations: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=30) as client:
            paths = ["/api/tickets", f"/api/tickets/{self.ticket}"]
            n = 0
            while not self._stop.is_set():
                path = paths[n % 2]
                n += 1
                started = time.monotonic()
                try:
                    status = client.get(path).status_code
                except httpx.HTTPError as exc:  # a dropped request is a finding
                    status, detail = 0, repr(exc)
                else:
                    detail = ""
                with self._lock:
                    self.durations.append(time.monotonic() - started)
                    if status != 200:
                        self.failures.append(f"GET {path}: {status} {detail}")

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        self.wait_for(len(self._threads))  # the portal is serving before the migration starts
        return self

    def wait_for(self, answered: int, timeout: float = 30) -> None:
        """Until `answered` more requests have been answered."""
        target, deadline = len(self.durations) + answered, time.monotonic() + timeout
        while len(self.durations) < target:
            assert time.monotonic() < deadline, "the portal stopped answering"
            time.sleep(0.01)

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


@pytest.fixture
def slow_report(database: str) -> Iterator[psycopg.Connection]:
    """A transaction that has read the tickets table and stays open: it holds ACCESS SHARE until it ends."""
    with psycopg.connect(database) as conn:
        conn.execute("select count(*) from public.tickets")
        yield conn
        conn.rollback()


def ticket_columns(database: str) -> list[str]:
    with psycopg.connect(database) as conn:
        rows = conn.execute(
            "select column_name from information_schema.columns"
            " where table_schema = 'public' and table_name = 'tickets'"
        ).fetchall()
    return [r[0] for r in rows]


def test_a_blocked_migration_gives_up_without_failing_or_stalling_the_portal(
    server_url: str,  # noqa: F811
    world: World,
    database: str,
    schema_with_one_more_migration: Path,
    slow_report: psycopg.Connection,
) -> None:
    headers = bearer(world.people["member_a"])
    with Load(server_url, headers, str(world.tickets["a1"])) as load:
        with pytest.raises(MigrationError) as refused:
            runner.migrate(
                database,
                schema_dir=schema_with_one_more_migration,
                policies_dir=POLICIES_DIR,
                timeouts=TIMEOUTS,
            )
        load.wait_for(4)  # requests after the runner gave up are served too
    assert "9999_tickets_load_test_note.sql" in str(refused.value)
    assert "load_test_note" not in ticket_columns(database)
    assert load.durations, "the portal answered no request during the test"
    assert not load.failures, load.failures[:5]
    # Requests queued behind the waiting migration, each for at most about one lock timeout.
    assert max(load.durations) < LOCK_TIMEOUT + 2.0, max(load.durations)
    assert max(load.durations) >= LOCK_TIMEOUT / 2, "no request was held up: the test saw no queue"


def test_the_same_migration_goes_through_once_the_long_transaction_ends(
    server_url: str,  # noqa: F811
    world: World,
    database: str,
    schema_with_one_more_migration: Path,
    slow_report: psycopg.Connection,
) -> None:
    headers = bearer(world.people["member_a"])

    def pause(_seconds: float) -> None:
        slow_report.rollback()  # the report ends while the runner waits between tries

    with Load(server_url, headers, str(world.tickets["a1"])) as load:
        plan = runner.migrate(
            database,
            schema_dir=schema_with_one_more_migration,
            policies_dir=POLICIES_DIR,
            timeouts=TIMEOUTS,
            sleep=pause,
        )
    assert [m.version for m in plan.pending_migrations] == ["9999"]
    assert "load_test_note" in ticket_columns(database)
    assert not load.failures, load.failures[:5]
    assert max(load.durations) < LOCK_TIMEOUT + 2.0, max(load.durations)
