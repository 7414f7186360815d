"""Every fideslang key in the register must exist in fideslang's default taxonomy.

fideslang's pydantic models accept any well-formed key (`user.totally_made_up` validates), so this module
walks the parsed manifests, finds every data category, data use and data subject, and reports unknown ones
with the nearest valid keys (difflib) so the fix is obvious.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from compliance.yamlsource import Loc, Source

Kind = Literal["data_category", "data_use", "data_subject"]

# Which YAML keys hold which kind of taxonomy key (fideslang 3.x manifests and compliance/*.yaml).
_KEY_KINDS: dict[str, Kind] = {
    "data_categories": "data_category",
    "shared_categories": "data_category",
    "data_use": "data_use",
    "data_uses": "data_use",
    "data_subjects": "data_subject",
}


@dataclass(frozen=True)
class TaxonomyKey:
    kind: Kind
    value: str
    loc: Loc


@cache
def default_keys(kind: Kind) -> frozenset[str]:
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    return frozenset(item.fides_key for item in getattr(DEFAULT_TAXONOMY, kind))


def nearest(kind: Kind, value: str, n: int = 3) -> list[str]:
    """The closest valid keys; children of the nearest existing parent first when the prefix is right."""
    keys = default_keys(kind)
    close = difflib.get_close_matches(value, sorted(keys), n=n, cutoff=0.6)
    if close:
        return close
    parent = value.rsplit(".", 1)[0] if "." in value else ""
    siblings = sorted(k for k in keys if parent and k.startswith(parent + "."))
    return siblings[:n] or difflib.get_close_matches(value, sorted(keys), n=n, cutoff=0.0)


def iter_keys(data: Any, loc: Loc = ()) -> Iterator[TaxonomyKey]:
    if isinstance(data, dict):
        for key, value in data.items():
            kind = _KEY_KINDS.get(key) if isinstance(key, str) else None
            if kind and isinstance(value, str):
                yield TaxonomyKey(kind, value, (*loc, key))
            elif kind and isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, str):
                        yield TaxonomyKey(kind, item, (*loc, key, index))
            else:
                yield from iter_keys(value, (*loc, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from iter_keys(item, (*loc, index))


def unknown_keys(data: Any, source: Source) -> list[str]:
    """One message per key that fideslang's default taxonomy does not define."""
    problems = []
    for found in iter_keys(data):
        if found.value in default_keys(found.kind):
            continue
        suggestions = nearest(found.kind, found.value)
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        label = found.kind.replace("_", " ")
        problems.append(
            source.describe(
                found.loc, f"unknown {label} {found.value!r} (not in fideslang's default taxonomy){hint}"
            )
        )
    return problems
