"""Storage objects leave through the Storage API only (db/schema/0270, db/policies/storage_objects.sql).

Erasure and retention queue objects in private.storage_deletions; the storage sweeper, a system account whose
app_metadata names it, is the one identity that sees and deletes them, and only them. Everyone else, whatever
they set, deletes nothing; and no SQL delete gets past Storage's guard (emulated as on Supabase).
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from db.rls.model import Identity, World
from db.testing import impersonate

SWEEPER = {
    "sub": "00000000-0000-4000-8000-0000005eeeee",
    "role": "authenticated",
    "aal": "aal1",
    "is_anonymous": False,
    "app_metadata": {"nexk_system": "storage_sweeper"},
}


def claims_of(world: World, label: str) -> dict[str, object] | None:
    return Identity(next(u for u in world.users if u.label == label)).claims()


def path_of(world: World, label: str) -> str:
    return next(a.storage_path for a in world.attachments if a.label == label)


def attachment_objects(conn: psycopg.Connection) -> set[str]:
    return {r[0] for r in conn.execute("select name from storage.objects where bucket_id = 'attachments'")}


def queue(conn: psycopg.Connection, *paths: str) -> None:
    for path in paths:
        conn.execute(
            "insert into private.storage_deletions (bucket_id, name, reason) values ('attachments', %s, 'erasure')",
            (path,),
        )


def delete_all_as(conn: psycopg.Connection, claims: dict[str, object] | None) -> list[str]:
    """What `claims` deletes when it tries to delete every object, with Storage's own flag set (rolled back)."""
    with impersonate(conn, claims):
        conn.execute("select set_config('storage.allow_delete_query', 'true', true)")
        return [r[0] for r in conn.execute("delete from storage.objects returning name").fetchall()]


def test_a_direct_sql_delete_on_storage_objects_is_refused_as_on_supabase(world_db):
    db, _ = world_db
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="Use the Storage API"):
        db.execute("delete from storage.objects")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="Use the Storage API"):
        db.execute("delete from storage.buckets")


def test_erasure_queues_the_persons_objects_and_only_the_sweeper_can_still_see_them(world_db):
    db, w = world_db
    fa1 = path_of(w, "fA1")
    db.execute("select private.erase_person(%s, 'test')", (next(u.id for u in w.users if u.label == "m1"),))
    # fA1 had bytes; fA3 (m1's too) was never uploaded, so there is nothing to delete from Storage.
    assert [r[0] for r in db.execute("select name from private.storage_deletions")] == [fa1]
    for label in ("m2", "ca", "ag", "ad"):
        with impersonate(db, claims_of(w, label)):
            assert fa1 not in attachment_objects(db), label
    with impersonate(db, SWEEPER):
        assert attachment_objects(db) == {fa1}


def test_the_sweeper_sees_and_deletes_the_queued_objects_and_nothing_else(world_db):
    db, w = world_db
    everything = attachment_objects(db)
    fa1 = path_of(w, "fA1")
    queue(db, fa1)
    with impersonate(db, SWEEPER):
        assert attachment_objects(db) == {fa1}
        assert (
            db.execute("select count(*) from storage.objects where bucket_id <> 'attachments'").fetchone()[0]
            == 0
        )
    assert delete_all_as(db, SWEEPER) == [fa1]  # (rolled back by impersonate, like every probe)
    assert attachment_objects(db) == everything


def test_no_one_but_the_sweeper_deletes_an_object_even_a_queued_one_with_storages_flag_set(world_db):
    db, w = world_db
    everything = attachment_objects(db)
    queue(db, *everything)
    for label in ("m1", "m2", "ca", "mb", "ag", "ag1", "ad", "ad1", "dx", "inv"):
        assert delete_all_as(db, claims_of(w, label)) == [], label
    assert delete_all_as(db, None) == []
    assert attachment_objects(db) == everything


def test_the_sweeper_claim_counts_only_in_app_metadata_and_only_for_an_account_without_a_profile(world_db):
    db, w = world_db
    queue(db, path_of(w, "fA1"))
    forged = [
        # A user can write user_metadata themselves: it proves nothing.
        {**SWEEPER, "app_metadata": {}, "user_metadata": {"nexk_system": "storage_sweeper"}},
        # A real person's token that somehow carried the claim is still that person, not the sweeper.
        {**claims_of(w, "ad"), "app_metadata": {"nexk_system": "storage_sweeper"}},
        {**claims_of(w, "m1"), "app_metadata": {"nexk_system": "storage_sweeper"}},
    ]
    for claims in forged:
        with impersonate(db, claims):
            assert db.execute("select private.is_storage_sweeper()").fetchone()[0] is False, claims
        assert delete_all_as(db, claims) == [], claims
    # The claim with the anonymous role: anon has no policy on storage.objects at all.
    assert delete_all_as(db, {**SWEEPER, "role": "anon"}) == []


def test_whether_an_object_is_queued_is_answered_to_the_sweeper_alone(world_db):
    db, w = world_db
    fa1 = path_of(w, "fA1")
    queue(db, fa1)
    ask = "select private.is_queued_for_deletion('attachments', %s)"
    for label in ("m1", "ca", "ag", "ad", "inv"):
        with impersonate(db, claims_of(w, label)):
            assert db.execute(ask, (fa1,)).fetchone()[0] is False, label
    with impersonate(db, SWEEPER):
        assert db.execute(ask, (fa1,)).fetchone()[0] is True
        assert db.execute(ask, (path_of(w, "fB1"),)).fetchone()[0] is False
    with impersonate(db, None), pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute(ask, (fa1,))


def test_the_sweeper_sees_no_tenant_data(world_db):
    db, _ = world_db
    with impersonate(db, SWEEPER):
        for table in (
            "public.organizations",
            "public.profiles",
            "public.tickets",
            "public.ticket_messages",
            "public.attachments",
            "public.audit_log",
            "public.dsr_requests",
        ):
            assert db.execute(f"select count(*) from {table}").fetchone()[0] == 0, table  # noqa: S608
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            db.execute("select * from private.storage_deletions")


def test_an_attachment_deleted_any_other_way_still_gets_its_object_queued(world_db):
    db, w = world_db
    fb1 = path_of(w, "fB1")
    with db.transaction():
        db.execute("alter table public.attachments disable trigger attachments_immutable")
        db.execute("delete from public.attachments where storage_path = %s", (fb1,))
        db.execute("alter table public.attachments enable trigger attachments_immutable")
    assert db.execute("select name, reason from private.storage_deletions").fetchall() == [
        (fb1, "attachment deleted")
    ]


def test_retention_forgets_queued_objects_once_the_sweeper_has_deleted_them(world_db):
    db, w = world_db
    fa1, fb1 = path_of(w, "fA1"), path_of(w, "fB1")
    queue(db, fa1, fb1)
    with db.transaction():  # what Storage's API does once the sweeper asked it to delete fA1
        db.execute("set local storage.allow_delete_query = 'true'")
        db.execute("delete from storage.objects where name = %s", (fa1,))
    steps = dict(db.execute("select step, affected from private.run_retention()").fetchall())
    assert steps["storage: deletions confirmed and forgotten"] == 1
    assert [r[0] for r in db.execute("select name from private.storage_deletions")] == [fb1]


def test_a_queued_path_is_unique_per_bucket(world_db):
    db, w = world_db
    fa1 = path_of(w, "fA1")
    queue(db, fa1)
    with pytest.raises(psycopg.errors.UniqueViolation):
        queue(db, fa1)
    assert uuid.UUID(fa1.split("/")[2])  # paths are random ids: the queue holds no personal data
