"""`nexk infra inventory` readable anywhere: a table at full width, a list at 80 columns, Markdown, JSON."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from infra.cli import app

runner = CliRunner()


def _inventory(*args: str, columns: int) -> str:
    result = runner.invoke(app, ["inventory", "--stack", "prod", *args], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_inventory_at_80_columns_is_a_list_whose_lines_fit_the_terminal() -> None:
    out = _inventory(columns=80)

    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert not any(ch in out for ch in "┃│┏")  # no table borders squeezed into 80 columns
    # Each setting sits whole on its own line under its resource, not folded into a cell of a few characters.
    assert '    resourceConfig.functionDefaultRegions = ["fra1"]' in lines
    assert '    region = "eu-central-1"' in lines
    assert "- supabase: Supabase Inc. (DE)" in lines
    assert "nexk:brevoSmtpKey is not set" in out


def test_inventory_at_full_width_is_a_table() -> None:
    out = _inventory(columns=200)

    assert "┃ subprocessor ┃" in out and "Sendinblue SAS" in out
    assert 'resourceConfig.functionDefaultRegions = ["fra1"]' in out
    assert max(len(line) for line in out.splitlines()) <= 200


def test_inventory_as_markdown_has_one_table_row_per_resource() -> None:
    out = _inventory("--format", "markdown", columns=80)
    report = json.loads(_inventory("--format", "json", columns=80))

    resource_rows = out.split("## Resources")[1].splitlines()[4:]
    resource_rows = [row for row in resource_rows if row.startswith("| ")]
    assert len(resource_rows) == len(report["resources"])
    assert all(row.count(" | ") == 4 for row in resource_rows)  # no stray pipe splits a cell
    assert "| supabase | Supabase Inc. | DE | eu-central-1 | none |" in out
    assert '`region` = `"eu-central-1"`' in out


@pytest.mark.parametrize("flag", [["--json"], ["--format", "json"]])
def test_inventory_json_flag_and_format_json_are_the_same(flag: list[str]) -> None:
    report = json.loads(_inventory(*flag, columns=80))

    assert report["stack"] == "prod" and {s["key"] for s in report["subprocessors"]} == {
        "brevo",
        "supabase",
        "vercel",
    }


def test_inventory_refuses_an_unknown_format_and_names_the_choices() -> None:
    result = runner.invoke(app, ["inventory", "--stack", "prod", "--format", "yaml"])

    assert result.exit_code == 2
    assert "'yaml' is not one of table, markdown, json" in result.output
