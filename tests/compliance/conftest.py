"""Fixtures of the compliance tests: the loaded register and copies of it that a test may break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compliance.register import COMPLIANCE_DIR, Register, load


@pytest.fixture(scope="session")
def register() -> Register:
    return load()


@pytest.fixture
def register_copy(tmp_path: Path) -> Path:
    """A copy of compliance/ (register files only) that the test may edit, then load with `load(copy)`."""
    target = tmp_path / "compliance"
    shutil.copytree(
        COMPLIANCE_DIR,
        target,
        ignore=shutil.ignore_patterns("__pycache__", "generated", "checks", "*.py"),
    )
    return target
