"""The policy pack's entry point: the Pulumi CLI runs this; it serves the policies until the CLI is done."""

from pulumi_policy import EnforcementLevel, PolicyPack

from infra.policy.policies import build_policies
from nexk.subprocessors import load_register

PolicyPack(
    name="mynexk-compliance",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=build_policies(load_register()),
)
