"""The Supabase dynamic providers against a local server that follows the Management API v1."""

from __future__ import annotations

import base64

import dill
import pytest
from infra_helpers import TOKEN, configure
from pulumi.dynamic.dynamic import serialize_provider
from pytest_httpserver import HTTPServer
from werkzeug import Response

from infra.providers.http import MissingTokenError, VendorApiError
from infra.providers.supabase import (
    AuthSettingsProvider,
    PitrAddonProvider,
    PoolerConnectionProvider,
    ProjectProvider,
    PublishableKeyProvider,
    SslEnforcementProvider,
)

AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROJECT = {
    "name": "mynexk-prod",
    "organization_slug": "nexk-it",
    "region": "eu-central-1",
    "instance_size": "small",
    "db_pass": "s3cret-pass",
    "environment": "prod",
}


def project_provider(api_url: str) -> ProjectProvider:
    return configure(ProjectProvider(api_url=api_url, backoff_seconds=0, poll_seconds=0))


def test_create_project_sends_organization_slug_and_region_selection_then_waits_until_healthy(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_oneshot_request("/v1/projects", method="GET", headers=AUTH).respond_with_json([])
    httpserver.expect_oneshot_request(
        "/v1/projects",
        method="POST",
        json={
            "name": "mynexk-prod",
            "organization_slug": "nexk-it",
            "db_pass": "s3cret-pass",
            "region_selection": {"type": "specific", "code": "eu-central-1"},
            "desired_instance_size": "small",
        },
    ).respond_with_json(
        {"id": "abcd", "ref": "abcd", "region": "eu-central-1", "status": "COMING_UP"}, status=201
    )
    httpserver.expect_oneshot_request("/v1/projects/abcd").respond_with_json(
        {"ref": "abcd", "status": "COMING_UP"}
    )
    httpserver.expect_oneshot_request("/v1/projects/abcd").respond_with_json(
        {"ref": "abcd", "region": "eu-central-1", "status": "ACTIVE_HEALTHY"}
    )

    result = project_provider(api_url).create(dict(PROJECT))

    assert result.id == "abcd"
    assert result.outs["api_url"] == "https://abcd.supabase.co"
    assert result.outs["region"] == "eu-central-1"
    httpserver.check_assertions()


def test_create_project_adopts_an_identical_existing_project_instead_of_posting_again(
    httpserver: HTTPServer, api_url: str
) -> None:
    existing = {"id": "abcd", "ref": "abcd", "name": "mynexk-prod", "organization_slug": "nexk-it"}
    httpserver.expect_request("/v1/projects", method="GET").respond_with_json(
        [{**existing, "region": "eu-central-1"}]
    )
    httpserver.expect_request("/v1/projects/abcd", method="GET").respond_with_json(
        {"ref": "abcd", "region": "eu-central-1", "status": "ACTIVE_HEALTHY"}
    )

    result = project_provider(api_url).create(dict(PROJECT))

    assert result.id == "abcd"
    assert all(request.method == "GET" for request, _ in httpserver.log)


def test_create_project_refuses_to_adopt_a_namesake_in_another_region(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_request("/v1/projects").respond_with_json(
        [{"ref": "zz", "name": "mynexk-prod", "organization_slug": "nexk-it", "region": "us-east-1"}]
    )

    with pytest.raises(VendorApiError, match=r"mynexk-prod: already exists in region us-east-1"):
        project_provider(api_url).create(dict(PROJECT))


def test_check_refuses_a_region_the_compliance_register_does_not_allow() -> None:
    result = ProjectProvider().check({}, {**PROJECT, "region": "us-east-1"})

    assert [f.property for f in result.failures] == ["region"]
    assert "compliance/subprocessors.yaml" in result.failures[0].reason


def test_check_accepts_an_unknown_region_during_preview() -> None:
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    assert ProjectProvider().check({}, {**PROJECT, "region": unknown}).failures == []


def test_region_change_is_a_replacement_and_rename_is_an_update() -> None:
    provider = ProjectProvider()

    moved = provider.diff("abcd", dict(PROJECT), {**PROJECT, "region": "eu-west-3"})
    renamed = provider.diff("abcd", dict(PROJECT), {**PROJECT, "name": "mynexk"})
    same = provider.diff("abcd", {**PROJECT, "ref": "abcd", "status": "ACTIVE_HEALTHY"}, dict(PROJECT))

    assert moved.replaces == ["region"] and moved.delete_before_replace
    assert renamed.changes and renamed.replaces == []
    assert not same.changes


def test_update_rotates_the_database_password_through_the_api(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_oneshot_request(
        "/v1/projects/abcd/database/password", method="PATCH", json={"password": "new-pass"}
    ).respond_with_json({"message": "ok"})
    httpserver.expect_request("/v1/projects/abcd").respond_with_json(
        {"ref": "abcd", "status": "ACTIVE_HEALTHY"}
    )

    result = project_provider(api_url).update("abcd", dict(PROJECT), {**PROJECT, "db_pass": "new-pass"})

    assert result.outs["db_pass"] == "new-pass"
    httpserver.check_assertions()


def test_delete_of_a_project_already_gone_succeeds(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_request("/v1/projects/abcd", method="DELETE").respond_with_json(
        {"message": "Project not found"}, status=404
    )

    project_provider(api_url).delete("abcd", dict(PROJECT))


def test_read_of_a_deleted_project_reports_it_gone(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_request("/v1/projects/abcd").respond_with_json({"message": "not found"}, status=404)

    assert project_provider(api_url).read("abcd", dict(PROJECT)).id == ""


def test_rate_limits_and_server_errors_are_retried(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_oneshot_request("/v1/projects/abcd").respond_with_json(
        {"message": "slow down"}, status=429
    )
    httpserver.expect_oneshot_request("/v1/projects/abcd").respond_with_json({"message": "oops"}, status=503)
    httpserver.expect_oneshot_request("/v1/projects/abcd").respond_with_json(
        {"ref": "abcd", "name": "mynexk-prod", "region": "eu-central-1", "status": "ACTIVE_HEALTHY"}
    )

    assert project_provider(api_url).read("abcd", dict(PROJECT)).outs["status"] == "ACTIVE_HEALTHY"
    assert len(httpserver.log) == 3


def test_an_api_error_names_the_resource_and_the_apis_message(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_request("/v1/projects/abcd/config/auth", method="PATCH").respond_with_json(
        {"message": "site_url must be a valid URL"}, status=400
    )
    provider = configure(AuthSettingsProvider(api_url=api_url, backoff_seconds=0))

    with pytest.raises(VendorApiError) as error:
        provider.create({"project_ref": "abcd", "site_url": "https://my.nexk-it.com"})

    assert "auth settings of project abcd" in str(error.value)
    assert "HTTP 400: site_url must be a valid URL" in str(error.value)


def test_persistent_server_errors_give_up_with_a_clear_message(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_request("/v1/projects/abcd").respond_with_data("bad gateway", status=502)

    with pytest.raises(
        VendorApiError, match=r"project abcd: GET /v1/projects/abcd failed with HTTP 502: bad gateway"
    ):
        project_provider(api_url).read("abcd", dict(PROJECT))
    assert len(httpserver.log) == 5


def test_auth_settings_send_the_allow_list_comma_separated_smtp_port_as_string_and_the_smtp_key(
    httpserver: HTTPServer, api_url: str
) -> None:
    props = {
        "project_ref": "abcd",
        "site_url": "https://my.nexk-it.com",
        "uri_allow_list": ["https://my.nexk-it.com/auth/callback", "https://my.nexk-it.com/auth/confirm"],
        "disable_signup": True,
        "mfa_totp_enroll_enabled": True,
        "mfa_totp_verify_enabled": True,
        "password_min_length": 12,
        "smtp_host": "smtp-relay.brevo.com",
        "smtp_port": 587,
        "smtp_pass": "smtp-key",
    }
    httpserver.expect_request(
        "/v1/projects/abcd/config/auth",
        method="PATCH",
        json={
            "site_url": "https://my.nexk-it.com",
            "uri_allow_list": "https://my.nexk-it.com/auth/callback,https://my.nexk-it.com/auth/confirm",
            "disable_signup": True,
            "mfa_totp_enroll_enabled": True,
            "mfa_totp_verify_enabled": True,
            "password_min_length": 12,
            "smtp_host": "smtp-relay.brevo.com",
            "smtp_port": "587",
            "smtp_pass": "smtp-key",
        },
    ).respond_with_json({})

    result = configure(AuthSettingsProvider(api_url=api_url)).create(props)

    assert result.id == "abcd/auth"
    httpserver.check_assertions()


def test_auth_settings_read_keeps_the_write_only_smtp_key_and_splits_the_allow_list(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_request("/v1/projects/abcd/config/auth").respond_with_json(
        {
            "site_url": "https://my.nexk-it.com",
            "uri_allow_list": "https://a/cb,https://b/cb",
            "smtp_pass": "hashed",
        }
    )

    outs = (
        configure(AuthSettingsProvider(api_url=api_url))
        .read("abcd/auth", {"project_ref": "abcd", "smtp_pass": "k"})
        .outs
    )

    assert outs["uri_allow_list"] == ["https://a/cb", "https://b/cb"]
    assert outs["smtp_pass"] == "k"


def test_auth_settings_check_rejects_a_plain_http_site_url() -> None:
    failures = (
        AuthSettingsProvider()
        .check({}, {"project_ref": "abcd", "site_url": "http://my.nexk-it.com"})
        .failures
    )
    assert [f.property for f in failures] == ["site_url"]


def test_ssl_enforcement_fails_when_the_api_does_not_apply_it(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_request(
        "/v1/projects/abcd/ssl-enforcement", method="PUT", json={"requestedConfig": {"database": True}}
    ).respond_with_json({"currentConfig": {"database": False}, "appliedSuccessfully": False})

    with pytest.raises(VendorApiError, match="SSL enforcement of project abcd"):
        configure(SslEnforcementProvider(api_url=api_url)).create({"project_ref": "abcd", "database": True})


def test_pooler_connection_reads_the_transaction_mode_string_and_inserts_the_password(
    httpserver: HTTPServer, api_url: str
) -> None:
    primary = {
        "database_type": "PRIMARY",
        "db_user": "postgres.abcd",
        "db_host": "aws-0-eu-central-1.pooler.supabase.com",
        "db_port": 6543,
        "db_name": "postgres",
        "pool_mode": "session",
        "connection_string": "postgresql://postgres.abcd:[YOUR-PASSWORD]@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
    }
    httpserver.expect_oneshot_request("/v1/projects/abcd/config/database/pooler").respond_with_json([primary])
    httpserver.expect_oneshot_request(
        "/v1/projects/abcd/config/database/pooler", method="PATCH", json={"pool_mode": "transaction"}
    ).respond_with_json({})
    httpserver.expect_oneshot_request("/v1/projects/abcd/config/database/pooler").respond_with_json(
        [{**primary, "pool_mode": "transaction"}]
    )

    outs = (
        configure(PoolerConnectionProvider(api_url=api_url))
        .create({"project_ref": "abcd", "db_pass": "p@ss/word", "pool_mode": "transaction"})
        .outs
    )

    assert outs["database_url"] == (
        # checkov:skip=CKV_SECRET_4: the expected URL of the URL-encoding test (fake project ref and password)
        "postgresql://postgres.abcd:p%40ss%2Fword@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
    )
    assert outs["session_database_url"].endswith(":5432/postgres")
    assert outs["pool_mode"] == "transaction"
    httpserver.check_assertions()


def test_pitr_addon_is_not_requested_twice_and_its_removal_tolerates_absence(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_request("/v1/projects/abcd/billing/addons", method="GET").respond_with_json(
        {"selected_addons": [{"type": "pitr", "variant": {"id": "pitr_7"}}]}
    )
    httpserver.expect_request("/v1/projects/abcd/billing/addons/pitr_7", method="DELETE").respond_with_json(
        {"message": "not found"}, status=404
    )
    provider = configure(PitrAddonProvider(api_url=api_url))

    provider.create({"project_ref": "abcd", "variant": "pitr_7"})
    provider.delete("abcd/pitr", {"project_ref": "abcd", "variant": "pitr_7"})

    assert [r.method for r, _ in httpserver.log] == ["GET", "DELETE"]


def test_publishable_key_is_adopted_when_one_with_the_same_name_exists(
    httpserver: HTTPServer, api_url: str
) -> None:
    httpserver.expect_request("/v1/projects/abcd/api-keys", query_string="reveal=true").respond_with_json(
        [
            {"id": "k0", "type": "legacy", "name": "anon", "api_key": "eyJ"},
            {"id": "k1", "type": "publishable", "name": "portal", "api_key": "sb_publishable_x"},
        ]
    )

    result = configure(PublishableKeyProvider(api_url=api_url)).create(
        {"project_ref": "abcd", "name": "portal"}
    )

    assert result.outs["api_key"] == "sb_publishable_x"


def test_the_token_comes_from_stack_config_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi.dynamic import ConfigureRequest
    from pulumi.dynamic.config import Config

    monkeypatch.setenv("SUPABASE_ACCESS_TOKEN", "from-env")
    from_env = ProjectProvider()
    from_env.configure(ConfigureRequest(Config({}, project_name="nexk")))
    from_config = configure(ProjectProvider(), token="from-config")

    assert from_env._token == "from-env"
    assert from_config._token == "from-config"


def test_calls_without_a_token_fail_with_a_pointer_to_the_docs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUPABASE_ACCESS_TOKEN", raising=False)
    with pytest.raises(MissingTokenError, match=r"docs/ops\.md"):
        ProjectProvider(api_url="http://127.0.0.1:9").read("abcd", dict(PROJECT))


@pytest.mark.parametrize(
    "provider_class",
    [
        ProjectProvider,
        AuthSettingsProvider,
        SslEnforcementProvider,
        PitrAddonProvider,
        PoolerConnectionProvider,
        PublishableKeyProvider,
    ],
)
def test_providers_survive_dill_pickling_without_carrying_the_token(provider_class: type) -> None:
    provider = configure(provider_class(api_url="https://api.supabase.com"), token="very-secret-token")

    payload = base64.b64decode(serialize_provider(provider))
    restored = dill.loads(payload)  # noqa: S301 (our own payload, as Pulumi does)

    assert b"very-secret-token" not in payload
    assert restored._token is None
    assert restored.api.base_url == "https://api.supabase.com"
    assert type(restored) is provider_class


def test_a_non_json_error_body_is_reported_verbatim(httpserver: HTTPServer, api_url: str) -> None:
    httpserver.expect_request("/v1/projects/abcd").respond_with_response(Response("teapot", status=418))

    with pytest.raises(VendorApiError, match="HTTP 418: teapot"):
        project_provider(api_url).read("abcd", dict(PROJECT))
