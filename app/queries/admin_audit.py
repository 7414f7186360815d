"""The audit log for admins, filtered and paginated (the audit_log policy gives admins every row)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from psycopg import Connection, sql

PAGE_SIZE = 50
ACTIONS = ("insert", "update", "delete", "read", "sign_in")


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""  # a profile id or an e-mail address
    action: str = ""
    table: str = ""
    since: date | None = None
    until: date | None = None  # inclusive
    page: int = 1


def entries(conn: Connection[Any], f: AuditFilter) -> tuple[list[dict[str, Any]], bool]:
    """One page of entries, newest first, and whether another page exists."""
    where: list[sql.Composable] = [sql.SQL("true")]
    params: list[Any] = []
    if f.actor:
        try:
            where.append(sql.SQL("l.actor_id = %s"))
            params.append(uuid.UUID(f.actor))
        except ValueError:
            where.append(
                sql.SQL(
                    "l.actor_id in (select p.id from public.profiles as p where p.email = %s::extensions.citext)"
                )
            )
            params.append(f.actor)
    if f.action:
        where.append(sql.SQL("l.action = %s"))
        params.append(f.action)
    if f.table:
        where.append(sql.SQL("l.object_table = %s"))
        params.append(f.table)
    if f.since:
        where.append(sql.SQL("l.created_at >= %s::date"))
        params.append(f.since)
    if f.until:
        where.append(sql.SQL("l.created_at < %s::date"))
        params.append(f.until + timedelta(days=1))
    query = sql.SQL(
        """select l.id, l.created_at, l.actor_id, l.jwt_role, l.action, l.object_table, l.object_id, l.ip,
                  l.user_agent, l.changed_columns, p.first_name || ' ' || p.surname as actor_name
           from public.audit_log as l
           left join public.profiles as p on l.actor_id = p.id
           where {where}
           order by l.created_at desc, l.id desc
           limit %s offset %s"""
    ).format(where=sql.SQL(" and ").join(where))
    rows = conn.execute(query, [*params, PAGE_SIZE + 1, (f.page - 1) * PAGE_SIZE]).fetchall()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def tables(conn: Connection[Any]) -> list[str]:
    return [
        r["object_table"]
        for r in conn.execute(
            "select distinct l.object_table from public.audit_log as l order by 1"
        ).fetchall()
    ]
