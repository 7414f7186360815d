"""Every line of the vendor-call record checked against the contract of its vendor.

Supabase's Management API and GoTrue against their vendored OpenAPI operations (`openapi_contract.py`),
Brevo against the operations of its official SDK (`brevo_contract.py`). A line that is not an operation of
the vendor's contract, sends an undeclared field or lacks a required one is a violation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from infra.rehearsal.brevo_contract import contract_violations as brevo_violations
from infra.rehearsal.openapi_contract import check_call


def violations(lines: Iterable[Mapping[str, Any]]) -> list[str]:
    problems: list[str] = []
    for line in lines:
        vendor = line.get("vendor")
        if vendor == "brevo":
            problems += brevo_violations(dict(line))
        elif vendor in ("supabase", "gotrue"):
            problems += check_call(vendor, line["method"], line["url"], line.get("body"))
        else:
            problems.append(f"unknown vendor {vendor!r} in {dict(line)}")
    return problems


def read_record(path: Path) -> list[dict[str, Any]]:
    """The record's lines (none when no provider has called a simulator yet)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
