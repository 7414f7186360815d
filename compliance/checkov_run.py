"""checkov, offline, with the project's custom checks: `run()` returns what failed, in words a reviewer can act on.

Frameworks: yaml and json (custom checks in compliance/checks/: stack regions, stack secrets, subprocessor
transfers, vercel.json security headers), secrets (every file, not only config files), github_actions, and
openapi (the portal's OpenAPI document, exported to compliance/generated/openapi.json by `export_openapi()`).

Known false positives of the secrets scanner (test fixtures, mock constants) are listed with a reason in
compliance/checkov_accepted.yaml, matched by check id, file and the scanner's hash of the flagged value, so
any other secret in the same file still fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nexk.errors import NexkError
from nexk.paths import REPO_ROOT

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
ACCEPTED_FILE = Path(__file__).resolve().parent / "checkov_accepted.yaml"
OPENAPI_FILE = Path(__file__).resolve().parent / "generated" / "openapi.json"
FRAMEWORKS = ("yaml", "json", "secrets", "github_actions", "openapi")
CUSTOM_CHECKS = ("CKV_NEXK_1", "CKV_NEXK_2", "CKV_NEXK_3", "CKV_NEXK_4")
# Regular expressions (checkov --skip-path) for what is not ours to scan: virtualenv, local state, caches.
SKIP_PATHS = (
    r"\.venv",
    r"\.nexk",
    r"node_modules",
    r"\.git/",
    r"__pycache__",
    r"\.pytest_cache",
    r"\.ruff_cache",
)


@dataclass(frozen=True)
class Finding:
    check_id: str
    check_name: str
    file: str
    lines: tuple[int, int]
    resource: str

    def __str__(self) -> str:
        return f"{self.check_id} {self.file}:{self.lines[0]}-{self.lines[1]}: {self.check_name} ({self.resource})"


@dataclass
class CheckovResult:
    failed: list[Finding] = field(default_factory=list)
    passed: list[Finding] = field(default_factory=list)
    accepted: list[tuple[Finding, str]] = field(default_factory=list)
    frameworks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def ran(self, check_id: str) -> bool:
        return any(f.check_id == check_id for f in self.failed + self.passed)


def export_openapi(path: Path = OPENAPI_FILE) -> Path:
    """Write the portal's OpenAPI document (FastAPI's app.openapi()) for checkov's openapi framework."""
    try:
        from app.main import app
    except ImportError as exc:
        raise NexkError(
            f"the portal's OpenAPI document cannot be exported: `from app.main import app` failed ({exc}); "
            "checkov's openapi framework needs it"
        ) from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _accepted() -> list[dict[str, str]]:
    if not ACCEPTED_FILE.is_file():
        return []
    entries = yaml.safe_load(ACCEPTED_FILE.read_text(encoding="utf-8")) or {}
    return list(entries.get("accepted") or [])


def _checkov() -> str:
    candidate = Path(sys.executable).with_name("checkov")
    return str(candidate) if candidate.exists() else "checkov"


def run(
    target: Path = REPO_ROOT,
    frameworks: tuple[str, ...] = FRAMEWORKS,
    external_checks: Path = CHECKS_DIR,
    all_secret_files: bool = True,
) -> CheckovResult:
    """Run checkov on a directory (offline) and return its findings, minus the accepted false positives."""
    command = [
        _checkov(),
        "--skip-download",
        "--directory",
        str(target),
        "--framework",
        *frameworks,
        "--external-checks-dir",
        str(external_checks),
        "--output",
        "json",
        "--compact",
    ]
    for skip in SKIP_PATHS:
        command += ["--skip-path", skip]
    if all_secret_files:
        command.append("--enable-secret-scan-all-files")
    env = {**os.environ, "LOG_LEVEL": "WARNING", "BC_SKIP_MAPPING": "TRUE"}
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=target, env=env, timeout=600, check=False
    )
    if not done.stdout.strip():
        raise NexkError(f"checkov produced no report (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    accepted = _accepted()
    result = CheckovResult()
    for report in reports:
        if "check_type" not in report:
            continue  # "no files found" summary of a framework with nothing to scan
        result.frameworks.append(report["check_type"])
        for kind in ("failed_checks", "passed_checks"):
            for raw in report["results"].get(kind, []):
                finding = Finding(
                    check_id=raw["check_id"],
                    check_name=raw["check_name"],
                    file=raw["file_path"].lstrip("/"),
                    lines=(raw["file_line_range"][0], raw["file_line_range"][1]),
                    resource=raw["resource"],
                )
                if kind == "passed_checks":
                    result.passed.append(finding)
                    continue
                reason = next(
                    (
                        a["reason"]
                        for a in accepted
                        if (a["check_id"], a["file"], str(a["resource"]))
                        == (finding.check_id, finding.file, finding.resource)
                    ),
                    None,
                )
                if reason:
                    result.accepted.append((finding, reason))
                else:
                    result.failed.append(finding)
    return result
