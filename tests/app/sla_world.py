"""SLA set-up shared by the portal's SLA tests: round-the-clock hours and targets for the world's plan, and
tickets whose clock started in the past (written with the owner connection)."""

from __future__ import annotations

import uuid

from portal_testkit import World


def give_plan_targets(world: World) -> None:
    """Open 00:00-23:59 every day, so due times do not depend on the weekday the tests run on."""
    calendar = world.db.execute(
        "select calendar_id from public.sla_plans where id = %s", (world.plan_id,)
    ).fetchone()[0]
    for day in range(1, 8):
        world.db.execute(
            "insert into public.business_hours (calendar_id, day_of_week, opens_at, closes_at) values (%s, %s, '00:00', '23:59')",
            (calendar, day),
        )
    for priority, first, resolution in (
        ("low", 60, 2880),
        ("normal", 60, 1440),
        ("high", 60, 720),
        ("urgent", 30, 240),
    ):
        world.db.execute(
            """insert into public.sla_policies (plan_id, priority, first_response_minutes, resolution_minutes)
               values (%s, %s, %s, %s)""",
            (world.plan_id, priority, first, resolution),
        )


def age_ticket(world: World, ticket_id: uuid.UUID, hours: int) -> None:
    """Pretend the ticket was opened `hours` ago (its clock started then)."""
    world.db.execute(
        "update public.tickets set created_at = now() - make_interval(hours => %s) where id = %s",
        (hours, ticket_id),
    )
