"""YAML that remembers where each value came from, so a register error names file, line and field.

`load_yaml(path)` returns the parsed data and a `Source` that maps a field path such as
`("periods", 1, "period")` to its line. pydantic errors carry the same path (`loc`), so
`Source.describe(loc)` turns any validation error into `compliance/retention.yaml:14: periods[1].period`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from nexk.errors import NexkError
from nexk.paths import REPO_ROOT

Loc = tuple[int | str, ...]


class RegisterError(NexkError):
    """A register file is missing or malformed; each problem names file, line and field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def display_path(path: Path) -> str:
    """Paths in messages are relative to the repository when they can be (what a reviewer clicks)."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def field_name(loc: Loc) -> str:
    """A pydantic location as the reader sees the YAML: `periods[1].period`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


@dataclass
class Source:
    path: Path
    lines: dict[Loc, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return display_path(self.path)

    def line(self, loc: Loc) -> int:
        """The line of the deepest part of `loc` that exists in the file (a missing field: its parent)."""
        for end in range(len(loc), -1, -1):
            found = self.lines.get(tuple(loc[:end]))
            if found is not None:
                return found
        return 1

    def describe(self, loc: Loc, message: str) -> str:
        return f"{self.name}:{self.line(loc)}: {field_name(loc)}: {message}"

    def validation_problems(self, exc: ValidationError, prefix: Loc = ()) -> list[str]:
        problems = []
        for error in exc.errors():
            # pydantic adds the name of the union branch or validator to loc; keep the YAML keys only.
            loc = prefix + tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
            problems.append(self.describe(loc, error["msg"]))
        return problems


def _record_lines(loader: yaml.SafeLoader, node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            lines[(*loc, key)] = key_node.start_mark.line + 1
            _record_lines(loader, value_node, (*loc, key), lines)
            lines[(*loc, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(loader, item, (*loc, index), lines)


def parse_yaml(text: str, path: Path) -> tuple[Any, Source]:
    source = Source(path=path)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise RegisterError([f"{source.name}:1: (top level): the file is empty"])
        data = loader.construct_document(node)
        _record_lines(loader, node, (), source.lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise RegisterError([f"{source.name}:{line}: (syntax): not valid YAML: {exc.problem}"]) from exc
    finally:
        loader.dispose()
    return data, source


def load_yaml(path: Path) -> tuple[Any, Source]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RegisterError([f"{display_path(path)}: the register file is missing"]) from exc
    return parse_yaml(text, path)
