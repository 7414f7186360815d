"""The record of every HTTP request a provider made to a simulator: `test-artifacts/vendor-calls.jsonl`.

One JSON object per line: {"vendor": "supabase" | "gotrue" | "brevo", "method": "POST",
"url": "https://api.supabase.com/v1/projects", "body": <decoded JSON body or null>, "status": 201}.
The URL is the one the request would have gone to at the vendor (query string included), so reviewers can
match each line with an operation of the vendor's published contract.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from nexk.paths import REPO_ROOT

DEFAULT_PATH = REPO_ROOT / "test-artifacts" / "vendor-calls.jsonl"
VENDORS = frozenset({"supabase", "gotrue", "brevo"})

_lock = threading.Lock()


def log_path() -> Path:
    """Where calls are appended (`NEXK_VENDOR_CALLS` overrides, e.g. for a rehearsal run of its own)."""
    return Path(os.environ.get("NEXK_VENDOR_CALLS") or DEFAULT_PATH)


def decode_body(content: bytes | str | None) -> Any:
    """The request body as JSON when it is JSON, as text otherwise, None when empty."""
    if not content:
        return None
    text = content.decode() if isinstance(content, bytes) else content
    try:
        return json.loads(text)
    except ValueError:
        return text


def record(vendor: str, method: str, url: str, body: Any, status: int) -> None:
    """Append one call to the log (thread-safe; the file and its folder are created on first use)."""
    if vendor not in VENDORS:
        raise ValueError(f"unknown vendor {vendor!r}: expected one of {sorted(VENDORS)}")
    line = json.dumps(
        {"vendor": vendor, "method": method.upper(), "url": url, "body": body, "status": status},
        sort_keys=True,
    )
    path = log_path()
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
