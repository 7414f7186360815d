"""The access specification (db/policies/README.md) as pure Python: who may read and write which rows.

No database here. Given a `World` (what the owner sees) and an `Identity` (a JWT), the functions answer
what the Data API must return: `visible()` for SELECT, `may_insert()` / `may_update()` / `may_delete()` for
writes. The isolation suite (db/rls/probe.py) asks the database the same questions and compares; the model
is the oracle, so it follows the README, not the policy files. Comments cite the README row they encode
("§3 tickets SELECT" = section 3, table `tickets`, command SELECT).

Where the README is ambiguous the stricter reading is taken and said so ("stricter reading").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CLIENT_ROLES = frozenset({"client_member", "client_admin"})
STAFF_ROLES = frozenset({"agent", "admin"})
APP_ROLES = CLIENT_ROLES | STAFF_ROLES
TICKET_STATUSES = ("new", "open", "pending", "resolved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
SLA_TABLES = (
    "public.business_calendars",
    "public.business_hours",
    "public.holidays",
    "public.sla_plans",
    "public.sla_policies",
)
# Every relation an API caller can name (README §3 plus storage). The probe refuses to pass when the catalog
# holds a table or view in an exposed schema that is not listed here: a new table must be modelled first.
TABLES = (
    "public.organizations",
    "public.profiles",
    "public.agent_assignments",
    "public.tickets",
    "public.ticket_messages",
    "public.attachments",
    "public.audit_log",
    "public.dsr_requests",
    *SLA_TABLES,
    "storage.objects",
    "storage.buckets",
)
# Relations of `private` the Data API does not expose but the portal reaches with SQL in the caller's RLS
# transaction (README §3). Modelled like the rest; the isolation suite does not probe them (it asks through
# the exposed schemas), the attack catalogue (db/rls/killers.py) does.
PORTAL_TABLES = ("private.invitations",)
MODELLED_TABLES = (*TABLES, *PORTAL_TABLES)
ATTACHMENTS_BUCKET = "attachments"


class UnmodelledTable(KeyError):
    """A question about a relation the model has no rule for. A KeyError, so callers that list the unmodelled
    relations of a catalog (db/rls/probe.py) keep working."""

    def __init__(self, table: str) -> None:
        super().__init__(table)
        self.table = table

    def __str__(self) -> str:
        return (
            f"db/rls/model.py has no rule for {self.table}: teach model.py the table's README §3/§4 rows "
            "(visible(), may_insert(), may_update(), may_delete(), the column grants) before testing it"
        )


# --- The world -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Org:
    id: uuid.UUID
    label: str
    shared_tickets: bool


@dataclass(frozen=True)
class User:
    """An auth.users row, with its profile when `role` is set (no role: an account without a profile)."""

    id: uuid.UUID
    label: str
    role: str | None
    org: uuid.UUID | None
    aal: str | None  # the `aal` claim of the user's token; None = claim absent (README §1: that is aal1)
    email: str
    deactivated: bool = False
    erased: bool = False
    anonymous: bool = False  # an anonymous sign-in (role authenticated, is_anonymous true, no profile)
    # An "Erased person" placeholder (db/functions/erasure.sql): its auth user is marked
    # raw_app_meta_data.nexk_placeholder; the profile is erased and deactivated. README §8b.
    placeholder: bool = False

    @property
    def has_profile(self) -> bool:
        return self.role is not None


@dataclass(frozen=True)
class Assignment:
    id: uuid.UUID
    label: str
    agent: uuid.UUID
    org: uuid.UUID


@dataclass(frozen=True)
class Ticket:
    id: uuid.UUID
    label: str
    org: uuid.UUID
    requester: uuid.UUID
    assignee: uuid.UUID | None
    status: str
    priority: str


@dataclass(frozen=True)
class Message:
    id: uuid.UUID
    label: str
    ticket: uuid.UUID
    author: uuid.UUID
    internal: bool


@dataclass(frozen=True)
class Attachment:
    id: uuid.UUID
    label: str
    ticket: uuid.UUID
    org: uuid.UUID
    message: uuid.UUID | None
    uploaded_by: uuid.UUID
    internal: bool
    has_object: bool  # whether the file was uploaded (a storage.objects row at storage_path exists)

    @property
    def storage_path(self) -> str:
        return f"{self.org}/{self.ticket}/{self.id}"


@dataclass(frozen=True)
class StoredObject:
    id: uuid.UUID
    label: str
    bucket: str
    name: str


@dataclass(frozen=True)
class AuditRow:
    id: uuid.UUID
    label: str
    actor: uuid.UUID | None


@dataclass(frozen=True)
class DsrRequest:
    id: uuid.UUID
    label: str
    subject: uuid.UUID | None
    handled_by: uuid.UUID | None


@dataclass(frozen=True)
class Invitation:
    """A pending row of private.invitations (README §3, §9)."""

    id: uuid.UUID
    label: str
    org: uuid.UUID | None
    role: str
    email: str


@dataclass(frozen=True)
class QueuedDeletion:
    """A row of private.storage_deletions: a storage object the storage sweeper is to delete (db/schema/0270)."""

    label: str
    bucket: str
    name: str


@dataclass(frozen=True)
class RefRow:
    """A row of the SLA reference tables (calendars, hours, holidays, plans, policies)."""

    id: uuid.UUID
    label: str
    table: str
    values: Mapping[str, Any]


@dataclass
class World:
    orgs: list[Org] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    objects: list[StoredObject] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)
    dsrs: list[DsrRequest] = field(default_factory=list)
    reference: list[RefRow] = field(default_factory=list)
    invitations: list[Invitation] = field(default_factory=list)
    storage_deletions: list[QueuedDeletion] = field(default_factory=list)
    buckets: tuple[str, ...] = (ATTACHMENTS_BUCKET,)
    # Distinguishes copies of one world loaded side by side in concurrent transactions (ids, unique values).
    salt: int = 0

    # Lookups (small worlds: linear scans keep the dataclasses plain).
    def user(self, user_id: uuid.UUID | None) -> User | None:
        return next((u for u in self.users if u.id == user_id), None)

    def org(self, org_id: uuid.UUID | None) -> Org | None:
        return next((o for o in self.orgs if o.id == org_id), None)

    def ticket(self, ticket_id: uuid.UUID | None) -> Ticket | None:
        return next((t for t in self.tickets if t.id == ticket_id), None)

    def attachment_by_path(self, path: str) -> Attachment | None:
        return next((a for a in self.attachments if a.storage_path == path), None)

    def rows(self, table: str) -> list[uuid.UUID]:
        """The ids of every row of `table`: the rows a write without WHERE reaches."""
        groups: dict[str, list[Any]] = {
            "public.organizations": self.orgs,
            "public.profiles": [u for u in self.users if u.has_profile],
            "public.agent_assignments": self.assignments,
            "public.tickets": self.tickets,
            "public.ticket_messages": self.messages,
            "public.attachments": self.attachments,
            "storage.objects": self.objects,
            "public.audit_log": self.audit,
            "public.dsr_requests": self.dsrs,
            "private.invitations": self.invitations,
        }
        if table in SLA_TABLES:
            return [r.id for r in self.reference if r.table == table]
        if table not in groups:
            raise UnmodelledTable(table)
        return [item.id for item in groups[table]]

    def labels(self) -> dict[str, str]:
        """uuid (as text) -> short label, for readable violation messages."""
        out: dict[str, str] = {}
        for group in (
            self.orgs,
            self.users,
            self.assignments,
            self.tickets,
            self.messages,
            self.attachments,
            self.objects,
            self.audit,
            self.dsrs,
            self.reference,
            self.invitations,
        ):
            for item in group:
                out[str(item.id)] = item.label
        for bucket in self.buckets:
            out[bucket] = f"bucket:{bucket}"
        return out


# --- Identities ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """A caller as PostgREST sees it: no token (anon) or a JWT for `user` with its `aal` claim."""

    user: User | None

    @property
    def is_anon(self) -> bool:
        return self.user is None

    def claims(self) -> dict[str, object] | None:
        if self.user is None:
            return None
        claims: dict[str, object] = {
            "sub": str(self.user.id),
            "role": "authenticated",
            "email": self.user.email,
            "session_id": str(uuid.uuid5(self.user.id, "session")),
            "is_anonymous": self.user.anonymous,
        }
        if self.user.aal is not None:
            claims["aal"] = self.user.aal
        return claims

    def describe(self, world: World) -> str:
        """`client_member u3 (org B, aal1)`; `anon`; `stranger u9 (no profile)`."""
        if self.user is None:
            return "anon"
        u = self.user
        if not u.has_profile:
            return f"stranger {u.label} ({'anonymous sign-in' if u.anonymous else 'no profile'})"
        org = world.org(u.org)
        state = ", deactivated" if u.deactivated else ", erased" if u.erased else ""
        where = f"org {org.label}, " if org else ""
        return f"{u.role} {u.label} ({where}{u.aal or 'no aal'}{state})"


@dataclass(frozen=True)
class Caller:
    """What the spec recognises (README §1): an effective role, or None for anybody who gets nothing."""

    role: str | None
    me: uuid.UUID | None
    org: uuid.UUID | None


def caller(world: World, ident: Identity) -> Caller:
    """README §1. anon, strangers (no/inactive profile, anonymous sign-in) and staff below aal2 are nobody."""
    u = ident.user
    if u is None:
        return Caller(None, None, None)
    if not u.has_profile or u.deactivated or u.erased or u.anonymous:
        return Caller(None, u.id, None)
    if u.role in STAFF_ROLES and u.aal != "aal2":
        # §1 "staff at aal1 ... behaves exactly as a stranger" (no aal claim counts as aal1).
        return Caller(None, u.id, None)
    return Caller(u.role, u.id, u.org if u.role in CLIENT_ROLES else None)


def assigned_orgs(world: World, c: Caller) -> set[uuid.UUID]:
    """§2 assigned(me): organizations in agent_assignments with agent_id = me (agents only)."""
    if c.role != "agent":
        return set()
    return {a.org for a in world.assignments if a.agent == c.me}


def ticket_visible(world: World, c: Caller, t: Ticket) -> bool:
    """§2 "visible ticket"."""
    if c.role == "client_member":
        org = world.org(c.org)
        return t.org == c.org and (t.requester == c.me or bool(org and org.shared_tickets))
    if c.role == "client_admin":
        return t.org == c.org
    if c.role == "agent":
        return t.org in assigned_orgs(world, c)
    return c.role == "admin"


def transition_allowed_for_client(old: str, new: str) -> bool:
    """§4 tickets: clients only new/open/pending -> resolved, or resolved -> open (unchanged is no change)."""
    return (
        old == new
        or (old in ("new", "open", "pending") and new == "resolved")
        or (old, new) == ("resolved", "open")
    )


# --- SELECT --------------------------------------------------------------------------------------------


def visible(world: World, ident: Identity, table: str) -> set[str]:
    """The ids (as text) `ident` must see in `table` (README §3, SELECT rows). Unknown table: UnmodelledTable."""
    c = caller(world, ident)
    if c.role is None:
        # §2 "anon and strangers are denied everything on every table"; §1 staff at aal1 likewise.
        if table not in MODELLED_TABLES:
            raise UnmodelledTable(table)
        return set()
    admin = c.role == "admin"
    ids: set[uuid.UUID] | set[str]
    match table:
        case "public.organizations":
            # §3 organizations SELECT: id = org(me) | id ∈ assigned(me) | all.
            ids = {o.id for o in world.orgs if admin or o.id == c.org or o.id in assigned_orgs(world, c)}
        case "public.profiles":
            # §3 profiles SELECT: own row; client admins their organization; agents staff + assigned orgs; admin
            # all. A client member reads no colleague (names only through private.display_names, §6).
            ids = {u.id for u in world.users if u.has_profile and profile_visible(world, c, u)}
        case "public.agent_assignments":
            # §3 agent_assignments SELECT: agents rows with agent_id = me; admin all.
            ids = {a.id for a in world.assignments if admin or (c.role == "agent" and a.agent == c.me)}
        case "public.tickets":
            ids = {t.id for t in world.tickets if ticket_visible(world, c, t)}
        case "public.ticket_messages":
            # §3 ticket_messages SELECT: ticket visible, internal notes only for staff.
            ids = {m.id for m in world.messages if _content_visible(world, c, m.ticket, m.internal)}
        case "public.attachments":
            ids = {a.id for a in world.attachments if _content_visible(world, c, a.ticket, a.internal)}
        case "storage.objects":
            # §3 storage.objects SELECT: bucket 'attachments' and name = storage_path of a visible attachment.
            paths = {
                a.storage_path for a in world.attachments if _content_visible(world, c, a.ticket, a.internal)
            }
            ids = {o.id for o in world.objects if o.bucket == ATTACHMENTS_BUCKET and o.name in paths}
        case "storage.buckets":
            ids = set()  # "storage.buckets: no policies (nothing)"
        case "public.audit_log":
            ids = {a.id for a in world.audit if admin or a.actor == c.me}
        case "public.dsr_requests":
            ids = {d.id for d in world.dsrs if admin or d.subject == c.me}
        case sla if sla in SLA_TABLES:
            ids = {r.id for r in world.reference if r.table == table}  # §3 SLA tables SELECT: all
        case "private.invitations":
            # §3 private.invitations SELECT: client admins the rows with organization_id = org(me); admin all.
            ids = {i.id for i in world.invitations if admin or (c.role == "client_admin" and i.org == c.org)}
        case _:
            raise UnmodelledTable(table)
    return {str(i) for i in ids}


def storage_sweeper_objects(world: World) -> set[str]:
    """db/policies/storage_objects.sql: the ids (as text) of the storage objects the storage sweeper (a system
    account, app_metadata.nexk_system = 'storage_sweeper') reads and deletes: exactly those queued in
    private.storage_deletions. Every other caller deletes no object (may_delete)."""
    queued = {(q.bucket, q.name) for q in world.storage_deletions}
    return {str(o.id) for o in world.objects if (o.bucket, o.name) in queued}


def display_names(world: World, ident: Identity, ids: Iterable[uuid.UUID]) -> set[str] | None:
    """README §6 `private.display_names(ids)`: the ids (as text) among `ids` whose display name the function
    answers `ident`; None for anon, who may not call it at all (42501)."""
    if ident.is_anon:
        return None
    c = caller(world, ident)
    wanted = set(ids)
    return {str(u.id) for u in world.users if u.id in wanted and display_name_visible(world, c, u)}


def profile_visible(world: World, c: Caller, u: User) -> bool:
    """§3 profiles SELECT: whether caller `c` reads the whole profile row of `u`."""
    if c.role == "admin":
        return True
    if u.id == c.me:
        return True
    if c.role == "client_admin":
        return u.org == c.org
    if c.role == "agent":
        return u.role in STAFF_ROLES or (u.org is not None and u.org in assigned_orgs(world, c))
    return False  # a client member: own row only (GDPR data minimisation)


def display_name_visible(world: World, c: Caller, u: User) -> bool:
    """§6 private.display_names: whether caller `c` learns the display name of `u` (a profile): the rows §3
    profiles SELECT shows, plus, for a client member, the profiles of their organization (the rule before
    data minimisation), plus, for any client, the staff who worked on a ticket the client sees (its assignee
    or the author of one of its public messages; first name only, `display_name`). Nobody (anon, strangers,
    staff below aal2) learns any name."""
    if c.role is None or not u.has_profile:
        return False
    if c.role in CLIENT_ROLES and u.role in STAFF_ROLES:
        return staff_worked_for(world, c, u)
    if c.role == "client_member":
        return u.id == c.me or u.org == c.org
    return profile_visible(world, c, u)


def staff_worked_for(world: World, c: Caller, u: User) -> bool:
    """§6: staff member `u` is the assignee of, or wrote a public message on, a ticket client `c` sees."""
    seen = {t.id for t in world.tickets if ticket_visible(world, c, t)}
    return any(t.id in seen and t.assignee == u.id for t in world.tickets) or any(
        m.ticket in seen and m.author == u.id and not m.internal for m in world.messages
    )


def display_name(world: World, c: Caller, u: User, first_name: str, surname: str) -> str:
    """§6: the text private.display_names answers for a nameable `u` (whose profile holds these names):
    the first name alone when a client names staff, else `first_name surname`."""
    if c.role in CLIENT_ROLES and u.role in STAFF_ROLES:
        return first_name
    return f"{first_name} {surname}"


def _content_visible(world: World, c: Caller, ticket_id: uuid.UUID, internal: bool) -> bool:
    t = world.ticket(ticket_id)
    if t is None or not ticket_visible(world, c, t):
        return False
    return not internal or c.role in STAFF_ROLES


# --- Writes --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The spec's answer to one write: allowed (and then `rows` rows change, or a data rule fails with one
    of `errors`), or denied (README §2 "—": 42501 or zero rows, and nothing changes)."""

    allowed: bool
    rows: int = 1
    errors: frozenset[str] = frozenset()
    why: str = ""

    @classmethod
    def deny(cls, why: str) -> Verdict:
        return cls(False, 0, frozenset(), why)

    @classmethod
    def ok(cls, rows: int = 1, why: str = "") -> Verdict:
        return cls(True, rows, frozenset(), why)

    @classmethod
    def fails(cls, *errors: str, why: str) -> Verdict:
        """Allowed by the access rules, refused by a data rule (FK, check, invariant trigger)."""
        return cls(True, 0, frozenset(errors), why)


# §4 column grants: what an API caller may name in INSERT / UPDATE at all.
INSERT_COLUMNS: dict[str, frozenset[str]] = {
    "public.organizations": frozenset(
        {"name", "enterprise_number", "contract_start", "contract_end", "sla_plan_id", "shared_tickets"}
    ),
    # §4 profiles INSERT: no column for anybody; profiles come only from invitation acceptance (§9).
    "public.profiles": frozenset(),
    "public.agent_assignments": frozenset({"agent_id", "organization_id"}),
    "public.tickets": frozenset(
        {
            "organization_id",
            "requester_id",
            "assignee_id",
            "subject",
            "description",
            "status",
            "priority",
            "follow_up_of",
        }
    ),
    "public.ticket_messages": frozenset({"ticket_id", "author_id", "body", "internal"}),
    "public.attachments": frozenset(
        {
            "ticket_id",
            "organization_id",
            "message_id",
            "uploaded_by",
            "internal",
            "file_name",
            "content_type",
            "size_bytes",
            "sha256",
        }
    ),
    "public.business_calendars": frozenset({"name", "time_zone"}),
    "public.business_hours": frozenset({"calendar_id", "day_of_week", "opens_at", "closes_at"}),
    "public.holidays": frozenset({"calendar_id", "day", "name"}),
    "public.sla_plans": frozenset({"code", "name", "calendar_id"}),
    "public.sla_policies": frozenset(
        {"plan_id", "priority", "first_response_minutes", "next_response_minutes", "resolution_minutes"}
    ),
    "public.audit_log": frozenset(),
    "private.invitations": frozenset(
        {"email", "organization_id", "role", "first_name", "surname", "nonce_hash"}
    ),
    "public.dsr_requests": frozenset(
        {
            "subject_id",
            "subject_email",
            "type",
            "status",
            "received_at",
            "due_at",
            "completed_at",
            "handled_by",
            "notes",
        }
    ),
}
UPDATE_COLUMNS: dict[str, frozenset[str]] = {
    **{t: INSERT_COLUMNS[t] for t in ("public.organizations", "public.dsr_requests", *SLA_TABLES)},
    "public.profiles": frozenset(
        {
            "first_name",
            "surname",
            "position",
            "email",
            "phone",
            "organization_id",
            "role",
            "language",
            "theme",
            "notify_ticket_replies",
            "notify_status_changes",
            "notify_sla_alerts",
            "restricted_at",
            "deactivated_at",
        }
    ),
    "public.agent_assignments": frozenset(),
    "public.tickets": frozenset({"assignee_id", "status", "priority"}),
    "public.ticket_messages": frozenset(),
    "public.attachments": frozenset(),
    "public.audit_log": frozenset(),
    "private.invitations": frozenset(),  # never edited: cancelled and sent again
}
# §4 SELECT: every column is readable (the row rules decide) except these, written and never read back.
UNREADABLE_COLUMNS: dict[str, frozenset[str]] = {
    "private.invitations": frozenset({"nonce_hash", "accepted_by"})
}
OWN_PROFILE_COLUMNS = frozenset(
    {
        "first_name",
        "surname",
        "position",
        "phone",
        "language",
        "theme",
        "notify_ticket_replies",
        "notify_status_changes",
        "notify_sla_alerts",
    }
)
COLLEAGUE_PROFILE_COLUMNS = frozenset(
    {"first_name", "surname", "position", "phone", "role", "deactivated_at"}
)


def may_insert(world: World, ident: Identity, table: str, row: Mapping[str, Any]) -> Verdict:
    """README §3 INSERT rows and §4 INSERT columns for one proposed row (columns as given to INSERT)."""
    _modelled(table)
    c = caller(world, ident)
    if c.role is None:
        return Verdict.deny("anon, strangers and staff below aal2 write nothing (§1, §2)")
    if table != "storage.objects" and not set(row) <= INSERT_COLUMNS.get(table, frozenset()):
        return Verdict.deny(f"§4: {sorted(set(row) - INSERT_COLUMNS.get(table, frozenset()))} not insertable")
    admin = c.role == "admin"
    match table:
        case "public.organizations" | "public.dsr_requests" | "public.agent_assignments":
            if not admin:
                return Verdict.deny(f"§3 {table} INSERT: admin only")
            if table == "public.agent_assignments":
                agent = world.user(row["agent_id"])
                if agent is None or agent.role != "agent":
                    return Verdict.fails(
                        "23514", why="§3 agent_assignments: agent_id must be an agent (trigger)"
                    )
            return Verdict.ok()
        case sla if sla in SLA_TABLES:
            return Verdict.ok() if admin else Verdict.deny("§3 SLA tables INSERT: admin only")
        case "public.profiles":
            # §3 profiles INSERT: nobody, admins included (no privilege, §4): a profile is created only when an
            # invited person accepts (§9), never by binding an existing auth user directly.
            return Verdict.deny(
                "§3 profiles INSERT: nobody; only invitation acceptance creates a profile (§9)"
            )
        case "public.tickets":
            t: Ticket | None = _ticket_from_row(row)
            assert t is not None
            if c.role == "agent":
                return _may_open_on_behalf(world, c, t)
            if not admin and not (
                c.role in CLIENT_ROLES
                and t.org == c.org
                and t.requester == c.me
                and t.status == "new"
                and t.assignee is None
            ):
                return Verdict.deny("§3 tickets INSERT: clients in org(me), as themselves, new, unassigned")
            return _ticket_people_check(world, t) or Verdict.ok()
        case "public.ticket_messages" | "public.attachments":
            author_col = "author_id" if table == "public.ticket_messages" else "uploaded_by"
            t = world.ticket(row["ticket_id"])
            internal = bool(row.get("internal", False))
            if row.get(author_col) != c.me:
                return Verdict.deny(f"§3 {table} INSERT: {author_col} = me")
            if t is None or not (admin or ticket_visible(world, c, t)):
                return Verdict.deny(f"§3 {table} INSERT: ticket visible (admin: any ticket)")
            if internal and c.role not in STAFF_ROLES:
                return Verdict.deny(f"§3 {table} INSERT: internal = false for clients")
            if (
                table == "public.ticket_messages"
                and not internal
                and c.role in CLIENT_ROLES
                and t.status == "closed"
            ):
                return Verdict.fails(
                    "55000", why="§4 ticket_messages: clients open a follow-up, not write on a closed ticket"
                )
            if table == "public.attachments" and row.get("organization_id") != t.org:
                return Verdict.fails("23503", why="§4 attachments: organization_id must be the ticket's (FK)")
            return Verdict.ok()
        case "storage.objects":
            # §3 storage.objects INSERT: bucket 'attachments', name = storage_path of an attachment the caller
            # can SELECT and uploaded itself.
            a = world.attachment_by_path(row["name"])
            if row["bucket_id"] != ATTACHMENTS_BUCKET or a is None:
                return Verdict.deny("§3 storage.objects INSERT: only at an attachment's storage_path")
            if a.uploaded_by != c.me or not _content_visible(world, c, a.ticket, a.internal):
                return Verdict.deny("§3 storage.objects INSERT: attachment visible and uploaded_by = me")
            if a.has_object:
                return Verdict.fails("23505", why="the object already exists (unique bucket_id, name)")
            return Verdict.ok()
        case "public.audit_log":
            return Verdict.deny("§3 audit_log INSERT: nobody")
        case "private.invitations":
            if not admin and not (
                c.role == "client_admin"
                and row.get("organization_id") == c.org
                and row.get("role") in CLIENT_ROLES
            ):
                return Verdict.deny(
                    "§3 private.invitations INSERT: client_admin into org(me) with a client role, or admin"
                )
            email = str(row.get("email", "")).strip().lower()
            if any(u.email.lower() == email for u in world.users) or any(
                i.email.lower() == email for i in world.invitations
            ):
                return Verdict.fails(
                    "23505", why="§4 private.invitations: the address has an account or an invitation"
                )
            return Verdict.ok()
    raise UnmodelledTable(table)


def _may_open_on_behalf(world: World, c: Caller, t: Ticket) -> Verdict:
    """§3 tickets INSERT, agent: a ticket opened on a client's behalf (a phone call), in an organization
    assigned to the agent, for an active (not deactivated) profile of that organization, new, and unassigned
    or assigned to the agent. The policy decides all of it (42501); the people trigger then finds nothing
    more to refuse, except an assignment to an agent no longer assigned (impossible for `me`)."""
    requester = world.user(t.requester)
    if not (
        t.org in assigned_orgs(world, c)
        and requester is not None
        and requester.has_profile
        and requester.org == t.org
        and not requester.deactivated
        and t.status == "new"
        and t.assignee in (None, c.me)
    ):
        return Verdict.deny(
            "§3 tickets INSERT, agent: assigned org, an active requester of it, new, unassigned or self"
        )
    return _ticket_people_check(world, t) or Verdict.ok()


def may_update(
    world: World, ident: Identity, table: str, target: uuid.UUID, changes: Mapping[str, Any]
) -> Verdict:
    """README §3 UPDATE rows, §4 UPDATE columns and guard-trigger rules, for `changes` on row `target`."""
    _modelled(table)
    c = caller(world, ident)
    if c.role is None:
        return Verdict.deny("anon, strangers and staff below aal2 write nothing (§1, §2)")
    if table != "storage.objects" and not set(changes) <= UPDATE_COLUMNS.get(table, frozenset()):
        return Verdict.deny(
            f"§4: {sorted(set(changes) - UPDATE_COLUMNS.get(table, frozenset()))} not updatable"
        )
    admin = c.role == "admin"
    match table:
        case "public.organizations" | "public.dsr_requests":
            return Verdict.ok() if admin else Verdict.deny(f"§3 {table} UPDATE: admin only")
        case sla if sla in SLA_TABLES:
            return Verdict.ok() if admin else Verdict.deny("§3 SLA tables UPDATE: admin only")
        case "public.profiles":
            return _may_update_profile(world, c, target, changes)
        case "public.tickets":
            t = world.ticket(target)
            assert t is not None, target
            if not ticket_visible(world, c, t):
                return Verdict.deny("§3 tickets UPDATE: visible tickets only")
            if c.role in CLIENT_ROLES:
                if set(changes) - {"status"}:
                    return Verdict.deny("§4 tickets: clients change only status")
                if not transition_allowed_for_client(t.status, changes.get("status", t.status)):
                    return Verdict.deny("§4 tickets: clients only resolve or reopen")
                return Verdict.ok()
            new = Ticket(
                t.id,
                t.label,
                t.org,
                t.requester,
                changes.get("assignee_id", t.assignee),
                t.status,
                t.priority,
            )
            if "assignee_id" in changes:
                return _ticket_people_check(world, new) or Verdict.ok()
            return Verdict.ok()
        case (
            "public.agent_assignments"
            | "public.ticket_messages"
            | "public.attachments"
            | "public.audit_log"
            | "storage.objects"
            | "private.invitations"
        ):
            return Verdict.deny(f"§3 {table} UPDATE: nobody")
    raise UnmodelledTable(table)


def _may_update_profile(world: World, c: Caller, target: uuid.UUID, changes: Mapping[str, Any]) -> Verdict:
    u = world.user(target)
    assert u is not None and u.has_profile, target
    if u.erased:
        # §8b (and §3 profiles UPDATE): an erased profile, an "Erased person" placeholder included, is
        # immutable for every role, admins too: no rename, reactivation or role change.
        return Verdict.deny("§8b profiles: an erased profile (or placeholder) is immutable for everyone")
    if c.role == "admin":
        # §4 profiles: admin, every UPDATE column; the data rule "clients have an organization, staff none"
        # (check constraint profiles_organization_matches_role) still holds.
        return (
            _profile_shape_check(changes.get("role", u.role), changes.get("organization_id", u.org))
            or Verdict.ok()
        )
    if target == c.me:
        # §3 profiles UPDATE: own row; §4: only names, position, phone and preferences.
        if set(changes) <= OWN_PROFILE_COLUMNS:
            return Verdict.ok()
        return Verdict.deny("§4 profiles own row: never role, organization_id, email or markers")
    if c.role == "client_admin" and u.org == c.org:
        # §3 rows with organization_id = org(me), staying there with a client role; §4 colleague columns.
        if not set(changes) <= COLLEAGUE_PROFILE_COLUMNS:
            return Verdict.deny("§4 profiles colleague: names, position, phone, role, deactivated_at only")
        if changes.get("role", u.role) not in CLIENT_ROLES:
            return Verdict.deny("§3 profiles client_admin: the member keeps a client role")
        return Verdict.ok()
    return Verdict.deny("§3 profiles UPDATE: own row (client_admin: org(me) members)")


def may_delete(world: World, ident: Identity, table: str, target: uuid.UUID) -> Verdict:
    """README §3 DELETE rows."""
    _modelled(table)
    c = caller(world, ident)
    if c.role is None:
        return Verdict.deny("anon, strangers and staff below aal2 write nothing (§1, §2)")
    admin = c.role == "admin"
    match table:
        case "public.organizations":
            if not admin:
                return Verdict.deny("§3 organizations DELETE: admin only")
            referenced = (
                any(u.org == target for u in world.users)
                or any(t.org == target for t in world.tickets)
                or any(a.org == target for a in world.attachments)
            )
            if referenced:
                return Verdict.fails("23503", why="§3 organizations DELETE fails while referenced")
            return Verdict.ok()
        case "public.agent_assignments":
            return Verdict.ok() if admin else Verdict.deny("§3 agent_assignments DELETE: admin only")
        case sla if sla in SLA_TABLES:
            if not admin:
                return Verdict.deny("§3 SLA tables DELETE: admin only")
            if sla in ("public.business_calendars", "public.sla_plans") and _reference_in_use(world, target):
                return Verdict.fails("23503", why="referenced reference data")
            return Verdict.ok()
        case (
            "public.profiles"
            | "public.tickets"
            | "public.ticket_messages"
            | "public.attachments"
            | "public.audit_log"
            | "public.dsr_requests"
            | "storage.objects"
        ):
            return Verdict.deny(f"§3 {table} DELETE: nobody")
        case "private.invitations":
            # §3 private.invitations DELETE (cancel): the rows SELECT shows.
            if str(target) in visible(world, ident, table):
                return Verdict.ok()
            return Verdict.deny("§3 private.invitations DELETE: client_admin rows of org(me), or admin")
    raise UnmodelledTable(table)


def _modelled(table: str) -> None:
    if table not in MODELLED_TABLES:
        raise UnmodelledTable(table)


def column_readable(table: str, column: str) -> bool:
    """§4: whether an API caller may name `column` of `table` in a SELECT at all (else 42501)."""
    return column not in UNREADABLE_COLUMNS.get(table, frozenset())


def _reference_in_use(world: World, target: uuid.UUID) -> bool:
    """A calendar used by a plan, or a plan used by an organization (foreign keys without cascade)."""
    for r in world.reference:
        if r.table == "public.sla_plans" and r.values.get("calendar_id") == target:
            return True
    return any(r.id == target and r.values.get("in_use") for r in world.reference)


def _profile_shape_check(role: Any, org: Any) -> Verdict | None:
    if (role in CLIENT_ROLES) != (org is not None):
        return Verdict.fails(
            "23514", why="profiles: clients have an organization, staff none (check constraint)"
        )
    return None


def _ticket_from_row(row: Mapping[str, Any]) -> Ticket:
    return Ticket(
        uuid.UUID(int=0),
        "new",
        row["organization_id"],
        row["requester_id"],
        row.get("assignee_id"),
        row.get("status", "new"),
        row.get("priority", "normal"),
    )


def _ticket_people_check(world: World, t: Ticket) -> Verdict | None:
    """§4 tickets, everyone: requester in the ticket's organization; assignee an active admin or an agent
    assigned to it (trigger, 23514). None when the people fit."""
    requester = world.user(t.requester)
    if requester is None or requester.org != t.org:
        return Verdict.fails("23514", why="§4 tickets: requester must belong to the ticket's organization")
    if t.assignee is not None:
        a = world.user(t.assignee)
        fits = (
            a is not None
            and not a.deactivated
            and (
                a.role == "admin"
                or (a.role == "agent" and any(x.agent == a.id and x.org == t.org for x in world.assignments))
            )
        )
        if not fits:
            return Verdict.fails("23514", why="§4 tickets: assignee must be an admin or an assigned agent")
    return None
