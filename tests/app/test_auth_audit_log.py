"""The local auth adapter keeps GoTrue's audit trail (auth.audit_log_entries) as GoTrue does, and erasure
takes the person's entries away with them."""

from __future__ import annotations

import psycopg
from portal_testkit import PASSWORD, World

from app.auth.local import LocalAuth
from app.settings import Settings
from db.rows import one


def _entries(db: psycopg.Connection) -> list[tuple]:
    return db.execute(
        "select instance_id::text, payload ->> 'actor_id', payload ->> 'actor_username',"
        " payload ->> 'action', payload ->> 'log_type', payload -> 'traits', ip_address"
        " from auth.audit_log_entries order by created_at, payload ->> 'action'"
    ).fetchall()


def test_sign_in_refresh_and_sign_out_are_written_to_gotrues_audit_log_and_erasure_removes_them(
    portal_settings: Settings, world: World, db: psycopg.Connection
) -> None:
    """Each row has GoTrue's shape (models.NewAuditLogEntry): the nil instance id, the actor's id and e-mail,
    the action and its log type, the traits of a password login; erasure deletes the person's rows only."""
    auth = LocalAuth(portal_settings.auth_database_url or "", portal_settings.session_secret)
    auth.open()
    try:
        member, colleague = world.people["member_a"], world.people["admin_a"]
        session = auth.sign_in_password(member.email, PASSWORD, ip="198.51.100.7", user_agent="test")
        session = auth.refresh(session.refresh_token)
        auth.sign_out(session)
        auth.sign_in_password(colleague.email, PASSWORD, ip=None, user_agent=None)
    finally:
        auth.close()
    nil = "00000000-0000-0000-0000-000000000000"
    assert _entries(db) == [
        (nil, str(member.id), member.email, "login", "account", {"provider": "email"}, ""),
        (nil, str(member.id), member.email, "token_refreshed", "token", None, ""),
        (nil, str(member.id), member.email, "logout", "account", None, ""),
        (nil, str(colleague.id), colleague.email, "login", "account", {"provider": "email"}, ""),
    ]

    result = one(db.execute("select private.erase_person(%s, 'erasure')", (member.id,)).fetchone())[0]

    assert result["auth_audit_entries_deleted"] == 3
    assert [row[1] for row in _entries(db)] == [str(colleague.id)]
