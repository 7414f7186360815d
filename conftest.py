"""Shared pytest set-up: the database harness and the Hypothesis profiles."""

import os

import pytest
from hypothesis import HealthCheck, settings

# db.rls.report_pytest: every run stamps its JUnit report with the commit (the evidence pack reads it) and
# writes the isolation grid of the run, when the isolation suite ran, to the job summary.
# compliance.evidence_pytest: records what each test touched (database, portal, infrastructure program, TLS) in
# test-artifacts/evidence.json, which `nexk compliance evidence` reads to refuse claims proven by no behaviour.
pytest_plugins = ["db.testing", "db.rls.report_pytest", "compliance.evidence_pytest"]

# `dev` keeps the edit-test loop quick; `ci` (what `make test` uses) runs the full property budgets.
settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# -- parallel runs (pytest-xdist; `make test` runs `-n auto --dist loadgroup`) ------------------------------
# Tests are spread over worker processes a whole module at a time (the module-scoped portal servers and
# worlds are built once), except where modules share one session's state and must run in one worker:
_SHARED_GROUPS = {
    # tests/infra/conftest.py starts test-artifacts/vendor-calls.jsonl anew; the contract tests read what
    # every other infra test appended to it.
    "tests/infra/": "infra-vendor-call-record",
    # both fill the isolation grid (db/rls/report.py) that the session writes to the job summary at its end.
    "db/tests/test_isolation_property.py": "isolation-grid",
    "db/tests/test_mutant_killers.py": "isolation-grid",
}


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _is_worker(config):
        return
    root = config.rootpath
    for item in items:
        path = item.path.relative_to(root).as_posix()
        group = next((g for prefix, g in _SHARED_GROUPS.items() if path.startswith(prefix)), path)
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """loadgroup appends `@<group>` to each node id; the controller's reports (JUnit, which the evidence pack
    reads by node id) keep the test's own id. Workers keep the suffix: xdist tracks their items by it."""
    if not hasattr(report, "node"):
        return
    base, at, group = report.nodeid.rpartition("@")
    if at and (group in _SHARED_GROUPS.values() or group.endswith(".py")):
        report.nodeid = base
