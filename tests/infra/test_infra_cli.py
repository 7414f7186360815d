"""`nexk infra inventory`: every resource with its subprocessor and audited settings, offline."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from infra.cli import app

runner = CliRunner()


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_inventory_json_lists_every_resource_with_its_subprocessor(stack: str) -> None:
    result = runner.invoke(app, ["inventory", "--stack", stack, "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["stack"] == stack
    assert {s["key"]: s["registered"] for s in report["subprocessors"]} == {
        "brevo": True,
        "supabase": True,
        "vercel": True,
    }
    project = next(r for r in report["resources"] if r["type"] == "pulumi-python:dynamic/supabase:Project")
    assert project["settings"]["region"] == "eu-central-1"
    assert project["country"] == "DE" and project["secrets"] == ["db_pass"]
    vercel = next(r for r in report["resources"] if r["type"] == "vercel:index/project:Project")
    assert vercel["settings"]["resourceConfig.functionDefaultRegions"] == ["fra1"]
    assert vercel["transfer_mechanism"] == "SCC"


def test_inventory_never_prints_secret_values() -> None:
    result = runner.invoke(app, ["inventory", "--stack", "prod", "--json"])

    assert "generated-supabase-db-password" not in result.stdout
    assert "mock-secret-value" not in result.stdout
    assert "postgresql://" not in result.stdout


def test_inventory_table_for_humans_shows_subprocessors_and_regions() -> None:
    result = runner.invoke(app, ["inventory", "--stack", "prod"])

    assert result.exit_code == 0, result.output
    assert "Sendinblue SAS" in result.stdout and "eu-central-1" in result.stdout
    assert "nexk:brevoSmtpKey is not set" in result.stdout


def test_inventory_of_an_unknown_stack_fails_with_one_clear_line() -> None:
    result = runner.invoke(app, ["inventory", "--stack", "qa"])

    assert result.exit_code == 1
    assert "no such stack file" in result.output and "Traceback" not in result.output
