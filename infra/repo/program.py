"""The protection of `main`: pull requests only, the CI jobs green and up to date, for administrators too.

Declared with Pulumi's official GitHub provider (pulumi-github, `github.BranchProtection`, arguments as in
its SDK: repository_id, pattern, enforce_admins, allows_deletions, allows_force_pushes, required_status_checks
[contexts, strict], required_pull_request_reviews [required_approving_review_count, dismiss_stale_reviews]).
The GitHub owner comes from the provider's own config, `github:owner` in Pulumi.repo.yaml.

Why BranchProtection rather than the provider's RepositoryRuleset: each requirement of the gate is one named
argument here (enforce_admins, allows_force_pushes, allows_deletions, strict), which the policy pack and an
auditor read as such; a ruleset states "administrators included" only as the absence of bypass actors.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_github as github

from .settings import RepoSettings
from .workflow import required_checks


def build_gate(settings: RepoSettings, workflow: Path | None = None) -> github.BranchProtection:
    checks = required_checks(workflow)
    protection = github.BranchProtection(
        "main-protection",
        repository_id=settings.repository,
        pattern=settings.branch,
        # Administrators follow the same rules: nobody merges around a red isolation suite.
        enforce_admins=True,
        allows_deletions=False,
        allows_force_pushes=False,
        required_status_checks=[
            # strict: the branch must be up to date with main, so the checks ran on what will be merged.
            github.BranchProtectionRequiredStatusCheckArgs(contexts=checks, strict=True)
        ],
        required_pull_request_reviews=[
            github.BranchProtectionRequiredPullRequestReviewArgs(
                required_approving_review_count=settings.required_approvals,
                dismiss_stale_reviews=True,
            )
        ],
        require_conversation_resolution=True,
    )
    pulumi.export("protectedBranch", settings.branch)
    pulumi.export("requiredChecks", checks)
    return protection
