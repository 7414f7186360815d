"""SystemUser: a Supabase Auth (GoTrue) user that a platform job signs in as, kept by `pulumi up`.

Some jobs act in the database without any key that bypasses RLS. The storage sweeper, for one, deletes queued
storage objects through the Storage API, whose storage.objects policies decide (db/schema/0270). It signs in
as a *system account*: an ordinary GoTrue user whose `app_metadata` names it (`{"nexk_system":
"storage_sweeper"}`). Only the service role can write app_metadata, so the claim in its JWT can be trusted, and
the policies grant exactly that identity exactly what it needs.

The service role is used here only, at deploy time, on the ops workstation. For each operation the provider
reads the project's secret key from the Management API (`GET /v1/projects/{ref}/api-keys?reveal=true`), calls
GoTrue's admin API with it and drops it: the key is never an input, an output, a log line or part of the
pickled provider.

| operation | GoTrue admin API (`https://{ref}.supabase.co/auth/v1`)                                    |
|-----------|------------------------------------------------------------------------------------------|
| create    | GET /admin/users?page=&per_page= finds the user with the same e-mail and adopts it (PUT), |
|           | otherwise POST /admin/users (e-mail confirmed, app_metadata set); a POST that fails with a |
|           | 5xx or a dropped connection is never repeated: the user is looked up again and adopted    |
| update    | PUT /admin/users/{id}: app_metadata (GoTrue merges; a removed key is sent as null), and a  |
|           | new password when `rotation` changes                                                       |
| read      | GET /admin/users/{id}                                                                      |
| delete    | DELETE /admin/users/{id} (a user or a project already gone is fine)                        |

The password is generated here with `secrets`, on create, on adoption and when `rotation` changes. It is an
output marked secret (`additional_secret_outputs`), so it lives only in the encrypted state and in the
sensitive Vercel variable the program publishes it to; GoTrue never returns it.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from infra.providers.base import (
    adopt_or_create,
    diff_inputs,
    inputs_of,
    is_unknown,
    required,
    with_secret_outputs,
)
from infra.providers.http import OutcomeUnknownError, VendorApi, VendorApiError
from infra.providers.supabase import SUPABASE_API_URL, SupabaseProvider

GOTRUE_URL = "https://{ref}.supabase.co"  # `{ref}` becomes the project ref; tests pass a local server instead
ADMIN_USERS_PATH = "/auth/v1/admin/users"
# GoTrue's own bookkeeping in app_metadata: never declared here, never removed.
GOTRUE_APP_METADATA = frozenset({"provider", "providers"})
# Below bcrypt's 72-byte limit, far above any password_min_length a stack may set.
PASSWORD_LENGTH = 64
# Each class is present, so Supabase Auth's optional `password_required_characters` rule accepts the password
# whatever the project sets; the symbols need no quoting in a URL, a shell or JSON.
PASSWORD_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits, "-_.~")
PASSWORD_ALPHABET = "".join(PASSWORD_CLASSES)


def generate_password(length: int = PASSWORD_LENGTH) -> str:
    """A random password (about 6 bits per character) with at least one character of every class."""
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        if all(any(char in group for char in password) for group in PASSWORD_CLASSES):
            return password


def service_key(keys: Iterable[Mapping[str, Any]]) -> str | None:
    """The key GoTrue's admin API accepts: a `secret` key, else the legacy `service_role` key.

    Keys the Management API did not reveal (no `api_key`) do not count.
    """
    revealed = [key for key in keys if isinstance(key.get("api_key"), str) and key["api_key"]]
    for key in revealed:
        if key.get("type") == "secret":
            return key["api_key"]
    for key in revealed:
        if key.get("type") == "legacy" and key.get("name") == "service_role":
            return key["api_key"]
    return None


@dataclass(frozen=True)
class AuthAdmin:
    """GoTrue's admin API of one project, holding the key read for one operation (never stored or shown)."""

    api: VendorApi
    key: str = field(repr=False)

    def call(self, method: str, path: str, *, resource: str, **kwargs: Any) -> Any:
        try:
            return self.api.call(self.key, method, path, resource=resource, **kwargs)
        except VendorApiError as exc:
            if exc.status in (401, 403):
                raise VendorApiError(
                    f"{exc}; GoTrue refused the project's secret key: check that the Supabase access token may "
                    "reveal secret keys and that the key is enabled (docs/ops.md, Storage sweeper account)",
                    status=exc.status,
                ) from exc
            raise


class SystemUserProvider(SupabaseProvider):
    """A confirmed GoTrue user with a generated password and the declared app_metadata."""

    kind = "system user"
    INPUTS = ("project_ref", "email", "app_metadata", "rotation")

    def __init__(
        self,
        api_url: str = SUPABASE_API_URL,
        auth_url: str = GOTRUE_URL,
        backoff_seconds: float = 0.5,
        per_page: int = 200,
    ) -> None:
        super().__init__(api_url, backoff_seconds)
        self.auth_url = auth_url
        self.per_page = per_page

    def label(self, props: Mapping[str, Any]) -> str:
        return f"system user {props.get('email')} of project {props.get('project_ref')}"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, ("project_ref", "email"))
        email = news.get("email")
        if isinstance(email, str) and not is_unknown(email) and ("@" not in email or email != email.lower()):
            failures.append(
                CheckFailure("email", f"email must be a lower-case e-mail address, got {email!r}")
            )
        metadata = news.get("app_metadata")
        if not isinstance(metadata, Mapping) or not metadata:
            failures.append(
                CheckFailure(
                    "app_metadata",
                    "app_metadata must name the system account, e.g. {'nexk_system': 'storage_sweeper'}",
                )
            )
        elif reserved := sorted(GOTRUE_APP_METADATA & set(metadata)):
            failures.append(
                CheckFailure("app_metadata", f"app_metadata keys {reserved} belong to GoTrue; leave them out")
            )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = diff_inputs(
            olds, news, updatable=("app_metadata", "rotation"), replace_on=("project_ref", "email")
        )
        # A replacement created first would adopt the old user (same project, maybe the same e-mail), and the
        # old resource's delete would then remove it: delete first. SystemUser also sets the resource option,
        # which covers `pulumi up --replace`.
        result.delete_before_replace = bool(result.replaces)
        return result

    def _admin(self, props: Mapping[str, Any]) -> AuthAdmin:
        """GoTrue's admin API of the project, with the secret key the Management API reveals."""
        ref = props["project_ref"]
        keys = self.call(
            "GET", f"/v1/projects/{ref}/api-keys", resource=self.label(props), params={"reveal": "true"}
        )
        key = service_key(keys or [])
        if key is None:
            raise VendorApiError(
                f"Supabase {self.label(props)}: the Management API returned no secret key for project {ref} "
                "(no revealed key of type `secret`, nor the legacy `service_role` key), and GoTrue's admin API "
                "needs one. Create a secret key (dashboard: Project Settings > API Keys), or use an access token "
                "allowed to reveal secret keys, then run `pulumi up` again"
            )
        api = VendorApi(
            "Supabase Auth",
            self.auth_url.format(ref=ref),
            "Authorization",
            "Bearer ",
            extra_token_headers=("apikey",),
            backoff_seconds=self.api.backoff_seconds,
        )
        return AuthAdmin(api, key)

    def _admin_unless_project_gone(self, props: Mapping[str, Any]) -> AuthAdmin | None:
        """Like `_admin`, but None when the project no longer exists (its users went with it)."""
        try:
            return self._admin(props)
        except VendorApiError as exc:
            if exc.status == 404:
                return None
            raise

    def _find(self, admin: AuthAdmin, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The user whose e-mail is `props["email"]`, paging through GoTrue's user list."""
        email = props["email"].lower()
        page = 1
        while True:
            listing = admin.call(
                "GET",
                ADMIN_USERS_PATH,
                resource=self.label(props),
                params={"page": page, "per_page": self.per_page},
            )
            users = (listing or {}).get("users") or []
            for user in users:
                if (user.get("email") or "").lower() == email:
                    return user
            if len(users) < self.per_page:
                return None
            page += 1

    def _outs(self, props: Mapping[str, Any], user_id: str, password: str | None) -> dict[str, Any]:
        return {**inputs_of(props, self.INPUTS), "user_id": user_id, "password": password}

    def create(self, props: dict[str, Any]) -> CreateResult:
        admin = self._admin(props)
        metadata = dict(props["app_metadata"])
        password = generate_password()
        existing = self._find(admin, props)
        update = None
        if existing is not None:
            # Nobody knows an adopted user's old password, and it must carry exactly the declared claims: any
            # other key (a role someone added by hand) is removed, GoTrue's own bookkeeping is kept.
            stray = sorted(set(existing.get("app_metadata") or {}) - set(metadata) - GOTRUE_APP_METADATA)
            update = {
                "password": password,
                "email_confirm": True,
                "app_metadata": {**dict.fromkeys(stray), **metadata},
            }
        create = {
            "email": props["email"],
            "password": password,
            "email_confirm": True,
            "app_metadata": metadata,
        }
        try:
            user_id = adopt_or_create(
                admin.call,
                ADMIN_USERS_PATH,
                existing,
                resource=self.label(props),
                update=update,
                create=create,
            )
        except OutcomeUnknownError as exc:
            # GoTrue may have created the user before the error: find it by e-mail and make sure it carries the
            # password and claims just generated, instead of POSTing a second time (which GoTrue would refuse
            # with 422 email_exists anyway).
            found = self._find(admin, props)
            if found is None:
                raise VendorApiError(
                    f"{exc}. No user {props['email']} exists now, so none was created: run `pulumi up` again",
                    status=exc.status,
                ) from exc
            user_id = str(found["id"])
            body = {"password": password, "email_confirm": True, "app_metadata": metadata}
            admin.call("PUT", f"{ADMIN_USERS_PATH}/{user_id}", resource=self.label(props), json=body)
        return CreateResult(user_id, self._outs(props, user_id, password))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        admin = self._admin(news)
        body: dict[str, Any] = {}
        password = olds.get("password")
        if news.get("rotation") != olds.get("rotation") or not password:
            password = generate_password()
            body["password"] = password
        old_metadata, new_metadata = dict(olds.get("app_metadata") or {}), dict(news["app_metadata"])
        if old_metadata != new_metadata:
            # GoTrue merges app_metadata into what the user has and deletes the keys sent as null.
            removed = sorted(set(old_metadata) - set(new_metadata))
            body["app_metadata"] = {**dict.fromkeys(removed), **new_metadata}
        if body:
            try:
                admin.call("PUT", f"{ADMIN_USERS_PATH}/{id_}", resource=self.label(news), json=body)
            except VendorApiError as exc:
                if exc.status != 404:
                    raise
                raise VendorApiError(
                    f"Supabase {self.label(news)}: user {id_} no longer exists; run `pulumi refresh` (Pulumi "
                    "forgets it) and then `pulumi up` to create it again",
                    status=404,
                ) from exc
        return UpdateResult(self._outs(news, id_, password))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        admin = self._admin_unless_project_gone(props)
        user = None
        if admin is not None:
            path = f"{ADMIN_USERS_PATH}/{id_}"
            user = admin.call("GET", path, resource=self.label(props), missing_ok=True)
        if user is None:
            return ReadResult("", {})
        # Every claim the user carries except GoTrue's own, so a key added by hand shows up as drift and the
        # next `pulumi up` removes it. The password cannot be read back: the state keeps the last one set.
        live = {k: v for k, v in (user.get("app_metadata") or {}).items() if k not in GOTRUE_APP_METADATA}
        outs = {
            **self._outs(props, id_, props.get("password")),
            "email": user.get("email", props.get("email")),
            "app_metadata": live,
        }
        return ReadResult(id_, outs, inputs_of(outs, self.INPUTS))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        admin = self._admin_unless_project_gone(props)
        if admin is None:
            return  # the project is gone, and its users with it
        path = f"{ADMIN_USERS_PATH}/{id_}"
        admin.call("DELETE", path, resource=self.label(props), missing_ok=True)


class SystemUser(Resource, module="supabase", name="SystemUser"):
    email: pulumi.Output[str]
    password: pulumi.Output[str]
    user_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        project_ref: pulumi.Input[str],
        email: pulumi.Input[str],
        app_metadata: Mapping[str, Any],
        rotation: pulumi.Input[str] = "",
        provider: SystemUserProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "project_ref": project_ref,
            "email": email,
            "app_metadata": dict(app_metadata),
            "rotation": rotation,
            "user_id": None,
            "password": None,
        }
        opts = with_secret_outputs(opts, "password")
        # See SystemUserProvider.diff: a replacement must never adopt, then lose, the user it replaces.
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True))
        super().__init__(provider or SystemUserProvider(), resource_name, props, opts)
