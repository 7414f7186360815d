"""Invitation-only without the service-role key (db/functions/invitations.sql): sign-ups are open in Supabase
Auth only because its before-user-created hook is on and names the database's invitation check; the policy pack refuses any
stack where that gate is missing, and the invitation e-mail links the portal's accept page."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import replace

import pytest

from infra.mocks import CapturedResource, MockRun, run_stack
from infra.policy.offline import check
from infra.policy.policies import BEFORE_USER_CREATED_HOOK_URI, build_policies
from infra.providers.supabase import AuthSettingsProvider
from infra.resource_types import SUPABASE_AUTH
from infra.settings import REPO_ROOT
from infra.supabase_platform import BEFORE_USER_CREATED_HOOK_URI as PROGRAM_HOOK_URI
from nexk.subprocessors import load_register

POLICIES = build_policies(load_register())


@pytest.fixture(scope="module")
def prod() -> MockRun:
    return run_stack("prod")


def with_auth(resources: list[CapturedResource], change: Callable[[dict], None]) -> list[CapturedResource]:
    changed = []
    for resource in resources:
        if resource.type == SUPABASE_AUTH:
            inputs = copy.deepcopy(resource.inputs)
            change(inputs)
            resource = replace(resource, inputs=inputs)
        changed.append(resource)
    return changed


def test_the_hook_uri_names_the_migrated_function_that_only_supabase_auth_admin_may_execute() -> None:
    assert PROGRAM_HOOK_URI == BEFORE_USER_CREATED_HOOK_URI
    match = re.fullmatch(r"pg-functions://postgres/(\w+)/(\w+)", BEFORE_USER_CREATED_HOOK_URI)
    assert match, BEFORE_USER_CREATED_HOOK_URI
    schema, function = match.groups()
    declared = (REPO_ROOT / "db" / "functions" / "invitations.sql").read_text("utf-8")
    assert f"create or replace function {schema}.{function}(event jsonb) returns jsonb" in declared
    assert f"grant execute on function {schema}.{function}(jsonb) to supabase_auth_admin;" in declared
    assert schema == "private"  # never an API-exposed schema (the Data API serves `public` only)


def test_every_auth_setting_of_the_gate_reaches_the_management_api() -> None:
    body = AuthSettingsProvider.body(
        {
            "disable_signup": False,
            "hook_before_user_created_enabled": True,
            "hook_before_user_created_uri": BEFORE_USER_CREATED_HOOK_URI,
            "mailer_autoconfirm": False,
            "external_anonymous_users_enabled": False,
            "mailer_subjects_confirmation": "Invitation",
            "mailer_templates_confirmation_content": "<a>",
        }
    )
    assert body == {
        "disable_signup": False,
        "hook_before_user_created_enabled": True,
        "hook_before_user_created_uri": "pg-functions://postgres/private/hook_before_user_created",
        "mailer_autoconfirm": False,
        "external_anonymous_users_enabled": False,
        "mailer_subjects_confirmation": "Invitation",
        "mailer_templates_confirmation_content": "<a>",
    }


def test_the_invitation_email_links_the_portal_accept_page_with_the_token_hash(prod: MockRun) -> None:
    auth = prod.of_type(SUPABASE_AUTH)[0]
    template = auth.get("mailer_templates_confirmation_content")

    assert '<a href="{{ .SiteURL }}/auth/invite?token={{ .TokenHash }}">' in template
    assert "{{ .ConfirmationURL }}" not in template  # GoTrue's own link would bypass the portal's page
    assert "myNexK" in auth.get("mailer_subjects_confirmation")
    # The link lives a day (GoTrue's maximum), not GoTrue's default hour; the provider refuses more.
    assert auth.get("mailer_otp_exp") == 86400
    failures = AuthSettingsProvider().check(
        {}, {"project_ref": "abcd", "site_url": "https://x", "mailer_otp_exp": 90000}
    )
    assert [f.property for f in failures.failures] == ["mailer_otp_exp"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            lambda p: p.update(hook_before_user_created_enabled=False),
            "hook_before_user_created_enabled must be true",
            id="hook-off",
        ),
        pytest.param(lambda p: p.pop("hook_before_user_created_enabled"), "must be true", id="hook-unset"),
        pytest.param(
            lambda p: p.update(hook_before_user_created_uri="pg-functions://postgres/public/allow_everyone"),
            "hook_before_user_created_uri must be pg-functions://postgres/private/hook_before_user_created",
            id="hook-elsewhere",
        ),
        pytest.param(
            lambda p: p.update(mailer_autoconfirm=True), "mailer_autoconfirm must be false", id="autoconfirm"
        ),
        pytest.param(
            lambda p: p.update(external_anonymous_users_enabled=True),
            "external_anonymous_users_enabled must be false",
            id="anonymous-sign-ins",
        ),
    ],
)
def test_open_sign_ups_without_the_invitation_gate_fail_the_policy_pack(
    prod: MockRun, change: Callable[[dict], None], message: str
) -> None:
    found = check("prod", with_auth(prod.resources, change), POLICIES)

    assert {v.policy for v in found} == {"supabase-invitation-only"}
    assert any(message in v.message for v in found), found


def test_closed_sign_ups_without_the_hook_are_invitation_only_too(prod: MockRun) -> None:
    def closed(props: dict) -> None:
        props.update(disable_signup=True, hook_before_user_created_enabled=False)
        props.pop("hook_before_user_created_uri")

    assert check("prod", with_auth(prod.resources, closed), POLICIES) == []
