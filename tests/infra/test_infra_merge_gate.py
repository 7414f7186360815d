"""Stack `repo`: the protection of main, declared with pulumi-github, checked against the CI workflow."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from infra.cli import app
from infra.mocks import CapturedResource, run_repo_stack, run_stack
from infra.policy.offline import check
from infra.policy.policies import build_policies
from infra.repo.settings import parse_repo_settings
from infra.repo.workflow import isolation_gate, required_checks, workflow_mismatches
from infra.resource_types import GITHUB_BRANCH_PROTECTION
from infra.settings import REPO_ROOT, SettingsError
from nexk.subprocessors import load_register

WORKFLOW = REPO_ROOT / ".github/workflows/ci.yml"
POLICIES = build_policies(load_register())


@pytest.fixture(scope="module")
def protection() -> CapturedResource:
    (resource,) = [r for r in run_repo_stack().resources if r.type == GITHUB_BRANCH_PROTECTION]
    return resource


def declared_checks(resource: CapturedResource) -> list[str]:
    return [c for check in resource.get("requiredStatusChecks") for c in check["contexts"]]


def pull_request_job_names(workflow: Path) -> list[str]:
    """Read independently of infra/repo/workflow.py: each job's check name, unless it runs only off pull requests."""
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    return [
        job.get("name", job_id)
        for job_id, job in jobs.items()
        if "pull_request" in job.get("if", "pull_request") or "event_name" not in job.get("if", "")
    ]


def test_required_checks_are_the_pull_request_jobs_of_the_workflow(protection: CapturedResource) -> None:
    assert declared_checks(protection) == pull_request_job_names(WORKFLOW) == ["make test"]
    assert workflow_mismatches(declared_checks(protection), WORKFLOW) == []
    # The nightly mutation job never reports on a pull request: requiring it would block every merge.
    assert "RLS mutation run" not in declared_checks(protection)


def test_renaming_a_ci_job_breaks_the_cross_check(protection: CapturedResource, tmp_path: Path) -> None:
    renamed = tmp_path / "ci.yml"
    renamed.write_text(WORKFLOW.read_text().replace("name: make test\n", "name: tests\n", 1))
    assert pull_request_job_names(renamed) == ["tests"]  # the copy really renames the job

    problems = workflow_mismatches(declared_checks(protection), renamed)

    assert len(problems) == 2
    assert "required check 'make test' is reported by no pull-request job" in problems[0]
    assert "CI job 'tests'" in problems[1] and "pulumi up --stack repo" in problems[1]
    # The pack built from the renamed workflow refuses the protection as it stands.
    found = check("repo", [protection], build_policies(load_register(), renamed))
    assert {v.policy for v in found} == {"main-gated-by-isolation-suite"}


def test_the_gate_is_strict_for_administrators_through_pull_requests_only(
    protection: CapturedResource,
) -> None:
    assert protection.get("pattern") == "main" and protection.get("repositoryId") == "mynexk"
    assert protection.get("requiredStatusChecks")[0]["strict"] is True
    assert protection.get("enforceAdmins") is True
    assert protection.get("allowsForcePushes") is False and protection.get("allowsDeletions") is False
    assert protection.get("requiredPullRequestReviews")[0]["requiredApprovingReviewCount"] >= 1


def test_the_isolation_gate_is_the_job_that_runs_make_test() -> None:
    assert isolation_gate(WORKFLOW) == "make test" and required_checks(WORKFLOW) == ["make test"]


def test_the_repo_stack_passes_the_policy_pack(protection: CapturedResource) -> None:
    assert check("repo", [protection], POLICIES) == []


def _without(resource: CapturedResource, change: Callable[[dict], object]) -> CapturedResource:
    inputs = copy.deepcopy(resource.inputs)
    change(inputs)
    return replace(resource, inputs=inputs)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda i: i["requiredStatusChecks"][0].update(contexts=[]), "must include 'make test'"),
        (lambda i: i.pop("requiredStatusChecks"), "must include 'make test'"),
        (lambda i: i["requiredStatusChecks"][0].update(strict=False), "must be strict"),
        (lambda i: i.update(enforceAdmins=False), "enforce_admins must be true"),
        (lambda i: i.update(allowsForcePushes=True), "allows_force_pushes must be false"),
        (lambda i: i.pop("allowsDeletions"), "allows_deletions must be false"),
        (lambda i: i.pop("requiredPullRequestReviews"), "required_pull_request_reviews must be set"),
    ],
)
def test_the_pack_refuses_a_protection_that_weakens_the_gate(
    protection: CapturedResource, change: Callable[[dict], object], expected: str
) -> None:
    found = check("repo", [_without(protection, change)], POLICIES)

    assert found and {v.policy for v in found} == {"main-gated-by-isolation-suite"}
    assert any(expected in v.message for v in found), [v.message for v in found]


def test_a_github_resource_in_an_environment_stack_is_refused(protection: CapturedResource) -> None:
    found = check("prod", [*run_stack("prod").resources, protection], POLICIES)

    assert [v.policy for v in found] == ["only-registered-subprocessors"]
    assert "'github'" in found[0].message


def test_inventory_of_stack_repo_declares_the_isolation_gate_among_required_checks() -> None:
    result = CliRunner().invoke(app, ["inventory", "--stack", "repo", "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (gate,) = report["resources"]
    assert gate["type"] == GITHUB_BRANCH_PROTECTION and gate["settings"]["pattern"] == "main"
    assert isolation_gate() in gate["settings"]["requiredStatusChecks"][0]["contexts"]
    assert report["subprocessors"] == [] and gate["subprocessor"] is None


def test_a_repo_stack_without_its_settings_says_what_to_add() -> None:
    with pytest.raises(
        SettingsError, match=r"nexk:repo is missing \(repository, branch, requiredApprovals\)"
    ):
        parse_repo_settings({"github:owner": "nexk-it"})
    with pytest.raises(SettingsError, match=r"nexk:repo.requiredApprovals"):
        parse_repo_settings({"nexk:repo": {"repository": "mynexk", "requiredApprovals": 0}})


def test_rehearsing_stack_repo_says_it_is_not_an_environment() -> None:
    result = CliRunner().invoke(app, ["rehearse", "--stack", "repo"])

    assert result.exit_code == 1
    assert (
        "stack repo is the merge gate" in result.output
        and "nexk infra inventory --stack repo" in result.output
    )
