"""The CI jobs a pull request must pass, read from the workflow file rather than retyped.

GitHub reports a job's check run under the job's `name` (its id when it has none), and a required status check
names exactly that. A job whose `if:` limits it to events other than pull requests (the nightly mutation run)
never reports on a pull request, so requiring it would block every merge: only the jobs that run on pull
requests are required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from infra.settings import REPO_ROOT, SettingsError

WORKFLOW = Path(".github/workflows/ci.yml")
# The job that runs the README's test command (`.ci/run` = `make test`), hence the isolation suite (db/tests).
ISOLATION_SUITE_COMMANDS = (".ci/run", "make test")
EVENT_TEST = re.compile(r"github\.event_name\s*==\s*'([a-z_]+)'")


@dataclass(frozen=True)
class Job:
    id: str
    check: str  # the name GitHub gives its check run
    runs_on_pull_requests: bool
    runs_isolation_suite: bool


def _runs_on_pull_requests(condition: object) -> bool:
    """False only for an `if:` made of event tests none of which is pull_request (anything else may run)."""
    if not isinstance(condition, str):
        return True
    events = EVENT_TEST.findall(condition)
    return not events or "pull_request" in events


def read_jobs(path: Path | None = None) -> list[Job]:
    path = path or REPO_ROOT / WORKFLOW
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise SettingsError(
            f"{path}: no such workflow file (the merge gate reads its CI job names there)"
        ) from exc
    # YAML 1.1 reads the key `on` as True; the jobs are what matter here.
    jobs = document.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        raise SettingsError(f"{path}: no `jobs:` mapping, so there is no CI check to require")
    found = []
    for job_id, job in jobs.items():
        steps = job.get("steps") or []
        commands = " ".join(str(step.get("run", "")) for step in steps if isinstance(step, dict))
        found.append(
            Job(
                id=str(job_id),
                check=str(job.get("name") or job_id),
                runs_on_pull_requests=_runs_on_pull_requests(job.get("if")),
                runs_isolation_suite=any(cmd in commands for cmd in ISOLATION_SUITE_COMMANDS),
            )
        )
    return found


def required_checks(path: Path | None = None) -> list[str]:
    """The check names of every job that runs on pull requests, in the workflow's order."""
    return [job.check for job in read_jobs(path) if job.runs_on_pull_requests]


def isolation_gate(path: Path | None = None) -> str:
    """The check name of the job that runs the isolation suite on pull requests."""
    gates = [job.check for job in read_jobs(path) if job.runs_on_pull_requests and job.runs_isolation_suite]
    if len(gates) != 1:
        raise SettingsError(
            f"{path or WORKFLOW}: expected one pull-request job running {' or '.join(ISOLATION_SUITE_COMMANDS)} "
            f"(the isolation gate), found {gates or 'none'}"
        )
    return gates[0]


def workflow_mismatches(required: list[str], path: Path | None = None) -> list[str]:
    """How a protection's required checks and the workflow disagree, in words (empty when they agree).

    A required check no job reports blocks every pull request forever; a pull-request job left out of the
    required checks can fail without stopping the merge. Both happen when a job is renamed in ci.yml and the
    protection is not applied again (`pulumi up --stack repo`, docs/ops.md).
    """
    reported = required_checks(path)
    where = path or WORKFLOW
    problems = [
        f"required check {name!r} is reported by no pull-request job of {where} (jobs: {reported}); "
        "was a job renamed? apply the gate again: pulumi up --stack repo"
        for name in required
        if name not in reported
    ]
    problems += [
        f"CI job {name!r} of {where} runs on pull requests but is not a required check; apply the gate again: "
        "pulumi up --stack repo"
        for name in reported
        if name not in required
    ]
    return problems
