"""`nexk rls ...`: proofs and checks of the row level security. Each command lives in its own module and
is registered here, so adding one (e.g. `mutate`) is an import and a decorator."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from db.rls.findings import ALLOW_FILE, RULES, Level, Reported

app = typer.Typer(
    help="Row level security: static and catalog lint of the policies.",
    no_args_is_help=True,
)


@app.callback()
def rls() -> None:
    """Row level security: static and catalog lint of the policies."""
    # A callback keeps `rls` a command group even while it has a single command (typer would collapse it).


_RULE_LIST = ", ".join(f"{r.label} ({r.level})" for r in RULES.values())


@app.command(
    help=(
        "Lint the RLS set-up: static checks over db/schema and db/policies (pglast AST, findings at "
        "file:line) and catalog checks on a migrated database (Supabase splinter's security rules plus the "
        "project's: FORCE on every API table, a policy for every granted command, staff MFA restrictive "
        "policies, indexed policy columns). Without --database-url a throw-away database is created on the "
        "local server, migrated from db/, linted and dropped.\n\n"
        "Exit status: 1 if any ERROR (security) or WARN (performance the project refuses to ship) finding "
        "is not covered by db/rls/lint-allow.yaml; INFO findings are printed and never fail. Covered "
        "findings are printed as 'allowed: <reason>'.\n\nRules: " + _RULE_LIST
    )
)
def lint(
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Lint this (already migrated) database, not a scratch one."),
    ] = None,
    static_only: Annotated[
        bool, typer.Option("--static-only", help="Only the static checks: no database.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON (one array).")] = False,
    allow_list: Annotated[
        Path, typer.Option("--allow-list", help="The documented exceptions (YAML).")
    ] = ALLOW_FILE,
) -> None:
    from db.rls.lint import run

    reported = run(database_url, static_only=static_only, allow_file=allow_list)
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in reported], indent=2))
    else:
        _print(reported)
    if any(r.fails for r in reported):
        raise typer.Exit(1)


_STYLE = {Level.ERROR: "bold red", Level.WARN: "yellow", Level.INFO: "cyan"}


def _print(reported: list[Reported]) -> None:
    # Wide enough for a hint when piped (CI logs), the terminal's width otherwise.
    console = Console(width=None if sys.stdout.isatty() else 180)
    if not reported:
        console.print("RLS lint: no findings.")
        return
    table = Table("level", "rule", "where", "message", "hint", show_lines=True)
    for item in reported:
        f = item.finding
        level = Text(str(f.level), style=_STYLE[f.level] if item.allowed is None else "dim")
        hint = f.fix if item.allowed is None else f"allowed: {item.allowed}"
        # Text(), not markup: SQL such as `(storage.foldername(name))[1]` must print as written.
        table.add_row(level, RULES[f.rule].label, Text(f.where), Text(f.message), Text(hint))
    console.print(table)
    failing = sum(r.fails for r in reported)
    console.print(f"{failing} failing finding(s), {len(reported) - failing} not failing (INFO or allowed).")


@app.command(
    help=(
        "Mutation testing of the policies: derive mutants from db/policies and the helper/view migrations "
        "(pglast AST: drop a policy, USING/CHECK -> true, drop a conjunct, drop WITH CHECK, restrictive -> "
        "permissive, to public, disable RLS, drop FORCE, drop the MFA policy, widen a column grant, drop "
        "security_invoker, drop a helper's search_path), apply each to a fresh copy of a migrated template "
        "database (policy mutants: the mutated policy file re-applied the way `migrate` applies policy files; "
        "schema mutants: the mutated create-or-replace statement replayed), run the isolation suite and the "
        "attack catalogue against it, and report killed and surviving mutants.\n\nExit status: 1 if any mutant "
        "not documented in db/rls/equivalent-mutants.yaml survives."
    )
)
def mutate(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
    json_out: Annotated[
        Path | None, typer.Option("--json-out", help="Also write the JSON report here.")
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Only mutants whose id matches (glob or substring).")
    ] = None,
    examples: Annotated[
        int, typer.Option("--examples", help="Worlds per isolation-suite run (0: skip it).")
    ] = 3,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the isolation suite.")] = 20261126,
    workers: Annotated[int, typer.Option("--workers", help="Mutants run in parallel.")] = 2,
    all_killers: Annotated[
        bool, typer.Option("--all-killers", help="Run every killer on every mutant (slower; shows overlap).")
    ] = False,
) -> None:
    from db.connection import database_url
    from db.rls import mutate as mutation

    report = mutation.run(
        database_url(start=True),
        only=only,
        examples=examples,
        seed=seed,
        workers=workers,
        all_killers=all_killers,
    )
    payload = json.dumps(report.as_dict(), indent=2)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(payload + "\n", encoding="utf-8")
    if as_json:
        typer.echo(payload)
    else:
        mutation.render(report, Console(width=None if sys.stdout.isatty() else 200))
    if report.survived:
        raise typer.Exit(1)
