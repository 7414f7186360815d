"""Helpers shared by the stack-file checks: which file is a Pulumi stack file, and walking its config."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STACK_FILE = re.compile(r"^Pulumi\.[A-Za-z0-9_.-]+\.ya?ml$")
LINE_MARKS = {"__startline__", "__endline__"}


def is_stack_file(entity_path: str) -> bool:
    """`entity_path` is checkov's `file:entity_type:entity_name`; the file is a `Pulumi.<stack>.yaml`."""
    return bool(STACK_FILE.match(Path(entity_path.split(":", 1)[0]).name))


def walk(conf: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any, dict[str, Any]]]:
    """Every (key path, value, mapping holding it) of a stack's `config:` mapping, line marks left out.

    The holding mapping carries checkov's line marks, so a check can return it to point at the exact block.
    """
    if isinstance(conf, dict):
        for key, value in conf.items():
            if key in LINE_MARKS:
                continue
            yield (*path, str(key)), value, conf
            if not (isinstance(value, dict) and "secure" in value):
                yield from walk(value, (*path, str(key)))
