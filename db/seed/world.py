"""Pure, deterministic generation of a synthetic world from (orgs, users per org, tickets, seed, epoch).

Nothing here reads the clock or the database: the same `WorldSpec` always yields byte-identical rows.
Rows are tuples in COPY text form (`str`, or `None` for NULL), in the column order of `COLUMNS`; free-text
columns (`TEXT_COLUMNS`) are raw text that the loader escapes.

Every synthetic row id is `5eedda7a-SSSS-4TTT-VSSS-NNNNNNNNNNNN`: a fixed marker, a seed-derived part, a
table code and the row's index. Formatting a counter is cheap (millions of ids), the ids sort in insertion
order (B-tree appends instead of random page splits), and the marker is how `--replace` finds
synthetic rows without a bookkeeping table.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import holidays
from faker import Faker

from db.seed.belgium import (
    FAKER_LOCALES,
    LANGUAGE_WEIGHTS,
    SYNTHETIC_PREFIXES,
    enterprise_number,
    phone_number,
)
from db.seed.texts import TextPools

# The instant "now" of a synthetic world. Fixed, so a seed means the same rows on any day; pass another
# epoch to WorldSpec for fresher dates.
DEFAULT_EPOCH = datetime(2026, 11, 23, tzinfo=UTC)

ID_MARKER = "5eedda7a"
ID_RANGE = (f"{ID_MARKER}-0000-0000-0000-000000000000", f"{ID_MARKER}-ffff-ffff-ffff-ffffffffffff")
_TABLE_CODES = {"organizations": 1, "users": 2, "agent_assignments": 3, "tickets": 4, "ticket_messages": 5}

# Reference data shared by synthetic and demo worlds: fixed ids, inserted only when missing.
_REFERENCE_NS = uuid.UUID("8a4f3c52-2f0e-4f4b-9d55-6a7f1f0b7c11")
CALENDAR_NAME = "Belgium (Brussels office hours)"
# code: (name, {priority: (first response, next response, resolution) in business minutes})
SLA_PLANS: dict[str, tuple[str, dict[str, tuple[int, int, int]]]] = {
    "basic": (
        "Basic",
        {
            "low": (960, 1920, 7200),
            "normal": (480, 960, 4800),
            "high": (240, 480, 1920),
            "urgent": (120, 240, 960),
        },
    ),
    "standard": (
        "Standard",
        {
            "low": (480, 960, 4800),
            "normal": (240, 480, 2400),
            "high": (120, 240, 960),
            "urgent": (60, 120, 480),
        },
    ),
    "premium": (
        "Premium",
        {"low": (240, 480, 2400), "normal": (120, 240, 960), "high": (60, 120, 480), "urgent": (30, 60, 240)},
    ),
}

COLUMNS: dict[str, tuple[str, ...]] = {
    "public.business_calendars": ("id", "name", "time_zone", "created_at"),
    "public.business_hours": ("id", "calendar_id", "day_of_week", "opens_at", "closes_at"),
    "public.holidays": ("id", "calendar_id", "day", "name"),
    "public.sla_plans": ("id", "code", "name", "calendar_id", "created_at"),
    "public.sla_policies": (
        "id",
        "plan_id",
        "priority",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
    ),
    "public.organizations": (
        "id",
        "name",
        "enterprise_number",
        "contract_start",
        "contract_end",
        "sla_plan_id",
        "shared_tickets",
        "created_at",
        "updated_at",
    ),
    "auth.users": (
        "id",
        "aud",
        "role",
        "email",
        "encrypted_password",
        "email_confirmed_at",
        "raw_app_meta_data",
        "raw_user_meta_data",
        "created_at",
        "updated_at",
        "last_sign_in_at",
    ),
    "public.profiles": (
        "id",
        "organization_id",
        "role",
        "first_name",
        "surname",
        "position",
        "email",
        "phone",
        "language",
        "deactivated_at",
        "created_at",
        "updated_at",
    ),
    "public.agent_assignments": ("id", "agent_id", "organization_id", "created_at"),
    "public.tickets": (
        "id",
        "organization_id",
        "requester_id",
        "assignee_id",
        "subject",
        "description",
        "status",
        "priority",
        "created_at",
        "updated_at",
        "first_response_at",
        "resolved_at",
        "archived_at",
    ),
    "public.ticket_messages": ("id", "ticket_id", "author_id", "body", "internal", "created_at"),
}
# Columns holding free text (escaped by the loader); everything else is COPY-safe by construction.
TEXT_COLUMNS: dict[str, frozenset[str]] = {
    "public.organizations": frozenset({"name"}),
    "public.profiles": frozenset({"first_name", "surname", "position"}),
    "auth.users": frozenset({"raw_user_meta_data"}),
    "public.tickets": frozenset({"subject", "description"}),
    "public.ticket_messages": frozenset({"body"}),
    "public.holidays": frozenset({"name"}),
}

STATUSES = ("new", "open", "pending", "resolved", "closed")
STATUS_WEIGHTS = (5, 12, 8, 25, 50)
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_WEIGHTS = (25, 50, 18, 7)
# Ticket age range (seconds before the epoch) per status: open work is recent, closed work spans years.
_DAY = 86_400
_AGE = {
    "new": (600, 3 * _DAY),
    "open": (3600, 60 * _DAY),
    "pending": (3600, 60 * _DAY),
    "resolved": (_DAY, 120 * _DAY),
    "closed": (7 * _DAY, 3 * 365 * _DAY),
}
INTERNAL_NOTE_RATE = 0.12
DEACTIVATED_MEMBER_RATE = 0.02
SHARED_ORG_RATE = 0.4

_COMPANY_FORMS = {
    "fr": ("SA", "SRL", "SC", "ASBL"),
    "nl": ("NV", "BV", "CV", "VZW"),
    "en": ("BV", "SRL", "NV"),
}
_SECTORS = {
    "fr": (
        "Boulangerie",
        "Transports",
        "Cabinet",
        "Imprimerie",
        "Garage",
        "Brasserie",
        "Menuiserie",
        "Pharmacie",
    ),
    "nl": (
        "Bakkerij",
        "Transport",
        "Advocatenkantoor",
        "Drukkerij",
        "Garage",
        "Brouwerij",
        "Schrijnwerkerij",
        "Apotheek",
    ),
    "en": ("Consulting", "Logistics", "Software", "Trading", "Engineering", "Design"),
}
_POSITIONS = {
    "fr": ("Comptable", "Directeur", "Assistante administrative", "Responsable RH", "Commercial", "Gérante"),
    "nl": ("Boekhouder", "Zaakvoerder", "Administratief medewerker", "HR-verantwoordelijke", "Verkoper"),
    "en": ("Accountant", "Managing director", "Office manager", "HR lead", "Sales representative"),
}


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(c if c.isalnum() else "-" for c in folded).strip("-").replace("--", "-") or "x"


class _Timestamps:
    """Seconds-before-epoch -> 'YYYY-MM-DD HH:MM:SS+00', cached per day (datetime formatting is slow)."""

    def __init__(self, epoch: datetime) -> None:
        self.epoch_seconds = int(epoch.timestamp())
        self._days: dict[int, str] = {}
        self._times = [
            f" {h:02d}:{m:02d}:{s:02d}+00" for h in range(24) for m in range(60) for s in range(60)
        ]

    def at(self, seconds_before_epoch: int) -> str:
        day, second = divmod(self.epoch_seconds - seconds_before_epoch, _DAY)
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
        return text + self._times[second]

    def day(self, seconds_before_epoch: int) -> str:
        return self.at(seconds_before_epoch)[:10]


@dataclass(frozen=True)
class WorldSpec:
    orgs: int
    users_per_org: int
    tickets: int
    seed: int
    messages_per_ticket: int = 3
    epoch: datetime = DEFAULT_EPOCH

    def problems(self) -> list[str]:
        """What is wrong with these arguments, in words for the person who typed them."""
        found = []
        for name in ("orgs", "users_per_org", "tickets", "messages_per_ticket"):
            if getattr(self, name) < 0:
                found.append(f"--{name.replace('_', '-')} must be 0 or more (got {getattr(self, name)})")
        if self.tickets > 0 and self.orgs == 0:
            found.append("--tickets needs organizations to file them in: give --orgs 1 or more")
        if self.tickets > 0 and self.users_per_org == 0:
            found.append("--tickets needs requesters: give --users-per-org 1 or more")
        if self.orgs > len(SYNTHETIC_PREFIXES):
            found.append(f"--orgs is at most {len(SYNTHETIC_PREFIXES)} (enterprise numbers run out)")
        if (
            self.orgs * self.users_per_org >= 16**12
            or self.tickets * max(self.messages_per_ticket, 1) >= 16**12
        ):
            found.append("that many rows do not fit the synthetic id scheme")
        if self.epoch.tzinfo is None:
            found.append("the epoch must be timezone-aware")
        return found

    @property
    def agents(self) -> int:
        """NexK agents: about one per 25 organizations, at least two (one serving, one unassigned when >= 3)."""
        return 0 if self.orgs == 0 else max(2, math.ceil(self.orgs / 25))

    @property
    def admins(self) -> int:
        return 0 if self.orgs == 0 else 2


@dataclass
class Person:
    id: str
    role: str
    organization: int | None  # index of the organization, clients only
    first_name: str
    surname: str
    language: str


@dataclass
class World:
    """The rows of a synthetic world. Small tables are built eagerly; tickets and messages stream."""

    spec: WorldSpec
    reference: dict[str, list[tuple]] = field(default_factory=dict)
    organizations: list[tuple] = field(default_factory=list)
    users: list[tuple] = field(default_factory=list)
    profiles: list[tuple] = field(default_factory=list)
    agent_assignments: list[tuple] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    org_agents: list[list[str]] = field(default_factory=list)
    admin_ids: list[str] = field(default_factory=list)
    org_languages: list[str] = field(default_factory=list)

    def small_tables(self) -> dict[str, list[tuple]]:
        """Every table but tickets and messages, in an order that satisfies the foreign keys."""
        return {
            **self.reference,
            "public.organizations": self.organizations,
            "auth.users": self.users,
            "public.profiles": self.profiles,
            "public.agent_assignments": self.agent_assignments,
        }

    def ticket_chunks(self, chunk_size: int = 10_000) -> Iterator[tuple[list[tuple], list[tuple]]]:
        """(tickets, their messages) in chunks; the rows do not depend on chunk_size."""
        return _ticket_chunks(self, chunk_size)


def id_prefix(seed: int, table: str) -> str:
    """The first 24 characters of every id of `table` in the world of `seed` (the row index follows)."""
    digest = hashlib.sha256(f"nexk-synthetic:{seed}".encode()).hexdigest()
    variant = "89ab"[int(digest[7], 16) & 3]
    return f"{ID_MARKER}-{digest[:4]}-4{_TABLE_CODES[table]:03x}-{variant}{digest[4:7]}-"


def reference_id(kind: str, key: str) -> str:
    return str(uuid.uuid5(_REFERENCE_NS, f"{kind}:{key}"))


def reference_rows(epoch: datetime) -> dict[str, list[tuple]]:
    """The Brussels business calendar (Mon-Fri 08:30-17:30, Belgian public holidays) and three SLA plans."""
    created = epoch.replace(year=epoch.year - 4).strftime("%Y-%m-%d %H:%M:%S+00")
    calendar = reference_id("calendar", CALENDAR_NAME)
    hours = [
        (reference_id("hours", f"{CALENDAR_NAME}:{day}"), calendar, str(day), "08:30", "17:30")
        for day in range(1, 6)
    ]
    years = range(epoch.year - 3, epoch.year + 2)
    days = sorted(holidays.country_holidays("BE", years=years, language="en_US").items())
    holiday_rows = [
        (reference_id("holiday", f"{CALENDAR_NAME}:{day}"), calendar, day.isoformat(), name[:100])
        for day, name in days
    ]
    plans, policies = [], []
    for code, (name, targets) in SLA_PLANS.items():
        plan = reference_id("plan", code)
        plans.append((plan, code, name, calendar, created))
        for priority, (first, next_response, resolution) in targets.items():
            policies.append(
                (
                    reference_id("policy", f"{code}:{priority}"),
                    plan,
                    priority,
                    str(first),
                    str(next_response),
                    str(resolution),
                )
            )
    return {
        "public.business_calendars": [(calendar, CALENDAR_NAME, "Europe/Brussels", created)],
        "public.business_hours": hours,
        "public.holidays": holiday_rows,
        "public.sla_plans": plans,
        "public.sla_policies": policies,
    }


def build_world(spec: WorldSpec) -> World:
    problems = spec.problems()
    if problems:
        raise ValueError("; ".join(problems))
    # Seeded synthetic data, not secrets: a reproducible PRNG is the point.
    rng = random.Random(f"world:{spec.seed}")  # noqa: S311
    fakers = {}
    for index, (language, locale) in enumerate(sorted(FAKER_LOCALES.items())):
        fakers[language] = Faker(locale)
        fakers[language].seed_instance(spec.seed * 7 + index)
    clock = _Timestamps(spec.epoch)
    world = World(spec=spec, reference=reference_rows(spec.epoch))
    plan_ids = [reference_id("plan", code) for code in SLA_PLANS]
    languages, weights = tuple(LANGUAGE_WEIGHTS), tuple(LANGUAGE_WEIGHTS.values())

    org_prefix = id_prefix(spec.seed, "organizations")
    numbers = rng.sample(SYNTHETIC_PREFIXES, spec.orgs)
    slugs: list[str] = []
    for o in range(spec.orgs):
        language = rng.choices(languages, weights)[0]
        fake = fakers[language]
        if rng.random() < 0.5:
            name = f"{fake.last_name()} {rng.choice(_COMPANY_FORMS[language])}"
        else:
            name = (
                f"{rng.choice(_SECTORS[language])} {fake.last_name()} {rng.choice(_COMPANY_FORMS[language])}"
            )
        start_age = rng.randrange(30 * _DAY, 8 * 365 * _DAY)
        # One organization in ten has a contract that ended (retention tests need them).
        end = clock.day(rng.randrange(_DAY, start_age // 2)) if rng.random() < 0.1 else None
        created = clock.at(start_age)
        world.organizations.append(
            (
                f"{org_prefix}{o:012x}",
                name[:200],
                enterprise_number(numbers[o]),
                created[:10],
                end,
                plan_ids[rng.randrange(len(plan_ids))],
                "t" if rng.random() < SHARED_ORG_RATE else "f",
                created,
                created,
            )
        )
        world.org_languages.append(language)
        slugs.append(f"{_ascii_slug(name)[:40]}-{o}")

    user_prefix = id_prefix(spec.seed, "users")
    staff_count = spec.agents + spec.admins
    for u in range(spec.orgs * spec.users_per_org + staff_count):
        client = u < spec.orgs * spec.users_per_org
        org = u // spec.users_per_org if client else None
        if org is not None:
            first_of_org = u % spec.users_per_org == 0
            # With one user per organization, every other organization has only a member (no admin).
            role = (
                "client_admin"
                if first_of_org and (spec.users_per_org > 1 or org % 2 == 0)
                else "client_member"
            )
            language = world.org_languages[org] if rng.random() < 0.85 else rng.choices(languages, weights)[0]
        else:
            role = "agent" if u - spec.orgs * spec.users_per_org < spec.agents else "admin"
            language = rng.choices(languages, weights)[0]
        fake = fakers[language]
        person = Person(
            f"{user_prefix}{u:012x}", role, org, fake.first_name()[:100], fake.last_name()[:100], language
        )
        domain = f"{slugs[org]}.example" if org is not None else "staff.nexk.example"
        email = f"{_ascii_slug(person.first_name)}.{_ascii_slug(person.surname)}.{u}@{domain}"
        created_age = rng.randrange(_DAY, 3 * 365 * _DAY)
        created = clock.at(created_age)
        last_sign_in = clock.at(rng.randrange(60, created_age))
        deactivated = (
            clock.at(rng.randrange(60, created_age))
            if role == "client_member" and rng.random() < DEACTIVATED_MEMBER_RATE
            else None
        )
        world.people.append(person)
        world.users.append(
            (
                person.id,
                "authenticated",
                "authenticated",
                email,
                # Synthetic users cannot sign in with a password; benchmarks act as them by id (JWT claims).
                None,
                created,
                '{"provider": "email", "providers": ["email"], "nexk_synthetic": true}',
                json.dumps({"full_name": f"{person.first_name} {person.surname}"}, ensure_ascii=False),
                created,
                created,
                last_sign_in,
            )
        )
        position = (
            rng.choice(_POSITIONS[language])
            if client
            else ("NexK agent" if role == "agent" else "NexK administrator")
        )
        world.profiles.append(
            (
                person.id,
                world.organizations[org][0] if org is not None else None,
                role,
                person.first_name,
                person.surname,
                position,
                email,
                phone_number(rng),
                language,
                deactivated,
                created,
                created,
            )
        )
        if role == "admin":
            world.admin_ids.append(person.id)

    # Agents 0..n-2 serve organizations (one or two each); the last agent serves none when there are 3+.
    agents = [p.id for p in world.people if p.role == "agent"]
    serving = agents[:-1] if len(agents) >= 3 else agents
    assignment_prefix = id_prefix(spec.seed, "agent_assignments")
    for o in range(spec.orgs):
        chosen = [serving[o % len(serving)]]
        if o % 2 == 0 and len(serving) > 1:
            chosen.append(serving[(o + 1 + len(serving) // 2) % len(serving)])
        chosen = list(dict.fromkeys(chosen))
        world.org_agents.append(chosen)
        for agent in chosen:
            index = len(world.agent_assignments)
            world.agent_assignments.append(
                (
                    f"{assignment_prefix}{index:012x}",
                    agent,
                    world.organizations[o][0],
                    world.organizations[o][7],
                )
            )
    return world


def _ticket_chunks(world: World, chunk_size: int) -> Iterator[tuple[list[tuple], list[tuple]]]:
    spec = world.spec
    if spec.tickets == 0:
        return
    # Seeded synthetic data, not secrets: a reproducible PRNG is the point.
    rng = random.Random(f"tickets:{spec.seed}")  # noqa: S311
    random_ = rng.random
    randrange = rng.randrange
    pools = TextPools(spec.seed)
    clock = _Timestamps(spec.epoch)
    at = clock.at
    ticket_prefix = id_prefix(spec.seed, "tickets")
    message_prefix = id_prefix(spec.seed, "ticket_messages")
    orgs, per_org, per_ticket = spec.orgs, spec.users_per_org, spec.messages_per_ticket
    org_ids = [row[0] for row in world.organizations]
    people = world.people
    admins = world.admin_ids
    org_agents = world.org_agents
    # Pre-drawn status/priority tables make the per-ticket draw one randrange each.
    status_table = [s for s, w in zip(STATUSES, STATUS_WEIGHTS, strict=True) for _ in range(w)]
    priority_table = [p for p, w in zip(PRIORITIES, PRIORITY_WEIGHTS, strict=True) for _ in range(w)]
    pool_of = pools.by_language
    n_pool = len(pool_of["en"].subjects)

    tickets: list[tuple] = []
    messages: list[tuple] = []
    message_index = 0
    for t in range(spec.tickets):
        # Bigger organizations file more tickets: a skewed (not uniform) pick.
        org = int(orgs * random_() ** 1.6)
        requester = people[org * per_org + randrange(per_org)]
        pools_ = pool_of[requester.language]
        status = status_table[randrange(100)]
        priority = priority_table[randrange(100)]
        if status == "new":
            assignee = None
        else:
            agents = org_agents[org]
            assignee = agents[randrange(len(agents))] if random_() < 0.9 else admins[randrange(len(admins))]
        ticket_id = f"{ticket_prefix}{t:012x}"
        low, high = _AGE[status]
        age = randrange(low, high)
        # Messages fall in the first 80% of the ticket's life, at increasing offsets.
        span = min(age * 4 // 5, per_ticket * 2 * _DAY + _DAY)
        first_response = None
        last = age
        staff = assignee or org_agents[org][0]
        for m in range(per_ticket):
            offset = age - int(span * (m + random_())) // per_ticket
            when = at(offset)
            if status == "new" or m % 2 == 1:
                author, internal = requester.id, "f"
                body = pools_.client_replies[randrange(n_pool)]
                name = requester.first_name
            elif random_() < INTERNAL_NOTE_RATE:
                author, internal = staff, "t"
                body = pools_.internal_notes[randrange(len(pools_.internal_notes))]
                name = None
            else:
                author, internal = staff, "f"
                body = pools_.staff_replies[randrange(n_pool)]
                name = "NexK Support"
                if first_response is None:
                    first_response = when
            if name is not None:
                greeting = pools_.greetings[randrange(3)]
                body = f"{greeting}\n\n{body}\n\n{pools_.signoffs[randrange(3)]}\n{name}"
                if "{name}" in greeting:
                    body = body.replace("{name}", requester.first_name if author != requester.id else "NexK")
            messages.append(
                (f"{message_prefix}{message_index:012x}", ticket_id, author, body, internal, when)
            )
            message_index += 1
            last = offset
        resolved: str | None
        archived: str | None
        if status in ("resolved", "closed"):
            resolved_offset = max(last - randrange(60, 6 * 3600), 1)
            resolved = updated = at(resolved_offset)
            archived = at(resolved_offset // 2) if status == "closed" and age > 2 * 365 * _DAY else None
        else:
            resolved = archived = None
            updated = at(last)
        k = randrange(n_pool)
        tickets.append(
            (
                ticket_id,
                org_ids[org],
                requester.id,
                assignee,
                pools_.subjects[k],
                pools_.descriptions[k],
                status,
                priority,
                at(age),
                updated,
                first_response,
                resolved,
                archived,
            )
        )
        if len(tickets) >= chunk_size:
            yield tickets, messages
            tickets, messages = [], []
    if tickets:
        yield tickets, messages
