"""Stack `repo`'s settings (`nexk:repo` in Pulumi.repo.yaml): which repository, which branch, how many reviews.

The required checks are not a setting: they come from the workflow file (infra/repo/workflow.py), so renaming
a CI job cannot silently leave the gate requiring a check that never reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from infra.settings import NAMESPACE, REPO_ROOT, SettingsError, _Model, read_stack_file

from . import REPO_STACK


class RepoSettings(_Model):
    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="the repository's name (without owner)")
    branch: str = Field(default="main", min_length=1, description="the protected branch")
    required_approvals: int = Field(
        default=1, ge=1, le=6, description="approving reviews a pull request needs"
    )


def parse_repo_settings(config: dict[str, Any], source: str = f"Pulumi.{REPO_STACK}.yaml") -> RepoSettings:
    raw = config.get(f"{NAMESPACE}:repo")
    if not isinstance(raw, dict):
        raise SettingsError(f"{source}: nexk:repo is missing (repository, branch, requiredApprovals)")
    try:
        return RepoSettings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"nexk:repo.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SettingsError(f"{source}: {problems}") from exc


def load_repo_settings(root: Path = REPO_ROOT) -> tuple[RepoSettings, dict[str, Any]]:
    config, _secrets = read_stack_file(REPO_STACK, root)
    return parse_repo_settings(config), config


def repo_settings_from_pulumi() -> RepoSettings:
    """Under the Pulumi CLI: the same validation, fed by the engine's config of stack `repo`."""
    import pulumi

    return parse_repo_settings({f"{NAMESPACE}:repo": pulumi.Config(NAMESPACE).get_object("repo")})
