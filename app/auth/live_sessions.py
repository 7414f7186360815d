"""Whether the session an access token belongs to is still alive: sign-out ends it everywhere at once.

An access token stays cryptographically valid until `exp` (900 s), whatever happens to its session. GoTrue
refuses a token whose session row is gone (supabase/auth internal/api/auth.go: 403 session_not_found), and
so does the portal: every cookie session and every bearer token of the JSON API is checked against
`auth.sessions` through `private.session_is_live()` (db/functions/sessions.sql), which reads the caller's own session
inside an RLS transaction as the caller. The same check serves both adapters, because both keep their
sessions in that table: GoTrue in production (its logout deletes the rows: scope local, others or global),
the local emulation in dev (app/auth/local.py, same semantics).

The answer is remembered per process: "alive" for at most `LIVE_SECONDS` (so a sign-out in another process
or another Vercel instance is honoured within that window), "ended" for good (a session id never comes back).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from app.database import Database

# How long a "still alive" answer is trusted in one process: the longest a signed-out token keeps working.
LIVE_SECONDS = 5.0
# Remembered sessions per process (alive or ended), least recently used dropped first.
CACHE_SIZE = 8192


class LiveSessions:
    """Asks the database whether the caller's session is alive, remembering answers as the module says."""

    def __init__(
        self,
        database: Database,
        *,
        live_seconds: float = LIVE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._database = database
        self._live_seconds = live_seconds
        self.clock = clock  # tests advance it instead of sleeping
        # (session id, user id) -> alive-until (monotonic), or None for an ended session.
        self._answers: OrderedDict[tuple[str, str], float | None] = OrderedDict()
        self._lock = threading.Lock()

    def is_live(self, claims: Mapping[str, Any]) -> bool:
        """True while the token's session exists. A token without `session_id` or `sub` names no session
        (every token GoTrue issues for a sign-in carries both): not live."""
        session_id, user_id = str(claims.get("session_id") or ""), str(claims.get("sub") or "")
        if not session_id or not user_id:
            return False
        key = (session_id, user_id)
        now = self.clock()
        with self._lock:
            if key in self._answers:
                until = self._answers[key]
                if until is None:
                    return False
                if now < until:
                    self._answers.move_to_end(key)
                    return True
        live = self._ask(claims)
        self._remember(key, now + self._live_seconds if live else None)
        return live

    def ended(self, claims: Mapping[str, Any]) -> None:
        """This process ended the session of these claims (sign-out): refuse its tokens here at once."""
        session_id, user_id = str(claims.get("session_id") or ""), str(claims.get("sub") or "")
        if session_id and user_id:
            self._remember((session_id, user_id), None)

    def _ask(self, claims: Mapping[str, Any]) -> bool:
        with self._database.rls_transaction(claims, read_only=True) as conn:
            row = conn.execute("select private.session_is_live() as live").fetchone()
        return bool(row and row["live"])

    def _remember(self, key: tuple[str, str], until: float | None) -> None:
        with self._lock:
            self._answers[key] = until
            self._answers.move_to_end(key)
            while len(self._answers) > CACHE_SIZE:
                self._answers.popitem(last=False)
