"""`nexk --help` and every sub-command's `--help` load no heavy library: the portal (FastAPI, Jinja, the
connection pool), Pulumi, the SQL parser and the database driver are imported by the commands that use them,
never by the command line itself. Asserted on the modules a fresh interpreter ends up with, which is
deterministic, rather than on wall time, which the machine's load would make flaky."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Module prefixes a `--help` must not import (each costs from 0.1 s to over a second on this machine).
HEAVY = (
    "app.main",
    "fastapi",
    "starlette",
    "jinja2",
    "psycopg",
    "psycopg_pool",
    "pulumi",
    "pglast",
    "httpx",
    "fideslang",
    "faker",
    "uvicorn",
    "checkov",
    "fpdf",
)

# One fresh interpreter: walk the whole command tree through click (as `nexk ... --help` would), then report
# which modules got imported. Walking the tree asks every group for every command, so a sub-command module
# that imports something heavy at the top is caught, wherever it sits.
PROBE = """
import json, sys
from typer.main import get_command
from nexk_cli.main import app

root = get_command(app)
ctx0 = root.make_context("nexk", [], resilient_parsing=True)  # the Context class typer's click provides
helps = []

def walk(command, path):
    helps.append(path)
    with type(ctx0)(command, info_name=" ".join(["nexk", *path])) as ctx:
        command.get_help(ctx)
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*path, name])

walk(root, [])
print("\\nRESULT " + json.dumps({"helps": helps, "modules": sorted(sys.modules)}))
"""


def _probe() -> dict[str, list]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    # typer's rich help prints itself; the result is the last line.
    return json.loads(done.stdout.rsplit("\nRESULT ", 1)[1])


def test_no_help_of_the_nexk_command_imports_the_portal_pulumi_or_the_database_driver() -> None:
    result = _probe()
    loaded = [m for m in result["modules"] if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == [], f"`nexk ... --help` imports {sorted({m.split('.')[0] for m in loaded})}"
    # The walk reached every part's commands (a group that failed to mount would shrink this list).
    top = {path[0] for path in result["helps"] if path}
    assert top >= {
        "db",
        "rls",
        "infra",
        "compliance",
        "retention",
        "dsr",
        "portal",
        "storage",
        "notifications",
        "dev",
    }
    assert ["storage", "sweep"] in result["helps"] and ["dsr", "erase"] in result["helps"]


def test_the_nexk_script_prints_its_help_and_lists_every_part() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nexk_cli", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for part in (
        "db",
        "rls",
        "infra",
        "compliance",
        "retention",
        "dsr",
        "portal",
        "storage",
        "notifications",
    ):
        assert f" {part} " in done.stdout
