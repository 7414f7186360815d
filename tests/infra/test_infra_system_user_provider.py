"""SystemUser against the simulated Supabase: the Management API (api-keys) and the project's GoTrue admin API.

The simulator (infra/rehearsal/supabase_sim.py) plays GoTrue as supabase/auth documents it: it merges
`app_metadata` and deletes keys sent as null, keeps its own `provider`/`providers`, confirms the address on
`email_confirm`, refuses short passwords (422 weak_password) and duplicate e-mails (422 email_exists), pages
`GET /admin/users`, and accepts only the project's secret (or legacy service_role) key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import dill
import pytest
from infra_helpers import TOKEN, configure
from pulumi.dynamic.dynamic import serialize_provider
from supabase_helpers import simulated

from infra.providers.http import VendorApiError
from infra.providers.supabase_auth_admin import (
    PASSWORD_CLASSES,
    PASSWORD_LENGTH,
    SystemUserProvider,
    generate_password,
)
from infra.rehearsal.supabase_sim import SimProject, SupabaseSimulator

EMAIL = "storage-sweeper@my.nexk-it.com"
CLAIMS = {"nexk_system": "storage_sweeper"}
USERS_PATH = "/admin/users"


@pytest.fixture
def sim() -> Iterator[SupabaseSimulator]:
    with simulated(SupabaseSimulator()) as simulator:
        yield simulator


@pytest.fixture
def ref(sim: SupabaseSimulator) -> str:
    ref = sim.add_project("mynexk-prod")
    sim.project(ref).auth["password_min_length"] = 12
    return ref


@pytest.fixture
def project(sim: SupabaseSimulator, ref: str) -> SimProject:
    return sim.project(ref)


def props(ref: str, **changes: Any) -> dict[str, Any]:
    return {"project_ref": ref, "email": EMAIL, "app_metadata": CLAIMS, "rotation": "r1", **changes}


def secret_key(project: SimProject) -> str:
    return next(k["api_key"] for k in project.api_keys if k["type"] == "secret")


def provider(per_page: int = 200) -> SystemUserProvider:
    return configure(SystemUserProvider(per_page=per_page))


def sent_passwords(sim: SupabaseSimulator) -> list[str]:
    return [c.body["password"] for c in sim.calls if c.vendor == "gotrue" and (c.body or {}).get("password")]


def test_create_makes_a_confirmed_user_with_the_claims_and_returns_a_strong_generated_password(
    project: SimProject, ref: str
) -> None:
    result = provider().create(props(ref))

    user = project.users[result.id]
    assert user["email"] == EMAIL and user["email_confirmed_at"]
    assert user["app_metadata"] == {"provider": "email", "providers": ["email"], **CLAIMS}
    password = result.outs["password"]
    assert project.passwords[result.id] == password
    assert len(password) == PASSWORD_LENGTH
    assert all(any(char in group for char in password) for group in PASSWORD_CLASSES)
    assert result.outs == {**props(ref), "user_id": result.id, "password": password}
    assert secret_key(project) not in json.dumps(result.outs)  # the service key is used, never kept


def test_create_adopts_the_user_with_the_same_email_with_a_new_password_and_exactly_the_declared_claims(
    sim: SupabaseSimulator, project: SimProject, ref: str
) -> None:
    for n in range(5):
        sim.add_user(ref, f"client{n}@example.be")
    existing = sim.add_user(ref, EMAIL.upper(), {"nexk_system": "old", "nexk_staff": True})

    result = provider(per_page=2).create(props(ref))  # the user sits on the third page

    assert result.id == existing and len(project.users) == 6
    user = project.users[existing]
    assert user["app_metadata"] == {"provider": "email", "providers": ["email"], **CLAIMS}
    assert user["email_confirmed_at"]
    assert project.passwords[existing] == result.outs["password"]


@pytest.mark.parametrize("fault", ["5xx after commit", "connection dropped after commit"])
def test_a_create_that_failed_after_gotrue_committed_it_adopts_the_user_with_the_password_it_sent(
    sim: SupabaseSimulator, project: SimProject, ref: str, fault: str
) -> None:
    if fault == "5xx after commit":
        sim.fail_after_commit("POST", USERS_PATH, status=502)
    else:
        sim.drop_connection("POST", USERS_PATH, after_commit=True)

    result = provider().create(props(ref))

    assert list(project.users) == [result.id]
    assert sum(1 for c in sim.calls if c.method == "POST" and c.vendor == "gotrue") == 1
    assert project.passwords[result.id] == result.outs["password"]


def test_two_generated_passwords_differ() -> None:
    assert generate_password() != generate_password()


def test_an_app_metadata_change_updates_the_claims_and_removes_dropped_ones_but_keeps_the_password(
    sim: SupabaseSimulator, project: SimProject, ref: str
) -> None:
    p = provider()
    created = p.create(props(ref, app_metadata={**CLAIMS, "nexk_scope": "attachments"}))
    olds = dict(created.outs)
    news = props(ref, app_metadata={"nexk_system": "storage_sweeper_v2"})

    assert p.diff(created.id, olds, news).changes is True
    result = p.update(created.id, olds, news)

    user = project.users[created.id]
    assert user["app_metadata"] == {
        "provider": "email",
        "providers": ["email"],
        "nexk_system": "storage_sweeper_v2",
    }
    assert result.outs["password"] == olds["password"] == project.passwords[created.id]
    assert sent_passwords(sim) == [olds["password"]]  # only the one set at creation


def test_a_new_rotation_sets_a_new_password_and_keeps_the_claims(project: SimProject, ref: str) -> None:
    p = provider()
    created = p.create(props(ref))
    news = props(ref, rotation="r2")

    diff = p.diff(created.id, created.outs, news)
    result = p.update(created.id, dict(created.outs), news)

    assert diff.changes is True and diff.replaces == []
    assert result.outs["password"] != created.outs["password"]
    assert project.passwords[created.id] == result.outs["password"]
    assert project.users[created.id]["app_metadata"]["nexk_system"] == "storage_sweeper"


def test_delete_removes_the_user_and_a_user_or_project_already_gone_is_fine(
    sim: SupabaseSimulator, project: SimProject, ref: str
) -> None:
    p = provider()
    created = p.create(props(ref))

    p.delete(created.id, dict(created.outs))
    assert project.users == {}
    p.delete(created.id, dict(created.outs))  # already gone

    sim.dashboard_delete_project(ref)
    p.delete(created.id, dict(created.outs))  # the project went first


def test_read_shows_claims_added_by_hand_as_drift_and_a_deleted_user_as_gone(
    sim: SupabaseSimulator, project: SimProject, ref: str
) -> None:
    p = provider()
    created = p.create(props(ref))
    sim.dashboard_set_app_metadata(ref, EMAIL, nexk_staff=True)

    read = p.read(created.id, dict(created.outs))

    assert read.outs["app_metadata"] == {**CLAIMS, "nexk_staff": True}
    assert read.outs["password"] == created.outs["password"]  # GoTrue never returns it; the state keeps it
    assert p.diff(created.id, read.outs, props(ref)).changes is True
    p.update(created.id, read.outs, props(ref))
    assert "nexk_staff" not in project.users[created.id]["app_metadata"]

    del project.users[created.id]
    assert p.read(created.id, dict(created.outs)).id == ""


def test_the_legacy_service_role_key_is_used_when_the_project_has_no_secret_key(
    sim: SupabaseSimulator, project: SimProject, ref: str
) -> None:
    project.api_keys = [k for k in project.api_keys if k["type"] != "secret"]

    result = provider().create(props(ref))

    assert project.users[result.id]["email"] == EMAIL
    gotrue = [c for c in sim.calls if c.vendor == "gotrue"]
    assert gotrue and all(c.status == 200 for c in gotrue)


def test_a_project_without_a_revealed_secret_key_fails_with_what_to_do(
    sim: SupabaseSimulator, project: SimProject, ref: str
) -> None:
    sim.hide_secret_keys = True

    with pytest.raises(VendorApiError) as error:
        provider().create(props(ref))

    message = str(error.value)
    assert f"system user {EMAIL} of project {ref}" in message
    assert "no secret key" in message and "Project Settings > API Keys" in message
    assert "pulumi up" in message
    assert project.users == {}


def test_a_key_gotrue_refuses_gives_a_clear_error(project: SimProject, ref: str) -> None:
    project.disabled_keys = {k["api_key"] for k in project.api_keys}

    with pytest.raises(VendorApiError) as error:
        provider().create(props(ref))

    message = str(error.value)
    assert "HTTP 401: Invalid API key" in message
    assert "GoTrue refused the project's secret key" in message and "docs/ops.md" in message
    assert secret_key(project) not in message


def test_a_gotrue_error_names_the_user_quotes_gotrue_and_never_shows_the_password(
    sim: SupabaseSimulator, project: SimProject, ref: str
) -> None:
    project.auth["password_min_length"] = 100  # a password rule the generated password cannot meet

    with pytest.raises(VendorApiError) as error:
        provider().create(props(ref))

    message = str(error.value)
    assert f"Supabase Auth system user {EMAIL} of project {ref}: POST /auth/v1/admin/users" in message
    assert "HTTP 422: Password should be at least 100 characters." in message
    assert sent_passwords(sim) and sent_passwords(sim)[0] not in message


def test_updating_a_user_deleted_behind_pulumis_back_says_to_refresh(project: SimProject, ref: str) -> None:
    p = provider()
    created = p.create(props(ref))
    del project.users[created.id]

    with pytest.raises(VendorApiError, match=r"no longer exists; run `pulumi refresh`"):
        p.update(created.id, dict(created.outs), props(ref, rotation="r2"))


def test_an_email_or_project_change_replaces_the_user_deleting_the_old_one_first() -> None:
    p = SystemUserProvider()
    olds = {**props("abcd"), "user_id": "u1", "password": "kept-in-state"}

    moved = p.diff("u1", olds, props("abcd", email="sweeper@my.nexk-it.com"))
    same = p.diff("u1", olds, props("abcd"))

    assert moved.replaces == ["email"] and moved.delete_before_replace is True
    assert same.changes is False and same.replaces == []


def test_check_wants_a_lower_case_email_and_claims_that_are_not_gotrues_own() -> None:
    p = SystemUserProvider()

    def failures(**changes: Any) -> dict[str, str]:
        return {f.property: f.reason for f in p.check({}, props("abcd", **changes)).failures}

    assert failures() == {}
    assert "lower-case e-mail address" in failures(email="Storage-Sweeper@my.nexk-it.com")["email"]
    assert "must name the system account" in failures(app_metadata={})["app_metadata"]
    assert "belong to GoTrue" in failures(app_metadata={**CLAIMS, "provider": "email"})["app_metadata"]
    assert set(failures(project_ref="")) == {"project_ref"}


def test_the_provider_survives_dill_pickling_without_the_token_or_any_key(
    project: SimProject, ref: str
) -> None:
    p = provider()
    p.create(props(ref))  # a key was fetched and used

    payload = base64.b64decode(serialize_provider(p))
    restored = dill.loads(payload)  # noqa: S301 (our own payload, as Pulumi does)

    assert TOKEN.encode() not in payload and secret_key(project).encode() not in payload
    assert restored._token is None
    assert restored.auth_url == "https://{ref}.supabase.co" and type(restored) is SystemUserProvider
