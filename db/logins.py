"""Passwords of this project's own database logins where no infrastructure sets them: the local cluster and CI.

Migrations create logins without a password (a password is a secret, migrations are in git). On Supabase
`pulumi up` gives each its generated password (infra/providers/database_role.py). Locally the runner gives
`nexk_portal` (db/schema/0375) the password generated for the cluster and kept in .nexk/cluster.json
(db/cluster.py), as db/compat.py does for `authenticator`. The password is hashed on the client
(SCRAM-SHA-256, libpq's PQencryptPasswordConn), as the infra provider does, so no statement ever carries it
in plain text.
"""

from __future__ import annotations

import psycopg
from psycopg import sql


def set_password(conn: psycopg.Connection, role: str, password: str) -> None:
    """Give `role` (which must exist) `password`; one session at a time, as roles are cluster-wide and two
    test sessions migrating at once would otherwise fail with "tuple concurrently updated"."""
    hashed = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    with conn.transaction():
        conn.execute("select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('nexk.logins'))")
        conn.execute(
            sql.SQL("alter role {} password {}").format(sql.Identifier(role), sql.Literal(hashed.decode()))
        )
