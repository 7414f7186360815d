"""`nexk compliance`: check the GDPR register against the platform, and render the documents from it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from nexk.errors import NexkError
from nexk.paths import REPO_ROOT

app = typer.Typer(
    help="The GDPR register (compliance/): cross-checks against schema, infra and database; generated documents.",
    no_args_is_help=True,
)
console = Console(highlight=False, soft_wrap=True)  # one problem per line, whatever the terminal


def _status(name: str, problems: list[str], seconds: float | None = None) -> None:
    mark = Text("PASS ", style="bold green") if not problems else Text("FAIL ", style="bold red")
    timing = f" ({seconds:.1f}s)" if seconds is not None else ""
    console.print(mark + Text(name + timing))
    for problem in problems:
        console.print(Text("     - " + problem))


@app.command()
def check(
    database: str = typer.Option(
        None, help="DSN of an already migrated database (default: a throw-away one on the local server)"
    ),
    checkov: bool = typer.Option(True, help="also run checkov (custom checks, secrets, workflows, OpenAPI)"),
    evidence: Annotated[
        Path | None,
        typer.Option(help="evidence record of the last test run (default: test-artifacts/evidence.json)"),
    ] = None,
    check_evidence: bool = typer.Option(
        True,
        "--check-evidence/--no-check-evidence",
        help="also require behavioural evidence for every claim (off inside the test run that writes the record)",
    ),
) -> None:
    """Validate the register and cross-check it; exit 1 naming every disagreement."""
    from compliance.crosscheck import run_checks
    from compliance.register import load

    register = load()  # a malformed file stops here: file, line, field
    _status("register files are valid fideslang 3.x and every taxonomy key exists", [])
    failed = False
    for result in run_checks(register, database=database):
        _status(result.name, result.problems)
        failed |= not result.passed
    if check_evidence:
        unproven = _claims_evidence(register, evidence)
        _status(EVIDENCE_CHECK, unproven)
        failed |= bool(unproven)
    if checkov:
        from compliance.checkov_run import export_openapi, run

        started = time.monotonic()
        problems: list[str] = []
        try:
            export_openapi()
        except NexkError as exc:
            problems.append(str(exc))
        outcome = run()
        problems += [str(f) for f in outcome.failed]
        problems += [f"custom check {c} did not run (failed to load?)" for c in _missing_custom(outcome)]
        _status(f"checkov ({', '.join(outcome.frameworks)})", problems, time.monotonic() - started)
        failed |= bool(problems)
    if failed:
        raise NexkError("the register and the platform disagree (see FAIL above)")
    console.print(Text("The register matches the platform.", style="bold green"))


EVIDENCE_CHECK = (
    "every claim and security measure is proven by a test that touched the database, the portal, the "
    "infrastructure program or TLS"
)


def _claims_evidence(register: Any, record: Path | None) -> list[str]:
    import subprocess

    from compliance.evidence_record import RECORD, check_claims_evidence, read_record

    path = record or REPO_ROOT / RECORD
    head = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return check_claims_evidence(
        register.claims, read_record(path), path, head=head or None, measures=register.security
    )


@app.command()
def evidence(
    record: Annotated[
        Path | None,
        typer.Option(help="evidence record to judge (default: test-artifacts/evidence.json of the last run)"),
    ] = None,
) -> None:
    """After the tests: refuse a claim or security measure whose linked tests are unknown or only read the register.

    Reads the record the last pytest run wrote (what each test touched: database, portal, infrastructure
    program); `make test` runs this right after pytest. Needs no database and no network.
    """
    from compliance.crosscheck import check_traceability
    from compliance.register import load

    register = load()
    unknown = check_traceability(register)
    _status("every claim and security measure points to existing code and tests", unknown)
    problems = _claims_evidence(register, record)
    _status(EVIDENCE_CHECK, problems)
    if unknown or problems:
        raise NexkError(
            "some claims or security measures are not proven by behavioural tests (see FAIL above)"
        )
    console.print(
        Text(
            "Every claim and security measure is proven by a behavioural test of the last run.",
            style="bold green",
        )
    )


def _missing_custom(outcome: object) -> list[str]:
    from compliance.checkov_run import CUSTOM_CHECKS

    return [c for c in CUSTOM_CHECKS if not outcome.ran(c)]  # type: ignore[attr-defined]


@app.command()
def render(
    output: Annotated[
        Path | None, typer.Option(help="folder to write to (default: compliance/generated/)")
    ] = None,
) -> None:
    """Render the privacy policy (en, fr, nl), the Art. 30 record (Markdown, CSV, PDF), the subprocessor list."""
    from compliance.register import load
    from compliance.render import GENERATED, write_all

    register = load()
    for path in write_all(register, output or GENERATED):
        shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        console.print(f"wrote {shown}")
    try:
        from compliance.checkov_run import export_openapi

        if output is None:
            console.print(f"wrote {export_openapi().relative_to(REPO_ROOT)}")
    except NexkError as exc:
        console.print(Text(f"openapi.json not written: {exc}", style="yellow"))


@app.command()
def pack(
    out: Annotated[
        Path, typer.Option("--out", help="folder to write the evidence pack to (created if missing)")
    ],
    junit: Annotated[
        Path | None,
        typer.Option(help="JUnit report of the last `make test` (default: test-artifacts/junit.xml)"),
    ] = None,
) -> None:
    """The auditor's evidence pack, HTML and PDF in en, fr, nl: data flows, stack settings with file:line,
    Art. 30 record, retention, security, claims -> code -> tests -> last results, history from git."""
    from compliance.pack import write_pack

    if out.exists() and not out.is_dir():
        raise NexkError(f"--out {out} is a file, not a folder: give a folder for the evidence pack")
    for path in write_pack(out, junit):
        console.print(f"wrote {path}")
