"""The model checked against the README table by hand, on `small_world` (db/tests/conftest.py): if these
disagree with db/policies/README.md, the model is wrong, whatever the database says."""

from __future__ import annotations

import dataclasses
import random
import uuid

import pytest

from db.rls.model import (
    Identity,
    Invitation,
    QueuedDeletion,
    UnmodelledTable,
    column_readable,
    display_names,
    may_delete,
    may_insert,
    may_update,
    storage_sweeper_objects,
    visible,
)
from db.rls.probe import plan_writes
from db.rls.worlds import RandomChooser, random_world


def who(world, label):
    return Identity(next(u for u in world.users if u.label == label))


def labels(world, ident, table):
    names = world.labels()
    return {names[i] for i in visible(world, ident, table)}


def row(world, label):
    return next(x for x in [*world.tickets, *world.users, *world.attachments] if x.label == label)


def test_a_member_of_an_unshared_org_sees_only_its_own_tickets_and_no_internal_notes(small_world):
    w = small_world
    assert labels(w, who(w, "m1"), "public.tickets") == {"tA1"}
    assert labels(w, who(w, "m1"), "public.ticket_messages") == {"mA1"}
    assert labels(w, who(w, "m1"), "public.attachments") == {"fA1", "fA3"}
    assert labels(w, who(w, "m1"), "storage.objects") == {"o-fA1"}


def test_a_member_of_a_shared_org_and_a_client_admin_see_all_their_orgs_tickets(small_world):
    w = small_world
    assert labels(w, who(w, "mb"), "public.tickets") == {"tB1"}
    assert labels(w, who(w, "ca"), "public.tickets") == {"tA1", "tA2"}


def test_a_member_sees_their_own_organization_but_no_colleagues_profile_row(small_world):
    w = small_world
    assert labels(w, who(w, "m1"), "public.organizations") == {"A"}
    assert labels(w, who(w, "m1"), "public.profiles") == {"m1"}
    assert labels(w, who(w, "m1"), "public.agent_assignments") == set()


def test_a_client_admin_reads_the_profile_rows_of_their_organizations_members(small_world):
    w = small_world
    assert labels(w, who(w, "ca"), "public.profiles") == {"m1", "m2", "ca", "dx"}


def test_display_names_answer_clients_about_their_organization_and_staff_as_profiles_select(small_world):
    w = small_world
    names = w.labels()
    everyone = [u.id for u in w.users]

    def named(label):
        return {names[i] for i in display_names(w, who(w, label), everyone)}

    # ag is tA1's assignee (and wrote on it only an internal note): named to m1 and ca, who see tA1 (§6, 0341).
    assert named("m1") == named("ca") == {"m1", "m2", "ca", "dx", "ag"}
    assert named("mb") == {"mb"}
    assert named("ag") == labels(w, who(w, "ag"), "public.profiles")
    assert named("ad") == labels(w, who(w, "ad"), "public.profiles")
    for nobody in ("ag1", "ad1", "dx", "inv"):
        assert named(nobody) == set(), nobody
    assert display_names(w, Identity(None), everyone) is None  # anon may not call it


def test_an_agent_with_mfa_sees_assigned_orgs_staff_and_internal_notes(small_world):
    w = small_world
    ag = who(w, "ag")
    assert labels(w, ag, "public.organizations") == {"A"}
    assert labels(w, ag, "public.tickets") == {"tA1", "tA2"}
    assert labels(w, ag, "public.ticket_messages") == {"mA1", "mA2"}
    assert labels(w, ag, "public.profiles") == {"m1", "m2", "ca", "dx", "ag", "ag1", "ad", "ad1"}
    assert labels(w, ag, "public.agent_assignments") == {"as1"}


def test_staff_below_aal2_strangers_deactivated_users_and_anon_see_nothing(small_world):
    w = small_world
    for ident in (who(w, "ag1"), who(w, "ad1"), who(w, "inv"), who(w, "dx"), Identity(None)):
        for table in (
            "public.tickets",
            "public.profiles",
            "public.sla_plans",
            "storage.objects",
            "public.audit_log",
        ):
            assert visible(w, ident, table) == set(), (ident, table)


def test_admin_with_mfa_sees_everything_but_buckets(small_world):
    w = small_world
    ad = who(w, "ad")
    assert labels(w, ad, "public.tickets") == {"tA1", "tA2", "tB1"}
    assert labels(w, ad, "storage.objects") == {"o-fA1", "o-fA2", "o-fB1"}  # never another bucket's files
    assert visible(w, ad, "storage.buckets") == set()


def test_audit_and_dsr_rows_are_visible_to_their_subject_and_admins(small_world):
    w = small_world
    assert labels(w, who(w, "m1"), "public.audit_log") == {"a1"}
    assert labels(w, who(w, "m1"), "public.dsr_requests") == {"d1"}
    assert labels(w, who(w, "ad"), "public.audit_log") == {"a1", "a2"}


def test_ticket_inserts_follow_the_readme_row(small_world):
    w = small_world
    m1, a, b = row(w, "m1"), w.orgs[0].id, w.orgs[1].id
    base = {"subject": "s", "description": "d"}
    assert may_insert(
        w, who(w, "m1"), "public.tickets", {**base, "organization_id": a, "requester_id": m1.id}
    ).allowed
    assert not may_insert(
        w, who(w, "m1"), "public.tickets", {**base, "organization_id": b, "requester_id": m1.id}
    ).allowed
    forged = {**base, "organization_id": a, "requester_id": row(w, "m2").id}
    assert not may_insert(w, who(w, "m1"), "public.tickets", forged).allowed
    assert may_insert(w, who(w, "ad"), "public.tickets", forged).allowed
    assert may_insert(w, who(w, "ag"), "public.tickets", forged).allowed  # on m2's behalf: A is ag's
    assert not may_insert(w, who(w, "ag1"), "public.tickets", forged).allowed  # staff below aal2
    resolved = {**base, "organization_id": a, "requester_id": m1.id, "status": "resolved"}
    assert not may_insert(w, who(w, "m1"), "public.tickets", resolved).allowed


def test_clients_only_resolve_or_reopen_and_staff_change_status_priority_assignee(small_world):
    w = small_world
    ta1 = row(w, "tA1")  # open
    assert may_update(w, who(w, "m1"), "public.tickets", ta1.id, {"status": "resolved"}).allowed
    assert not may_update(w, who(w, "m1"), "public.tickets", ta1.id, {"status": "closed"}).allowed
    assert not may_update(w, who(w, "m1"), "public.tickets", ta1.id, {"priority": "urgent"}).allowed
    assert not may_update(
        w, who(w, "m2"), "public.tickets", ta1.id, {"status": "resolved"}
    ).allowed  # not visible
    assert may_update(
        w, who(w, "ag"), "public.tickets", ta1.id, {"status": "closed", "priority": "low"}
    ).allowed
    assert not may_update(
        w, who(w, "ad"), "public.tickets", ta1.id, {"organization_id": w.orgs[1].id}
    ).allowed
    assert not may_update(w, who(w, "ag"), "public.tickets", row(w, "tB1").id, {"status": "open"}).allowed


def test_profile_updates_follow_the_own_row_and_colleague_column_rules(small_world):
    w = small_world
    m1, m2 = row(w, "m1"), row(w, "m2")
    assert may_update(w, who(w, "m1"), "public.profiles", m1.id, {"first_name": "X"}).allowed
    assert not may_update(w, who(w, "m1"), "public.profiles", m1.id, {"role": "client_admin"}).allowed
    assert not may_update(w, who(w, "m1"), "public.profiles", m1.id, {"email": "x@y.z"}).allowed
    assert not may_update(w, who(w, "m1"), "public.profiles", m2.id, {"first_name": "X"}).allowed
    assert may_update(w, who(w, "ca"), "public.profiles", m2.id, {"role": "client_admin"}).allowed
    assert not may_update(w, who(w, "ca"), "public.profiles", m2.id, {"role": "admin"}).allowed
    assert not may_update(w, who(w, "ca"), "public.profiles", m2.id, {"email": "x@y.z"}).allowed
    assert not may_update(
        w, who(w, "ca"), "public.profiles", m2.id, {"organization_id": w.orgs[1].id}
    ).allowed
    assert not may_update(w, who(w, "ca"), "public.profiles", row(w, "mb").id, {"first_name": "X"}).allowed
    assert may_update(w, who(w, "ad"), "public.profiles", m2.id, {"organization_id": w.orgs[1].id}).allowed
    assert may_update(w, who(w, "ad"), "public.profiles", m2.id, {"role": "admin"}).errors == {"23514"}


def test_messages_and_files_are_written_as_oneself_on_visible_tickets_and_never_changed(small_world):
    w = small_world
    ta1, tb1, m1 = row(w, "tA1"), row(w, "tB1"), row(w, "m1")
    msg = {"ticket_id": ta1.id, "author_id": m1.id, "body": "hi", "internal": False}
    assert may_insert(w, who(w, "m1"), "public.ticket_messages", msg).allowed
    assert not may_insert(w, who(w, "m1"), "public.ticket_messages", {**msg, "internal": True}).allowed
    assert not may_insert(w, who(w, "m1"), "public.ticket_messages", {**msg, "ticket_id": tb1.id}).allowed
    assert not may_insert(w, who(w, "m2"), "public.ticket_messages", msg).allowed  # forged author
    ad = row(w, "ad")
    assert may_insert(
        w, who(w, "ad"), "public.ticket_messages", {**msg, "author_id": ad.id, "ticket_id": tb1.id}
    ).allowed
    for table, target in (
        ("public.ticket_messages", w.messages[0].id),
        ("public.attachments", w.attachments[0].id),
    ):
        assert not may_update(w, who(w, "ad"), table, target, {}).allowed
        assert not may_delete(w, who(w, "ad"), table, target).allowed


def test_storage_uploads_only_to_ones_own_pending_attachment(small_world):
    w = small_world
    fa3, fa1 = row(w, "fA3"), row(w, "fA1")
    obj = {"bucket_id": "attachments", "owner": None}
    assert may_insert(w, who(w, "m1"), "storage.objects", {**obj, "name": fa3.storage_path}).allowed
    assert not may_insert(w, who(w, "ca"), "storage.objects", {**obj, "name": fa3.storage_path}).allowed
    assert may_insert(w, who(w, "m1"), "storage.objects", {**obj, "name": fa1.storage_path}).errors == {
        "23505"
    }
    assert not may_insert(
        w, who(w, "m1"), "storage.objects", {**obj, "bucket_id": "exports-0", "name": fa3.storage_path}
    ).allowed


def test_reference_data_audit_and_dsr_writes_are_admin_only_and_deletes_mostly_nobody(small_world):
    w = small_world
    cal = next(r for r in w.reference if r.label == "cal2")
    assert may_delete(w, who(w, "ad"), "public.business_calendars", cal.id).allowed
    assert not may_delete(w, who(w, "ca"), "public.business_calendars", cal.id).allowed
    assert may_delete(w, who(w, "ad"), "public.organizations", w.orgs[0].id).errors == {"23503"}
    assert not may_delete(w, who(w, "ad"), "public.dsr_requests", w.dsrs[0].id).allowed
    assert not may_delete(w, who(w, "ad"), "public.tickets", row(w, "tA1").id).allowed
    assert not may_insert(w, who(w, "ad"), "public.audit_log", {}).allowed
    assert may_insert(
        w, who(w, "ad"), "public.dsr_requests", {"subject_email": "a@b.c", "type": "access"}
    ).allowed
    assert not may_insert(
        w, who(w, "m1"), "public.dsr_requests", {"subject_email": "a@b.c", "type": "access"}
    ).allowed


def test_an_agent_opens_a_ticket_for_an_active_member_of_an_assigned_organization_only(small_world):
    """README §3 tickets INSERT, agent (a phone call): assigned organization, an active person of it, new,
    unassigned or assigned to self."""
    w = small_world
    ag, m1, mb, dx = who(w, "ag"), row(w, "m1"), row(w, "mb"), row(w, "dx")
    base = {"subject": "s", "description": "d", "status": "new"}

    def verdict(ident, **row):
        return may_insert(w, ident, "public.tickets", {**base, **row})

    assert verdict(ag, organization_id=m1.org, requester_id=m1.id).allowed
    assert verdict(ag, organization_id=m1.org, requester_id=m1.id, assignee_id=ag.user.id).allowed
    assert not verdict(ag, organization_id=mb.org, requester_id=mb.id).allowed  # B is not assigned to ag
    assert not verdict(ag, organization_id=dx.org, requester_id=dx.id).allowed  # deactivated
    assert not verdict(ag, organization_id=m1.org, requester_id=m1.id, status="open").allowed
    assert not verdict(who(w, "ag1"), organization_id=m1.org, requester_id=m1.id).allowed  # aal1
    assert not verdict(who(w, "ca"), organization_id=m1.org, requester_id=m1.id).allowed  # clients: as self


def test_a_question_about_a_table_the_model_does_not_know_names_it_and_says_to_teach_the_model(small_world):
    w = small_world
    for ask in (
        lambda: visible(w, who(w, "ad"), "public.unknown"),
        lambda: visible(w, Identity(None), "public.unknown"),  # even for anon, who sees nothing anywhere
        lambda: may_insert(w, who(w, "ad"), "public.unknown", {}),
        lambda: may_update(w, who(w, "ad"), "public.unknown", uuid.uuid4(), {}),
        lambda: may_delete(w, Identity(None), "public.unknown", uuid.uuid4()),
        lambda: w.rows("public.unknown"),
    ):
        with pytest.raises(UnmodelledTable) as raised:
            ask()
        assert "public.unknown" in str(raised.value) and "teach model.py" in str(raised.value)


def test_invitations_are_read_and_cancelled_by_their_organizations_client_admin_and_by_admins(small_world):
    """README §3 private.invitations: client_admin rows of org(me) (invite with a client role only); admin all."""
    w = small_world
    a, b = w.orgs[0].id, w.orgs[1].id
    w.invitations = [
        Invitation(uuid.uuid4(), "iA", a, "client_member", "ia@a.example"),
        Invitation(uuid.uuid4(), "iB", b, "client_admin", "ib@b.example"),
        Invitation(uuid.uuid4(), "iS", None, "agent", "is@nexk.example"),
    ]
    assert labels(w, who(w, "ca"), "private.invitations") == {"iA"}
    assert labels(w, who(w, "ad"), "private.invitations") == {"iA", "iB", "iS"}
    assert (
        labels(w, who(w, "m1"), "private.invitations")
        == labels(w, who(w, "ag"), "private.invitations")
        == set()
    )
    assert may_delete(w, who(w, "ca"), "private.invitations", w.invitations[0].id).allowed
    assert not may_delete(w, who(w, "ca"), "private.invitations", w.invitations[1].id).allowed
    invite = {"email": "new@a.example", "first_name": "N", "surname": "W", "nonce_hash": "f" * 64}
    assert may_insert(
        w, who(w, "ca"), "private.invitations", {**invite, "organization_id": a, "role": "client_admin"}
    ).allowed
    assert not may_insert(
        w, who(w, "ca"), "private.invitations", {**invite, "organization_id": a, "role": "agent"}
    ).allowed
    assert not may_insert(
        w, who(w, "ca"), "private.invitations", {**invite, "organization_id": b, "role": "client_member"}
    ).allowed
    assert may_insert(
        w, who(w, "ad"), "private.invitations", {**invite, "organization_id": None, "role": "agent"}
    ).allowed
    taken = {**invite, "email": "IA@a.example", "organization_id": None, "role": "agent"}
    assert may_insert(w, who(w, "ad"), "private.invitations", taken).errors == {"23505"}
    assert not may_insert(
        w, who(w, "ad"), "private.invitations", {**invite, "expires_at": "infinity"}
    ).allowed
    assert not may_update(
        w, who(w, "ad"), "private.invitations", w.invitations[0].id, {"role": "admin"}
    ).allowed
    assert not column_readable("private.invitations", "nonce_hash") and column_readable(
        "private.invitations", "email"
    )


def test_the_storage_sweeper_deletes_exactly_the_queued_objects(small_world):
    w = small_world
    first = w.objects[0]
    assert storage_sweeper_objects(w) == set()
    w.storage_deletions = [QueuedDeletion("q", first.bucket, first.name), QueuedDeletion("gone", "x", "y")]
    assert storage_sweeper_objects(w) == {str(first.id)}


def test_erased_profiles_and_placeholders_are_immutable_and_nobody_inserts_a_profile(small_world):
    """README §8b and §3 profiles INSERT: no UPDATE of an erased profile (a placeholder included) for any
    role, admins too; no profile INSERT for anybody (invitation acceptance only, §9)."""
    w = small_world
    placeholder = dataclasses.replace(
        row(w, "m2"), label="ph", deactivated=True, erased=True, placeholder=True
    )
    w.users = [placeholder if u.label == "m2" else u for u in w.users]
    for label in ("ca", "ad"):
        for changes in ({"first_name": "X"}, {"deactivated_at": None}, {"role": "client_admin"}):
            assert not may_update(w, who(w, label), "public.profiles", placeholder.id, changes).allowed
    inv = row(w, "inv")
    for label, org, role in (("ca", w.orgs[0].id, "client_member"), ("ad", None, "agent")):
        new = {"id": inv.id, "organization_id": org, "role": role, "first_name": "N", "surname": "B"}
        assert not may_insert(w, who(w, label), "public.profiles", {**new, "email": "n@b.c"}).allowed


def test_generated_worlds_hold_placeholders_and_the_planner_attacks_them():
    """The property suite's worlds include "Erased person" placeholders, and a client admin's write plan
    renames, reactivates and promotes one of their organization, each denied by the model."""
    attacked = 0
    for seed in range(40):
        w = random_world(seed)
        for u in w.users:
            if u.role != "client_admin" or u.deactivated or u.erased:
                continue
            if not any(p.placeholder and p.org == u.org for p in w.users):
                continue
            probes = [
                p
                for p in plan_writes(w, Identity(u), RandomChooser(random.Random(seed)))
                if "erased" in p.description
            ]
            assert {p.command for p in probes} == {"UPDATE", "DELETE"}
            assert not any(p.verdict.allowed for p in probes)
            attacked += 1
    assert attacked > 0
