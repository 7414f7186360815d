"""Entry point for `pulumi up`: load and validate the stack's settings, then declare everything."""

from infra.program import build
from infra.settings import settings_from_pulumi

# Settings are validated before the first resource exists: a bad stack file changes nothing.
build(settings_from_pulumi())
