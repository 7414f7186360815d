"""A vendor's published API contract, trimmed to the operations we call: match requests, validate bodies.

The contracts live in `infra/rehearsal/contracts/` (each file's `_source` names the repository, path and commit
it was cut from). The simulators refuse any request that is not an operation of the contract, that lacks a
required field or parameter, or that carries a field or query parameter the contract does not declare, so a
test catches an invented field before a real `pulumi up` would. `check_recorded_calls()` holds the vendor-call
record (`test-artifacts/vendor-calls.jsonl`) against the same contracts.

The validator covers the JSON Schema subset these documents use: type (with `nullable`), enum, required,
properties, additionalProperties, items, oneOf, minimum/maximum, minLength/maxLength, pattern.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

CONTRACTS = Path(__file__).resolve().parent / "contracts"
MANAGEMENT_API = "supabase-management-api.json"
AUTH_ADMIN_API = "supabase-auth-admin.json"
# vendor in the call record -> (contract file, path prefix before the contract's paths)
VENDOR_CONTRACTS = {"supabase": (MANAGEMENT_API, ""), "gotrue": (AUTH_ADMIN_API, "/auth/v1")}

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the contract's template, e.g. /v1/projects/{ref}
    operation_id: str
    parameters: tuple[Mapping[str, Any], ...]
    body: Mapping[str, Any] | None
    body_required: bool
    responses: tuple[str, ...]
    pattern: re.Pattern[str] = field(compare=False, repr=False)

    def query_problems(self, query: Mapping[str, list[str]]) -> list[str]:
        """Undeclared, missing or malformed query parameters."""
        declared = {p["name"]: p for p in self.parameters if p.get("in") == "query"}
        problems = [
            f"query parameter {name!r} is not in the contract" for name in query if name not in declared
        ]
        for name, param in declared.items():
            values = query.get(name)
            if not values:
                if param.get("required"):
                    problems.append(f"query parameter {name!r} is required")
                continue
            schema = param.get("schema") or {}
            if schema.get("type") == "array":
                items = [v for value in values for v in value.split(",")] if len(values) == 1 else values
                for item in items:
                    problems += schema_problems(
                        schema.get("items") or {}, item, f"query {name}", from_text=True
                    )
            else:
                problems += schema_problems(schema, values[-1], f"query {name}", from_text=True)
        return problems

    def body_problems(self, body: Any) -> list[str]:
        if self.body is None:
            return [] if body is None else ["the operation takes no request body"]
        if body is None:
            return ["a JSON request body is required"] if self.body_required else []
        return schema_problems(self.body, body, "body")


def _template_pattern(path: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{([A-Za-z_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
    return re.compile(f"^{regex}$")


@cache
def load_operations(name: str) -> tuple[Operation, ...]:
    document = json.loads((CONTRACTS / name).read_text(encoding="utf-8"))
    return tuple(
        Operation(
            method=op["method"],
            path=op["path"],
            operation_id=op.get("operationId") or f"{op['method']} {op['path']}",
            parameters=tuple(op.get("parameters") or ()),
            body=op.get("requestBody"),
            body_required=bool(op.get("requestBodyRequired", op.get("requestBody") is not None)),
            responses=tuple(op.get("responses") or ()),
            pattern=_template_pattern(op["path"]),
        )
        for op in document["operations"]
    )


def match(operations: Iterable[Operation], method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
    """The operation for `method path`, with its path parameters; literal paths win over templated ones."""
    candidates = []
    for op in operations:
        found = op.pattern.match(path)
        if found and op.method == method.upper():
            candidates.append((op.path.count("{"), op, found.groupdict()))
    if not candidates:
        return None
    candidates.sort(key=lambda item: item[0])
    return candidates[0][1], candidates[0][2]


def _coerce(schema: Mapping[str, Any], text: str) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return text
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def schema_problems(
    schema: Mapping[str, Any], value: Any, where: str, *, from_text: bool = False
) -> list[str]:
    """Why `value` does not satisfy `schema` (empty when it does)."""
    if from_text and isinstance(value, str):
        value = _coerce(schema, value)
    if value is None:
        return [] if schema.get("nullable") or not schema else [f"{where} must not be null"]
    if "oneOf" in schema:
        options = schema["oneOf"]
        if any(not schema_problems(option, value, where) for option in options):
            return []
        return [f"{where} matches none of the allowed forms ({_brief(options)})"]
    kind = schema.get("type")
    if kind:
        types = JSON_TYPES.get(kind, (object,))
        wrong = not isinstance(value, types) or (kind in ("integer", "number") and isinstance(value, bool))
        if wrong:
            return [f"{where} must be of type {kind}, got {type(value).__name__}"]
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where} must be one of {schema['enum']}, got {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{where} must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where} must be at most {schema['maximum']}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            problems.append(f"{where} must be at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append(f"{where} must be at most {schema['maxLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{where} must match {schema['pattern']}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problems += schema_problems(schema["items"], item, f"{where}[{index}]")
    if isinstance(value, dict):
        properties = schema.get("properties")
        for name in schema.get("required") or ():
            if name not in value:
                problems.append(f"{where}.{name} is required")
        extra = schema.get("additionalProperties")
        if properties is not None:
            for name, item in value.items():
                if name in properties:
                    problems += schema_problems(properties[name], item, f"{where}.{name}")
                elif isinstance(extra, Mapping) and extra:
                    problems += schema_problems(extra, item, f"{where}.{name}")
                elif extra is not True and not isinstance(extra, Mapping):
                    # Strict on purpose: a field the contract does not declare is an invented one.
                    problems.append(f"{where}.{name} is not a field of the contract")
    return problems


def _brief(options: Iterable[Mapping[str, Any]]) -> str:
    parts = []
    for option in options:
        if "enum" in option:
            parts.append("|".join(map(str, option["enum"]))[:80])
        elif "properties" in option:
            parts.append("{" + ", ".join(option["properties"]) + "}")
        else:
            parts.append(str(option.get("type")))
    return "; ".join(parts)


def check_call(vendor: str, method: str, url: str, body: Any) -> list[str]:
    """Why one recorded call is not an operation of the vendor's contract (empty when it is)."""
    name, prefix = VENDOR_CONTRACTS[vendor]
    parts = urlsplit(url)
    path = parts.path
    if prefix:
        if not path.startswith(prefix + "/"):
            return [f"{method} {url}: not under {prefix}"]
        path = path[len(prefix) :]
    found = match(load_operations(name), method, path)
    if found is None:
        return [f"{method} {url}: no operation of {name} has this method and path"]
    operation, _params = found
    problems = operation.query_problems(parse_qs(parts.query, keep_blank_values=True))
    problems += operation.body_problems(body)
    return [f"{method} {url} ({operation.operation_id}): {problem}" for problem in problems]


def check_recorded_calls(lines: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every problem in the Supabase and GoTrue lines of a vendor-call record (other vendors are skipped)."""
    problems: list[str] = []
    for line in lines:
        if line.get("vendor") in VENDOR_CONTRACTS:
            problems += check_call(line["vendor"], line["method"], line["url"], line.get("body"))
    return problems
