"""`one`: the row a query always returns, narrowed from `fetchone()`'s Optional (the portal's copy of db/rows.py:
the portal does not import the database tooling).

A function call (`select f(...)`), an aggregate or an INSERT ... RETURNING yields exactly one row or raises;
`one` says so to the type checker, and turns the impossible empty result into an error naming it.
"""

from __future__ import annotations

from typing import TypeVar

Row = TypeVar("Row")


def one(row: Row | None) -> Row:
    if row is None:
        raise LookupError("the statement returned no row where it always returns one")
    return row
