"""One lint run: the static lint over db/, the catalog lint on a migrated database, merged and matched
against the allow-list. The CLI only parses options and prints; tests call `run` directly."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from db import migrate as runner
from db.rls import catalog_lint, static_lint
from db.rls.findings import ALLOW_FILE, Finding, Reported, apply_allow_list, load_allow_list
from nexk.errors import NexkError


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A throw-away database on `server_url`'s server, migrated from db/, dropped afterwards.

    Linting a fresh copy (never the developer's working database) means the result depends on the files
    in db/ only, exactly as in CI.
    """
    name = f"nexk_rls_lint_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = make_conninfo(server_url, dbname=name)
    try:
        runner.migrate(url)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def merge(static: list[Finding], catalog: list[Finding]) -> list[Finding]:
    """Both lints see some problems (a bare auth.uid(), a `true` write policy): keep the static finding,
    which carries file:line, and drop the catalog one about the same rule and object."""
    seen = {(f.rule, f.object) for f in static}
    return static + [f for f in catalog if (f.rule, f.object) not in seen]


def run(
    database_url: str | None = None,
    *,
    static_only: bool = False,
    db_dir: Path = runner.DB_DIR,
    allow_file: Path = ALLOW_FILE,
) -> list[Reported]:
    """Lint db/ and the database at `database_url` (a migrated one); without it, a scratch copy."""
    allowances = load_allow_list(allow_file)
    static = static_lint.lint_directory(db_dir)
    catalog: list[Finding] = []
    if not static_only:
        if database_url:
            catalog = _catalog(database_url)
        else:
            from db.connection import server_while_needed

            with server_while_needed() as server, scratch_database(server) as url:
                catalog = _catalog(url)
    return apply_allow_list(merge(static, catalog), allowances)


def _catalog(url: str) -> list[Finding]:
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            return catalog_lint.lint(conn)
    except psycopg.OperationalError as exc:
        raise NexkError(f"Cannot connect to the database to lint: {str(exc).strip()}") from exc
