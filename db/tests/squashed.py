"""The migrations the baseline replaced (db/schema/0362_baseline.sql), read back from git: they left the tree
with the squash, and the tests that prove the baseline equivalent, or that replay an old data
migration, build databases from them. Each file is checked against the sha256 the baseline lists."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from db import migrate as runner

# The last commit whose tree holds db/schema/0001..0362 (and the policy files they were applied with).
OLD_CHAIN_COMMIT = "8fd48ca84f2bafedd7d195f8d660a7d8bbcf469e"
REPO = runner.DB_DIR.parent


def baseline() -> runner.MigrationFile:
    """The one migration of db/schema that replaces others."""
    (found,) = [m for m in runner.load_migrations() if m.replaces]
    return found


def _git_show(path: str) -> bytes:
    result = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{OLD_CHAIN_COMMIT}:{path}"], capture_output=True, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"git cannot show {path} at {OLD_CHAIN_COMMIT[:12]} ({result.stderr.decode().strip()}): these tests "
            "need the repository's history (a full clone; in CI `fetch-depth: 0`)."
        )
    return result.stdout


def write_old_migrations(dest: Path, *, below: str = "9999", from_version: str = "0000") -> list[Path]:
    """Write the replaced migrations with from_version <= version < below into dest, checked file by file
    against the baseline's `-- nexk: replaces` list."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for version, (name, sha) in sorted(baseline().replaces.items()):
        if not from_version <= version < below:
            continue
        text = _git_show(f"db/schema/{version}_{name}.sql")
        assert hashlib.sha256(text).hexdigest() == sha, f"{version}_{name}.sql at {OLD_CHAIN_COMMIT[:12]}"
        path = dest / f"{version}_{name}.sql"
        path.write_bytes(text)
        written.append(path)
    return written


def write_old_policies(dest: Path) -> None:
    """The policy files as they stood with the old migrations (later ones may name columns added since)."""
    dest.mkdir(parents=True, exist_ok=True)
    listing = subprocess.run(
        ["git", "-C", str(REPO), "ls-tree", "--name-only", f"{OLD_CHAIN_COMMIT}:db/policies/"],
        capture_output=True,
        text=True,
        check=False,
    )
    if listing.returncode != 0:
        _git_show("db/policies/")  # fails the test with git's message
    for name in listing.stdout.split():
        if name.endswith(".sql"):
            (dest / name).write_bytes(_git_show(f"db/policies/{name}"))


def baseline_part(migration: str) -> str:
    """The statements the baseline keeps from one replaced migration (e.g. `0360_api_roles_no_ddl_privileges`):
    its section before the `-- nexk: functions` line, as a new database runs it."""
    text = baseline().sql.split("\n-- nexk: functions\n", 1)[0]
    banner = f"-- {'-' * 64} from {migration}.sql\n"
    assert banner in text, f"the baseline has no section from {migration}.sql"
    return text.split(banner, 1)[1].split(f"\n-- {'-' * 64} from ", 1)[0]
