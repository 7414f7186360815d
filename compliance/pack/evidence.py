"""What the evidence pack states, gathered once for every language: flows, settings, tests, history.

Every fact comes from a file of the repository or from running its own tools: the register (compliance/),
the stack files and the program under mocks (`infra.inventory`), the JUnit report of the last `make test`
(test-artifacts/junit.xml) and git. Nothing here is typed twice.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compliance.register import Register
from nexk.paths import REPO_ROOT

ENVIRONMENT_STACKS = ("dev", "staging", "prod")
JUNIT = Path("test-artifacts/junit.xml")
# The files whose history an auditor reviews: the register and every stack's settings.
HISTORY_PATHS = (
    "compliance/subprocessors.yaml",
    "compliance/fides",
    "compliance/retention.yaml",
    "compliance/security_measures.yaml",
    "compliance/claims.yaml",
    "Pulumi.dev.yaml",
    "Pulumi.staging.yaml",
    "Pulumi.prod.yaml",
    "Pulumi.repo.yaml",
)
HISTORY_LIMIT = 60


# --- Data flows -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    """Personal data leaving the portal for one subprocessor."""

    subprocessor: str  # register key
    entity: str
    country: str
    hosting_region: tuple[str, ...]  # as the register states it
    deployed_regions: tuple[
        str, ...
    ]  # as the prod stack declares it (empty: the vendor has no region setting)
    transfer_mechanism: str
    data_subjects: tuple[str, ...]  # fideslang data-subject keys (customer, employee)
    data_categories: tuple[str, ...]


def flows(register: Register, deployed: dict[str, tuple[str, ...]]) -> list[Flow]:
    """One flow per subprocessor: who reaches it (the declarations whose egress names it), what it carries."""
    out = []
    for sub in register.subprocessors.subprocessors:
        subjects = sorted(
            {
                s
                for d in register.system["privacy_declarations"]
                if sub.key in (d.get("egress") or [])
                for s in d["data_subjects"]
            }
        )
        out.append(
            Flow(
                subprocessor=sub.key,
                entity=sub.legal_entity,
                country=sub.country,
                hosting_region=tuple(sub.hosting_region),
                deployed_regions=deployed.get(sub.key, ()),
                transfer_mechanism=sub.transfer_mechanism,
                data_subjects=tuple(subjects),
                data_categories=tuple(sub.data_categories),
            )
        )
    return out


# --- Reviewable settings, with the file and line that set them ---------------------------------------------


@dataclass(frozen=True)
class Setting:
    stack: str
    name: str  # a key of words.SETTINGS
    value: str
    file: str
    line: int


# Settings of the stack files: (name, config path). The line is read from the YAML itself.
STACK_SETTINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("supabase_region", ("nexk:supabase", "region")),
    ("function_regions", ("nexk:portal", "functionRegions")),
    ("pitr", ("nexk:supabase", "pitr")),
    ("db_allowed_cidrs", ("nexk:supabase", "dbAllowedCidrs")),
    ("db_allowed_cidrs_v6", ("nexk:supabase", "dbAllowedCidrsV6")),
    ("sender_domain", ("nexk:brevo", "senderDomain")),
    ("preview_protection", ("nexk:portal", "previewProtection")),
)
# Settings fixed in the program for every stack: (name, file, pattern of the line, inventory type, input).
CODE_SETTINGS: tuple[tuple[str, str, str, str, str], ...] = (
    ("function_failover", "infra/vercel_portal.py", r"function_failover=", "vercel:index/project:Project", "functionFailover"),
    ("mfa", "infra/supabase_platform.py", r'"mfa_totp_enroll_enabled":', "supabase:AuthSettings", "mfa_totp_enroll_enabled"),
    ("ssl_enforcement", "infra/supabase_platform.py", r"SslEnforcement\(", "supabase:SslEnforcement", "database"),
)  # fmt: skip
REPO_SETTINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("github_owner", ("github:owner",)),
    ("protected_branch", ("nexk:repo", "branch")),
    ("required_approvals", ("nexk:repo", "requiredApprovals")),
)


def yaml_line(text: str, path: tuple[str, ...]) -> tuple[Any, int] | None:
    """The value at `path` under `config:` of a stack file and its 1-based line, or None when absent."""
    node = yaml.compose(text)
    if node is None:  # an empty file
        return None
    for key in ("config", *path):
        if not isinstance(node, yaml.MappingNode):
            return None
        match = next((v for k, v in node.value if k.value == key), None)
        if match is None:
            return None
        node = match
    value = yaml.safe_load(yaml.serialize(node))
    return value, node.start_mark.line + 1


def code_line(file: str, pattern: str, root: Path = REPO_ROOT) -> int:
    for number, text in enumerate((root / file).read_text(encoding="utf-8").splitlines(), start=1):
        if re.search(pattern, text):
            return number
    raise LookupError(f"{file}: no line matches {pattern!r} (the evidence pack's CODE_SETTINGS is stale)")


def show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value)
    return str(value)


def stack_settings(inventories: dict[str, Any], root: Path = REPO_ROOT) -> list[Setting]:
    """Every reviewable setting of every stack, as declared, with where it is set."""
    out: list[Setting] = []
    for stack in ENVIRONMENT_STACKS:
        file = f"Pulumi.{stack}.yaml"
        text = (root / file).read_text(encoding="utf-8")
        for name, path in STACK_SETTINGS:
            found = yaml_line(text, path)
            if found is not None:
                out.append(Setting(stack, name, show(found[0]), file, found[1]))
        resources = inventories[stack].resources
        for name, code_file, pattern, type_suffix, key in CODE_SETTINGS:
            values = [r.settings.get(key) for r in resources if r.type.endswith(type_suffix)]
            out.append(
                Setting(
                    stack,
                    name,
                    show(values[0] if values else None),
                    code_file,
                    code_line(code_file, pattern, root),
                )
            )
    repo_file = "Pulumi.repo.yaml"
    text = (root / repo_file).read_text(encoding="utf-8")
    for name, path in REPO_SETTINGS:
        found = yaml_line(text, path)
        if found is not None:
            out.append(Setting("repo", name, show(found[0]), repo_file, found[1]))
    from infra.repo.workflow import WORKFLOW, isolation_gate, required_checks

    workflow = root / WORKFLOW
    gate = isolation_gate(workflow)
    out.append(
        Setting(
            "repo",
            "required_checks",
            show(required_checks(workflow)),
            str(WORKFLOW),
            code_line(str(WORKFLOW), rf"name: {re.escape(gate)}$", root),
        )
    )
    return out


# --- Test results of the last run ---------------------------------------------------------------------------


@dataclass
class TestRun:
    found: bool
    path: str
    timestamp: str = ""
    commit: str = ""
    results: dict[str, str] = field(
        default_factory=dict
    )  # node id (without parameters) -> passed/failed/skipped

    def result(self, node_id: str) -> str:
        return self.results.get(node_id, "not run") if self.found else "no report"


def _node_id(classname: str, name: str) -> str:
    """JUnit's classname `tests.compliance.test_render` (or `...test_x.TestClass`) back to a pytest node id."""
    parts = classname.split(".")
    if len(parts) > 1 and parts[-1][:1].isupper():  # a test class
        return "/".join(parts[:-1]) + f".py::{parts[-1]}::{name.split('[')[0]}"
    return "/".join(parts) + f".py::{name.split('[')[0]}"


def read_junit(path: Path) -> TestRun:
    if not path.is_file():
        return TestRun(found=False, path=str(path))
    root = ET.parse(path).getroot()  # noqa: S314 (our own pytest's report)
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return TestRun(found=False, path=str(path))
    run = TestRun(found=True, path=str(path), timestamp=suite.get("timestamp", ""))
    for prop in suite.iter("property"):
        if prop.get("name") == "commit":
            run.commit = prop.get("value", "")
    rank = {"passed": 0, "skipped": 1, "failed": 2}
    for case in suite.iter("testcase"):
        outcome = "passed"
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        node = _node_id(case.get("classname", ""), case.get("name", ""))
        # A parametrized test passes only when every one of its cases passed.
        if rank[outcome] >= rank.get(run.results.get(node, "passed"), 0):
            run.results[node] = outcome
    return run


# --- History from git ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    commit: str
    date: str
    subject: str
    files: tuple[str, ...]


def history(root: Path = REPO_ROOT, limit: int = HISTORY_LIMIT) -> list[Change]:
    """The commits that changed the register or a stack file, newest first (empty outside a git checkout)."""
    result = subprocess.run(
        [
            "git",
            "-C",
            str(root),
            "log",
            f"-n{limit}",
            "--date=short",
            "--format=%x1e%h%x1f%ad%x1f%s",
            "--name-only",
            "--",
            *HISTORY_PATHS,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    changes = []
    for record in result.stdout.split("\x1e"):
        if not record.strip():
            continue
        head, _, names = record.partition("\n")
        commit, day, subject = head.split("\x1f", 2)
        changes.append(Change(commit, day, subject, tuple(n for n in names.split("\n") if n.strip())))
    return changes


# --- Everything --------------------------------------------------------------------------------------------


@dataclass
class Evidence:
    register: Register
    flows: list[Flow]
    settings: list[Setting]
    tests: TestRun
    history: list[Change]
    generated_commit: str


def gather(register: Register, junit: Path | None = None, root: Path = REPO_ROOT) -> Evidence:
    from infra.inventory import inventory

    inventories = {stack: inventory(stack) for stack in ENVIRONMENT_STACKS}
    deployed: dict[str, set[str]] = {}
    for item in inventories["prod"].resources:
        if item.subprocessor:
            regions = deployed.setdefault(item.subprocessor, set())
            for key, value in item.settings.items():
                if "region" in key.lower():
                    regions.update([value] if isinstance(value, str) else value)
    commit = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return Evidence(
        register=register,
        flows=flows(register, {k: tuple(sorted(v)) for k, v in deployed.items()}),
        settings=stack_settings(inventories, root),
        tests=read_junit(junit or root / JUNIT),
        history=history(root),
        generated_commit=commit or "unknown",
    )
