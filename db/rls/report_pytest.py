"""The pytest end of db/rls/report.py: at the end of the run, the isolation grid goes to the job summary.

On GitHub Actions `$GITHUB_STEP_SUMMARY` names a file whose Markdown is shown on the run's page; the grid is
appended there (never overwritten: other steps may have written to it). The same Markdown is kept in
test-artifacts/isolation-grid.md, which the workflow uploads with the screenshots.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from db.rls.report import GRID

ARTIFACT = Path("test-artifacts") / "isolation-grid.md"


def write_summary(markdown: str, environ: os._Environ[str] | dict[str, str] = os.environ) -> Path | None:
    """Append `markdown` to the file `$GITHUB_STEP_SUMMARY` names; None when not on GitHub."""
    target = environ.get("GITHUB_STEP_SUMMARY")
    if not target or not markdown:
        return None
    with open(target, "a", encoding="utf-8") as out:
        out.write(markdown)
    return Path(target)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    markdown = GRID.markdown()
    if not markdown:
        return
    root = Path(str(session.config.rootpath))
    (root / ARTIFACT).parent.mkdir(parents=True, exist_ok=True)
    (root / ARTIFACT).write_text(markdown, encoding="utf-8")
    write_summary(markdown)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stamp the JUnit report with the commit it tested, for the evidence pack's traceability matrix."""
    from _pytest.junitxml import xml_key

    xml = session.config.stash.get(xml_key, None)
    if xml is None:
        return
    import subprocess

    root = str(session.config.rootpath)
    commit = subprocess.run(
        ["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    xml.add_global_property("commit", commit or "unknown (not a git checkout)")
