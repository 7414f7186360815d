"""Administration queries: organizations and contracts, members, agent assignments, SLA plans and calendars.

Every function takes the admin's RLS-scoped connection (app/database.py); the policies let an admin at aal2
manage these tables and give everyone else nothing here, so a wrong caller gets empty lists and refused writes.
"""

from __future__ import annotations

import uuid
from datetime import date, time
from typing import Any

from psycopg import Connection

from app.queries.rows import one

ORG_COLUMNS = ("name", "enterprise_number", "contract_start", "contract_end", "sla_plan_id", "shared_tickets")
ROLES = ("client_member", "client_admin", "agent", "admin")


def organizations(conn: Connection[Any]) -> list[dict[str, Any]]:
    return conn.execute(
        """select o.id, o.name, o.enterprise_number, o.contract_start, o.contract_end, o.shared_tickets,
                  o.sla_plan_id, p.name as plan_name,
                  (select count(*) from public.profiles as m
                   where m.organization_id = o.id and m.erased_at is null) as members
           from public.organizations as o
           inner join public.sla_plans as p on o.sla_plan_id = p.id
           order by o.name"""
    ).fetchall()


def organization(conn: Connection[Any], org_id: uuid.UUID) -> dict[str, Any] | None:
    return conn.execute(
        """select o.id, o.name, o.enterprise_number, o.contract_start, o.contract_end, o.shared_tickets,
                  o.sla_plan_id
           from public.organizations as o where o.id = %s""",
        (org_id,),
    ).fetchone()


def save_organization(conn: Connection[Any], org_id: uuid.UUID | None, values: dict[str, Any]) -> uuid.UUID:
    """Insert (org_id None) or update an organization; check constraints raise (mapped to 422)."""
    params = [values[c] for c in ORG_COLUMNS]
    if org_id is None:
        return one(
            conn.execute(
                """insert into public.organizations (name, enterprise_number, contract_start, contract_end,
                   sla_plan_id, shared_tickets)
               values (%s, %s, %s, %s, %s, %s) returning id""",
                params,
            ).fetchone()
        )["id"]
    row = conn.execute(
        """update public.organizations as o
           set name = %s, enterprise_number = %s, contract_start = %s, contract_end = %s, sla_plan_id = %s,
               shared_tickets = %s
           where o.id = %s returning o.id""",
        [*params, org_id],
    ).fetchone()
    if row is None:
        raise LookupError("organization not found")
    return row["id"]


def members(conn: Connection[Any], org_id: uuid.UUID | None) -> list[dict[str, Any]]:
    """People of an organization, or NexK staff when org_id is None (erased people are not listed)."""
    return conn.execute(
        """select p.id, p.first_name, p.surname, p.email::text as email, p.role, p.deactivated_at,
                  p.restricted_at
           from public.profiles as p
           where p.erased_at is null
             and (p.organization_id = %s or (%s::uuid is null and p.organization_id is null))
           order by p.surname, p.first_name""",
        (org_id, org_id),
    ).fetchall()


def set_deactivated(conn: Connection[Any], person_id: uuid.UUID, deactivated: bool) -> bool:
    row = conn.execute(
        """update public.profiles as p
           set deactivated_at = case when %s then coalesce(p.deactivated_at, now()) end
           where p.id = %s returning p.id""",
        (deactivated, person_id),
    ).fetchone()
    return row is not None


def agents(conn: Connection[Any]) -> list[dict[str, Any]]:
    return conn.execute(
        """select p.id, p.first_name || ' ' || p.surname as name from public.profiles as p
           where p.role = 'agent' and p.erased_at is null and p.deactivated_at is null
           order by p.first_name, p.surname"""
    ).fetchall()


def assignments(conn: Connection[Any]) -> list[dict[str, Any]]:
    return conn.execute(
        """select a.agent_id, a.organization_id, p.first_name || ' ' || p.surname as agent_name,
                  o.name as organization_name
           from public.agent_assignments as a
           inner join public.profiles as p on a.agent_id = p.id
           inner join public.organizations as o on a.organization_id = o.id
           order by o.name, p.first_name, p.surname"""
    ).fetchall()


def assign(conn: Connection[Any], agent_id: uuid.UUID, org_id: uuid.UUID) -> None:
    conn.execute(
        """insert into public.agent_assignments (agent_id, organization_id) values (%s, %s)
           on conflict do nothing""",
        (agent_id, org_id),
    )


def unassign(conn: Connection[Any], agent_id: uuid.UUID, org_id: uuid.UUID) -> None:
    conn.execute(
        "delete from public.agent_assignments as a where a.agent_id = %s and a.organization_id = %s",
        (agent_id, org_id),
    )


def sla_plans(conn: Connection[Any]) -> list[dict[str, Any]]:
    plans = conn.execute(
        """select p.id, p.code, p.name, p.calendar_id, c.name as calendar_name
           from public.sla_plans as p inner join public.business_calendars as c on p.calendar_id = c.id
           order by p.name"""
    ).fetchall()
    policies = conn.execute(
        """select s.plan_id, s.priority, s.first_response_minutes, s.next_response_minutes, s.resolution_minutes
           from public.sla_policies as s"""
    ).fetchall()
    for plan in plans:
        plan["policies"] = {s["priority"]: s for s in policies if s["plan_id"] == plan["id"]}
    return plans


def save_policy(
    conn: Connection[Any],
    plan_id: uuid.UUID,
    priority: str,
    *,
    first_response: int,
    next_response: int,
    resolution: int,
) -> None:
    """Create or replace the plan's targets for one priority (business minutes)."""
    conn.execute(
        """insert into public.sla_policies
               (plan_id, priority, first_response_minutes, next_response_minutes, resolution_minutes)
           values (%s, %s, %s, %s, %s)
           on conflict on constraint sla_policies_unique_priority do update
           set first_response_minutes = excluded.first_response_minutes,
               next_response_minutes = excluded.next_response_minutes,
               resolution_minutes = excluded.resolution_minutes""",
        (plan_id, priority, first_response, next_response, resolution),
    )


def calendars(conn: Connection[Any]) -> list[dict[str, Any]]:
    cals = conn.execute(
        "select c.id, c.name, c.time_zone from public.business_calendars as c order by c.name"
    ).fetchall()
    hours = conn.execute(
        """select h.id, h.calendar_id, h.day_of_week, h.opens_at, h.closes_at from public.business_hours as h
           order by h.day_of_week, h.opens_at"""
    ).fetchall()
    days = conn.execute(
        "select d.id, d.calendar_id, d.day, d.name from public.holidays as d order by d.day"
    ).fetchall()
    for cal in cals:
        cal["hours"] = [h for h in hours if h["calendar_id"] == cal["id"]]
        cal["holidays"] = [d for d in days if d["calendar_id"] == cal["id"]]
    return cals


def add_hours(conn: Connection[Any], calendar_id: uuid.UUID, day: int, opens: time, closes: time) -> None:
    conn.execute(
        """insert into public.business_hours (calendar_id, day_of_week, opens_at, closes_at)
           values (%s, %s, %s, %s)""",
        (calendar_id, day, opens, closes),
    )


def delete_hours(conn: Connection[Any], hours_id: uuid.UUID) -> None:
    conn.execute("delete from public.business_hours as h where h.id = %s", (hours_id,))


def add_holiday(conn: Connection[Any], calendar_id: uuid.UUID, day: date, name: str) -> None:
    conn.execute(
        "insert into public.holidays (calendar_id, day, name) values (%s, %s, %s)", (calendar_id, day, name)
    )


def delete_holiday(conn: Connection[Any], holiday_id: uuid.UUID) -> None:
    conn.execute("delete from public.holidays as d where d.id = %s", (holiday_id,))
