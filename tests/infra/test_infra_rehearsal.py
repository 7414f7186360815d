"""The offline rehearsal of each stack's lifecycle (`nexk infra rehearse`): the real program and providers
against the vendor simulators, phase by phase as docs/ops.md describes the first deployment of a stack.

One rehearsal per stack (module-scoped, about 20-30 s each); the tests read what it did. Dev rehearses
against a real PostgreSQL database standing in for the project's (the migration runner and the portal's and
the notifier's role passwords run there), on a cluster of its own: role passwords are cluster-wide, and the
rehearsal sets, then (destroy) removes, nexk_portal's, which the other tests' portals log in with. The
migrations are the same for every stack, so staging and prod rehearse their database resources by check and
diff, which the rehearsal says on those steps.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.notifications.catalog import load_templates
from db.cluster import LocalCluster, stop_server_in
from infra.rehearsal import vendor_calls
from infra.rehearsal.contract_check import read_record, violations
from infra.rehearsal.scenario import CHANGED_JWT_EXPIRY, Rehearsal, rehearse

STACKS = ("dev", "staging", "prod")


@contextmanager
def cluster_of_its_own(home: Path) -> Iterator[str]:
    """The owner URL of a throw-away local cluster in `home`, stopped and deleted afterwards. As root its server
    files go to a private stand-in for /var/lib/nexk (as the `cluster_server_root` fixture does)."""
    root = Path(tempfile.mkdtemp(prefix="nexk-server-root-", dir="/tmp"))
    root.chmod(0o755)  # the service user must reach it
    home.parent.chmod(0o755)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEXK_SERVER_ROOT", str(root))
        cluster = LocalCluster(home)
        try:
            yield cluster.start().url
        finally:
            cluster.destroy()
            for data_dir in root.glob("*/pgdata"):
                stop_server_in(data_dir)
            shutil.rmtree(root)


@pytest.fixture(scope="module", params=STACKS)
def rehearsal(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Rehearsal, list[str], list[dict]]]:
    stack = request.param
    record = vendor_calls.log_path()
    before = len(read_record(record))
    printed: list[str] = []
    if stack == "dev":
        with cluster_of_its_own(tmp_path_factory.mktemp("rehearsal") / "nexk-home") as url:
            result = rehearse(stack, database_url=url, echo=printed.append)
    else:
        result = rehearse(stack, echo=printed.append)
    yield result, printed, read_record(record)[before:]


def test_the_first_up_creates_everything_once_despite_the_faults(rehearsal) -> None:
    result, _printed, _calls = rehearsal
    first = result.phase(1)
    assert {s.op for s in first.steps} == {"create"}
    # A 502 after Supabase committed the project: found by name and adopted, never POSTed again.
    assert first.facts["projects"] == 1
    assert first.facts["project_creates"] == [502]
    # Brevo: a template committed before a 5xx and a webhook committed before a dropped connection, adopted.
    assert first.facts["templates"] == len(load_templates())
    assert first.facts["webhooks"] == 1


def test_the_first_up_waits_out_the_rate_limit_window_and_the_ssl_restart(rehearsal) -> None:
    result, printed, _calls = rehearsal
    facts = result.phase(1).facts
    assert facts["rate_limited"] >= 1, "the used-up window answered 429 at least once"
    # Provisioning and the rate-limit window's reset were waited out (in virtual time), not given up on.
    sim = result.supabase
    assert facts["supabase_waited"] >= sim.provision_seconds + sim.rate_limit_window_seconds
    assert any("virtual time waited" in line for line in printed)


def test_the_first_up_leaves_the_domain_unauthenticated_and_exports_its_dns_records(rehearsal) -> None:
    result, _printed, _calls = rehearsal
    notes = result.phase(1).notes
    assert "senderDomainAuthenticated = False" in notes
    domain = result.engine.settings().brevo.sender_domain
    assert any(line.startswith(f"DNS to publish: TXT {domain} = brevo-code:") for line in notes)
    assert any(line.startswith(f"DNS to publish: TXT mail._domainkey.{domain}") for line in notes)
    assert any(line.startswith(f"DNS to publish: TXT _dmarc.{domain}") for line in notes)


def test_the_second_up_authenticates_the_domain_and_validates_the_sender(rehearsal) -> None:
    result, _printed, _calls = rehearsal
    second = result.phase(3)
    assert {(s.type, s.op) for s in second.steps if s.op != "same"} == {
        ("brevo:DomainAuthentication", "update"),
        ("brevo:Sender", "update"),
    }
    assert "senderDomainAuthenticated = True" in second.notes
    assert "senderActive = True" in second.notes


def test_an_up_without_changes_changes_nothing(rehearsal) -> None:
    result, _printed, _calls = rehearsal
    steps = result.phase(4).steps
    assert steps and {s.op for s in steps} == {"same"}, [s.line() for s in steps if s.op != "same"]


def test_a_changed_setting_is_an_update_in_place(rehearsal) -> None:
    result, _printed, _calls = rehearsal
    changed = [s for s in result.phase(5).steps if s.op != "same"]
    assert [(s.type, s.op) for s in changed] == [("supabase:AuthSettings", "update")]
    assert "jwt_exp" in changed[0].detail


def test_refresh_reports_dashboard_changes_as_drift_and_up_restores_the_code(rehearsal) -> None:
    result, _printed, _calls = rehearsal
    steps = result.phase(6).steps
    drift = {(s.type, s.detail) for s in steps if s.op == "drift"}
    assert ("supabase:Project", "changed outside Pulumi: instance_size") in drift
    assert ("brevo:TransactionalTemplate", "changed outside Pulumi: subject") in drift
    restored = {s.type for s in steps if s.op == "update"}
    assert {"supabase:Project", "brevo:TransactionalTemplate"} <= restored
    assert "replace" not in {s.op for s in steps}
    facts = result.phase(6).facts
    assert facts["instance_size"] == result.engine.settings().supabase.instance_size
    assert facts["template_subject"] == facts["original_subject"]


def test_destroy_removes_dev_and_staging_and_refuses_prod(rehearsal) -> None:
    result, _printed, _calls = rehearsal
    last = result.phase(7)
    if result.stack == "prod":
        assert any(
            note.startswith("refused: stack prod: refusing to destroy protected") for note in last.notes
        )
        assert last.steps == []
        assert (last.facts["projects"], last.facts["templates"]) == (1, len(load_templates()))
    else:
        assert {s.op for s in last.steps} == {"delete"}
        assert last.facts == {"projects": 0, "templates": 0, "webhooks": 0, "senders": 0, "domains": 0}


def test_every_call_the_rehearsal_made_is_an_operation_of_the_vendors_contracts(rehearsal) -> None:
    _result, _printed, calls = rehearsal
    assert {c["vendor"] for c in calls} == {"supabase", "gotrue", "brevo"}
    assert violations(calls) == []


def test_the_dev_rehearsal_runs_the_migrations_on_the_stand_in_database(rehearsal) -> None:
    result, _printed, _calls = rehearsal
    migrations = [s for s in result.phase(1).steps if s.type == "supabase:DatabaseMigrations"]
    assert len(migrations) == 1
    if result.stack == "dev":
        assert migrations[0].detail == ""
        assert result.engine.state.of_type("supabase:DatabaseMigrations") == []  # destroyed in phase 7
    else:
        assert "not carried out: no database" in migrations[0].detail
    # pg_cron: declared and checked, never created on the plain PostgreSQL that stands in for Supabase.
    (pg_cron,) = [s for s in result.phase(1).steps if s.type == "supabase:DatabaseExtension"]
    assert pg_cron.op == "create" and "not carried out" in pg_cron.detail


def test_the_rehearsal_prints_each_phase_and_its_steps(rehearsal) -> None:
    _result, printed, _calls = rehearsal
    text = "\n".join(printed)
    for number in range(1, 8):
        assert f"\n== {number}. " in "\n" + text
    assert f"supabase.jwtExpirySeconds -> {CHANGED_JWT_EXPIRY}" in text
    assert "create   supabase:Project project" in text


def test_nexk_infra_rehearse_runs_the_scenario_and_refuses_a_stack_that_is_no_environment() -> None:
    # The CLI hands the scenario its output (`echo`); a full run per stack is the fixture above. A stack with no
    # vendor (the merge gate) is refused with what to use instead, and a non-zero exit.
    from nexk_cli.main import app

    outcome = CliRunner().invoke(app, ["infra", "rehearse", "--stack", "repo"])

    assert outcome.exit_code == 1
    assert "not an environment" in outcome.output
    assert "nexk infra inventory --stack repo" in outcome.output
