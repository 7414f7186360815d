"""The policy pack, fed with the resources the program declares under mocks: stacks pass, violations fail."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from infra.mocks import CapturedResource, MockRun, run_stack
from infra.policy.offline import Violation, check
from infra.policy.policies import build_policies
from infra.resource_types import (
    SUPABASE_AUTH,
    SUPABASE_EXTENSION,
    SUPABASE_MIGRATIONS,
    SUPABASE_PITR,
    SUPABASE_PROJECT,
    SUPABASE_SSL,
    VERCEL_ENV,
    VERCEL_PROJECT,
)
from nexk.subprocessors import load_register

POLICIES = build_policies(load_register())
# checkov:skip=CKV_SECRET_4: a made-up pooler URL template (password "pw"); nothing connects to it
POOLER = "postgresql://{user}:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
SUPABASE_POSTGREST = "pulumi-python:dynamic/supabase:PostgrestSettings"


def fake_jwt(**claims: str) -> str:
    """An unsigned token of the JWT's shape (the policy reads the role claim; it never verifies)."""

    def part(data: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return ".".join((part({"alg": "HS256", "typ": "JWT"}), part(claims), "signature"))


@pytest.fixture(scope="module")
def runs() -> dict[str, MockRun]:
    return {stack: run_stack(stack) for stack in ("dev", "staging", "prod")}


def mutate(resources: list[CapturedResource], resource_type: str, change: Callable[[dict], None]) -> list:
    """A copy of the captured resources with `change` applied to the inputs of each resource of a type."""
    result = []
    for resource in resources:
        if resource.type == resource_type:
            inputs = copy.deepcopy(resource.inputs)
            change(inputs)
            resource = replace(resource, inputs=inputs)
        result.append(resource)
    return result


def violations_of(stack: str, resources: list[CapturedResource]) -> list[Violation]:
    return check(stack, resources, POLICIES)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_stack_passes_the_policy_pack(runs: dict[str, MockRun], stack: str) -> None:
    assert violations_of(stack, runs[stack].resources) == []


def test_every_policy_is_mandatory() -> None:
    assert {p.enforcement_level.value for p in POLICIES} == {"mandatory"}


VIOLATIONS = [
    pytest.param(
        SUPABASE_PROJECT,
        lambda p: p.update(region="us-east-1"),
        "supabase-region-in-register",
        "region 'us-east-1'",
        id="supabase-outside-frankfurt",
    ),
    pytest.param(
        VERCEL_PROJECT,
        lambda p: p["resourceConfig"].update(functionDefaultRegions=["iad1"]),
        "vercel-function-regions-eu",
        "['iad1']",
        id="vercel-functions-in-washington",
    ),
    pytest.param(
        VERCEL_PROJECT,
        lambda p: p.update(functionFailover=True),
        "vercel-function-regions-eu",
        "function_failover = false",
        id="vercel-failover-on",
    ),
    pytest.param(
        SUPABASE_AUTH,
        lambda p: p.update(mfa_totp_enroll_enabled=False),
        "supabase-mfa-enabled",
        "mfa_totp_enroll_enabled must be true",
        id="mfa-off",
    ),
    pytest.param(
        SUPABASE_AUTH,
        lambda p: p.update(hook_before_user_created_enabled=False),
        "supabase-invitation-only",
        "invitation-only",
        id="signup-open-without-the-hook",
    ),
    pytest.param(
        SUPABASE_AUTH,
        lambda p: p.update(password_min_length=8),
        "supabase-invitation-only",
        "at least 12",
        id="short-passwords",
    ),
    pytest.param(
        SUPABASE_SSL,
        lambda p: p.update(database=False),
        "supabase-ssl-enforced",
        "database must be true",
        id="ssl-off",
    ),
    pytest.param(
        VERCEL_ENV,
        lambda p: p.update(sensitive=False) if p["key"] == "NEXK_PORTAL_DATABASE_URL" else None,
        "vercel-secrets-sensitive",
        "NEXK_PORTAL_DATABASE_URL holds a secret and must be sensitive",
        id="database-url-not-sensitive",
    ),
    pytest.param(
        VERCEL_ENV,
        lambda p: (
            p.update(targets=["production", "development"]) if p["key"] == "BREVO_WEBHOOK_TOKEN" else None
        ),
        "vercel-secrets-sensitive",
        "must not target development",
        id="secret-in-development",
    ),
    pytest.param(
        VERCEL_ENV,
        lambda p: p.update(value="sb_" + "secret_x") if p["key"] == "SUPABASE_PUBLISHABLE_KEY" else None,
        "vercel-no-rls-bypass-key",
        "SUPABASE_PUBLISHABLE_KEY carries a Supabase secret or service_role key",
        id="secret-key-in-vercel",
    ),
    pytest.param(
        VERCEL_ENV,
        lambda p: (
            p.update(value=fake_jwt(role="service_role")) if p["key"] == "SUPABASE_PUBLISHABLE_KEY" else None
        ),
        "vercel-no-rls-bypass-key",
        "bypasses RLS",
        id="service-role-jwt-in-vercel",
    ),
    pytest.param(
        VERCEL_ENV,
        lambda p: (
            p.update(key="SUPABASE_SERVICE_ROLE_KEY") if p["key"] == "NEXK_PORTAL_DATABASE_URL" else None
        ),
        "vercel-no-rls-bypass-key",
        "SUPABASE_SERVICE_ROLE_KEY carries",
        id="service-role-variable-in-vercel",
    ),
    *(
        pytest.param(
            VERCEL_ENV,
            lambda p, login=login: (
                p.update(value=POOLER.format(user=login)) if p["key"] == "NEXK_PORTAL_DATABASE_URL" else None
            ),
            "vercel-portal-database-login",
            f"NEXK_PORTAL_DATABASE_URL logs in as {login.partition('.')[0]!r}: the portal's request pool must use "
            "the nexk_portal login",
            id=f"portal-logs-in-as-{login.partition('.')[0]}",
        )
        for login in ("authenticator.mockref", "postgres.mockref", "service_role", "nexk_notifier.mockref")
    ),
    pytest.param(
        VERCEL_ENV,
        lambda p: (
            p.update(value=POOLER.format(user="postgres.mockref"))
            if p["key"] == "NEXK_WORKER_DATABASE_URL"
            else None
        ),
        "vercel-portal-database-login",
        "NEXK_WORKER_DATABASE_URL logs in as 'postgres', which is or can become a role that bypasses RLS",
        id="worker-logs-in-as-the-owner",
    ),
    pytest.param(
        VERCEL_PROJECT,
        lambda p: p.update(vercelAuthentication={"deploymentType": "none"}),
        "vercel-previews-protected",
        "Vercel Authentication",
        id="previews-public",
    ),
    pytest.param(
        SUPABASE_EXTENSION,
        lambda p: p.update(extension="pg_net"),
        "supabase-retention-scheduled",
        "needs pg_cron enabled",
        id="pg-cron-not-enabled",
    ),
    pytest.param(
        SUPABASE_MIGRATIONS,
        lambda p: p["cron_jobs"].pop("nexk-retention"),
        "supabase-retention-scheduled",
        "'nexk-retention' at '17 3 * * *'",
        id="retention-job-not-checked",
    ),
    pytest.param(
        SUPABASE_MIGRATIONS,
        lambda p: p["cron_jobs"].update({"nexk-retention": "17 3 1 * *"}),
        "supabase-retention-scheduled",
        "the retention purge the privacy policy promises",
        id="retention-job-monthly",
    ),
    pytest.param(
        SUPABASE_POSTGREST,
        lambda p: p.update(db_schema=["public", "private"]),
        "supabase-private-schema-not-exposed",
        "expose ['private']",
        id="data-api-exposes-private",
    ),
]


@pytest.mark.parametrize(("resource_type", "change", "policy", "message"), VIOLATIONS)
def test_each_deliberate_violation_fails_its_policy_with_a_message(
    runs: dict[str, MockRun], resource_type: str, change: Callable, policy: str, message: str
) -> None:
    found = violations_of("prod", mutate(runs["prod"].resources, resource_type, change))

    assert {v.policy for v in found} == {policy}
    assert any(message in v.message for v in found), found


def test_a_project_without_data_api_settings_fails(runs: dict[str, MockRun]) -> None:
    resources = [r for r in runs["dev"].resources if r.type != SUPABASE_POSTGREST]

    found = violations_of("dev", resources)

    assert {v.policy for v in found} == {"supabase-data-api-declared"}


def test_production_without_point_in_time_recovery_fails(runs: dict[str, MockRun]) -> None:
    resources = [r for r in runs["prod"].resources if r.type != SUPABASE_PITR]

    found = violations_of("prod", resources)

    assert [v.policy for v in found] == ["supabase-pitr-in-production"]
    assert "point-in-time recovery" in found[0].message


def test_a_supabase_project_without_ssl_enforcement_or_auth_settings_fails(runs: dict[str, MockRun]) -> None:
    resources = [r for r in runs["dev"].resources if r.type not in (SUPABASE_SSL, SUPABASE_AUTH)]

    assert {v.policy for v in violations_of("dev", resources)} == {
        "supabase-ssl-enforced",
        "supabase-auth-declared",
    }


def test_a_resource_of_an_unregistered_vendor_fails(runs: dict[str, MockRun]) -> None:
    bucket = CapturedResource("aws:s3/bucket:Bucket", "uploads", {"bucket": "nexk-uploads"}, custom=True)

    found = violations_of("dev", [*runs["dev"].resources, bucket])

    assert [v.policy for v in found] == ["only-registered-subprocessors"]
    assert "'aws'" in found[0].message and "compliance/subprocessors.yaml" in found[0].message


def test_removing_a_vendor_from_the_register_makes_its_resources_fail(runs: dict[str, MockRun]) -> None:
    register = load_register()
    without_brevo = register.model_copy(
        update={"subprocessors": tuple(s for s in register.subprocessors if s.key != "brevo")}
    )

    found = check("dev", runs["dev"].resources, build_policies(without_brevo))

    assert found and {v.policy for v in found} == {"only-registered-subprocessors"}
    assert all("brevo" in v.message for v in found)


def test_the_anon_role_and_publishable_keys_are_not_taken_for_keys_that_bypass_rls() -> None:
    from infra.policy.policies import bypasses_rls

    assert not bypasses_rls("SUPABASE_PUBLISHABLE_KEY", "sb_publishable_" + "x")
    assert not bypasses_rls("SUPABASE_ANON_KEY", fake_jwt(role="anon"))
    assert not bypasses_rls("NEXK_STORAGE_SWEEPER_PASSWORD", "a.b.c")
    assert bypasses_rls("SUPABASE_KEY", fake_jwt(role="service_role"))


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_a_stack_without_pg_cron_is_refused_because_nothing_would_run_the_retention_purge(
    runs: dict[str, MockRun], stack: str
) -> None:
    resources = [r for r in runs[stack].resources if r.type != SUPABASE_EXTENSION]

    found = violations_of(stack, resources)

    assert [v.policy for v in found] == ["supabase-retention-scheduled"]
    assert "nothing runs the nightly retention purge" in found[0].message
