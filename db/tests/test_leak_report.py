"""A leak shown as a leak: a planted leaking policy is reported by identity, table, command, the row's tenant
and the README rule, and the job summary's grid marks the cell."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from db.rls import killers, report
from db.rls.model import World
from db.rls.probe import check_world
from db.rls.report_pytest import write_summary
from db.rls.worlds import RandomChooser

# Added on top of the real policies: permissive policies are OR-ed, so every signed-in caller sees every ticket.
PLANTED_LEAK = "create policy planted_leak on public.tickets for select to authenticated using (true)"


@pytest.fixture
def owner(database: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database, autocommit=True) as conn:
        yield conn


def probe_reads(conn: psycopg.Connection, world: World) -> tuple[list[str], report.Grid]:
    grid = report.Grid()
    result = check_world(conn, world, RandomChooser(random.Random(0)), writers=0, grid=grid)
    return result.explanations, grid


def grid_row(summary: str, kind: str, table: str) -> dict[str, str]:
    """The cells of `table`'s row in `kind`'s section of the summary, by command."""
    section = summary.split(f"### {kind}\n", 1)[1].split("\n### ", 1)[0]
    header = next(line for line in section.splitlines() if line.startswith("| table |"))
    row = next(line for line in section.splitlines() if line.startswith(f"| `{table}` |"))
    commands = [c.strip() for c in header.strip("|").split("|")][1:]
    cells = [c.strip() for c in row.strip("|").split("|")][1:]
    return dict(zip(commands, cells, strict=True))


def test_a_planted_leak_names_identity_table_command_tenant_and_rule(
    owner: psycopg.Connection, small_world: World, tmp_path: Path
) -> None:
    owner.execute(PLANTED_LEAK)

    explanations, grid = probe_reads(owner, small_world)

    prefix = "LEAK: identity client_member m1 (org A, aal1); table public.tickets; command SELECT;"
    leak = next(e for e in explanations if e.startswith(prefix))
    # org B's ticket reached a member of org A (and tA2, a colleague's ticket in unshared org A).
    assert "rows tA2 (tenant: org A), tB1 (tenant: org B);" in leak
    assert (
        "the rule that forbids it: db/policies/README.md §3, tickets SELECT, client_member: visible" in leak
    )
    # anon has no grant at all; every signed-in identity without the right to tB1 leaks it.
    assert not any(e.startswith("LEAK: identity anon") for e in explanations)
    assert any("stranger" in e and "§2: anon and strangers" in e for e in explanations)

    summary_file = tmp_path / "step-summary.md"
    summary_file.write_text("## make test\n", encoding="utf-8")  # an earlier step's summary stays
    assert write_summary(grid.markdown(), {"GITHUB_STEP_SUMMARY": str(summary_file)}) == summary_file
    summary = summary_file.read_text(encoding="utf-8")

    assert summary.startswith("## make test\n## Tenant isolation: identity \u00d7 table \u00d7 command")
    assert "❌ **Isolation violations found**" in summary
    assert re.match(r"❌ \d+", grid_row(summary, "client_member", "public.tickets")["SELECT"])
    assert grid_row(summary, "client_member", "public.organizations")["SELECT"] == "✅"
    assert grid_row(summary, "admin", "public.tickets")["SELECT"] == "✅"  # admins see every ticket anyway
    assert "- LEAK: identity client_member m1 (org A, aal1); table public.tickets" in summary


def test_without_the_plant_the_grid_is_all_green(owner: psycopg.Connection, small_world: World) -> None:
    explanations, grid = probe_reads(owner, small_world)

    summary = grid.markdown()
    assert explanations == [] and "❌" not in summary
    assert "✅ **No isolation violation**: 0 violation(s)" in summary
    assert grid_row(summary, "client_member", "public.tickets")["SELECT"] == "✅"


def test_a_killer_finding_the_planted_leak_names_the_tenant_and_rule(database: str) -> None:
    with psycopg.connect(database) as conn:
        killers.build_world(conn)
        conn.commit()
        conn.execute(PLANTED_LEAK)
        conn.commit()

    found = killers.run_killers(database, names=("reads",))["reads"]
    with psycopg.connect(database, autocommit=True) as conn:
        tenants = report.killer_tenants(conn, killers.load_world(conn))
    explained = [report.explain_killer(problem, tenants) for problem in found]

    prefix = "LEAK: identity member_a1 (client_member); table public.tickets; command SELECT;"
    leak = next(e for e in explained if e.startswith(prefix))
    assert "(tenant: org_b)" in leak
    assert "db/policies/README.md §3, tickets SELECT, client_member: visible" in leak
    # The summary's grid marks the killer's finding in its cell.
    assert ("client_member", "public.tickets", "SELECT") in {report.killer_cell(p, "reads") for p in found}


def test_the_spec_rules_are_read_from_the_readme_table() -> None:
    assert report.spec_rule("public.tickets", "DELETE", "admin").endswith("— (retention job only)")
    assert report.spec_rule("public.organizations", "UPDATE", "client_admin").endswith("client_admin: —")
    assert report.spec_rule("public.holidays", "INSERT", "admin").endswith("admin: all")  # "(the same five)"
    assert report.spec_rule("private.notifications", "SELECT", "agent").startswith(
        "db/policies/README.md §3, private.notifications SELECT, agent: —"
    )
    assert "§2" in report.spec_rule("public.tickets", "SELECT", "anon")


def test_the_session_hook_writes_the_grid_to_the_artifact_and_the_job_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `make test` does at the end of the run, with a grid holding one violation."""
    from types import SimpleNamespace

    from db.rls import report_pytest

    grid = report.Grid()
    grid.record("client_member", "public.tickets", "SELECT")
    grid.flag(
        "client_member", "public.tickets", "SELECT", "LEAK: identity client_member m1; table public.tickets"
    )
    monkeypatch.setattr(report_pytest, "GRID", grid)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    session = SimpleNamespace(config=SimpleNamespace(rootpath=tmp_path))

    report_pytest.pytest_sessionfinish(session, 1)  # type: ignore[arg-type]

    written = summary.read_text(encoding="utf-8")
    assert written == (tmp_path / report_pytest.ARTIFACT).read_text(encoding="utf-8")
    assert grid_row(written, "client_member", "public.tickets") == {"SELECT": "❌ 1"}
    assert "- LEAK: identity client_member m1; table public.tickets" in written
