"""`nexk compliance check` and `nexk compliance render`, as an auditor runs them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from nexk_cli.main import app

runner = CliRunner()


def test_compliance_check_without_checkov_passes_on_the_repository_and_lists_every_check(
    database: str,
) -> None:
    result = runner.invoke(
        app, ["compliance", "check", "--no-checkov", "--no-check-evidence", "--database", database]
    )
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    for name in (
        "every column of the migrated schema is classified in the dataset",
        "subprocessors and regions provisioned by every stack equal the register",
        "retention periods equal what the database enforces",
        "every statement of the published policy maps to a claim",
        "the generated documents are up to date",
    ):
        assert f"PASS {name}" in result.output


def test_compliance_check_fails_naming_an_unclassified_column(database: str) -> None:
    import psycopg

    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("alter table public.profiles add column mobile_phone text")
    result = runner.invoke(
        app, ["compliance", "check", "--no-checkov", "--no-check-evidence", "--database", database]
    )
    assert result.exit_code != 0
    assert "FAIL every column of the migrated schema is classified in the dataset" in result.output
    assert "column public.profiles.mobile_phone is not classified" in result.output


def test_compliance_render_writes_every_document_to_the_output_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compliance", "render", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "privacy-policy.en.md",
        "privacy-policy.fr.md",
        "privacy-policy.nl.md",
        "ropa.csv",
        "ropa.md",
        "ropa.pdf",
        "subprocessors.md",
    ]
