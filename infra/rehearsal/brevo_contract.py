"""Brevo API v3 as its official Python SDK describes it: every operation's method, path, body and query fields.

Read from the installed `brevo-python` 5.x (Fern-generated from Brevo's own API definition): each synchronous
`Raw*Client` method calls `self._client_wrapper.httpx_client.request(<path>, method=..., params={...},
json={...})`. Parsing those calls (never importing private SDK internals) gives the contract the simulator
(`infra/rehearsal/brevo_sim.py`) enforces and the tests check the vendor-call record against: a request the SDK
has no operation for, a body field it does not send or a missing required field is refused.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import brevo

BASE_URL = "https://api.brevo.com/v3"  # brevo/environment.py: BrevoEnvironment.DEFAULT
# The SDK groups whose endpoints the providers use (brevo/<group>/raw_client.py).
GROUPS = ("account", "domains", "senders", "transactional_emails", "webhooks")


@dataclass(frozen=True)
class SdkOperation:
    """One SDK operation: `group.name` is what a provider calls, `method path` what goes over the wire."""

    group: str
    name: str
    method: str
    path: str  # relative to BASE_URL, with {param} placeholders, e.g. "senders/{sender_id}/validate"
    body: dict[str, bool]  # wire field name -> required
    query: tuple[str, ...]  # wire query parameter names

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(self.path))
        return re.compile(f"^{regex}$")

    def matches(self, method: str, path: str) -> bool:
        return method.upper() == self.method and bool(self.pattern.match(path.strip("/")))


def _parameters(function: ast.FunctionDef) -> dict[str, bool]:
    """The function's parameter names -> required (no default)."""
    args = function.args
    positional = args.posonlyargs + args.args
    required = {arg.arg: True for arg in positional}
    for arg in positional[len(positional) - len(args.defaults) :]:
        required[arg.arg] = False
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        required[arg.arg] = default is None
    return required


def _parameter_used(node: ast.AST, parameters: dict[str, bool]) -> str | None:
    """The function parameter an expression passes on (directly or through the SDK's converters)."""
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and child.id in parameters and child.id != "self":
            return child.id
    return None


def _path(node: ast.AST, parameters: dict[str, bool]) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                parts.append("{" + (_parameter_used(value, parameters) or "param") + "}")
        return "".join(parts)
    raise ValueError(f"unexpected path expression {ast.dump(node)}")


def _fields(node: ast.AST | None, parameters: dict[str, bool]) -> dict[str, bool]:
    if not isinstance(node, ast.Dict):
        return {}
    fields = {}
    for key, value in zip(node.keys, node.values, strict=True):
        if isinstance(key, ast.Constant):
            parameter = _parameter_used(value, parameters)
            fields[str(key.value)] = bool(parameter and parameters[parameter])
    return fields


def _operations_of(group: str, source: str) -> list[SdkOperation]:
    operations = []
    for cls in ast.parse(source).body:
        if not isinstance(cls, ast.ClassDef) or cls.name.startswith("Async"):
            continue
        for function in cls.body:
            if not isinstance(function, ast.FunctionDef) or function.name.startswith("_"):
                continue
            parameters = _parameters(function)
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "request" and node.args:
                    keywords = {keyword.arg: keyword.value for keyword in node.keywords}
                    operations.append(
                        SdkOperation(
                            group=group,
                            name=function.name,
                            method=str(ast.literal_eval(keywords["method"])),
                            path=_path(node.args[0], parameters),
                            body=_fields(keywords.get("json"), parameters),
                            query=tuple(_fields(keywords.get("params"), parameters)),
                        )
                    )
                    break
    return operations


@cache
def sdk_operations(groups: tuple[str, ...] = GROUPS) -> tuple[SdkOperation, ...]:
    """Every operation of the installed SDK's `groups` (read from brevo/<group>/raw_client.py)."""
    root = Path(brevo.__file__).parent
    operations: list[SdkOperation] = []
    for group in groups:
        operations += _operations_of(group, (root / group / "raw_client.py").read_text(encoding="utf-8"))
    return tuple(operations)


def operation_for(method: str, path: str, groups: tuple[str, ...] = GROUPS) -> SdkOperation | None:
    """The SDK operation a request (path relative to /v3) is, preferring literal segments ("domains")
    over placeholders ("{sender_id}") when both match."""
    candidates = [operation for operation in sdk_operations(groups) if operation.matches(method, path)]
    candidates.sort(key=lambda operation: operation.path.count("{"))
    return candidates[0] if candidates else None


def contract_violations(call: dict[str, Any]) -> list[str]:
    """What is wrong with one recorded call against the SDK (empty when it is an SDK operation)."""
    url = urlsplit(call["url"])
    if not call["url"].startswith(BASE_URL + "/"):
        return [f"{call['url']} is not under {BASE_URL}"]
    path = url.path.removeprefix("/v3/")
    operation = operation_for(call["method"], path)
    if operation is None:
        return [f"{call['method']} /v3/{path} is no operation of brevo-python"]
    problems = []
    unknown_query = set(dict(parse_qsl(url.query))) - set(operation.query)
    if unknown_query:
        problems.append(f"{operation.name}: query parameters {sorted(unknown_query)} are not the SDK's")
    body = call["body"]
    if isinstance(body, dict):
        unknown = set(body) - set(operation.body)
        missing = {key for key, needed in operation.body.items() if needed and key not in body}
        if unknown:
            problems.append(f"{operation.name}: body fields {sorted(unknown)} are not the SDK's")
        if missing:
            problems.append(f"{operation.name}: required body fields {sorted(missing)} missing")
    return problems
