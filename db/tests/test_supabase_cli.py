"""The Supabase CLI works on this repository: it reads db/schema as its migrations and the runner's history.

`supabase/config.toml` makes the repository a Supabase project and `supabase/migrations` is db/schema. The
CLI (npm `supabase`, pinned in tools/supabase-cli, installed by `make test`) parses `<digits>_<name>.sql`
and reads `supabase_migrations.schema_migrations` (supabase/cli, pkg/migration/file.go and history.go);
db/migrate.py records each file there under the same version, so a database migrated by the project is, for
the CLI, up to date.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from db.migrate import SCHEMA_DIR, load_migrations
from nexk.paths import REPO_ROOT

CLI = REPO_ROOT / ".tools" / "supabase-cli" / "node_modules" / ".bin" / "supabase"
CLI_VERSION = "2.117.0"


@pytest.fixture(scope="module")
def supabase_cli() -> Path:
    if not CLI.exists():
        pytest.fail(f"The Supabase CLI is not installed at {CLI}: run `make supabase-cli` (make test does).")
    # The CLI looks for a newer release on GitHub unless its cache file says it did within 10 hours (cmd/root.go,
    # checkUpgrade): this machine has no network, so the cache records the pinned version as the latest.
    cache = REPO_ROOT / "supabase" / ".temp" / "cli-latest"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(f"v{CLI_VERSION}", encoding="utf-8")
    return CLI


def _db_url(dsn: str) -> str:
    """The CLI takes a URL, not a libpq conninfo; the local cluster speaks plain TCP on loopback."""
    params = conninfo_to_dict(dsn)
    user = quote(str(params.get("user", "postgres")), safe="")
    password = f":{quote(str(params['password']), safe='')}" if params.get("password") else ""
    host, port, dbname = params.get("host", "127.0.0.1"), params.get("port", 5432), params["dbname"]
    query = urlencode({"sslmode": params.get("sslmode", "disable")})
    return f"postgresql://{user}{password}@{host}:{port}/{quote(str(dbname), safe='')}?{query}"


def _supabase(cli: Path, *args: str, home: Path) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),  # the CLI's own state (~/.supabase) stays in the test's directory
        "DO_NOT_TRACK": "1",  # no telemetry (internal/telemetry/service.go)
        "SUPABASE_TELEMETRY_DISABLED": "1",
    }
    done = subprocess.run(
        [cli, *args, "--workdir", REPO_ROOT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"supabase {' '.join(args[:2])} failed:\n{output}"
    return output


def _migration_rows(output: str) -> list[tuple[str, str, str]]:
    """The rows of `supabase migration list`: (local, remote, time), empty where a side lacks the version."""
    rows = []
    for line in output.splitlines():
        cells = [cell.strip().strip("`").strip() for cell in line.split("|")]
        if len(cells) == 3 and cells[0] != "Local" and not set(line.strip()) <= set("-|"):
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def test_supabase_project_is_db_schema_on_the_local_cluster_major(db: psycopg.Connection) -> None:
    config = tomllib.loads((REPO_ROOT / "supabase" / "config.toml").read_text(encoding="utf-8"))
    server_major = int(db.execute("show server_version_num").fetchone()[0]) // 10000

    assert (REPO_ROOT / "supabase" / "migrations").resolve() == SCHEMA_DIR.resolve()
    assert config["db"]["major_version"] == server_major


def test_supabase_migration_list_shows_every_local_migration_as_applied(
    supabase_cli: Path, database: str, tmp_path: Path
) -> None:
    versions = [migration.version for migration in load_migrations()]
    output = _supabase(supabase_cli, "migration", "list", "--db-url", _db_url(database), home=tmp_path)

    assert "Skipping migration" not in output, output
    assert _migration_rows(output) == [(version, version, version) for version in versions]


def test_supabase_db_push_dry_run_finds_a_migrated_database_up_to_date(
    supabase_cli: Path, database: str, tmp_path: Path
) -> None:
    output = _supabase(supabase_cli, "db", "push", "--dry-run", "--db-url", _db_url(database), home=tmp_path)

    # The CLI calls a database on its own local port (54322, the first port our cluster tries) "Local" and any
    # other "Remote"; either way it must find nothing to push.
    assert re.search(r"(Local|Remote) database is up to date\.", output), output
    assert "Would push" not in output


def test_supabase_cli_sees_a_migration_missing_from_the_history(
    supabase_cli: Path, database: str, tmp_path: Path
) -> None:
    """The counter-check: the CLI does compare the two sides, so "up to date" above is a finding, not a default."""
    last = load_migrations()[-1]
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("delete from supabase_migrations.schema_migrations where version = %s", (last.version,))

    listed = _supabase(supabase_cli, "migration", "list", "--db-url", _db_url(database), home=tmp_path)
    pushed = _supabase(supabase_cli, "db", "push", "--dry-run", "--db-url", _db_url(database), home=tmp_path)

    assert _migration_rows(listed)[-1] == (last.version, "", last.version)
    assert "Would push these migrations:" in pushed
    assert f"• {last.path.name}" in pushed
    assert "Remote database is up to date." not in pushed
