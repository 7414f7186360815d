"""Run the policies without the Pulumi CLI, over the resources the program declared under mocks.

This is pulumi-policy's own testing style (call `policy.validate(args, report)` with hand-built arguments),
fed with every resource `infra.mocks` captured, so "stack prod passes the pack" is an ordinary unit test.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable
from dataclasses import dataclass

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _NotApplicableError

from infra.mocks import CapturedResource


@dataclass(frozen=True)
class Violation:
    policy: str
    resource: str | None
    message: str


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )


def _urn(stack: str, resource: CapturedResource) -> str:
    return f"urn:pulumi:{stack}::nexk::{resource.type}::{resource.name}"


def _props(resource: CapturedResource) -> dict:
    # The engine hands policies plain values (secrets unwrapped), without the dynamic provider's pickle.
    inputs = {k: v for k, v in resource.inputs.items() if k != "__provider"}
    return deserialize_properties(inputs)


def _settle(result: object) -> None:
    if inspect.isawaitable(result):
        asyncio.new_event_loop().run_until_complete(result)


def check(
    stack: str,
    resources: Iterable[CapturedResource],
    policies: Iterable[ResourceValidationPolicy | StackValidationPolicy],
) -> list[Violation]:
    resources = list(resources)
    violations: list[Violation] = []
    for policy in policies:
        if isinstance(policy, ResourceValidationPolicy):
            for resource in resources:
                args = ResourceValidationArgs(
                    resource.type, _props(resource), _urn(stack, resource), resource.name, _options(), None
                )

                def report(
                    message: str,
                    _urn: str | None = None,
                    name: str = resource.name,
                    policy_name: str = policy.name,
                ) -> None:
                    violations.append(Violation(policy_name, name, message))

                try:
                    _settle(policy.validate(args, report))
                except _NotApplicableError:
                    continue
        else:
            stack_resources = [
                PolicyResource(r.type, _props(r), _urn(stack, r), r.name, _options(), None, None, [], {})
                for r in resources
            ]

            def report_stack(message: str, urn: str | None = None, policy_name: str = policy.name) -> None:
                violations.append(Violation(policy_name, urn, message))

            try:
                _settle(policy.validate(StackValidationArgs(stack_resources), report_stack))
            except _NotApplicableError:
                continue
    return violations
