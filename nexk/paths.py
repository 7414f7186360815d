"""Where things live: the repository root and the git-ignored local state folder `.nexk/`."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def state_dir() -> Path:
    """The local state folder (database cluster, uploads, logs); `NEXK_HOME` moves it."""
    return Path(os.environ.get("NEXK_HOME") or REPO_ROOT / ".nexk").resolve()
