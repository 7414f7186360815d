"""SystemUser against a local server that plays the Supabase Management API (api-keys) and GoTrue's admin API."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import dill
import pytest
from infra_helpers import TOKEN, configure
from pulumi.dynamic.dynamic import serialize_provider
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from infra.providers.http import VendorApiError
from infra.providers.supabase_auth_admin import (
    PASSWORD_CLASSES,
    PASSWORD_LENGTH,
    SystemUserProvider,
    generate_password,
)

REF = "abcd"
EMAIL = "storage-sweeper@my.nexk-it.com"
CLAIMS = {"nexk_system": "storage_sweeper"}
PROPS = {"project_ref": REF, "email": EMAIL, "app_metadata": CLAIMS, "rotation": "r1"}
# Stand-ins built from parts, so no literal key sits in the file.
SECRET_KEY = "sb_" + "secret_" + "local-test-key"
SERVICE_ROLE_KEY = "legacy-service-role-" + "local-test-key"
USER_ID = re.compile(r"^/auth/v1/admin/users/(?P<id>[0-9a-f-]{36})$")


def gotrue_error(status: int, error_code: str, msg: str) -> Response:
    """GoTrue's error body (openapi.yaml, ErrorSchema)."""
    body = {"code": status, "error_code": error_code, "msg": msg}
    return Response(json.dumps(body), status=status, content_type="application/json")


def ok(body: Any) -> Response:
    return Response(json.dumps(body), status=200, content_type="application/json")


class FakeSupabase:
    """The documented endpoints, with state: Management API `GET /v1/projects/{ref}/api-keys?reveal=true` and
    GoTrue's `GET|POST /admin/users`, `GET|PUT|DELETE /admin/users/{id}` (supabase/auth openapi.yaml, admin.go).

    GoTrue merges `app_metadata` into what the user has and deletes keys sent as null; it keeps its own
    `provider`/`providers`; `email_confirm: true` confirms the address; it rejects short passwords with 422.
    """

    def __init__(self, server: HTTPServer, keys: list[dict[str, Any]], gotrue_key: str = SECRET_KEY) -> None:
        self.keys = keys
        self.gotrue_key = gotrue_key
        self.users: dict[str, dict[str, Any]] = {}
        self.passwords: dict[str, str] = {}
        self.received_passwords: list[str] = []
        self.min_password_length = 12
        server.expect_request(
            f"/v1/projects/{REF}/api-keys",
            method="GET",
            headers={"Authorization": f"Bearer {TOKEN}"},
            query_string="reveal=true",
        ).respond_with_handler(lambda _request: ok(self.keys))
        server.expect_request("/auth/v1/admin/users", method="GET").respond_with_handler(self._list)
        server.expect_request("/auth/v1/admin/users", method="POST").respond_with_handler(self._create)
        server.expect_request(USER_ID, method="GET").respond_with_handler(self._get)
        server.expect_request(USER_ID, method="PUT").respond_with_handler(self._update)
        server.expect_request(USER_ID, method="DELETE").respond_with_handler(self._delete)

    def add_user(
        self, email: str, app_metadata: dict[str, Any] | None = None, confirmed: bool = False
    ) -> str:
        user_id = str(uuid.uuid4())
        self.users[user_id] = {
            "id": user_id,
            "aud": "authenticated",
            "role": "authenticated",
            "email": email,
            "email_confirmed_at": datetime.now(UTC).isoformat() if confirmed else None,
            "app_metadata": {"provider": "email", "providers": ["email"], **(app_metadata or {})},
            "user_metadata": {},
        }
        return user_id

    def _refused(self, request: Request) -> Response | None:
        authorization = request.headers.get("Authorization")
        if request.headers.get("apikey") != self.gotrue_key or authorization != f"Bearer {self.gotrue_key}":
            return gotrue_error(401, "no_authorization", "Invalid API key")
        return None

    def _apply(self, user: dict[str, Any], params: dict[str, Any]) -> Response | None:
        password = params.get("password")
        if password is not None:
            self.received_passwords.append(password)
            if len(password) < self.min_password_length:
                return gotrue_error(
                    422,
                    "weak_password",
                    f"Password should be at least {self.min_password_length} characters.",
                )
            self.passwords[user["id"]] = password
        for key, value in (params.get("app_metadata") or {}).items():
            if value is None:
                user["app_metadata"].pop(key, None)
            else:
                user["app_metadata"][key] = value
        if params.get("email_confirm"):
            user["email_confirmed_at"] = datetime.now(UTC).isoformat()
        return None

    def _list(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        page, per_page = int(request.args.get("page", 1)), int(request.args.get("per_page", 50))
        users = list(self.users.values())[(page - 1) * per_page : page * per_page]
        return ok({"users": users, "aud": "authenticated"})

    def _create(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        params = request.get_json()
        if any(u["email"].lower() == params["email"].lower() for u in self.users.values()):
            return gotrue_error(
                422, "email_exists", "A user with this email address has already been registered"
            )
        user_id = self.add_user(params["email"])
        if error := self._apply(self.users[user_id], params):
            del self.users[user_id]
            return error
        return ok(self.users[user_id])

    def _user(self, request: Request) -> dict[str, Any] | None:
        match = USER_ID.match(request.path)
        return self.users.get(match["id"]) if match else None

    def _get(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        user = self._user(request)
        return ok(user) if user else gotrue_error(404, "user_not_found", "User not found")

    def _update(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        user = self._user(request)
        if user is None:
            return gotrue_error(404, "user_not_found", "User not found")
        if error := self._apply(user, request.get_json()):
            return error
        return ok(user)

    def _delete(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        user = self._user(request)
        if user is None:
            return gotrue_error(404, "user_not_found", "User not found")
        del self.users[user["id"]]
        self.passwords.pop(user["id"], None)
        return ok({})


SECRET_KEYS = [
    {"id": "k0", "type": "legacy", "name": "anon", "api_key": "anon-jwt"},
    {"id": "k1", "type": "legacy", "name": "service_role", "api_key": SERVICE_ROLE_KEY},
    {"id": "k2", "type": "publishable", "name": "portal", "api_key": "sb_publishable_x"},
    {"id": "k3", "type": "secret", "name": "default", "api_key": SECRET_KEY},
]


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakeSupabase:
    return FakeSupabase(httpserver, list(SECRET_KEYS))


def provider(api_url: str, per_page: int = 200) -> SystemUserProvider:
    return configure(
        SystemUserProvider(api_url=api_url, auth_url=api_url, backoff_seconds=0, per_page=per_page)
    )


def test_create_makes_a_confirmed_user_with_the_claims_and_returns_a_strong_generated_password(
    fake: FakeSupabase, api_url: str
) -> None:
    result = provider(api_url).create(dict(PROPS))

    user = fake.users[result.id]
    assert user["email"] == EMAIL and user["email_confirmed_at"]
    assert user["app_metadata"] == {"provider": "email", "providers": ["email"], **CLAIMS}
    password = result.outs["password"]
    assert fake.passwords[result.id] == password
    assert len(password) == PASSWORD_LENGTH
    assert all(any(char in group for char in password) for group in PASSWORD_CLASSES)
    assert result.outs == {**PROPS, "user_id": result.id, "password": password}
    assert SECRET_KEY not in json.dumps(result.outs)  # the service key is used, never kept


def test_create_adopts_the_user_with_the_same_email_with_a_new_password_and_exactly_the_declared_claims(
    fake: FakeSupabase, api_url: str
) -> None:
    for n in range(5):
        fake.add_user(f"client{n}@example.be")
    existing = fake.add_user(EMAIL.upper(), {"nexk_system": "old", "nexk_staff": True})

    result = provider(api_url, per_page=2).create(dict(PROPS))  # the user sits on the third page

    assert result.id == existing and len(fake.users) == 6
    user = fake.users[existing]
    assert user["app_metadata"] == {"provider": "email", "providers": ["email"], **CLAIMS}
    assert user["email_confirmed_at"]
    assert fake.passwords[existing] == result.outs["password"]


def test_two_generated_passwords_differ() -> None:
    assert generate_password() != generate_password()


def test_an_app_metadata_change_updates_the_claims_and_removes_dropped_ones_but_keeps_the_password(
    fake: FakeSupabase, api_url: str
) -> None:
    p = provider(api_url)
    created = p.create({**PROPS, "app_metadata": {**CLAIMS, "nexk_scope": "attachments"}})
    olds = dict(created.outs)
    news = {**PROPS, "app_metadata": {"nexk_system": "storage_sweeper_v2"}}

    assert p.diff(created.id, olds, news).changes is True
    result = p.update(created.id, olds, news)

    user = fake.users[created.id]
    assert user["app_metadata"] == {
        "provider": "email",
        "providers": ["email"],
        "nexk_system": "storage_sweeper_v2",
    }
    assert result.outs["password"] == olds["password"] == fake.passwords[created.id]
    assert fake.received_passwords == [olds["password"]]  # only the one set at creation


def test_a_new_rotation_sets_a_new_password_and_keeps_the_claims(fake: FakeSupabase, api_url: str) -> None:
    p = provider(api_url)
    created = p.create(dict(PROPS))
    news = {**PROPS, "rotation": "r2"}

    diff = p.diff(created.id, created.outs, news)
    result = p.update(created.id, dict(created.outs), news)

    assert diff.changes is True and diff.replaces == []
    assert result.outs["password"] != created.outs["password"]
    assert fake.passwords[created.id] == result.outs["password"]
    assert fake.users[created.id]["app_metadata"]["nexk_system"] == "storage_sweeper"


def test_delete_removes_the_user_and_a_user_or_project_already_gone_is_fine(
    fake: FakeSupabase, api_url: str, httpserver: HTTPServer
) -> None:
    p = provider(api_url)
    created = p.create(dict(PROPS))

    p.delete(created.id, dict(created.outs))
    assert fake.users == {}
    p.delete(created.id, dict(created.outs))  # already gone

    httpserver.clear()
    httpserver.expect_request(f"/v1/projects/{REF}/api-keys").respond_with_json(
        {"message": "Project not found"}, status=404
    )
    p.delete(created.id, dict(created.outs))  # the project went first


def test_read_shows_claims_added_by_hand_as_drift_and_a_deleted_user_as_gone(
    fake: FakeSupabase, api_url: str
) -> None:
    p = provider(api_url)
    created = p.create(dict(PROPS))
    fake.users[created.id]["app_metadata"]["nexk_staff"] = True

    read = p.read(created.id, dict(created.outs))

    assert read.outs["app_metadata"] == {**CLAIMS, "nexk_staff": True}
    assert read.outs["password"] == created.outs["password"]  # GoTrue never returns it; the state keeps it
    assert p.diff(created.id, read.outs, dict(PROPS)).changes is True
    p.update(created.id, read.outs, dict(PROPS))
    assert "nexk_staff" not in fake.users[created.id]["app_metadata"]

    del fake.users[created.id]
    assert p.read(created.id, dict(created.outs)).id == ""


def test_the_legacy_service_role_key_is_used_when_the_project_has_no_secret_key(
    httpserver: HTTPServer, api_url: str
) -> None:
    legacy_only = [k for k in SECRET_KEYS if k["type"] != "secret"]
    fake = FakeSupabase(httpserver, legacy_only, gotrue_key=SERVICE_ROLE_KEY)

    result = provider(api_url).create(dict(PROPS))

    assert fake.users[result.id]["email"] == EMAIL


def test_a_project_without_a_revealed_secret_key_fails_with_what_to_do(
    httpserver: HTTPServer, api_url: str
) -> None:
    unrevealed = [
        {"id": "k2", "type": "publishable", "name": "portal", "api_key": "sb_publishable_x"},
        {"id": "k3", "type": "secret", "name": "default", "api_key": None},
    ]
    fake = FakeSupabase(httpserver, unrevealed)

    with pytest.raises(VendorApiError) as error:
        provider(api_url).create(dict(PROPS))

    message = str(error.value)
    assert f"system user {EMAIL} of project {REF}" in message
    assert "no secret key" in message and "Project Settings > API Keys" in message
    assert "pulumi up" in message
    assert fake.users == {}


def test_a_key_gotrue_refuses_gives_a_clear_error(httpserver: HTTPServer, api_url: str) -> None:
    FakeSupabase(httpserver, list(SECRET_KEYS), gotrue_key="another-key")

    with pytest.raises(VendorApiError) as error:
        provider(api_url).create(dict(PROPS))

    message = str(error.value)
    assert "HTTP 401: Invalid API key" in message
    assert "GoTrue refused the project's secret key" in message and "docs/ops.md" in message
    assert SECRET_KEY not in message


def test_a_gotrue_error_names_the_user_quotes_gotrue_and_never_shows_the_password(
    fake: FakeSupabase, api_url: str
) -> None:
    fake.min_password_length = 100  # a password rule the generated password cannot meet

    with pytest.raises(VendorApiError) as error:
        provider(api_url).create(dict(PROPS))

    message = str(error.value)
    assert f"Supabase Auth system user {EMAIL} of project {REF}: POST /auth/v1/admin/users" in message
    assert "HTTP 422: Password should be at least 100 characters." in message
    assert fake.received_passwords and fake.received_passwords[0] not in message


def test_updating_a_user_deleted_behind_pulumis_back_says_to_refresh(
    fake: FakeSupabase, api_url: str
) -> None:
    p = provider(api_url)
    created = p.create(dict(PROPS))
    del fake.users[created.id]

    with pytest.raises(VendorApiError, match=r"no longer exists; run `pulumi refresh`"):
        p.update(created.id, dict(created.outs), {**PROPS, "rotation": "r2"})


def test_an_email_or_project_change_replaces_the_user_deleting_the_old_one_first() -> None:
    p = SystemUserProvider()
    olds = {**PROPS, "user_id": "u1", "password": "kept-in-state"}

    moved = p.diff("u1", olds, {**PROPS, "email": "sweeper@my.nexk-it.com"})
    same = p.diff("u1", olds, dict(PROPS))

    assert moved.replaces == ["email"] and moved.delete_before_replace is True
    assert same.changes is False and same.replaces == []


def test_check_wants_a_lower_case_email_and_claims_that_are_not_gotrues_own() -> None:
    p = SystemUserProvider()

    def failures(**changes: Any) -> dict[str, str]:
        return {f.property: f.reason for f in p.check({}, {**PROPS, **changes}).failures}

    assert failures() == {}
    assert "lower-case e-mail address" in failures(email="Storage-Sweeper@my.nexk-it.com")["email"]
    assert "must name the system account" in failures(app_metadata={})["app_metadata"]
    assert "belong to GoTrue" in failures(app_metadata={**CLAIMS, "provider": "email"})["app_metadata"]
    assert set(failures(project_ref="")) == {"project_ref"}


def test_the_provider_survives_dill_pickling_without_the_token_or_any_key(
    fake: FakeSupabase, api_url: str
) -> None:
    p = provider(api_url)
    p.create(dict(PROPS))  # a key was fetched and used

    payload = base64.b64decode(serialize_provider(p))
    restored = dill.loads(payload)  # noqa: S301 (our own payload, as Pulumi does)

    assert TOKEN.encode() not in payload and SECRET_KEY.encode() not in payload
    assert restored._token is None
    assert restored.auth_url == api_url and type(restored) is SystemUserProvider
