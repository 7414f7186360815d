"""Run the real program under Pulumi's mocks and capture every resource it declares.

No CLI, no credentials, no network: the engine is replaced by `pulumi.runtime.set_mocks`, which hands each
resource registration (type and inputs) to `CapturingMocks`. The inventory, the program tests and the offline
policy run all build on this, so they see exactly what `pulumi up` would declare.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

from infra.settings import (
    NAMESPACE,
    REPO_ROOT,
    REQUIRED_SECRETS,
    StackSettings,
    parse_settings,
    read_stack_file,
)

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"  # noqa: S105 (the engine's type signature key)
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 (the engine's secret marker)
MOCK_SECRET = "mock-secret-value"  # noqa: S105 (a stand-in, never a real secret)
# What Brevo's GET /v3/account reports for the SMTP relay, in the form Brevo gives it (an account-specific login).
MOCK_SMTP_RELAY: dict[str, Any] = {
    "login": "8a1b2c001@smtp-brevo.com",
    "host": "smtp-relay.brevo.com",
    "port": 587,
}


def is_secret(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def reveal(value: Any) -> Any:
    """Inputs with the secret wrappers removed (for assertions on the underlying value)."""
    if is_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, Mapping):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


@dataclass(frozen=True)
class CapturedResource:
    type: str
    name: str
    inputs: dict[str, Any]
    custom: bool

    def get(self, path: str, default: Any = None) -> Any:
        """A dotted input path (`resourceConfig.functionDefaultRegions`), secrets unwrapped."""
        value: Any = self.inputs
        for part in path.split("."):
            value = reveal(value)
            if not isinstance(value, Mapping) or part not in value:
                return default
            value = value[part]
        return reveal(value)

    def is_secret(self, key: str) -> bool:
        return is_secret(self.inputs.get(key))


def _fake_outputs(args: MockResourceArgs) -> dict[str, Any]:
    """Plausible outputs per type, so the wiring between components has values to carry."""
    name, typ = args.name, args.typ
    inputs = dict(args.inputs)
    if typ == "random:index/randomPassword:RandomPassword":
        return {**inputs, "result": f"generated-{name}"}
    if typ == "random:index/randomId:RandomId":
        return {**inputs, "hex": f"hex-{name}"}
    if typ.endswith("supabase:Project"):
        ref = "mockref" + name.replace("-", "")[:10]
        return {**inputs, "ref": ref, "api_url": f"https://{ref}.supabase.co", "status": "ACTIVE_HEALTHY"}
    if typ.endswith("supabase:PoolerConnection"):
        host = "aws-0-eu-central-1.pooler.supabase.com"
        return {
            **inputs,
            "db_host": host,
            "db_port": 6543,
            "pool_mode": "transaction",
            # checkov:skip=CKV_SECRET_4: fake database_url output of the mocked pooler (user postgres.mockref, password pw)
            "database_url": f"postgresql://postgres.mockref:pw@{host}:6543/postgres",
            "session_database_url": f"postgresql://postgres.mockref:pw@{host}:5432/postgres",
        }
    if typ.endswith("supabase:PublishableKey"):
        return {**inputs, "api_key": "sb_publishable_mock", "key_id": "key-1"}
    if typ.endswith("supabase:SystemUser"):
        return {**inputs, "user_id": f"{name}-user-id", "password": f"generated-{name}-password"}
    if typ.endswith("brevo:SenderDomain"):
        records = [
            {
                "kind": "brevo_code",
                "type": "TXT",
                "host_name": "@",
                "value": "brevo-code:mock",
                "verified": False,
            },
            {"kind": "dkim_record", "type": "TXT", "host_name": "mail._domainkey", "value": "k=rsa;p=MOCK"},
            {"kind": "dmarc_record", "type": "TXT", "host_name": "_dmarc", "value": "v=DMARC1; p=none"},
        ]
        return {**inputs, "dns_records": records, "authenticated": False, "verified": False}
    if typ.endswith("brevo:TransactionalTemplate"):
        return {**inputs, "template_id": sum(map(ord, name)) % 1000}
    if typ.endswith("brevo:Webhook"):
        return {**inputs, "webhook_id": 42}
    if typ.endswith("brevo:Sender"):
        return {**inputs, "sender_id": 7, "active": False}
    if typ.endswith("brevo:DomainAuthentication"):
        return {**inputs, "authenticated": False, "pending_records": inputs.get("records") or []}
    if typ.endswith("brevo:SmtpRelayAccount"):
        return {**inputs, **MOCK_SMTP_RELAY}
    return inputs


class CapturingMocks(Mocks):
    def __init__(self) -> None:
        self.resources: list[CapturedResource] = []
        self.calls: list[MockCallArgs] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        self.resources.append(CapturedResource(args.typ, args.name, dict(args.inputs), bool(args.custom)))
        return f"{args.name}-id", _fake_outputs(args)

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        """An invoke's outputs and its check failures (none), the pair pulumi.runtime.Mocks declares."""
        self.calls.append(args)
        if args.token == "vercel:index/getDomainConfig:getDomainConfig":  # noqa: S105 (an invoke token)
            outputs = {
                "domain": args.args.get("domain"),
                "projectIdOrName": args.args.get("projectIdOrName"),
                "recommendedCname": "cname.vercel-dns.com",
                "recommendedIpv4s": ["76.76.21.21"],
                "misconfigured": True,
            }
            return outputs, []
        return {}, []  # no check failures: an empty list (pulumi iterates it, whatever its annotation says)


@dataclass
class MockRun:
    stack: str
    settings: StackSettings
    resources: list[CapturedResource]
    missing_secrets: list[str] = field(default_factory=list)

    def of_type(self, resource_type: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == resource_type]

    def named(self, resource_type: str, name: str) -> CapturedResource:
        matches = [r for r in self.of_type(resource_type) if r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {resource_type} named {name}, found {len(matches)}")
        return matches[0]


def stack_config(stack: str, root: Path = REPO_ROOT) -> tuple[dict[str, Any], set[str], list[str]]:
    """The stack file's config plus a stand-in for each required secret not set yet (returned as missing)."""
    config, secret_keys = read_stack_file(stack, root)
    missing = []
    for name in REQUIRED_SECRETS:
        key = f"{NAMESPACE}:{name}"
        if key not in config:
            missing.append(key)
            config[key] = MOCK_SECRET
            secret_keys.add(key)
    return config, secret_keys, missing


@contextmanager
def _pickler_restored() -> Iterator[None]:
    """Undo what pulumi.dynamic.serialize_provider leaves behind on `pickle._Pickler`.

    Each dynamic resource's serialization wraps `_Pickler._batch_setitems` in one more sorting layer and never
    restores it (pulumi 3.272 only restores `pickle.Pickler`). One `pulumi up` declares a few dozen dynamic
    resources, but a test process runs the program for every stack many times, and the pile of wrappers ends
    in a RecursionError. Restoring the originals after each run keeps every run as deep as a real one.
    """
    import pickle

    saved = {name: vars(pickle._Pickler)[name] for name in ("_batch_setitems", "save_dict")}
    try:
        yield
    finally:
        for name, original in saved.items():
            setattr(pickle._Pickler, name, original)


def run_program(
    stack: str,
    config: Mapping[str, Any],
    secret_keys: set[str],
    *,
    build: Callable[[StackSettings], Any] | None = None,
    source: str | None = None,
) -> MockRun:
    """Validate `config` as the stack's settings and run the program (or `build`) under mocks."""
    from infra.program import build as build_program

    settings = parse_settings(config, stack, secret_keys, source=source or f"Pulumi.{stack}.yaml")
    mocks = CapturingMocks()
    pulumi.runtime.set_mocks(mocks, project=NAMESPACE, stack=stack, preview=False)
    # The engine passes structured config as JSON strings; do the same so the program reads it the real way.
    import json

    as_engine = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    pulumi.runtime.set_all_config(as_engine, list(secret_keys))

    @pulumi.runtime.test
    def declare() -> None:
        (build or build_program)(settings)

    with _pickler_restored():
        declare()
    return MockRun(stack=stack, settings=settings, resources=list(mocks.resources))


def run_stack(stack: str, root: Path = REPO_ROOT) -> MockRun:
    """Run the program for a stack file exactly as committed."""
    config, secret_keys, missing = stack_config(stack, root)
    run = run_program(stack, config, secret_keys, source=f"Pulumi.{stack}.yaml")
    run.missing_secrets = missing
    return run


def run_repo_stack(root: Path = REPO_ROOT, *, workflow: Path | None = None) -> MockRun:
    """Run stack `repo` (the merge gate, infra/repo/) under mocks, from Pulumi.repo.yaml as committed."""
    import json

    from infra.repo import REPO_STACK
    from infra.repo.program import build_gate
    from infra.repo.settings import load_repo_settings

    settings, config = load_repo_settings(root)
    mocks = CapturingMocks()
    pulumi.runtime.set_mocks(mocks, project=NAMESPACE, stack=REPO_STACK, preview=False)
    pulumi.runtime.set_all_config(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}, []
    )

    @pulumi.runtime.test
    def declare() -> None:
        build_gate(settings, workflow)

    declare()
    return MockRun(stack=REPO_STACK, settings=settings, resources=list(mocks.resources))  # type: ignore[arg-type]
