"""An in-process, stateful Supabase: the Management API v1 and each project's GoTrue admin API.

It answers the operations our providers call, as the vendor documents them, and nothing else: every request is
matched against the trimmed contracts in `infra/rehearsal/contracts/` (the Management API's OpenAPI document
vendored by the Supabase CLI; GoTrue's openapi.yaml and admin handlers), and a request that is not an
operation, lacks a required field or carries an undeclared one is answered 400. Every request it answers is
appended to the vendor-call record (`infra/rehearsal/vendor_calls.py`) with the URL it would have had.

Public API (for the tests and for `nexk infra rehearse`):

    sim = SupabaseSimulator(organizations=("nexk-it",))   # clock=VirtualClock() by default
    with routed_to(requests_routes=sim.routes), using_clock(sim.clock):
        ...drive the providers...                         # their waits advance sim.clock, nothing sleeps

    sim.clock                       VirtualClock: .monotonic(), .sleep(s) (advances), .advance(s), .slept
    sim.routes                      {"https://api.supabase.com/": sim, "https://": sim}: requests mounts; the
                                    catch-all serves only https://<ref>.supabase.co/auth/v1/... (GoTrue) and
                                    refuses any other host with a ConnectionError, so nothing leaves
    sim.add_project(name, ...)      a project that already exists (ACTIVE_HEALTHY unless status= is given)
    sim.projects / sim.project(ref) / sim.project_named(name)     the state (SimProject), to assert on
    sim.add_user(ref, email, app_metadata=None, confirmed=False)  a GoTrue user made outside Pulumi
    sim.calls                       [SimCall(vendor, method, path, body, status)] answered by this simulator
    sim.hide_secret_keys = True     the token may not reveal secret keys (api_key null even with reveal=true)
    sim.project(ref).disabled_keys  keys GoTrue refuses (a key disabled in the dashboard)

  Faults (each applies to the next matching request; `path` is the contract's template):
    sim.fail_after_commit("POST", "/v1/projects", status=502)   does the work, then answers 5xx
    sim.drop_connection("POST", "/admin/users", after_commit=True)  does the work (or not), then drops
    sim.exhaust_rate_limit()        the Management API's 60-second window is used up: 429s until it resets
    sim.rate_limit_burst(n)         the next n Management API requests get 429 (with the window's reset)

  Changes made outside Pulumi (the dashboard), for refresh/drift:
    sim.dashboard_resize(ref, "medium"), sim.dashboard_update_auth(ref, **fields),
    sim.dashboard_update_postgrest(ref, **fields), sim.dashboard_set_ssl(ref, False),
    sim.dashboard_set_network(ref, v4, v6), sim.dashboard_delete_project(ref),
    sim.dashboard_set_app_metadata(ref, email, **claims)

  Timings (virtual seconds, attributes you may change): provision_seconds (COMING_UP -> ACTIVE_HEALTHY),
  pooler_provision_seconds, ssl_apply_seconds, restart_seconds, network_apply_seconds, resize_seconds;
  rate_limit (per window), rate_limit_window_seconds.

Documented behaviour this follows, and where the vendor documents it:
- Project statuses (V1ProjectResponse.status enum): a new project is COMING_UP, then ACTIVE_HEALTHY; a resize
  goes RESIZING. Terraform waits on exactly that (terraform-provider-supabase internal/provider/utils.go).
- Service health (v1-get-services-health, `services` required): COMING_UP while starting; the pooler reports
  UNHEALTHY `{"error": "not found"}` for its first seconds (utils.go, waitForProjectServicesActive comment).
- SSL enforcement (v1-update-ssl-enforcement-config): the PUT answers `appliedSuccessfully: false` while the
  change is applied, Postgres restarts (settings_resource.go: "Wait for ancillary services after the database
  reboot"), so db and pooler are not healthy for `restart_seconds`.
- Network restrictions (NetworkRestrictionsResponse): `config` is the requested config, `status` is `stored`
  until it is `applied`; `old_config` holds the previous one meanwhile.
- Rate limits: `x-ratelimit-limit`, `x-ratelimit-remaining`, `x-ratelimit-reset` (seconds left in the window)
  on every Management API answer, as in the Supabase CLI's recorded answers (apps/cli-e2e/fixtures/recorded,
  limit 120); over the limit, calls are answered 429 until the window resets (Supabase docs, Management API,
  "Rate limits": "all Management API calls for the next minute will be blocked"). No Retry-After is sent: the
  recorded answers carry none.
- Pagination: v1-get-all-projects-for-organization (offset/limit/search, `pagination.count`); GoTrue's
  GET /admin/users (page/per_page, `X-Total-Count` and `Link` headers, internal/api/pagination.go).
- GoTrue admin (supabase/auth internal/api/admin.go): 422 `email_exists` on a duplicate e-mail, 422
  `weak_password` below `password_min_length`, 404 `user_not_found`, app_metadata merged with null deleting a key.
- Unknown project refs are answered 404, which the Terraform provider treats as "project gone"
  (settings_resource.go readAuthConfig: "Deleted project is an orphan resource"); unknown ids likewise.

Not verified against the vendor (the simulator's own choices, kept conservative): the exact 404/400 message
texts, the initial SSL enforcement of a new project (off here, so the first `up` exercises the restart), the
keys a new project starts with (legacy anon/service_role, a `default` publishable and a `default` secret key),
and the durations above.
"""

from __future__ import annotations

import json
import math
import random
import re
import string
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from infra.rehearsal import vendor_calls
from infra.rehearsal.openapi_contract import (
    AUTH_ADMIN_API,
    CONTRACTS,
    MANAGEMENT_API,
    Operation,
    load_operations,
    match,
)

MANAGEMENT_URL = "https://api.supabase.com/"
GOTRUE_HOST = re.compile(r"^(?P<ref>[a-z]{20})\.supabase\.co$")
GOTRUE_PREFIX = "/auth/v1"
HEALTHY = "ACTIVE_HEALTHY"


def _compute_variants() -> tuple[str, ...]:
    """The compute sizes the Management API knows: the `ci_*` values of the add-on variant enum
    (ApplyProjectAddonBody.addon_variant) in the vendored contract, never a list of our own; `nano` has none."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            enum = node.get("enum")
            if isinstance(enum, list) and "ci_micro" in enum:
                found.extend(
                    v.removeprefix("ci_") for v in enum if isinstance(v, str) and v.startswith("ci_")
                )
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads((CONTRACTS / MANAGEMENT_API).read_text(encoding="utf-8")))
    return tuple(dict.fromkeys(found))


COMPUTE_VARIANTS = _compute_variants()


class VirtualClock:
    """Time that passes only when someone sleeps or the test advances it."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class SimProject:
    ref: str
    name: str
    organization_slug: str
    region: str
    db_pass: str
    compute: str | None  # compute add-on size (None: nano, no add-on)
    created_at: float
    ready_at: float
    auth: dict[str, Any]
    postgrest: dict[str, Any]
    pooler: dict[str, Any]
    ssl_database: bool = False
    ssl_applied_at: float = 0.0
    restart_until: float = 0.0
    resize_until: float = 0.0
    network: dict[str, Any] = field(default_factory=dict)
    network_old: dict[str, Any] | None = None
    network_applied_at: float = 0.0
    pitr: str | None = None
    api_keys: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    disabled_keys: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class SimCall:
    vendor: str
    method: str
    path: str
    body: Any
    status: int | None  # None: the connection was dropped


@dataclass
class _Fault:
    method: str
    path: str
    kind: str  # "after_commit" | "drop_after_commit" | "drop_before"
    status: int = 502


class _Answer(Exception):
    """Raised by handlers to answer at once with an error."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def _management_error(status: int, message: str) -> _Answer:
    return _Answer(status, {"message": message})


def _gotrue_error(status: int, error_code: str, msg: str) -> _Answer:
    # GoTrue's ErrorSchema (openapi.yaml): code, error_code, msg.
    return _Answer(status, {"code": status, "error_code": error_code, "msg": msg})


def _iso(moment: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


class SupabaseSimulator(BaseAdapter):
    def __init__(
        self,
        organizations: Iterable[str] = ("nexk-it",),
        *,
        clock: VirtualClock | None = None,
        seed: int = 11,
        record_calls: bool = True,
    ) -> None:
        super().__init__()
        self.clock = clock or VirtualClock()
        self.organizations = set(organizations)
        self.projects: dict[str, SimProject] = {}
        self.calls: list[SimCall] = []
        self.hide_secret_keys = False
        self.record_calls = record_calls
        self._random = random.Random(seed)  # noqa: S311 (reproducible refs and ids, not secrets)
        self._faults: list[_Fault] = []
        self._burst = 0
        self._window_start: float | None = None
        self._window_count = 0
        self.provision_seconds = 180.0
        self.pooler_provision_seconds = 20.0
        self.ssl_apply_seconds = 15.0
        self.restart_seconds = 60.0
        self.network_apply_seconds = 20.0
        self.resize_seconds = 120.0
        self.rate_limit = 120
        self.rate_limit_window_seconds = 60.0
        self._management = load_operations(MANAGEMENT_API)
        self._gotrue = load_operations(AUTH_ADMIN_API)

    # ------------------------------------------------------------------------------------ public helpers

    @property
    def routes(self) -> dict[str, BaseAdapter]:
        return {MANAGEMENT_URL: self, "https://": self}

    def project(self, ref: str) -> SimProject:
        return self.projects[ref]

    def project_named(self, name: str) -> list[SimProject]:
        return [p for p in self.projects.values() if p.name == name]

    def add_project(
        self,
        name: str,
        *,
        organization_slug: str = "nexk-it",
        region: str = "eu-central-1",
        size: str | None = "small",
        db_pass: str = "existing-password",  # noqa: S107 (a simulated project's password)
        status: str = HEALTHY,
    ) -> str:
        project = self._new_project(name, organization_slug, region, size, db_pass)
        if status == HEALTHY:
            project.ready_at = self.clock.now - self.pooler_provision_seconds - 1
        return project.ref

    def add_user(
        self, ref: str, email: str, app_metadata: Mapping[str, Any] | None = None, confirmed: bool = False
    ) -> str:
        return self._new_user(self.projects[ref], email, app_metadata, confirmed)["id"]

    def fail_after_commit(self, method: str, path: str, status: int = 502) -> None:
        self._faults.append(_Fault(method.upper(), path, "after_commit", status))

    def drop_connection(self, method: str, path: str, *, after_commit: bool = True) -> None:
        self._faults.append(
            _Fault(method.upper(), path, "drop_after_commit" if after_commit else "drop_before")
        )

    def exhaust_rate_limit(self) -> None:
        self._roll_window()
        self._window_count = self.rate_limit

    def rate_limit_burst(self, n: int) -> None:
        self._burst += n

    def dashboard_resize(self, ref: str, size: str) -> None:
        self.projects[ref].compute = size

    def dashboard_update_auth(self, ref: str, **fields: Any) -> None:
        self.projects[ref].auth.update(fields)

    def dashboard_update_postgrest(self, ref: str, **fields: Any) -> None:
        self.projects[ref].postgrest.update(fields)

    def dashboard_set_ssl(self, ref: str, database: bool) -> None:
        self.projects[ref].ssl_database = database

    def dashboard_set_network(self, ref: str, v4: list[str], v6: list[str]) -> None:
        self.projects[ref].network = {"dbAllowedCidrs": list(v4), "dbAllowedCidrsV6": list(v6)}

    def dashboard_delete_project(self, ref: str) -> None:
        del self.projects[ref]

    def dashboard_set_app_metadata(self, ref: str, email: str, **claims: Any) -> None:
        for user in self.projects[ref].users.values():
            if user["email"] == email.lower():
                user["app_metadata"].update(claims)

    # ------------------------------------------------------------------------------------ the adapter

    def close(self) -> None:
        """Nothing to release."""

    def send(self, request: requests.PreparedRequest, **_kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        method = (request.method or "GET").upper()
        body = vendor_calls.decode_body(request.body)
        query = parse_qs(parts.query, keep_blank_values=True)
        if parts.netloc == "api.supabase.com":
            vendor, operations, path, ref_host = "supabase", self._management, parts.path, None
        elif (host := GOTRUE_HOST.match(parts.netloc)) and parts.path.startswith(GOTRUE_PREFIX + "/"):
            vendor, operations = "gotrue", self._gotrue
            path, ref_host = parts.path[len(GOTRUE_PREFIX) :], host["ref"]
        else:
            raise requests.ConnectionError(f"the Supabase simulator does not serve {request.url}")
        found = match(operations, method, path)
        fault = self._take_fault(method, found[0].path if found else None)
        headers: dict[str, str] = {}
        status: int | None
        if fault is not None and fault.kind == "drop_before":
            self._log(vendor, method, request.url or "", path, body, None)
            raise requests.ConnectionError("connection reset by peer (simulated, before the request arrived)")
        try:
            if vendor == "supabase":
                headers.update(self._rate_limit(request))
            if found is None:
                raise _management_error(404, f"Cannot {method} {path}")
            operation, params = found
            self._validate(vendor, operation, query, body)
            if vendor == "supabase":
                status, answer = self._management_call(operation, params, query, body)
            else:
                status, answer, extra = self._gotrue_call(
                    operation, params, query, body, request, ref_host or ""
                )
                headers.update(extra)
        except _Answer as answer_now:
            status, answer = answer_now.status, answer_now.body
            headers.update(answer_now.headers)
        if fault is not None and 200 <= status < 300:
            if fault.kind == "drop_after_commit":
                self._log(vendor, method, request.url or "", path, body, None)
                raise requests.ConnectionError(
                    "connection reset by peer (simulated, after the work was done)"
                )
            status, answer = (
                fault.status,
                {"message": "Bad Gateway"} if vendor == "supabase" else "bad gateway",
            )
        self._log(vendor, method, request.url or "", path, body, status)
        return self._response(request, status, answer, headers)

    # ------------------------------------------------------------------------------------ plumbing

    def _log(self, vendor: str, method: str, url: str, path: str, body: Any, status: int | None) -> None:
        self.calls.append(SimCall(vendor, method, path, body, status))
        if self.record_calls:
            vendor_calls.record(vendor, method, url, body, status)  # type: ignore[arg-type]

    def _take_fault(self, method: str, template: str | None) -> _Fault | None:
        for fault in self._faults:
            if fault.method == method and fault.path == template:
                self._faults.remove(fault)
                return fault
        return None

    def _roll_window(self) -> None:
        now = self.clock.now
        if self._window_start is None or now >= self._window_start + self.rate_limit_window_seconds:
            self._window_start, self._window_count = now, 0

    def _rate_limit(self, request: requests.PreparedRequest) -> dict[str, str]:
        if not (request.headers.get("Authorization") or "").startswith("Bearer "):
            raise _management_error(401, "Unauthorized")
        self._roll_window()
        assert self._window_start is not None
        reset = max(0, math.ceil(self._window_start + self.rate_limit_window_seconds - self.clock.now))
        limited = self._burst > 0 or self._window_count >= self.rate_limit
        if self._burst > 0:
            self._burst -= 1
        if not limited:
            self._window_count += 1
        headers = {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(max(0, self.rate_limit - self._window_count)),
            "x-ratelimit-reset": str(reset),
        }
        if limited:
            raise _Answer(429, {"message": "Too many requests"}, headers)
        return headers

    def _validate(self, vendor: str, operation: Operation, query: Mapping[str, list[str]], body: Any) -> None:
        problems = operation.query_problems(query) + operation.body_problems(body)
        if problems:
            message = f"{operation.operation_id}: " + "; ".join(problems)
            if vendor == "gotrue":
                raise _gotrue_error(400, "validation_failed", message)
            raise _management_error(400, message)

    def _response(
        self, request: requests.PreparedRequest, status: int, body: Any, headers: Mapping[str, str]
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.request = request
        response.url = request.url or ""
        response.reason = {200: "OK", 201: "Created", 400: "Bad Request", 404: "Not Found"}.get(status, "")
        response.headers = CaseInsensitiveDict(headers)
        if body is None:
            response._content = b""
        elif isinstance(body, str):
            response._content = body.encode()
            response.headers["content-type"] = "text/plain"
        else:
            response._content = json.dumps(body).encode()
            response.headers["content-type"] = "application/json; charset=utf-8"
        response.encoding = "utf-8"
        return response

    # ------------------------------------------------------------------------------------ state

    def _new_ref(self) -> str:
        while True:
            ref = "".join(self._random.choice(string.ascii_lowercase) for _ in range(20))
            if ref not in self.projects:
                return ref

    def _new_project(self, name: str, org: str, region: str, size: str | None, db_pass: str) -> SimProject:
        ref = self._new_ref()
        host = f"aws-0-{region}.pooler.supabase.com"
        connection = f"postgresql://postgres.{ref}:[YOUR-PASSWORD]@{host}:6543/postgres"
        project = SimProject(
            ref=ref,
            name=name,
            organization_slug=org,
            region=region,
            db_pass=db_pass,
            compute=None if size in (None, "nano") else size,
            created_at=self.clock.now,
            ready_at=self.clock.now + self.provision_seconds,
            # GoTrue's defaults for the fields we manage (internal/conf/configuration.go).
            auth={
                "site_url": "http://localhost:3000",
                "uri_allow_list": "",
                "disable_signup": False,
                "mailer_autoconfirm": False,
                "external_email_enabled": True,
                "external_anonymous_users_enabled": False,
                "password_min_length": 6,
                "jwt_exp": 3600,
                "mailer_otp_exp": 3600,
                "mfa_totp_enroll_enabled": True,
                "mfa_totp_verify_enabled": True,
                "rate_limit_email_sent": 30,
                "rate_limit_otp": 30,
                "rate_limit_verify": 30,
                "rate_limit_token_refresh": 150,
                "smtp_max_frequency": 60,
            },
            # The CLI's recorded GET /v1/projects/{ref}/postgrest answer.
            postgrest={
                "db_schema": "public,graphql_public",
                "max_rows": 1000,
                "db_extra_search_path": "public, extensions",
                "db_pool": None,
            },
            pooler={
                "identifier": ref,
                "database_type": "PRIMARY",
                "is_using_scram_auth": True,
                "db_user": f"postgres.{ref}",
                "db_host": host,
                "db_port": 6543,
                "db_name": "postgres",
                "connection_string": connection,
                "connectionString": connection,
                "default_pool_size": None,
                "max_client_conn": None,
                "pool_mode": "transaction",
            },
            network={"dbAllowedCidrs": ["0.0.0.0/0"], "dbAllowedCidrsV6": ["::/0"]},
        )
        for key_type, key_name in (
            ("legacy", "anon"),
            ("legacy", "service_role"),
            ("publishable", "default"),
            ("secret", "default"),
        ):
            project.api_keys.append(self._new_key(project, key_type, key_name))
        self.projects[ref] = project
        return project

    def _new_key(self, project: SimProject, key_type: str, name: str) -> dict[str, Any]:
        secret = "".join(self._random.choice(string.ascii_letters + string.digits) for _ in range(32))
        prefix = {"legacy": "eyJhbGciOiJIUzI1NiJ9.", "publishable": "sb_publishable_", "secret": "sb_secret_"}
        return {
            "id": None
            if key_type == "legacy"
            else str(uuid.UUID(int=self._random.getrandbits(128), version=4)),
            "type": key_type,
            "name": name,
            "api_key": prefix[key_type] + secret,
            "prefix": None,
            "description": None,
            "hash": None,
            "secret_jwt_template": {"role": "service_role"} if key_type == "secret" else None,
            "inserted_at": _iso(self.clock.now),
            "updated_at": _iso(self.clock.now),
        }

    def _new_user(
        self, project: SimProject, email: str, app_metadata: Mapping[str, Any] | None, confirmed: bool
    ) -> dict[str, Any]:
        user_id = str(uuid.UUID(int=self._random.getrandbits(128), version=4))
        user = {
            "id": user_id,
            "aud": "authenticated",
            "role": "authenticated",
            "email": email.lower(),
            "email_confirmed_at": _iso(self.clock.now) if confirmed else None,
            "app_metadata": {"provider": "email", "providers": ["email"], **dict(app_metadata or {})},
            "user_metadata": {},
            "created_at": _iso(self.clock.now),
            "updated_at": _iso(self.clock.now),
        }
        project.users[user_id] = user
        return user

    # ------------------------------------------------------------------------------------ status model

    def _status(self, project: SimProject) -> str:
        now = self.clock.now
        if now < project.ready_at:
            return "COMING_UP"
        if now < project.resize_until:
            return "RESIZING"
        return HEALTHY

    def _service_health(self, project: SimProject, service: str) -> dict[str, Any]:
        now = self.clock.now
        entry: dict[str, Any] = {"name": service, "healthy": False, "status": "COMING_UP"}
        if now < project.ready_at or now < project.resize_until:
            return entry
        if service == "pooler" and now < project.ready_at + self.pooler_provision_seconds:
            return {**entry, "status": "UNHEALTHY", "error": json.dumps({"error": "not found"})}
        if service in ("db", "pooler", "db_postgres_user", "pg_bouncer") and now < project.restart_until:
            return entry
        return {"name": service, "healthy": True, "status": HEALTHY}

    def _ssl(self, project: SimProject) -> dict[str, Any]:
        return {
            "currentConfig": {"database": project.ssl_database},
            "appliedSuccessfully": self.clock.now >= project.ssl_applied_at,
        }

    def _network(self, project: SimProject) -> dict[str, Any]:
        applied = self.clock.now >= project.network_applied_at
        answer: dict[str, Any] = {
            "entitlement": "allowed",
            "config": project.network,
            "status": "applied" if applied else "stored",
        }
        if not applied and project.network_old is not None:
            answer["old_config"] = project.network_old
        return answer

    def _addons(self, project: SimProject) -> dict[str, Any]:
        def variant(variant_id: str, name: str) -> dict[str, Any]:
            price = {"description": "simulated", "type": "usage", "interval": "hourly", "amount": 0.0}
            return {"id": variant_id, "name": name, "price": price}

        selected = []
        if project.compute:
            selected.append(
                {"type": "compute_instance", "variant": variant(f"ci_{project.compute}", project.compute)}
            )
        if project.pitr:
            selected.append({"type": "pitr", "variant": variant(project.pitr, project.pitr)})
        available = [
            {
                "type": "compute_instance",
                "name": "Compute Instance",
                "variants": [variant(f"ci_{size}", size) for size in COMPUTE_VARIANTS],
            },
            {
                "type": "pitr",
                "name": "Point in time recovery",
                "variants": [variant(v, v) for v in ("pitr_7", "pitr_14", "pitr_28")],
            },
        ]
        return {"selected_addons": selected, "available_addons": available}

    def _project_body(self, project: SimProject) -> dict[str, Any]:
        return {
            "id": project.ref,
            "ref": project.ref,
            "organization_id": project.organization_slug,
            "organization_slug": project.organization_slug,
            "name": project.name,
            "region": project.region,
            "created_at": _iso(project.created_at),
            "status": self._status(project),
        }

    @staticmethod
    def _database(project: SimProject) -> dict[str, Any]:
        return {
            "host": f"db.{project.ref}.supabase.co",
            "version": "17.4.1",
            "postgres_engine": "17",
            "release_channel": "ga",
        }

    # ------------------------------------------------------------------------------------ Management API

    def _project_of(self, params: Mapping[str, str]) -> SimProject:
        project = self.projects.get(params.get("ref", ""))
        if project is None:
            raise _management_error(404, "Project not found")
        return project

    def _management_call(
        self, operation: Operation, params: Mapping[str, str], query: Mapping[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        op = operation.operation_id
        if op == "v1-create-a-project":
            if body["organization_slug"] not in self.organizations:
                raise _management_error(
                    403, "Forbidden action"
                )  # the token has no access to that organization
            selection = body.get("region_selection") or {}
            if selection.get("type") != "specific":
                raise _management_error(400, "region_selection: only a specific region is simulated")
            project = self._new_project(
                body["name"],
                body["organization_slug"],
                selection["code"],
                body.get("desired_instance_size"),
                body["db_pass"],
            )
            return 201, self._project_body(project)
        if op == "v1-list-all-projects":
            return 200, [
                {**self._project_body(p), "database": self._database(p)} for p in self.projects.values()
            ]
        if op == "v1-get-all-projects-for-organization":
            if params["slug"] not in self.organizations:
                raise _management_error(404, "Organization not found")
            search = (query.get("search") or [""])[-1].lower()
            offset = int((query.get("offset") or ["0"])[-1])
            limit = int((query.get("limit") or ["100"])[-1])
            matching = sorted(
                (
                    p
                    for p in self.projects.values()
                    if p.organization_slug == params["slug"] and search in p.name.lower()
                ),
                key=lambda p: (p.name, p.created_at),
            )
            page = [
                {
                    "ref": p.ref,
                    "name": p.name,
                    "cloud_provider": "AWS",
                    "region": p.region,
                    "is_branch": False,
                    "status": self._status(p),
                    "inserted_at": _iso(p.created_at),
                    "databases": [
                        {
                            "region": p.region,
                            "status": self._status(p),
                            "cloud_provider": "AWS",
                            "identifier": p.ref,
                            "type": "PRIMARY",
                            "infra_compute_size": p.compute or "nano",
                        }
                    ],
                }
                for p in matching[offset : offset + limit]
            ]
            return 200, {
                "projects": page,
                "pagination": {"count": len(matching), "limit": limit, "offset": offset},
            }
        project = self._project_of(params)
        ref = project.ref
        if op == "v1-get-project":
            return 200, {**self._project_body(project), "database": self._database(project)}
        if op == "v1-update-a-project":
            project.name = body["name"]
            return 200, {"id": 1, "ref": ref, "name": project.name}
        if op == "v1-delete-a-project":
            del self.projects[ref]
            return 200, {"id": 1, "ref": ref, "name": project.name}
        if op == "v1-get-services-health":
            wanted = [s for value in query["services"] for s in value.split(",")]
            return 200, [self._service_health(project, service) for service in wanted]
        if op == "v1-get-ssl-enforcement-config":
            return 200, self._ssl(project)
        if op == "v1-update-ssl-enforcement-config":
            wanted = body["requestedConfig"]["database"]
            if wanted != project.ssl_database:
                project.ssl_database = wanted
                project.ssl_applied_at = self.clock.now + self.ssl_apply_seconds
                project.restart_until = self.clock.now + self.restart_seconds
            return 200, self._ssl(project)
        if op == "v1-get-network-restrictions":
            return 200, self._network(project)
        if op == "v1-update-network-restrictions":
            project.network_old = dict(project.network)
            project.network = {
                "dbAllowedCidrs": list(body.get("dbAllowedCidrs") or []),
                "dbAllowedCidrsV6": list(body.get("dbAllowedCidrsV6") or []),
            }
            project.network_applied_at = self.clock.now + self.network_apply_seconds
            return 201, self._network(project)
        if op == "v1-get-auth-service-config":
            return 200, {
                **project.auth,
                "smtp_pass": None if "smtp_pass" not in project.auth else "**hashed**",
            }
        if op == "v1-update-auth-service-config":
            project.auth.update(body)
            return 200, {
                **project.auth,
                "smtp_pass": None if "smtp_pass" not in project.auth else "**hashed**",
            }
        if op == "v1-get-postgrest-service-config":
            return 200, {**project.postgrest, "jwt_secret": "simulated-jwt-secret"}
        if op == "v1-update-postgrest-service-config":
            project.postgrest.update(body)
            return 200, dict(project.postgrest)
        if op == "v1-list-project-addons":
            return 200, self._addons(project)
        if op == "v1-apply-project-addon":
            variant, kind = body["addon_variant"], body["addon_type"]
            if kind == "compute_instance" and variant.startswith("ci_"):
                if variant.removeprefix("ci_") != project.compute:
                    project.compute = variant.removeprefix("ci_")
                    project.resize_until = self.clock.now + self.resize_seconds
            elif kind == "pitr" and variant.startswith("pitr_"):
                project.pitr = variant
            else:
                raise _management_error(400, f"addon_variant {variant} is not a variant of {kind}")
            return 200, None
        if op == "v1-remove-project-addon":
            variant = params["addon_variant"]
            if project.pitr == variant:
                project.pitr = None
            elif project.compute and f"ci_{project.compute}" == variant:
                project.compute = None
            else:
                raise _management_error(404, f"Addon {variant} is not applied to this project")
            return 200, None
        if op == "v1-get-pooler-config":
            return 200, [dict(project.pooler)]
        if op == "v1-update-pooler-config":
            project.pooler.update({k: v for k, v in body.items() if k in ("pool_mode", "default_pool_size")})
            return 200, {
                "default_pool_size": project.pooler["default_pool_size"],
                "pool_mode": project.pooler["pool_mode"],
            }
        if op == "v1-update-database-password":
            project.db_pass = body["password"]
            return 200, {"message": "Database password updated"}
        reveal = (query.get("reveal") or ["false"])[-1] == "true"
        if op == "v1-get-project-api-keys":
            return 200, [self._shown(key, reveal) for key in project.api_keys]
        if op == "v1-create-project-api-key":
            created = self._new_key(project, body["type"], body["name"])
            project.api_keys.append(created)
            return 201, self._shown(created, reveal)
        key = next((k for k in project.api_keys if k["id"] == params.get("id")), None)
        if key is None:
            raise _management_error(404, "API key not found")
        if op == "v1-get-project-api-key":
            return 200, self._shown(key, reveal)
        if op == "v1-delete-project-api-key":
            project.api_keys.remove(key)
            return 200, self._shown(key, reveal)
        raise _management_error(404, f"{op} is not simulated")

    def _shown(self, key: Mapping[str, Any], reveal: bool) -> dict[str, Any]:
        secret = key["type"] == "secret" or key["name"] == "service_role"
        if secret and self.hide_secret_keys:
            return {**key, "api_key": None}
        if reveal or not secret:
            return dict(key)
        return {**key, "api_key": str(key["api_key"])[:15] + "····"}

    # ------------------------------------------------------------------------------------ GoTrue admin

    def _gotrue_call(
        self,
        operation: Operation,
        params: Mapping[str, str],
        query: Mapping[str, list[str]],
        body: Any,
        request: requests.PreparedRequest,
        ref: str,
    ) -> tuple[int, Any, dict[str, str]]:
        project = self.projects.get(ref)
        if project is None:
            raise requests.ConnectionError(f"{ref}.supabase.co does not resolve (no such project)")
        valid = {k["api_key"] for k in project.api_keys if k["type"] == "secret"} | {
            k["api_key"] for k in project.api_keys if k["type"] == "legacy" and k["name"] == "service_role"
        }
        valid -= project.disabled_keys
        apikey = request.headers.get("apikey")
        if apikey not in valid or request.headers.get("Authorization") != f"Bearer {apikey}":
            raise _gotrue_error(401, "no_authorization", "Invalid API key")
        method, path = operation.method, operation.path
        if (method, path) == ("GET", "/admin/users"):
            page = int((query.get("page") or ["1"])[-1])
            per_page = int((query.get("per_page") or ["50"])[-1])
            users = list(project.users.values())
            total_pages = max(1, math.ceil(len(users) / per_page))
            link = ""
            if total_pages > page:
                link += f'</admin/users?page={page + 1}&per_page={per_page}>; rel="next", '
            link += f'</admin/users?page={total_pages}&per_page={per_page}>; rel="last"'
            headers = {"X-Total-Count": str(len(users)), "Link": link}
            return (
                200,
                {"users": users[(page - 1) * per_page : page * per_page], "aud": "authenticated"},
                headers,
            )
        if (method, path) == ("POST", "/admin/users"):
            email = (body.get("email") or "").lower()
            if not email:
                raise _gotrue_error(
                    400, "validation_failed", "Cannot create a user without either an email or phone"
                )
            if any(u["email"] == email for u in project.users.values()):
                raise _gotrue_error(
                    422, "email_exists", "A user with this email address has already been registered"
                )
            self._check_password(project, body)
            created = self._new_user(project, email, None, False)
            self._apply_user(project, created, body)
            return 200, created, {}
        try:
            uuid.UUID(params["userId"])
        except ValueError:
            raise _gotrue_error(404, "validation_failed", "user_id must be an UUID") from None
        user = project.users.get(params["userId"])
        if user is None:
            raise _gotrue_error(404, "user_not_found", "User not found")
        if method == "GET":
            return 200, user, {}
        if method == "PUT":
            self._check_password(project, body)
            self._apply_user(project, user, body)
            return 200, user, {}
        del project.users[user["id"]]
        project.passwords.pop(user["id"], None)
        return 200, user, {}

    @staticmethod
    def _check_password(project: SimProject, body: Mapping[str, Any]) -> None:
        password = body.get("password")
        minimum = int(project.auth.get("password_min_length") or 6)
        if password is not None and len(password) < minimum:
            raise _gotrue_error(422, "weak_password", f"Password should be at least {minimum} characters.")

    def _apply_user(self, project: SimProject, user: dict[str, Any], body: Mapping[str, Any]) -> None:
        if body.get("password") is not None:
            project.passwords[user["id"]] = body["password"]
        for key, value in (body.get("app_metadata") or {}).items():
            if value is None:
                user["app_metadata"].pop(key, None)
            else:
                user["app_metadata"][key] = value
        if body.get("email_confirm"):
            user["email_confirmed_at"] = _iso(self.clock.now)
        user["updated_at"] = _iso(self.clock.now)
