"""A small stand-in for the Pulumi engine: `up`, `refresh` and `destroy` of the real program, offline.

There is no Pulumi CLI here (docs/ops.md), so the rehearsal does what the engine would do with the program's
resource graph: the program runs under Pulumi's mock runtime, and each registration of a dynamic resource is
carried out by its real provider, deserialized from the `__provider` input exactly as the dynamic-provider
host does (`pulumi/dynamic/__main__.py`), against the vendor simulators:

- a resource not in the state is `check`ed and `create`d; one in the state is `check`ed and `diff`ed against
  its stored outputs, then updated, replaced (create-before-delete unless the provider asks otherwise) or left
  alone; an unknown diff falls back to comparing the old and new inputs, as the engine does;
- a resource the program no longer declares is deleted, dependents first;
- `refresh` calls `read` for every dynamic resource and reports the outputs that changed outside Pulumi;
- `destroy` deletes everything, dependents first, and refuses before any deletion if a resource is protected.

The database resources (migrations, role passwords) connect to the project's database through the pooler. With
`database_url`, a local PostgreSQL database stands in for it: their `database_url` input is replaced by the
local one before `check`, so the real migration runner runs and the state stays free of perpetual diffs.
Without it they are rehearsed by `check` and `diff` alone (the step says so). The pg_cron extension
(`supabase:DatabaseExtension`) is always rehearsed that way: the stand-in is plain PostgreSQL, which has no
pg_cron to create; the compatibility layer emulates its catalogue there, so the migrations still schedule
their jobs and the migrations resource still checks them.

Resources of packaged providers (Vercel, random) cannot be carried out offline: they get the same plausible
outputs as the inventory's mocks (`infra/mocks.py`), kept stable across runs like a real state.
Registrations arrive from the SDK's worker threads; one lock makes the rehearsal's steps sequential, in an
order that respects every dependency (a resource registers only once its inputs are resolved).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dill
import pulumi
from pulumi.dynamic import Config, ConfigureRequest, ResourceProvider
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks, rpc
from pulumi.runtime.mocks import MockMonitor, _ensure_event_loop, _sync_await
from pulumi.runtime.proto import resource_pb2

from infra.mocks import CapturingMocks, _fake_outputs, _pickler_restored, reveal
from infra.settings import NAMESPACE, StackSettings, parse_settings

PROVIDER_KEY = "__provider"
DYNAMIC_PREFIX = "pulumi-python:dynamic"
# Dynamic resources whose providers talk to PostgreSQL rather than to a vendor's HTTP API.
DATABASE_TYPES = frozenset(
    {"supabase:DatabaseMigrations", "supabase:DatabaseRolePassword", "supabase:DatabaseExtension"}
)
# Database resources the local stand-in can not carry out: it has no pg_cron (db/compat/supabase.sql emulates it).
NOT_ON_THE_STAND_IN = frozenset({"supabase:DatabaseExtension"})


class RehearsalError(Exception):
    """A step failed as it would fail `pulumi up`: the message names the resource and the provider's reason."""


@dataclass
class Resource:
    """One resource in the rehearsal's state, as the engine keeps it in the state file."""

    urn: str
    type: str
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    protect: bool
    custom: bool
    dependencies: list[str] = field(default_factory=list)

    @property
    def dynamic(self) -> bool:
        return self.type.startswith(DYNAMIC_PREFIX)

    @property
    def short_type(self) -> str:
        """`supabase:Project` for `pulumi-python:dynamic/supabase:Project`; packaged types unchanged."""
        return self.type.split("/", 1)[1] if self.dynamic and "/" in self.type else self.type


@dataclass(frozen=True)
class Step:
    """What one operation did: `create`, `update`, `replace`, `delete`, `same`, `read`, `drift`."""

    op: str
    urn: str
    type: str
    name: str
    detail: str = ""

    def line(self) -> str:
        text = f"{self.op:<8} {self.type} {self.name}"
        return f"{text}: {self.detail}" if self.detail else text


@dataclass
class State:
    """The stack's state between operations: resources in creation order, plus the stack outputs."""

    resources: dict[str, Resource] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, short_type: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.short_type == short_type]


def _without_provider(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k != PROVIDER_KEY}


def _checked(provider: ResourceProvider, short: str, name: str, old: Resource | None, news: dict) -> dict:
    """The provider's `check` of the new inputs against the old ones; its failures stop the run, as in Pulumi."""
    checked = provider.check(old.inputs if old else {}, news)
    if checked.failures:
        reasons = "; ".join(f"{f.property}: {f.reason}" for f in checked.failures)
        raise RehearsalError(f"{short} {name}: check failed: {reasons}")
    return {**checked.inputs, PROVIDER_KEY: news[PROVIDER_KEY]}


def _changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    keys = set(_without_provider(before)) | set(_without_provider(after))
    return sorted(k for k in keys if before.get(k) != after.get(k))


class Engine:
    """Runs the program for one stack against the simulators, keeping the state between operations."""

    def __init__(
        self,
        stack: str,
        config: Mapping[str, Any],
        secret_keys: set[str],
        *,
        on_step: Callable[[Step], None] | None = None,
        build: Callable[[StackSettings], Any] | None = None,
        database_url: str | None = None,
    ) -> None:
        self.stack = stack
        self.config = dict(config)
        self.secret_keys = set(secret_keys)
        self.state = State()
        self.on_step = on_step
        self._build = build
        self.database_url = database_url
        self._providers: dict[str, ResourceProvider] = {}
        self._lock = threading.RLock()

    # -- the three operations ------------------------------------------------------------------------------

    def up(self) -> list[Step]:
        """Declare the program; carry out what changed; delete what is no longer declared."""
        steps: list[Step] = []
        seen: set[str] = set()
        errors: list[BaseException] = []
        monitor = _RehearsalMonitor(self, steps, seen, errors)
        settings = self.settings()
        pulumi.runtime.set_mocks(
            _NoMocks(), project=NAMESPACE, stack=self.stack, preview=False, monitor=monitor
        )
        as_engine = {k: v if isinstance(v, str) else json.dumps(v) for k, v in self.config.items()}
        pulumi.runtime.set_all_config(as_engine, list(self.secret_keys))
        outputs: dict[str, Any] = {}

        @pulumi.runtime.test
        def declare() -> Any:
            from infra.program import build

            (self._build or build)(settings)
            root = pulumi.runtime.settings.get_root_resource()
            exported = dict(getattr(root, "outputs", {}) or {})
            return pulumi.Output.all(**exported).apply(outputs.update) if exported else None

        with _pickler_restored():
            try:
                declare()
            except Exception as exc:
                raise (errors[0] if errors else exc) from None
        if errors:
            raise errors[0]
        # Whatever the program stopped declaring goes, dependents first.
        gone = [r for urn, r in self.state.resources.items() if urn not in seen]
        for resource in reversed(gone):
            if resource.protect:
                raise RehearsalError(
                    f"{resource.short_type} {resource.name} is protected and cannot be deleted; "
                    "unprotect it first (pulumi state unprotect) if the deletion is intended"
                )
            self._delete(resource, steps)
        self.state.outputs = reveal(outputs)
        return steps

    def refresh(self) -> list[Step]:
        """Read every dynamic resource back from the vendor; report and keep what changed outside Pulumi."""
        steps: list[Step] = []
        for resource in list(self.state.resources.values()):
            if not self._carried_out(resource):
                continue
            provider = self._provider(resource.outputs)
            result = provider.read(resource.id, _without_provider(resource.outputs))
            outs = dict(result.outs or {})
            outs[PROVIDER_KEY] = resource.outputs[PROVIDER_KEY]
            changed = _changed_keys(resource.outputs, outs)
            resource.outputs = outs
            if result.inputs is not None:
                resource.inputs = {**result.inputs, PROVIDER_KEY: resource.inputs[PROVIDER_KEY]}
            op, detail = (
                ("drift", "changed outside Pulumi: " + ", ".join(changed)) if changed else ("read", "")
            )
            self._emit(steps, Step(op, resource.urn, resource.short_type, resource.name, detail))
        return steps

    def destroy(self) -> list[Step]:
        """Delete every resource, dependents first; refuse before deleting anything if one is protected."""
        protected = [r for r in self.state.resources.values() if r.protect]
        if protected:
            names = ", ".join(f"{r.short_type} {r.name}" for r in protected)
            raise RehearsalError(
                f"stack {self.stack}: refusing to destroy protected resources ({names}); nothing was deleted"
            )
        steps: list[Step] = []
        for resource in reversed(list(self.state.resources.values())):
            self._delete(resource, steps)
        self.state.outputs = {}
        return steps

    # -- helpers -----------------------------------------------------------------------------------------

    def settings(self) -> StackSettings:
        return parse_settings(self.config, self.stack, self.secret_keys, source=f"Pulumi.{self.stack}.yaml")

    def _emit(self, steps: list[Step], step: Step) -> None:
        steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def _provider(self, props: Mapping[str, Any]) -> ResourceProvider:
        """The provider pickled in `__provider`, configured with the stack config (as the provider host does)."""
        serialized = props[PROVIDER_KEY]
        provider = self._providers.get(serialized)
        if provider is None:
            provider = dill.loads(base64.b64decode(serialized))  # noqa: S301 (our own pickle, as Pulumi does)
            raw = {k: v if isinstance(v, str) else json.dumps(v) for k, v in self.config.items()}
            provider.configure(ConfigureRequest(config=Config(raw_config=raw, project_name=NAMESPACE)))
            self._providers[serialized] = provider
        return provider

    def _carried_out(self, resource: Resource) -> bool:
        """Whether the rehearsal calls this resource's provider (database ones only with a database)."""
        if resource.short_type in NOT_ON_THE_STAND_IN:
            return False
        return resource.dynamic and (resource.short_type not in DATABASE_TYPES or bool(self.database_url))

    def _delete(self, resource: Resource, steps: list[Step]) -> None:
        if self._carried_out(resource):
            self._provider(resource.outputs).delete(resource.id, _without_provider(resource.outputs))
        del self.state.resources[resource.urn]
        if resource.custom:
            self._emit(steps, Step("delete", resource.urn, resource.short_type, resource.name))

    def register(self, request: Any, args: MockResourceArgs, urn: str, steps: list[Step]) -> tuple[str, dict]:
        """Carry out one registration; returns the id and outputs the program sees."""
        with self._lock:
            old = self.state.resources.get(urn)
            news = reveal(dict(args.inputs))
            if not args.custom:
                self.state.resources[urn] = Resource(urn, args.typ, args.name, "", news, news, False, False)
                return "", news
            if not args.typ.startswith(DYNAMIC_PREFIX):
                return self._register_packaged(request, args, urn, old, news, steps)
            return self._register_dynamic(request, args, urn, old, news, steps)

    def _register_packaged(
        self,
        request: Any,
        args: MockResourceArgs,
        urn: str,
        old: Resource | None,
        news: dict,
        steps: list[Step],
    ) -> tuple[str, dict]:
        if old is not None and old.inputs == news:
            outputs, op, rid = old.outputs, "same", old.id
        else:
            outputs, rid = _fake_outputs(args), (old.id if old else f"{args.name}-id")
            if old is not None:
                # Keep generated values (passwords, ids) stable, as a real update of other inputs would.
                outputs = {**outputs, **{k: v for k, v in old.outputs.items() if k not in news}}
            op = "update" if old is not None else "create"
        resource = Resource(urn, args.typ, args.name, rid, news, outputs, bool(request.protect), True)
        resource.dependencies = list(request.dependencies)
        self.state.resources[urn] = resource
        self._emit(steps, Step(op, urn, resource.short_type, args.name))
        return rid, outputs

    def _register_dynamic(
        self,
        request: Any,
        args: MockResourceArgs,
        urn: str,
        old: Resource | None,
        news: dict,
        steps: list[Step],
    ) -> tuple[str, dict]:
        provider = self._provider(news)
        short = args.typ.split("/", 1)[1]
        database = short in DATABASE_TYPES
        if database and self.database_url:
            news["database_url"] = self.database_url
        if database and (not self.database_url or short in NOT_ON_THE_STAND_IN):
            return self._register_unrun(request, args, urn, old, news, steps, provider, short)
        inputs = _checked(provider, short, args.name, old, news)
        protect = bool(request.protect)
        if old is None:
            created = provider.create(_without_provider(inputs))
            outputs = {**(created.outs or {}), PROVIDER_KEY: inputs[PROVIDER_KEY]}
            rid, op, detail = str(created.id), "create", ""
        else:
            diff = provider.diff(old.id, dict(old.outputs), inputs)
            if diff.changes is None:
                changed = _changed_keys(old.inputs, inputs)
                replaces = list(diff.replaces or [])
            else:
                changed = _changed_keys(old.inputs, inputs) if diff.changes else []
                replaces = list(diff.replaces or [])
                if diff.changes and not changed:
                    changed = ["(provider-reported)"]
            if replaces:
                if protect:
                    raise RehearsalError(
                        f"{short} {args.name} is protected and would be replaced (changed: {', '.join(replaces)})"
                    )
                if diff.delete_before_replace:
                    provider.delete(old.id, _without_provider(old.outputs))
                created = provider.create(_without_provider(inputs))
                if not diff.delete_before_replace:
                    provider.delete(old.id, _without_provider(old.outputs))
                outputs = {**(created.outs or {}), PROVIDER_KEY: inputs[PROVIDER_KEY]}
                rid, op, detail = str(created.id), "replace", "replaces: " + ", ".join(replaces)
            elif changed:
                updated = provider.update(old.id, dict(old.outputs), inputs)
                outputs = {**(updated.outs or {}), PROVIDER_KEY: inputs[PROVIDER_KEY]}
                rid, op, detail = old.id, "update", "changed: " + ", ".join(changed)
            else:
                outputs, rid, op, detail = old.outputs, old.id, "same", ""
        resource = Resource(urn, args.typ, args.name, rid, inputs, outputs, protect, True)
        resource.dependencies = list(request.dependencies)
        self.state.resources[urn] = resource
        self._emit(steps, Step(op, urn, short, args.name, detail))
        return rid, outputs

    def _register_unrun(
        self,
        request: Any,
        args: MockResourceArgs,
        urn: str,
        old: Resource | None,
        news: dict,
        steps: list[Step],
        provider: ResourceProvider,
        short: str,
    ) -> tuple[str, dict]:
        """A database resource without a database: `check` and `diff` only, reported as not carried out."""
        inputs = _checked(provider, short, args.name, old, news)
        if old is None:
            op = "create"
        else:
            op = "update" if provider.diff(old.id, dict(old.outputs), inputs).changes else "same"
        rid = old.id if old else f"{args.name}-id"
        resource = Resource(urn, args.typ, args.name, rid, inputs, inputs, bool(request.protect), True)
        self.state.resources[urn] = resource
        reason = (
            "the stand-in database has no pg_cron (the compatibility layer emulates its catalogue)"
            if short in NOT_ON_THE_STAND_IN and self.database_url
            else "no database to rehearse against (--database-url)"
        )
        detail = "" if op == "same" else f"not carried out: {reason}"
        self._emit(steps, Step(op, urn, short, args.name, detail))
        return rid, inputs


class _NoMocks(Mocks):
    """Invokes (data sources) answer as the inventory's mocks do; registrations go to the engine."""

    def __init__(self) -> None:
        self._calls = CapturingMocks()

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:  # pragma: no cover
        raise AssertionError("registrations are handled by the rehearsal monitor")

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        return self._calls.call(args)


class _RehearsalMonitor(MockMonitor):
    """Pulumi's mock monitor, with each registration handed to the rehearsal engine and its options kept."""

    def __init__(self, engine: Engine, steps: list[Step], seen: set[str], errors: list[BaseException]):
        super().__init__(_NoMocks())
        self.engine, self.steps, self.seen, self.errors = engine, steps, seen, errors

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object)
        args = MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=inputs,
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
        )
        self.seen.add(urn)
        try:
            id_, state = self.engine.register(request, args, urn, self.steps)
        except BaseException as exc:
            self.errors.append(exc)
            raise
        obj_proto = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj_proto)
