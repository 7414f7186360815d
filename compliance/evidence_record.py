"""The evidence record: what each test of the last run touched, and the rule that a claim needs a test that
touched something.

A test that only reads the register (it compares a YAML value with the same literal) proves that the register
says what it says, not that the platform does it. A test is *behavioural evidence* when, while its body ran,
it made the database execute a statement, the portal serve a request, the infrastructure program register
a resource under Pulumi's mocks, or a TLS handshake happen (the transport-encryption tests). `compliance/evidence_pytest.py` records that for every test into
test-artifacts/evidence.json; `check_claims_evidence` refuses a claim of compliance/claims.yaml whose linked
tests are all register-only, or whose behavioural tests did not pass in that run.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nexk.paths import REPO_ROOT

RECORD = Path("test-artifacts") / "evidence.json"
# What a test can touch, in the order the record lists them.
KINDS = ("db", "app", "infra", "tls")
KIND_WORDS = {
    "db": "a statement executed by PostgreSQL",
    "app": "a request served by the portal",
    "infra": "a resource registered by the infrastructure program",
    "tls": "a TLS handshake, refused or completed",
}
_PARAMETERS = re.compile(r"\[.*\]$")


@dataclass
class FunctionEvidence:
    """One test function (all its parametrised cases together): what it touched, and whether it passed."""

    kinds: set[str] = field(default_factory=set)
    passed: bool = True

    @property
    def behavioural(self) -> bool:
        return bool(self.kinds)


@dataclass(frozen=True)
class EvidenceRecord:
    path: Path
    commit: str
    finished_at: str
    tests: dict[str, dict[str, Any]]  # pytest node id (with parameters) -> {"kinds": [...], "outcome": ...}

    def of(self, test: str) -> FunctionEvidence | None:
        """The evidence of a `file::function` id as claims.yaml writes it; None when the run did not run it.

        A parametrised test touched what any of its cases touched, and passed only if every case passed.
        """
        found: FunctionEvidence | None = None
        for node, entry in self.tests.items():
            if _PARAMETERS.sub("", node) != test:
                continue
            found = found or FunctionEvidence()
            found.kinds.update(entry.get("kinds", ()))
            found.passed &= entry.get("outcome") == "passed"
        return found


def write_record(path: Path, commit: str, finished_at: str, tests: dict[str, dict[str, Any]]) -> None:
    """Replace the record in one step (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "commit": commit,
        "finished_at": finished_at,
        "kinds": KIND_WORDS,
        "tests": dict(sorted(tests.items())),
    }
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    partial.replace(path)


def read_record(path: Path) -> EvidenceRecord | None:
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return EvidenceRecord(
        path, data.get("commit", "unknown"), data.get("finished_at", "unknown"), data["tests"]
    )


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def check_claims_evidence(
    claims: Any,
    record: EvidenceRecord | None,
    path: Path = REPO_ROOT / RECORD,
    head: str | None = None,
    measures: Any = None,
) -> list[str]:
    """Every claim (and security measure) has a linked test that, in the last run, touched the platform and
    passed.

    `claims` is the register's Claims (compliance/claims.yaml), `measures` its SecurityMeasures
    (compliance/security_measures.yaml, optional); `record` the last run's evidence record, None when there is
    none (then nothing can be judged, and the one problem says how to make one). `head`, when given, is the
    commit checked out: a record of another commit proves nothing about this one.
    """
    if record is None:
        return [
            f"no evidence record {_shown(path)}: run the tests first (`make test`, or `.venv/bin/pytest` on the "
            "tests claims.yaml links), which write it, then check again"
        ]
    problems = []
    if head and record.commit != head:
        problems.append(
            f"{_shown(record.path)} records a test run of commit {record.commit[:12]}, but {head[:12]} is checked "
            "out: run the tests again (`make test`) so the evidence is about this commit"
        )
    linked = [(f"compliance/claims.yaml: claim `{c.key}`", "claim", c.tested_by) for c in claims.claims]
    if measures is not None:
        linked += [
            (f"compliance/security_measures.yaml: measure `{m.key}`", "measure", m.tested_by)
            for m in measures.measures
        ]
    for where, what, tests in linked:
        evidence = {test: record.of(test) for test in tests}
        if any(e is not None and e.behavioural and e.passed for e in evidence.values()):
            continue
        register_only = [t for t, e in evidence.items() if e is not None and not e.behavioural]
        failed = [t for t, e in evidence.items() if e is not None and e.behavioural and not e.passed]
        not_run = [t for t, e in evidence.items() if e is None]
        details = []
        if register_only:
            details.append(
                f"{', '.join(register_only)} only read{'s' if len(register_only) == 1 else ''} the register "
                "(touched no database, portal, infrastructure program or TLS handshake)"
            )
        if failed:
            details.append(f"{', '.join(failed)} did not pass: fix {'it' if len(failed) == 1 else 'them'}")
        if not_run:
            details.append(
                f"{', '.join(not_run)} did not run: run {'it' if len(not_run) == 1 else 'them'} (`make test`)"
            )
        problems.append(
            f"{where} is not proven by any behavioural test of the run in {_shown(record.path)} (commit "
            f"{record.commit[:12]}): {'; '.join(details)}. Add to its tested_by a test that exercises the code or "
            f'database enforcing the {what} (docs/compliance.md, "Evidence that proves")'
        )
    return problems
