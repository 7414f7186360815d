"""The Supabase dynamic providers against the simulated Management API (infra/rehearsal/supabase_sim.py).

The simulator follows the vendor's contract (it refuses undeclared fields and missing required ones), keeps
state, and plays the documented asynchronous behaviour on a virtual clock, so the waits are real waits that
take no time.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator

import dill
import pytest
import requests
from infra_helpers import configure
from pulumi.dynamic.dynamic import serialize_provider
from supabase_helpers import PROJECT, simulated

from infra.providers.http import MissingTokenError, VendorApi, VendorApiError, api_message
from infra.providers.supabase import (
    AuthSettingsProvider,
    NetworkRestrictionsProvider,
    PitrAddonProvider,
    PoolerConnectionProvider,
    PostgrestSettingsProvider,
    ProjectProvider,
    PublishableKeyProvider,
    SslEnforcementProvider,
)
from infra.rehearsal.supabase_sim import SupabaseSimulator


@pytest.fixture
def sim() -> Iterator[SupabaseSimulator]:
    with simulated(SupabaseSimulator()) as simulator:
        yield simulator


@pytest.fixture
def ref(sim: SupabaseSimulator) -> str:
    """An existing, healthy project (SSL not enforced yet, as the simulator starts every project)."""
    return sim.add_project("mynexk-prod")


def project_provider() -> ProjectProvider:
    return configure(ProjectProvider())


def posts(sim: SupabaseSimulator, path: str) -> int:
    return sum(1 for call in sim.calls if call.method == "POST" and call.path == path)


# ------------------------------------------------------------------------------------------------ Project


def test_create_project_sends_organization_slug_and_region_selection_then_waits_until_healthy(
    sim: SupabaseSimulator,
) -> None:
    started = time.monotonic()

    result = project_provider().create(dict(PROJECT))

    project = sim.project(result.id)
    created = next(call for call in sim.calls if call.method == "POST" and call.path == "/v1/projects")
    assert created.body == {
        "name": "mynexk-prod",
        "organization_slug": "nexk-it",
        "db_pass": "s3cret-pass",
        "region_selection": {"type": "specific", "code": "eu-central-1"},
        "desired_instance_size": "small",
    }
    assert (project.name, project.region, project.compute) == ("mynexk-prod", "eu-central-1", "small")
    assert result.outs["status"] == "ACTIVE_HEALTHY"
    assert result.outs["api_url"] == f"https://{result.id}.supabase.co"
    # It polled through COMING_UP on the virtual clock: the provisioning time passed, no real time did.
    assert sim.clock.now >= project.ready_at
    assert time.monotonic() - started < 5


def test_create_project_adopts_an_identical_existing_project_found_on_a_later_page(
    sim: SupabaseSimulator,
) -> None:
    for n in range(5):
        sim.add_project(f"a-mynexk-prod-archive-{n}")  # also match the search, and sort first
    existing = sim.add_project("mynexk-prod")
    provider = project_provider()
    provider.PAGE_SIZE = 2

    result = provider.create(dict(PROJECT))

    assert result.id == existing
    assert posts(sim, "/v1/projects") == 0
    pages = [c for c in sim.calls if c.path == "/v1/organizations/nexk-it/projects"]
    assert len(pages) == 3


def test_create_project_refuses_to_adopt_a_namesake_in_another_region(sim: SupabaseSimulator) -> None:
    sim.add_project("mynexk-prod", region="us-east-1")

    with pytest.raises(VendorApiError, match=r"mynexk-prod: already exists in region us-east-1"):
        project_provider().create(dict(PROJECT))


@pytest.mark.parametrize("fault", ["5xx after commit", "connection dropped after commit"])
def test_a_create_that_failed_after_supabase_committed_it_adopts_the_project_instead_of_a_second_one(
    sim: SupabaseSimulator, fault: str
) -> None:
    if fault == "5xx after commit":
        sim.fail_after_commit("POST", "/v1/projects", status=502)
    else:
        sim.drop_connection("POST", "/v1/projects", after_commit=True)

    result = project_provider().create(dict(PROJECT))

    assert [p.ref for p in sim.project_named("mynexk-prod")] == [result.id]  # one billed project, not two
    assert posts(sim, "/v1/projects") == 1


def test_a_create_that_never_reached_supabase_says_nothing_was_created_and_to_run_again(
    sim: SupabaseSimulator,
) -> None:
    sim.drop_connection("POST", "/v1/projects", after_commit=False)

    with pytest.raises(VendorApiError, match=r"No project named mynexk-prod exists .* run `pulumi up` again"):
        project_provider().create(dict(PROJECT))
    assert sim.projects == {}


def test_a_used_up_rate_limit_window_is_waited_out_until_supabases_reset(sim: SupabaseSimulator) -> None:
    existing = sim.add_project("mynexk-prod")
    sim.exhaust_rate_limit()
    before = sim.clock.now

    read = project_provider().read(existing, dict(PROJECT))

    assert read.id == existing
    # x-ratelimit-reset said 60 s: the provider waited the window out rather than giving up after ~7.5 s.
    assert sim.clock.now - before >= 60
    assert [c.status for c in sim.calls][:2] == [429, 200]


def test_a_rate_limit_longer_than_the_budget_fails_saying_to_run_again_later(sim: SupabaseSimulator) -> None:
    existing = sim.add_project("mynexk-prod")
    sim.rate_limit_burst(1000)

    with pytest.raises(
        VendorApiError, match=r"HTTP 429.*still rate limited after waiting \d+s; run again later"
    ):
        project_provider().read(existing, dict(PROJECT))


def test_reads_are_retried_on_server_errors_and_give_up_with_a_clear_message(sim: SupabaseSimulator) -> None:
    existing = sim.add_project("mynexk-prod")
    sim.fail_after_commit("GET", "/v1/projects/{ref}", status=503)

    assert project_provider().read(existing, dict(PROJECT)).outs["status"] == "ACTIVE_HEALTHY"

    for _ in range(5):
        sim.fail_after_commit("GET", "/v1/projects/{ref}", status=502)
    with pytest.raises(
        VendorApiError, match=rf"project {existing}: GET /v1/projects/{existing} failed with HTTP 502"
    ):
        project_provider().read(existing, dict(PROJECT))


def test_check_refuses_nano_which_has_no_compute_add_on() -> None:
    result = ProjectProvider().check({}, {**PROJECT, "instance_size": "nano"})

    assert [f.property for f in result.failures] == ["instance_size"]
    assert "no compute add-on" in result.failures[0].reason


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


def test_a_compute_resize_in_the_dashboard_shows_as_drift_and_up_resizes_back(sim: SupabaseSimulator) -> None:
    provider = project_provider()
    created = provider.create(dict(PROJECT))
    sim.dashboard_resize(created.id, "medium")

    read = provider.read(created.id, dict(created.outs))
    diff = provider.diff(created.id, read.outs, dict(PROJECT))
    provider.update(created.id, read.outs, dict(PROJECT))

    assert read.outs["instance_size"] == "medium"
    assert diff.changes and diff.replaces == []
    project = sim.project(created.id)
    assert project.compute == "small"
    assert sim.clock.now >= project.resize_until  # it waited through RESIZING


def test_update_rotates_the_database_password_through_the_api(sim: SupabaseSimulator, ref: str) -> None:
    olds = {**PROJECT, "instance_size": "small"}

    result = project_provider().update(ref, olds, {**olds, "db_pass": "new-pass"})

    assert result.outs["db_pass"] == "new-pass"
    assert sim.project(ref).db_pass == "new-pass"


def test_delete_of_a_project_already_gone_succeeds_and_read_reports_it_gone(
    sim: SupabaseSimulator, ref: str
) -> None:
    provider = project_provider()
    provider.delete(ref, dict(PROJECT))
    assert sim.projects == {}

    provider.delete(ref, dict(PROJECT))
    assert provider.read(ref, dict(PROJECT)).id == ""


# ------------------------------------------------------------------------------------- SSL and network


def test_ssl_enforcement_waits_until_applied_and_the_restarted_database_and_pooler_are_healthy(
    sim: SupabaseSimulator, ref: str
) -> None:
    result = configure(SslEnforcementProvider()).create({"project_ref": ref, "database": True})

    project = sim.project(ref)
    assert result.outs["applied"] is True and project.ssl_database is True
    # Only now may DatabaseMigrations connect: the restart is over and the pooler answers.
    assert sim.clock.now >= project.restart_until and sim.clock.now >= project.ssl_applied_at
    health = [c for c in sim.calls if c.path.endswith("/health")]
    assert health and health[-1].status == 200


def test_ssl_enforcement_already_in_place_is_not_requested_again(sim: SupabaseSimulator, ref: str) -> None:
    sim.dashboard_set_ssl(ref, True)

    configure(SslEnforcementProvider()).create({"project_ref": ref, "database": True})

    assert not [c for c in sim.calls if c.method == "PUT"]


def test_ssl_enforcement_that_never_applies_fails_with_what_to_do(sim: SupabaseSimulator, ref: str) -> None:
    sim.ssl_apply_seconds = 10_000

    with pytest.raises(
        VendorApiError, match=r"SSL enforcement of project .* not ready after 900s.*dashboard"
    ):
        configure(SslEnforcementProvider()).create({"project_ref": ref, "database": True})


def test_network_restrictions_wait_until_applied_not_just_stored(sim: SupabaseSimulator, ref: str) -> None:
    props = {"project_ref": ref, "db_allowed_cidrs": ["203.0.113.0/24"], "db_allowed_cidrs_v6": []}

    result = configure(NetworkRestrictionsProvider()).create(props)

    project = sim.project(ref)
    assert result.outs["status"] == "applied"
    assert project.network == {"dbAllowedCidrs": ["203.0.113.0/24"], "dbAllowedCidrsV6": []}
    assert sim.clock.now >= project.network_applied_at


def test_network_restrictions_changed_in_the_dashboard_show_as_drift(
    sim: SupabaseSimulator, ref: str
) -> None:
    provider = configure(NetworkRestrictionsProvider())
    props = {"project_ref": ref, "db_allowed_cidrs": ["0.0.0.0/0"], "db_allowed_cidrs_v6": ["::/0"]}
    created = provider.create(props)
    sim.dashboard_set_network(ref, ["198.51.100.7/32"], [])

    read = provider.read(created.id, dict(created.outs))

    assert provider.diff(created.id, read.outs, props).changes


# ------------------------------------------------------------------------------------------- settings


def test_auth_settings_send_the_allow_list_comma_separated_smtp_port_as_string_and_the_rate_limits(
    sim: SupabaseSimulator, ref: str
) -> None:
    props = {
        "project_ref": ref,
        "site_url": "https://my.nexk-it.com",
        "uri_allow_list": ["https://my.nexk-it.com/auth/callback", "https://my.nexk-it.com/auth/confirm"],
        "disable_signup": True,
        "password_min_length": 12,
        "smtp_host": "smtp-relay.brevo.com",
        "smtp_port": 587,
        "smtp_pass": "smtp-key",
        "rate_limit_email_sent": 100,
        "smtp_max_frequency": 60,
        "rate_limit_otp": 30,
    }

    result = configure(AuthSettingsProvider()).create(props)

    auth = sim.project(ref).auth
    assert result.id == f"{ref}/auth"
    assert (
        auth["uri_allow_list"] == "https://my.nexk-it.com/auth/callback,https://my.nexk-it.com/auth/confirm"
    )
    assert auth["smtp_port"] == "587" and auth["smtp_pass"] == "smtp-key"
    assert (auth["rate_limit_email_sent"], auth["smtp_max_frequency"], auth["rate_limit_otp"]) == (
        100,
        60,
        30,
    )


def test_auth_settings_read_keeps_the_write_only_smtp_key_and_shows_dashboard_changes_as_drift(
    sim: SupabaseSimulator, ref: str
) -> None:
    provider = configure(AuthSettingsProvider())
    props = {
        "project_ref": ref,
        "site_url": "https://my.nexk-it.com",
        "smtp_pass": "k",
        "rate_limit_email_sent": 30,
    }
    created = provider.create(props)
    sim.dashboard_update_auth(ref, rate_limit_email_sent=2, uri_allow_list="https://a/cb,https://b/cb")

    outs = provider.read(created.id, dict(created.outs)).outs

    assert outs["smtp_pass"] == "k"
    assert outs["rate_limit_email_sent"] == 2
    assert outs["uri_allow_list"] == ["https://a/cb", "https://b/cb"]
    assert provider.diff(created.id, outs, props).changes


def test_an_api_error_names_the_resource_and_the_apis_message() -> None:
    # Its own simulator that keeps no record: this call is refused by the contract on purpose.
    with simulated(SupabaseSimulator(record_calls=False)) as sim:
        ref = sim.add_project("mynexk-prod")
        provider = configure(AuthSettingsProvider())
        with pytest.raises(VendorApiError) as error:
            provider.create(
                {"project_ref": ref, "site_url": "https://my.nexk-it.com", "rate_limit_email_sent": 0}
            )

    assert f"auth settings of project {ref}" in str(error.value)
    assert "HTTP 400" in str(error.value) and "body.rate_limit_email_sent must be at least 1" in str(
        error.value
    )


def test_the_simulator_refuses_a_field_the_contract_does_not_declare() -> None:
    with simulated(SupabaseSimulator(record_calls=False)) as sim:
        ref = sim.add_project("mynexk-prod")
        api = VendorApi("Supabase", "https://api.supabase.com", "Authorization", "Bearer ")
        with pytest.raises(
            VendorApiError, match=r"HTTP 400: .*body\.kps_enabledd is not a field of the contract"
        ):
            api.call(
                "t", "PATCH", f"/v1/projects/{ref}", resource="project", json={"name": "x", "kps_enabledd": 1}
            )
        with pytest.raises(VendorApiError, match=r"body\.name is required"):
            api.call("t", "PATCH", f"/v1/projects/{ref}", resource="project", json={})


def test_auth_settings_check_rejects_a_plain_http_site_url() -> None:
    failures = (
        AuthSettingsProvider()
        .check({}, {"project_ref": "abcd", "site_url": "http://my.nexk-it.com"})
        .failures
    )
    assert [f.property for f in failures] == ["site_url"]


def test_postgrest_settings_expose_exactly_the_declared_schemas_and_see_dashboard_changes(
    sim: SupabaseSimulator, ref: str
) -> None:
    provider = configure(PostgrestSettingsProvider())
    props = {
        "project_ref": ref,
        "db_schema": ["public"],
        "db_extra_search_path": ["public", "extensions"],
        "max_rows": 500,
    }
    created = provider.create(props)
    assert sim.project(ref).postgrest["db_schema"] == "public"

    sim.dashboard_update_postgrest(ref, db_schema="public,private")
    read = provider.read(created.id, dict(created.outs))

    assert read.outs["db_schema"] == ["public", "private"]
    assert provider.diff(created.id, read.outs, props).changes


def test_postgrest_settings_refuse_to_expose_private_or_an_unknown_schema() -> None:
    provider = PostgrestSettingsProvider()
    base = {"project_ref": "abcd", "db_extra_search_path": ["public"], "max_rows": 1000}

    private = provider.check({}, {**base, "db_schema": ["public", "private"]}).failures
    other = provider.check({}, {**base, "db_schema": ["public", "app"]}).failures

    assert [f.property for f in private] == ["db_schema"] and "must never be exposed" in private[0].reason
    assert [f.property for f in other] == ["db_schema"] and "not exposable" in other[0].reason
    assert provider.check({}, {**base, "db_schema": ["public", "graphql_public"]}).failures == []


def test_pooler_connection_reads_the_transaction_mode_string_and_inserts_the_password(
    sim: SupabaseSimulator, ref: str
) -> None:
    sim.project(ref).pooler["pool_mode"] = "session"

    outs = (
        configure(PoolerConnectionProvider())
        .create({"project_ref": ref, "db_pass": "p@ss/word", "pool_mode": "transaction"})
        .outs
    )

    assert outs["database_url"] == (
        # checkov:skip=CKV_SECRET_4: the expected URL of the URL-encoding test (simulated ref, fake password)
        f"postgresql://postgres.{ref}:p%40ss%2Fword@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
    )
    assert outs["session_database_url"].endswith(":5432/postgres")
    assert outs["pool_mode"] == "transaction" == sim.project(ref).pooler["pool_mode"]


def test_pitr_addon_is_not_requested_twice_and_its_removal_tolerates_absence(
    sim: SupabaseSimulator, ref: str
) -> None:
    provider = configure(PitrAddonProvider())

    provider.create({"project_ref": ref, "variant": "pitr_7"})
    provider.create({"project_ref": ref, "variant": "pitr_7"})
    provider.delete(f"{ref}/pitr", {"project_ref": ref, "variant": "pitr_7"})
    provider.delete(f"{ref}/pitr", {"project_ref": ref, "variant": "pitr_7"})

    assert [c.method for c in sim.calls if "billing/addons" in c.path] == [
        "GET",
        "PATCH",
        "GET",
        "DELETE",
        "DELETE",
    ]
    assert sim.project(ref).pitr is None


def test_publishable_key_is_created_once_and_adopted_by_name_afterwards(
    sim: SupabaseSimulator, ref: str
) -> None:
    provider = configure(PublishableKeyProvider())

    first = provider.create({"project_ref": ref, "name": "portal"})
    again = provider.create({"project_ref": ref, "name": "portal"})

    assert first.outs["api_key"] == again.outs["api_key"]
    assert first.outs["api_key"].startswith("sb_publishable_")
    assert posts(sim, f"/v1/projects/{ref}/api-keys") == 1


def test_a_publishable_key_create_that_failed_after_commit_adopts_the_key(
    sim: SupabaseSimulator, ref: str
) -> None:
    sim.fail_after_commit("POST", "/v1/projects/{ref}/api-keys", status=500)

    result = configure(PublishableKeyProvider()).create({"project_ref": ref, "name": "portal"})

    portal_keys = [k for k in sim.project(ref).api_keys if k["name"] == "portal"]
    assert len(portal_keys) == 1 and result.outs["key_id"] == portal_keys[0]["id"]


# ---------------------------------------------------------------------------------------- the plumbing


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
        PostgrestSettingsProvider,
        SslEnforcementProvider,
        NetworkRestrictionsProvider,
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


def test_a_non_json_error_body_is_reported_verbatim() -> None:
    response = requests.Response()
    response.status_code, response._content = 418, b"teapot"

    assert api_message(response) == "teapot"


def test_adopt_or_create_never_posts_twice_and_adopts_what_the_lookup_finds_after_an_unknown_outcome() -> (
    None
):
    from infra.providers.base import adopt_or_create
    from infra.providers.http import OutcomeUnknownError

    posted: list[dict] = []

    def call(method: str, path: str, *, resource: str, json: dict) -> dict:
        posted.append(json)
        raise OutcomeUnknownError(f"{resource}: POST {path} failed with HTTP 502", status=502)

    def create(find_again: Callable[[], dict | None]) -> str:
        return adopt_or_create(
            call,
            "/things",
            None,
            resource="thing t",
            update=None,
            create={"name": "t"},
            find_again=find_again,
        )

    assert create(lambda: {"id": 7, "name": "t"}) == "7"
    with pytest.raises(OutcomeUnknownError, match=r"nothing was created: run `pulumi up` again"):
        create(lambda: None)
    assert len(posted) == 2  # one POST per attempt, never a blind second one
