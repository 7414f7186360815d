"""`nexk rls mutate`: mutant derivation by AST, application to a database copy, killing and reporting.

The full mutation run (every mutant, nightly: `make mutate`) is not part of `make test`; these tests prove
the machinery on a handful of mutants in well under a minute.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pglast
import psycopg
import pytest
from typer.testing import CliRunner

from db import migrate as runner
from db.rls import killers, mutants, mutate
from db.rls.cli import app
from db.testing import Server


@pytest.fixture(scope="module")
def derived() -> list[mutants.Mutant]:
    return mutants.derive()


def test_derivation_yields_at_least_60_mutants_covering_every_operator_and_every_policy_file(derived):
    assert len(derived) >= 60
    operators = Counter(m.operator for m in derived)
    # No view exists (README §5 "No views"), so drop-security-invoker is proven on a synthetic view below.
    assert set(operators) == set(mutants.OPERATORS) - {"drop-security-invoker"}
    files = {Path(m.file).name for m in derived if m.kind == "policy"}
    assert files == {p.path.name for p in runner.load_policies()}


def test_mutant_ids_are_stable_and_unique(derived):
    again = [m.id for m in mutants.derive()]
    assert again == [m.id for m in derived]
    assert len(set(again)) == len(again)


def test_every_mutated_file_parses_and_differs_from_the_original(derived):
    texts = mutants.source_texts()
    for m in derived:
        mutated = m.apply(texts)[m.file]
        assert mutated != texts[m.file], m.id
        pglast.parse_sql(mutated)  # raises on a syntax error


def test_using_true_really_replaces_the_guard():
    texts = mutants.source_texts()
    m = next(m for m in mutants.derive() if m.id == "tickets.sql:tickets_select:using->true")
    stmt = pglast.parse_sql(m.statement)[0].stmt
    assert stmt.qual.val.boolval is True
    assert "current_org_id" not in m.statement
    assert m.where.startswith("db/policies/tickets.sql:")
    assert texts[m.file].count("create policy tickets_select") == 1


def test_drop_conjunct_removes_exactly_one_conjunct():
    m = next(m for m in mutants.derive() if m.id == "tickets.sql:tickets_insert:drop-conjunct:check:1")
    assert "current_org_id" not in m.statement and "auth.uid()" in m.statement and "'new'" in m.statement


def test_security_invoker_and_search_path_operators_mutate_schema_statements(tmp_path):
    schema, policies = tmp_path / "schema", tmp_path / "policies"
    schema.mkdir()
    policies.mkdir()
    (schema / "0001_view.sql").write_text(
        "create function private.me() returns uuid language sql stable set search_path = '' as $$ select null::uuid $$;\n"
        "create view public.v with (security_invoker = true) as select 1 as one;\n"
    )
    (policies / "t.sql").write_text(
        "alter table public.t enable row level security;\n"
        "create policy t_select on public.t for select to authenticated using (id = (select private.me()));\n"
    )
    found = {m.operator: m for m in mutants.derive(schema_dir=schema, policies_dir=policies)}
    assert "security_invoker" not in found["drop-security-invoker"].statement.lower()
    assert "search_path" not in found["drop-search-path"].statement.lower()
    assert found["drop-search-path"].kind == "schema"


@pytest.fixture(scope="module")
def mutation_template(pg_server: Server):
    with mutate.template_database(pg_server.url) as name:
        yield name


def _run(pg_server: Server, template: str, mutant_id: str, equivalents: dict[str, str] | None = None):
    m = next(m for m in mutants.derive() if m.id == mutant_id)
    return mutate.run_mutant(
        pg_server.url, template, m, mutants.source_texts(),
        equivalents=equivalents or {}, examples=0, seed=1, all_killers=False,
    )  # fmt: skip


def test_the_unmutated_policies_pass_every_killer(pg_server, mutation_template):
    with mutate.database_copy(pg_server.url, mutation_template) as dsn:
        with psycopg.connect(dsn) as conn:
            killers.build_world(conn)
            conn.commit()
        assert killers.run_killers(dsn, stop_at_first=False) == {
            "reads": [], "writes": [], "columns": [], "sweeper": [], "structure": []
        }  # fmt: skip


def test_tickets_select_using_true_is_killed_by_the_reads(pg_server, mutation_template):
    result = _run(pg_server, mutation_template, "tickets.sql:tickets_select:using->true")
    assert result.status == "killed"
    assert result.killed_by == ["reads"] and result.behavioural
    assert any("select public.tickets" in e for e in result.evidence)


def test_mutant_is_applied_to_a_copy_and_never_to_the_template(pg_server, mutation_template):
    _run(pg_server, mutation_template, "tickets.sql:tickets:disable-rls")
    url = pg_server.url_for(mutation_template)
    with psycopg.connect(url) as conn:
        assert conn.execute(
            "select relrowsecurity from pg_class where oid = 'public.tickets'::regclass"
        ).fetchone()[0]


def test_a_documented_equivalent_mutant_is_reported_as_equivalent(pg_server, mutation_template):
    mutant_id = "tickets.sql:tickets_update:drop-with-check"
    result = _run(pg_server, mutation_template, mutant_id, {mutant_id: "WITH CHECK equals USING"})
    assert result.status == "equivalent"
    assert result.equivalent_reason == "WITH CHECK equals USING"
    report = mutate.Report([result], 1.0, 1, False)
    assert report.as_dict()["equivalent"] == 1 and report.as_dict()["counted"] == 0


def test_every_documented_equivalent_names_a_real_mutant():
    ids = {m.id for m in mutants.derive()}
    for mutant_id, reason in mutate.load_equivalents().items():
        assert mutant_id in ids, f"{mutant_id} in equivalent-mutants.yaml matches no mutant"
        assert len(reason) > 20


def test_cli_prints_json_with_the_score_and_every_mutant(pg_server, monkeypatch, tmp_path):
    monkeypatch.setenv("NEXK_DATABASE_URL", pg_server.url)
    out = tmp_path / "mutation.json"
    result = CliRunner().invoke(
        app,
        ["mutate", "--only", "tickets.sql:tickets_select:using->true", "--examples", "0", "--json",
         "--json-out", str(out), "--workers", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert json.loads(out.read_text()) == data
    assert {"total", "killed", "survived", "equivalent", "score_percent", "seconds", "mutants"} <= set(data)
    assert data["total"] == 1 and data["score_percent"] == 100.0
    assert data["mutants"][0]["status"] == "killed"
