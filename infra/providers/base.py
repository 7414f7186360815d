"""What every vendor provider shares: the token from stack config, pickling without it, diff and output helpers.

Pulumi pickles a dynamic provider with dill into the state (see docs/ops.md). The providers therefore hold
only plain data; the API token arrives in `configure()` from stack config (or the vendor's usual environment
variable) and `__getstate__` drops it, so a token can never be written into a pickle.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, DiffResult, ResourceProvider

from infra.providers.http import OutcomeUnknownError, VendorApi

# The engine's placeholder for a value not known during preview (pulumi.runtime.rpc.UNKNOWN).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def is_unknown(value: Any) -> bool:
    return value == UNKNOWN


def engine_numbers(value: Any) -> Any:
    """`value` with every whole float made an int again.

    The engine hands a dynamic provider its properties as protobuf Struct values, where every number is a
    double (`pulumi.runtime.rpc.deserialize_properties` turns 3600 into 3600.0). Sent as is, `3600.0` is
    refused by APIs whose fields are integers (Supabase's Go handlers cannot unmarshal it into an int), and an
    `isinstance(x, int)` check skips it. The rehearsal (`infra/rehearsal/engine.py`) reproduces this.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: engine_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [engine_numbers(item) for item in value]
    return value


class Provider(ResourceProvider):
    """Every provider of this program: `check` sees the inputs with the engine's numbers made whole again.

    `check`'s result is what the engine passes to create, diff and update, so normalising there once covers
    every call that sends inputs to a vendor.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own_check = cls.__dict__.get("check")
        if own_check is None or getattr(own_check, "_engine_numbers", False):
            return

        def check(self: ResourceProvider, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
            return own_check(self, engine_numbers(_olds), engine_numbers(news))

        check.__doc__ = own_check.__doc__
        check._engine_numbers = True  # type: ignore[attr-defined]  # a marker on the function object
        cls.check = check  # type: ignore[method-assign]  # replaces the subclass's own check, once per class


# The vendor client a TokenProvider holds: VendorApi (plain HTTP) or a vendor SDK's wrapper (BrevoApi).
Api = TypeVar("Api")


class TokenProvider(Provider, Generic[Api]):
    """A dynamic provider that calls one vendor API with a token read from stack config."""

    token_config_key: ClassVar[str]  # e.g. "supabaseAccessToken", read as "<project>:<key>"
    token_env_var: ClassVar[str]  # e.g. "SUPABASE_ACCESS_TOKEN", the vendor CLI's usual variable
    kind: ClassVar[str]  # e.g. "project": used in error messages

    def __init__(self, api: Api) -> None:
        super().__init__()
        self.api = api
        self._token: str | None = None

    def configure(self, req: ConfigureRequest) -> None:
        # Stack config wins (it is per stack and encrypted); the environment variable is the fallback ops
        # already use with the vendors' own CLIs.
        self._token = req.config.get(self.token_config_key) or os.environ.get(self.token_env_var) or None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_token", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._token = None

    def call(self: TokenProvider[VendorApi], method: str, path: str, *, resource: str, **kwargs: Any) -> Any:
        return self.api.call(self._token, method, path, resource=resource, **kwargs)


def with_secret_outputs(opts: pulumi.ResourceOptions | None, *names: str) -> pulumi.ResourceOptions:
    """`opts` plus the outputs `names` marked secret, so the state holds them encrypted."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=list(names)))


def required(news: Mapping[str, Any], keys: Iterable[str]) -> list[CheckFailure]:
    """A failure for each required input that is missing or empty."""
    return [CheckFailure(key, f"{key} is required") for key in keys if news.get(key) in (None, "")]


def diff_inputs(
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    *,
    updatable: Iterable[str],
    replace_on: Iterable[str] = (),
) -> DiffResult:
    """Compare only the inputs this resource manages: `replace_on` keys force a replacement.

    Comparing named keys (never the whole state) keeps computed outputs such as an id or a status from
    looking like a change, and an unknown new value during preview counts as a change.
    """
    replaces = [key for key in replace_on if olds.get(key) != news.get(key) or is_unknown(news.get(key))]
    changed = [key for key in updatable if olds.get(key) != news.get(key) or is_unknown(news.get(key))]
    stables = [key for key in replace_on if key not in replaces]
    return DiffResult(changes=bool(replaces or changed), replaces=replaces, stables=stables)


def inputs_of(props: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The managed inputs only (drops `__provider` and anything the engine added)."""
    return {key: props[key] for key in keys if key in props}


def adopt_or_create(
    call: Callable[..., Any],
    collection: str,
    existing: Mapping[str, Any] | None,
    *,
    resource: str,
    update: Mapping[str, Any] | None,
    create: Mapping[str, Any],
    find_again: Callable[[], Mapping[str, Any] | None] | None = None,
) -> str:
    """The id of `existing` (PUT `update` to `<collection>/<id>` first, unless None) or of a new object POSTed
    to `collection` with `create`.

    Every create first looks for the identical object (same name, e-mail, URL) and adopts it, so a retried
    `pulumi up` never leaves duplicates behind. `call(method, path, resource=..., json=...)` sends the request.

    A POST is never repeated (`VendorApi` raises OutcomeUnknownError when it failed with a 5xx or a dropped
    connection, because the vendor may have committed it). With `find_again`, that lookup runs once more and
    the object it finds is adopted; if it finds none, the error says nothing was created and to run again.
    """
    if existing is not None:
        object_id = str(existing["id"])
        if update is not None:
            call("PUT", f"{collection}/{object_id}", resource=resource, json=update)
        return object_id
    try:
        created = call("POST", collection, resource=resource, json=create)
    except OutcomeUnknownError as exc:
        found = find_again() if find_again is not None else None
        if found is None:
            raise OutcomeUnknownError(
                f"{exc}. Nothing matching was found afterwards"
                + (", so nothing was created: run `pulumi up` again" if find_again else "")
                + f" (check the vendor's dashboard for {resource} first if unsure)",
                status=exc.status,
            ) from exc
        return str(found["id"])
    return str(created["id"])
