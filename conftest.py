"""Shared pytest set-up: the database harness and the Hypothesis profiles."""

import os

from hypothesis import HealthCheck, settings

# db.rls.report_pytest: every run stamps its JUnit report with the commit (the evidence pack reads it) and
# writes the isolation grid of the run, when the isolation suite ran, to the job summary.
pytest_plugins = ["db.testing", "db.rls.report_pytest"]

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
