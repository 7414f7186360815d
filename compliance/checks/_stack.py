"""What the stack-file checks share: which file is a Pulumi stack file, walking its config, and the check base.

`StackConfigCheck` is not registered itself (checkov registers a check when it is instantiated); each check
module subclasses it, says what is wrong with one setting in `problem()`, and instantiates itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.yaml_doc.base_yaml_check import BaseYamlCheck
from checkov.yaml_doc.enums import BlockType

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


class StackConfigCheck(BaseYamlCheck):
    """A check of every setting in the `config:` of a `Pulumi.<stack>.yaml`; fails on the first problem."""

    def __init__(self, *, name: str, id: str, categories: list[CheckCategories]) -> None:
        super().__init__(
            name=name,
            id=id,
            categories=categories,
            supported_entities=["config"],
            block_type=BlockType.OBJECT,
        )

    def problem(self, path: tuple[str, ...], value: Any) -> str | None:
        """What is wrong with the setting at `path` (a sentence for the report), or None when it is fine."""
        raise NotImplementedError

    def scan_entity_conf(
        self, conf: dict[str, Any], entity_type: str
    ) -> CheckResult | tuple[CheckResult, dict]:
        if not is_stack_file(self.entity_path):
            return CheckResult.UNKNOWN
        for path, value, holder in walk(conf):
            problem = self.problem(path, value)
            if problem:
                self.details.append(problem)
                # The holding block carries the line marks: the report points at the offending setting.
                return CheckResult.FAILED, holder
        return CheckResult.PASSED
