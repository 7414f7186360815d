"""The runner on a live database: every file runs with lock_timeout and statement_timeout, a lock timeout is
tried again after a pause, and while a migration waits for its lock no other query waits longer than the
lock timeout (docs/migrations.md)."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from db import migrate as runner
from db.migrate import MigrationError, Timeouts

LOCK_TIMEOUT = 0.5  # seconds: short, so the test is quick; production's default is 2 s
FAST = Timeouts(lock=f"{int(LOCK_TIMEOUT * 1000)}ms", statement="30s", tries=3, backoff=(0.2,))


def migrate(url: str, schema: Path, policies: Path, **kwargs: object) -> runner.Plan:
    """The runner on a test project of a schema and a policies folder (no functions files)."""
    return runner.migrate(
        url, schema_dir=schema, policies_dir=policies, functions_dir=schema.parent / "functions", **kwargs
    )


@pytest.fixture
def live(empty_database: str, tmp_path: Path) -> tuple[str, Path, Path]:
    """A database with one migrated, populated table, and the directories of its project."""
    schema, policies = tmp_path / "schema", tmp_path / "policies"
    schema.mkdir()
    policies.mkdir()
    (schema / "0001_notes.sql").write_text(
        "-- notes: the table the portal is busy with\ncreate table public.notes (id bigint primary key, body text);\n"
    )
    migrate(empty_database, schema, policies, timeouts=FAST)
    with psycopg.connect(empty_database, autocommit=True) as conn:
        conn.execute("insert into public.notes select g, 'note ' || g from generate_series(1, 1000) as g")
    # The next migration needs an ACCESS EXCLUSIVE lock on the busy table.
    (schema / "0002_notes_title.sql").write_text(
        "-- notes get a title\nalter table public.notes add column title text;\n"
    )
    return empty_database, schema, policies


@pytest.fixture
def blocker(live: tuple[str, Path, Path]) -> Iterator[psycopg.Connection]:
    """A session inside a long transaction that has read the table (a report, a slow request): it holds an
    ACCESS SHARE lock until it ends, which conflicts with the migration's ACCESS EXCLUSIVE."""
    with psycopg.connect(live[0]) as conn:
        conn.execute("select count(*) from public.notes")
        yield conn
        conn.rollback()


class Readers:
    """Sessions that keep reading the table while the migration runs; each read's duration is recorded."""

    def __init__(self, url: str, count: int = 3) -> None:
        self.url, self.count = url, count
        self.durations: list[float] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read, daemon=True) for _ in range(count)]
        self._lock = threading.Lock()

    def _read(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                while not self._stop.is_set():
                    started = time.monotonic()
                    conn.execute("select count(*) from public.notes").fetchone()
                    with self._lock:
                        self.durations.append(time.monotonic() - started)
        except BaseException as exc:  # a failed request is a finding, reported by the test
            self.errors.append(exc)

    def __enter__(self) -> Readers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def columns(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select column_name from information_schema.columns where table_name = 'notes' order by ordinal_position"
        ).fetchall()
    return [r[0] for r in rows]


def test_a_migration_that_cannot_get_its_lock_gives_up_per_try_retries_and_names_the_file(
    live, blocker, caplog
):
    url, schema, policies = live
    pauses: list[float] = []
    moments = [time.monotonic()]  # start, then each pause (the runner's sleep), then the end

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        moments.append(time.monotonic())

    with caplog.at_level(logging.WARNING, logger="nexk.migrate"), Readers(url) as readers:
        try:
            migrate(url, schema, policies, timeouts=FAST, sleep=pause)
        except MigrationError as error:
            moments.append(time.monotonic())
            message = str(error)
        else:
            pytest.fail("the migration took its lock although a transaction held a conflicting one")
    tries = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert "0002_notes_title.sql" in message and "lock_timeout 500ms in 3 tries" in message
    assert "Nothing of this file was applied" in message
    # Three tries, each given up after the lock timeout; the runner asked to pause between them.
    assert [r.getMessage().split(": ", 1)[1] for r in caplog.records] == [
        "lock timeout (500ms) on try 1 of 3, trying again in 0.2 s",
        "lock timeout (500ms) on try 2 of 3, trying again in 0.2 s",
    ]
    assert pauses == [0.2, 0.2]
    # Each try waited the lock timeout, and the second and third not much longer (the first also includes
    # connecting and planning).
    assert len(tries) == 3 and all(t >= LOCK_TIMEOUT for t in tries), tries
    assert all(t < LOCK_TIMEOUT + 0.5 for t in tries[1:]), tries
    assert columns(url) == ["id", "body"]
    # The readers queued behind the waiting migration, and none waited past the lock timeout or failed.
    assert not readers.errors, readers.errors
    assert max(readers.durations) < LOCK_TIMEOUT + 1.0, max(readers.durations)
    assert max(readers.durations) >= LOCK_TIMEOUT / 2, "the readers were never held up: the test saw no queue"


def test_a_migration_succeeds_on_a_later_try_once_the_conflicting_transaction_ends(live, blocker):
    url, schema, policies = live

    def pause(seconds: float) -> None:
        blocker.rollback()  # the long request ends during the runner's pause

    with Readers(url) as readers:
        plan = migrate(url, schema, policies, timeouts=FAST, sleep=pause)
    assert [m.version for m in plan.pending_migrations] == ["0002"]
    assert columns(url) == ["id", "body", "title"]
    assert not readers.errors and max(readers.durations) < LOCK_TIMEOUT + 1.0


def test_each_file_runs_with_the_configured_timeouts(live):
    url, schema, policies = live
    (schema / "0002_notes_title.sql").write_text(
        "-- records the timeouts it runs with\n"
        "create table public.seen as select current_setting('lock_timeout') as lock_timeout,"
        " current_setting('statement_timeout') as statement_timeout;\n"
    )
    migrate(url, schema, policies, timeouts=Timeouts(lock="1500ms", statement="42s"))
    with psycopg.connect(url) as conn:
        assert conn.execute("select * from public.seen").fetchone() == ("1500ms", "42s")


def test_a_statement_over_the_statement_timeout_fails_at_once_naming_the_file(live):
    url, schema, policies = live
    (schema / "0002_notes_title.sql").write_text("-- too slow\nselect pg_sleep(5);\n")
    tries: list[float] = []
    with pytest.raises(MigrationError, match=r"0002_notes_title\.sql:2: .*statement_timeout 200ms"):
        migrate(
            url,
            schema,
            policies,
            timeouts=Timeouts(lock="1s", statement="200ms", tries=3),
            sleep=tries.append,
        )
    assert tries == []  # a slow statement is not a lock timeout: no second try


def test_the_timeouts_come_from_the_environment_and_bad_values_are_refused_by_name(monkeypatch, live):
    monkeypatch.setenv("NEXK_MIGRATE_LOCK_TIMEOUT", "750ms")
    monkeypatch.setenv("NEXK_MIGRATE_STATEMENT_TIMEOUT", "10min")
    monkeypatch.setenv("NEXK_MIGRATE_LOCK_TRIES", "7")
    assert Timeouts.from_environment() == Timeouts(lock="750ms", statement="10min", tries=7)
    monkeypatch.setenv("NEXK_MIGRATE_LOCK_TRIES", "many")
    with pytest.raises(MigrationError, match="NEXK_MIGRATE_LOCK_TRIES='many'"):
        Timeouts.from_environment()
    monkeypatch.setenv("NEXK_MIGRATE_LOCK_TRIES", "2")
    monkeypatch.setenv("NEXK_MIGRATE_LOCK_TIMEOUT", "soon")
    url, schema, policies = live
    with pytest.raises(MigrationError, match="NEXK_MIGRATE_LOCK_TIMEOUT='soon' is not a PostgreSQL duration"):
        migrate(url, schema, policies)
    assert columns(url) == ["id", "body"]


def applied(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select version from supabase_migrations.schema_migrations order by 1").fetchall()
    return [r[0] for r in rows]


def test_a_no_transaction_migration_builds_its_index_concurrently_while_the_table_is_read_and_written(live):
    url, schema, policies = live
    (schema / "0002_notes_title.sql").write_text(
        "-- nexk: no-transaction\n-- an index on a live table, built without blocking writes\n"
        "create index concurrently if not exists notes_body_idx on public.notes (body);\n"
    )
    with Readers(url) as readers, psycopg.connect(url, autocommit=True) as writer:
        migrate(url, schema, policies, timeouts=FAST)
        writer.execute("insert into public.notes values (5000, 'written meanwhile')")
    assert not readers.errors and max(readers.durations) < LOCK_TIMEOUT + 1.0
    assert applied(url) == ["0001", "0002"]
    with psycopg.connect(url) as conn:
        assert conn.execute(
            "select indisvalid from pg_index where indexrelid = 'public.notes_body_idx'::regclass"
        ).fetchone() == (True,)


def test_a_failed_concurrent_build_is_reported_with_the_invalid_index_to_drop(live):
    url, schema, policies = live
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update public.notes set body = 'same' where id <= 2")
    (schema / "0002_notes_title.sql").write_text(
        "-- nexk: no-transaction\n-- a unique index the data does not allow\n"
        "create unique index concurrently if not exists notes_body_key on public.notes (body);\n"
    )
    with pytest.raises(MigrationError) as raised:
        migrate(url, schema, policies, timeouts=FAST)
    message = str(raised.value)
    assert "0002_notes_title.sql:3:" in message and "INVALID index(es) notes_body_key" in message
    assert "drop index concurrently" in message
    assert applied(url) == ["0001"]  # not recorded: it runs again once the index is dropped and data fixed
