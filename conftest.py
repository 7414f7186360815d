"""Shared pytest set-up: the database harness and the Hypothesis profiles."""

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["db.testing"]

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
