"""Entry point for `pulumi up`: load and validate the stack's settings, then declare everything.

Stack `repo` is the merge gate (the protection of main on GitHub, infra/repo/); every other stack is an
environment of the portal.
"""

import pulumi

from infra.repo import REPO_STACK

if pulumi.get_stack() == REPO_STACK:
    from infra.repo.program import build_gate
    from infra.repo.settings import repo_settings_from_pulumi

    build_gate(repo_settings_from_pulumi())
else:
    from infra.program import build
    from infra.settings import settings_from_pulumi

    # Settings are validated before the first resource exists: a bad stack file changes nothing.
    build(settings_from_pulumi())
