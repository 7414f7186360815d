"""How an inventory is shown: a table at full width, a list in a narrow terminal, Markdown or JSON for reports.

The table has five columns whose settings cell holds several `key = value` lines; below WIDE_ENOUGH columns
rich would squeeze each column to a few characters and fold every word, so the same facts are printed as a
list instead (one heading per resource, one setting per line), which reads the same at 80 columns or 200.
"""

from __future__ import annotations

import json
from typing import Literal

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infra.inventory import Inventory, InventoryItem

Format = Literal["table", "markdown", "json"]
FORMATS: tuple[str, ...] = ("table", "markdown", "json")
# Below this many columns the resource table's settings column falls under ~40 characters and wraps mid-word.
WIDE_ENOUGH = 120


def _value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _kind(item: InventoryItem) -> str:
    return item.type.split(":")[-1]


def _register_line(sub: dict) -> tuple[str, str, str, str, str]:
    return (
        sub["key"],
        sub["legal_entity"] or "NOT REGISTERED",
        sub["country"] or "-",
        ", ".join(sub["hosting_region"] or []) or "-",
        sub["transfer_mechanism"] or "-",
    )


def as_json(result: Inventory) -> str:
    return json.dumps(result.as_dict(), indent=2, sort_keys=True)


def as_markdown(result: Inventory) -> str:
    """GitHub-flavoured Markdown: pipes inside values are escaped so a cell never splits a row."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", "<br>")

    lines = [f"# Inventory of stack `{result.stack}`", "", "## Subprocessors", ""]
    lines += [
        "| subprocessor | legal entity | country | hosting region | transfer |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(cell(c) for c in _register_line(sub)) + " |" for sub in result.subprocessors]
    lines += ["", f"## Resources ({len(result.resources)})", ""]
    lines += ["| subprocessor | type | name | settings | secrets |", "|---|---|---|---|---|"]
    for item in result.resources:
        settings = "<br>".join(f"`{k}` = `{cell(_value(v))}`" for k, v in item.settings.items())
        lines.append(
            f"| {item.subprocessor or 'local'} | {_kind(item)} | {cell(item.name)} | {settings} | "
            f"{', '.join(item.secrets)} |"
        )
    if result.missing_secrets:
        lines += ["", "## Not set yet", ""]
        lines += [f"- `{key}` (docs/ops.md, secrets)" for key in result.missing_secrets]
    return "\n".join(lines) + "\n"


def print_table(result: Inventory, console: Console) -> None:
    subs = Table(title=f"Subprocessors used by stack {result.stack}")
    for column in ("subprocessor", "legal entity", "country", "hosting region", "transfer"):
        subs.add_column(column)
    for sub in result.subprocessors:
        subs.add_row(*(escape(c) for c in _register_line(sub)))
    console.print(subs)

    table = Table(title=f"Resources of stack {result.stack} ({len(result.resources)})")
    for column in ("subprocessor", "type", "name", "settings", "secrets"):
        table.add_column(column, overflow="fold")
    for item in result.resources:
        settings = "\n".join(f"{k} = {_value(v)}" for k, v in item.settings.items())
        table.add_row(
            item.subprocessor or "local",
            _kind(item),
            escape(item.name),
            escape(settings),
            ", ".join(item.secrets),
        )
    console.print(table)


def print_list(result: Inventory, console: Console) -> None:
    """The narrow-terminal form: the same facts, one per line, long values folded under their key."""
    console.print(f"[bold]Subprocessors used by stack {result.stack}[/]")
    for sub in result.subprocessors:
        key, entity, country, regions, transfer = (escape(c) for c in _register_line(sub))
        console.print(f"- [bold]{key}[/]: {entity} ({country})")
        console.print(f"    hosting region: {regions}")
        console.print(f"    transfer: {transfer}")
    console.print()
    console.print(f"[bold]Resources of stack {result.stack} ({len(result.resources)})[/]")
    for item in result.resources:
        console.print(f"- [bold]{escape(item.name)}[/] ({_kind(item)}, {item.subprocessor or 'local'})")
        for key, value in item.settings.items():
            console.print(f"    {escape(key)} = {escape(_value(value))}", overflow="fold")
        if item.secrets:
            console.print(f"    secrets: {', '.join(item.secrets)}")


def show(result: Inventory, fmt: Format, console: Console | None = None) -> None:
    console = console or Console()
    if fmt == "json":
        # Plain print: rich would highlight or wrap the JSON, and a tool reading it wants it verbatim.
        console.file.write(as_json(result) + "\n")
        return
    if fmt == "markdown":
        console.file.write(as_markdown(result))
        return
    if console.width >= WIDE_ENOUGH:
        print_table(result, console)
    else:
        print_list(result, console)
    for key in result.missing_secrets:
        console.print(
            f"[yellow]note:[/] {key} is not set in Pulumi.{result.stack}.yaml yet (docs/ops.md, secrets)"
        )
