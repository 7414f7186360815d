"""Editing a copy of a register or stack file in a test (a uniquely named module: `conftest` is ambiguous
when several test folders are collected together)."""

from __future__ import annotations

from pathlib import Path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
