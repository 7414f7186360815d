"""Test worlds: the rows a test needs, written as the owner (bypassing RLS), one small builder per kind of row.

Every suite builds its world from these builders: db/tests, tests/app (tests/app/portal_testkit.py),
tests/compliance and the attack catalogue of the mutation tool (db/rls/killers.py). A suite's own `World`
only names the rows it made. Each builder takes the owner connection first and returns the new row's id; the
caller owns the transaction. Defaults are plain valid values, so a test spells out only what it is about.

The isolation suite's generated worlds are the exception: db/rls/worlds.py loads a whole model world with one
statement per table (thousands of rows per example), and takes only its enterprise numbers from here.
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from db.rows import one
from db.seed.belgium import TEST_PREFIXES
from db.seed.belgium import enterprise_number as _enterprise_number

# --- Enterprise numbers -------------------------------------------------------------------------------------

# Deterministic numbers (`enterprise_number(n)`, the isolation suite's salted worlds) take the low half of the
# test block, numbers drawn in turn (`next_enterprise_number()`) the high half, so both fit in one database.
_DRAWN = itertools.count(len(TEST_PREFIXES) // 2)


def enterprise_number(n: int) -> str:
    """The `n`-th test enterprise number: valid check digits (db.seed.belgium's generator, the one there is),
    from a block no real company and no seeded world uses (TEST_PREFIXES)."""
    return _enterprise_number(TEST_PREFIXES[n])


def next_enterprise_number() -> str:
    """A test enterprise number no earlier call of this process returned (organizations need unique ones)."""
    return enterprise_number(next(_DRAWN))


# --- Rows ---------------------------------------------------------------------------------------------------


# A value written as the statement's `now()` (the transaction's time), not as a parameter.
NOW = sql.SQL("now()")


def _insert(conn: psycopg.Connection, table: str, values: Mapping[str, Any], returning: str = "id") -> Any:
    """insert into `table` the columns of `values` that are not None (the others keep their defaults)."""
    given = {column: value for column, value in values.items() if value is not None}
    query = sql.SQL("insert into {} ({}) values ({}) returning {}").format(
        sql.Identifier(*table.split(".")),
        sql.SQL(", ").join(map(sql.Identifier, given)),
        sql.SQL(", ").join(v if v is NOW else sql.Placeholder() for v in given.values()),
        sql.Identifier(returning),
    )
    return one(conn.execute(query, tuple(v for v in given.values() if v is not NOW)).fetchone())[0]


def calendar(conn: psycopg.Connection, name: str = "Brussels", *, time_zone: str | None = None) -> uuid.UUID:
    return _insert(conn, "public.business_calendars", {"name": name, "time_zone": time_zone})


def sla_plan(
    conn: psycopg.Connection, calendar_id: uuid.UUID, *, code: str = "std", name: str = "Standard"
) -> uuid.UUID:
    return _insert(conn, "public.sla_plans", {"code": code, "name": name, "calendar_id": calendar_id})


def business_hours(
    conn: psycopg.Connection, calendar_id: uuid.UUID, day_of_week: int, opens_at: str, closes_at: str
) -> uuid.UUID:
    values = {
        "calendar_id": calendar_id,
        "day_of_week": day_of_week,
        "opens_at": opens_at,
        "closes_at": closes_at,
    }
    return _insert(conn, "public.business_hours", values)


def holiday(conn: psycopg.Connection, calendar_id: uuid.UUID, day: str, name: str) -> uuid.UUID:
    return _insert(conn, "public.holidays", {"calendar_id": calendar_id, "day": day, "name": name})


def sla_policy(
    conn: psycopg.Connection,
    plan_id: uuid.UUID,
    priority: str,
    first_response: int,
    next_response: int,
    resolution: int,
) -> uuid.UUID:
    """Targets in business minutes."""
    values = {
        "plan_id": plan_id,
        "priority": priority,
        "first_response_minutes": first_response,
        "next_response_minutes": next_response,
        "resolution_minutes": resolution,
    }
    return _insert(conn, "public.sla_policies", values)


def organization(
    conn: psycopg.Connection,
    name: str,
    plan_id: uuid.UUID,
    *,
    enterprise_number: str | None = None,
    contract_start: object = "2025-01-01",
    contract_end: object = None,
    shared_tickets: bool | None = None,
) -> uuid.UUID:
    """A client organization with a valid enterprise number (the next test number unless given)."""
    values = {
        "name": name,
        "enterprise_number": next_enterprise_number() if enterprise_number is None else enterprise_number,
        "contract_start": contract_start,
        "contract_end": contract_end,
        "sla_plan_id": plan_id,
        "shared_tickets": shared_tickets,
    }
    return _insert(conn, "public.organizations", values)


def auth_user(
    conn: psycopg.Connection,
    email: str | None,
    *,
    user_id: uuid.UUID | None = None,
    confirmed: bool = False,
    metadata: Mapping[str, object] | None = None,
    **columns: object,
) -> uuid.UUID:
    """A Supabase Auth account (no profile: a stranger until `profile()`). `confirmed`: the address was
    confirmed now; `metadata`: raw_user_meta_data; other auth.users columns (phone, encrypted_password, ...) as
    keywords."""
    user_id = user_id or uuid.uuid4()
    values: dict[str, Any] = {"id": user_id, "email": email, **columns}
    if metadata is not None:
        values["raw_user_meta_data"] = Jsonb(dict(metadata))
    if confirmed:
        values["email_confirmed_at"] = NOW
    _insert(conn, "auth.users", values)
    return user_id


def profile(
    conn: psycopg.Connection,
    user_id: uuid.UUID,
    role: str,
    organization_id: uuid.UUID | None,
    email: str,
    *,
    first_name: str = "First",
    surname: str = "Last",
    phone: str | None = None,
) -> uuid.UUID:
    """The portal profile of an account: its role, and for clients their organization (staff have none)."""
    values = {
        "id": user_id,
        "organization_id": organization_id,
        "role": role,
        "first_name": first_name,
        "surname": surname,
        "email": email,
        "phone": phone,
    }
    return _insert(conn, "public.profiles", values)


def person(
    conn: psycopg.Connection,
    email: str,
    role: str | None,
    organization_id: uuid.UUID | None = None,
    *,
    first_name: str = "First",
    surname: str = "Last",
    phone: str | None = None,
    account_phone: str | None = None,
    password_hash: str | None = None,
    confirmed: bool = False,
    metadata: Mapping[str, object] | None = None,
    user_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """An account with its profile of `role` (None: an account without a profile, a stranger). The account's
    own columns: `user_id`, `account_phone`, `password_hash` (encrypted_password), `confirmed`, `metadata`."""
    user_id = auth_user(
        conn,
        email,
        user_id=user_id,
        confirmed=confirmed,
        metadata=metadata,
        phone=account_phone,
        encrypted_password=password_hash,
    )
    if role is not None:
        profile(
            conn, user_id, role, organization_id, email, first_name=first_name, surname=surname, phone=phone
        )
    return user_id


def assign(conn: psycopg.Connection, agent_id: uuid.UUID, organization_id: uuid.UUID) -> uuid.UUID:
    """An agent assignment: the agent serves the organization (the agent must be active when assigned)."""
    return _insert(
        conn, "public.agent_assignments", {"agent_id": agent_id, "organization_id": organization_id}
    )


def ticket(
    conn: psycopg.Connection,
    organization_id: uuid.UUID,
    requester_id: uuid.UUID,
    *,
    subject: str = "Printer",
    description: str = "It is on fire",
    assignee_id: uuid.UUID | None = None,
    priority: str | None = None,
) -> uuid.UUID:
    """A new ticket (status `new`)."""
    values = {
        "organization_id": organization_id,
        "requester_id": requester_id,
        "assignee_id": assignee_id,
        "subject": subject,
        "description": description,
        "priority": priority,
    }
    return _insert(conn, "public.tickets", values)


def message(
    conn: psycopg.Connection,
    ticket_id: uuid.UUID,
    author_id: uuid.UUID,
    body: str = "Hi",
    *,
    internal: bool = False,
) -> uuid.UUID:
    """A message on a ticket; `internal`: a staff note clients never see."""
    values = {"ticket_id": ticket_id, "author_id": author_id, "body": body, "internal": internal}
    return _insert(conn, "public.ticket_messages", values)


def attachment(
    conn: psycopg.Connection,
    ticket_id: uuid.UUID,
    organization_id: uuid.UUID,
    uploaded_by: uuid.UUID,
    *,
    file_name: str = "log.txt",
    content_type: str = "text/plain",
    data: bytes = b"0123456789",
    internal: bool = False,
    message_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, str]:
    """An attachment row (size and sha256 of `data`): its id and its storage path. The file itself is
    `stored_object(conn, path)`, written once it is "uploaded"."""
    values = {
        "ticket_id": ticket_id,
        "organization_id": organization_id,
        "message_id": message_id,
        "uploaded_by": uploaded_by,
        "internal": internal,
        "file_name": file_name,
        "content_type": content_type,
        "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    attachment_id = _insert(conn, "public.attachments", values)
    path = one(
        conn.execute("select storage_path from public.attachments where id = %s", (attachment_id,)).fetchone()
    )[0]
    return attachment_id, path


def stored_object(
    conn: psycopg.Connection,
    name: str,
    *,
    bucket: str = "attachments",
    owner: uuid.UUID | None = None,
    owner_id: str | None = None,
    metadata: Mapping[str, object] | None = None,
) -> uuid.UUID:
    """A file in Storage (`storage.objects`), e.g. at an attachment's storage path."""
    values = {
        "bucket_id": bucket,
        "name": name,
        "owner": owner,
        "owner_id": owner_id,
        "metadata": Jsonb(dict(metadata)) if metadata is not None else None,
    }
    return _insert(conn, "storage.objects", values)


def invitation(
    conn: psycopg.Connection,
    email: str,
    role: str,
    organization_id: uuid.UUID | None = None,
    *,
    nonce: str = "nonce",
    first_name: str = "Invited",
    surname: str = "Person",
) -> uuid.UUID:
    """A pending invitation; the portal mails `nonce`, the row keeps its sha256."""
    values = {
        "email": email,
        "organization_id": organization_id,
        "role": role,
        "first_name": first_name,
        "surname": surname,
        "nonce_hash": hashlib.sha256(nonce.encode()).hexdigest(),
    }
    return _insert(conn, "private.invitations", values)


def audit_entry(
    conn: psycopg.Connection,
    actor_id: uuid.UUID | None,
    *,
    action: str = "read",
    object_table: str = "tickets",
    created_at: object = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> uuid.UUID:
    values = {
        "created_at": created_at,
        "actor_id": actor_id,
        "action": action,
        "object_table": object_table,
        "ip": ip,
        "user_agent": user_agent,
    }
    return _insert(conn, "public.audit_log", values)


def dsr_request(
    conn: psycopg.Connection, subject_id: uuid.UUID | None, subject_email: str, type: str = "access"
) -> uuid.UUID:
    """A data-subject request as an admin records it."""
    values = {"subject_id": subject_id, "subject_email": subject_email, "type": type}
    return _insert(conn, "public.dsr_requests", values)
