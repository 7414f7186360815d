"""SLA set-up shared by the portal's SLA tests: round-the-clock hours and targets for the world's plan, and
tickets whose clock started in the past (written with the owner connection)."""

from __future__ import annotations

import uuid

from portal_testkit import World

from db import testing_world as make

# priority: (first response, next response, resolution) in business minutes. Next response differs from first
# response everywhere, so a page that used the wrong target would show the wrong due time.
PLAN_TARGETS = {
    "low": (60, 120, 2880),
    "normal": (60, 90, 1440),
    "high": (60, 45, 720),
    "urgent": (30, 20, 240),
}


def give_plan_targets(world: World) -> None:
    """Open 00:00-23:59 every day, so due times do not depend on the weekday the tests run on."""
    calendar = world.db.execute(
        "select calendar_id from public.sla_plans where id = %s", (world.plan_id,)
    ).fetchone()[0]
    for day in range(1, 8):
        make.business_hours(world.db, calendar, day, "00:00", "23:59")
    for priority, targets in PLAN_TARGETS.items():
        make.sla_policy(world.db, world.plan_id, priority, *targets)


def age_ticket(world: World, ticket_id: uuid.UUID, hours: int) -> None:
    """Pretend the ticket was opened `hours` ago (its clock started then)."""
    world.db.execute(
        "update public.tickets set created_at = now() - make_interval(hours => %s) where id = %s",
        (hours, ticket_id),
    )
