"""Pytest plugin: a real PostgreSQL for every test, the efficient way.

The session starts (or reuses) the project's local cluster, or uses `NEXK_DATABASE_URL`; builds the migrated
schema once into a template database (pytest-postgresql's DatabaseJanitor), and every test that asks for
`database` gets a fresh copy of it (CREATE DATABASE ... TEMPLATE: milliseconds, not a re-migration).
`impersonate()` runs SQL exactly as PostgREST would for a signed-in user.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pytest_postgresql.janitor import DatabaseJanitor

from db import migrate as runner
from db.cluster import LocalCluster, stop_server_in
from db.connection import external_url
from nexk.portal_login import PORTAL_LOGIN

_counter = itertools.count()


@dataclass(frozen=True)
class Server:
    """Where the test databases are created (a superuser/owner DSN and its parts)."""

    url: str
    authenticator_password: str | None
    # The portal's login (db/schema/0375): set by the runner on the local cluster; None on another server.
    portal_password: str | None = None

    def part(self, key: str) -> str | None:
        value = conninfo_to_dict(self.url).get(key)
        return None if value is None else str(value)

    def janitor(
        self, dbname: str, *, template_dbname: str | None = None, as_template: bool = False
    ) -> DatabaseJanitor:
        return DatabaseJanitor(
            user=self.part("user") or "postgres",
            password=self.part("password"),
            host=self.part("host") or "127.0.0.1",
            port=self.part("port") or 5432,
            dbname=dbname,
            maintenance_dbname=self.part("dbname") or "postgres",
            template_dbname=template_dbname,
            as_template=as_template,
        )

    def url_for(self, dbname: str) -> str:
        return make_conninfo(self.url, dbname=dbname)

    def portal_url(self, database: str) -> str:
        """The DSN of `database` (an owner DSN on this server) logged in as the portal's `nexk_portal`."""
        return make_conninfo(database, user=PORTAL_LOGIN, password=self.portal_password)


def _worker_tag() -> str:
    # Unique per process so parallel sessions (xdist workers, two developers' runs) never collide.
    return f"{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


# A test run leaves no server behind: when the local cluster was not running as the first of the concurrent test
# sessions of this clone began, the last of them to end stops it, however it ends (Ctrl-C too: pytest calls
# sessionfinish after a KeyboardInterrupt). A cluster the developer started stays up. Each session holds a lease
# (a file named by its pid) in .nexk/test-sessions/; `started` there says a test session started the cluster.
# Under xdist only the controller takes part (the workers share its cluster).
_LEASED = pytest.StashKey[bool]()


def _leases() -> Path:
    return LocalCluster().home / "test-sessions"


def _live_leases(leases: Path) -> list[Path]:
    """The leases of sessions still running (the files of killed ones are removed)."""
    live = []
    for lease in leases.glob("[0-9]*"):
        try:
            os.kill(int(lease.name), 0)
            live.append(lease)
        except ProcessLookupError:
            lease.unlink(missing_ok=True)
        except PermissionError:  # another user's process: alive
            live.append(lease)
    return live


def pytest_sessionstart(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput") or external_url() is not None:
        return
    leases = _leases()
    leases.mkdir(parents=True, exist_ok=True)
    started = leases / "started"
    if not _live_leases(leases):
        started.unlink(missing_ok=True)  # left by a killed session whose cluster died with it
    if not LocalCluster().is_running():
        started.touch()  # this session will start it (or not use it: stopping a stopped cluster is a no-op)
    (leases / str(os.getpid())).touch()
    session.config.stash[_LEASED] = True
    if getattr(session.config.option, "numprocesses", None):
        # xdist's controller: start the cluster before its workers exist (xdist starts them in a later
        # sessionstart), so two workers never race to create it on a fresh clone.
        LocalCluster().start()


@pytest.hookimpl(trylast=True)  # after the session fixtures' teardown, which drops the template database
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not session.config.stash.get(_LEASED, False):
        return
    leases = _leases()
    (leases / str(os.getpid())).unlink(missing_ok=True)
    if not _live_leases(leases) and (leases / "started").exists():
        (leases / "started").unlink(missing_ok=True)
        LocalCluster().stop()


@pytest.fixture(scope="session")
def pg_server() -> Server:
    """The PostgreSQL server of this test session, started by the project itself when needed."""
    url = external_url()
    if url:
        return Server(url=url, authenticator_password=None)
    config = LocalCluster().start()
    return Server(
        url=config.url,
        authenticator_password=config.authenticator_password,
        portal_password=config.portal_password,
    )


@pytest.fixture(scope="session")
def template_database(pg_server: Server) -> Iterator[str]:
    """A database with the compatibility layer, every migration and every policy: built once per session."""
    name = f"nexk_tpl_{_worker_tag()}"
    janitor = pg_server.janitor(name, as_template=True)
    janitor.drop() if _exists(pg_server, name) else None
    janitor.init()
    runner.migrate(
        pg_server.url_for(name),
        authenticator_password=pg_server.authenticator_password,
        portal_password=pg_server.portal_password,
    )
    yield name
    janitor.drop()


@pytest.fixture
def cluster_server_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private stand-in for /var/lib/nexk (NEXK_SERVER_ROOT) for tests that make clusters in tmp folders:
    as root those move their server files there (pytest's tmp folders are root-only), so a test run never
    adds to the real one. Anything still running in it is stopped, and it is deleted, at the end."""
    root = Path(tempfile.mkdtemp(prefix="nexk-server-root-", dir="/tmp"))
    root.chmod(0o755)  # the service user must reach it
    monkeypatch.setenv("NEXK_SERVER_ROOT", str(root))
    yield root
    for data_dir in root.glob("*/pgdata"):
        stop_server_in(data_dir)
    shutil.rmtree(root)


def copy_database_privileges(server_url: str, source: str, target: str) -> None:
    """CREATE DATABASE ... TEMPLATE copies a database's contents, not its own privileges (pg_database.datacl
    lives in a shared catalog): carry them over so a migration's database grants (0360 revokes TEMP from the
    API roles) hold in every copy exactly as in the migrated database."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        entries = conn.execute(
            """select coalesce(nullif(a.grantee, 0)::regrole::text, 'public'), a.privilege_type
               from pg_catalog.pg_database as d, pg_catalog.aclexplode(d.datacl) as a
               where d.datname = %s""",
            (source,),
        ).fetchall()
        if not entries:
            return  # the default privileges: nothing to carry over
        with conn.transaction():
            target_db = psycopg.sql.Identifier(target)
            conn.execute(psycopg.sql.SQL("revoke all on database {} from public").format(target_db))
            for grantee, privilege in entries:
                conn.execute(
                    psycopg.sql.SQL("grant {} on database {} to {}").format(
                        psycopg.sql.SQL(privilege), target_db, psycopg.sql.SQL(grantee)
                    )
                )


def _exists(server: Server, name: str) -> bool:
    with psycopg.connect(server.url, autocommit=True) as conn:
        return conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone() is not None


@pytest.fixture
def database(pg_server: Server, template_database: str) -> Iterator[str]:
    """The DSN (owner) of a fresh copy of the migrated template, dropped after the test."""
    name = f"nexk_test_{_worker_tag()}_{next(_counter)}"
    janitor = pg_server.janitor(name, template_dbname=template_database)
    janitor.init()
    copy_database_privileges(pg_server.url, template_database, name)
    yield pg_server.url_for(name)
    janitor.drop()


@pytest.fixture
def empty_database(pg_server: Server) -> Iterator[str]:
    """The DSN of a brand-new, unmigrated database (for tests of the runner itself)."""
    name = f"nexk_empty_{_worker_tag()}_{next(_counter)}"
    janitor = pg_server.janitor(name)
    janitor.init()
    yield pg_server.url_for(name)
    janitor.drop()


@pytest.fixture
def db(database: str) -> Iterator[psycopg.Connection]:
    """An owner connection (autocommit) to a fresh migrated database: the privileged view of the world."""
    with psycopg.connect(database, autocommit=True) as conn:
        yield conn


def jwt_claims(
    sub: uuid.UUID | str | None,
    *,
    role: str = "authenticated",
    aal: str = "aal1",
    email: str | None = None,
    session_id: uuid.UUID | str | None = None,
    **extra: object,
) -> dict[str, object]:
    """The claims Supabase Auth puts in an access token (the ones policies may read)."""
    claims: dict[str, object] = {"role": role, "aal": aal, "is_anonymous": False}
    if sub is not None:
        claims["sub"] = str(sub)
        claims["session_id"] = str(session_id or uuid.uuid4())
    if email is not None:
        claims["email"] = email
    claims.update(extra)
    return claims


@contextmanager
def impersonate(conn: psycopg.Connection, claims: dict[str, object] | None) -> Iterator[psycopg.Connection]:
    """Run the block as PostgREST runs a request: one transaction, `set local role`, local JWT claims.

    `claims=None` is an anonymous request (role anon, no claims). The transaction is rolled back at the end
    unless the block commits explicitly, so a probe never changes the world it probes.
    """
    role = "anon" if claims is None else str(claims.get("role", "authenticated"))
    with conn.transaction(force_rollback=True):
        conn.execute(psycopg.sql.SQL("set local role {}").format(psycopg.sql.Identifier(role)))
        conn.execute(
            "select set_config('request.jwt.claims', %s, true)", (json.dumps(claims or {"role": role}),)
        )
        yield conn
