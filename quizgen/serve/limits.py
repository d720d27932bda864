"""Per-student rate limits kept in the database, so they hold across server processes.

``quizgen serve --workers N`` runs N processes on one database, and a student's requests go to
whichever process takes the connection: a limit kept in one process's memory would let a student
send N times the limit. Each (student, kind) has one row, ``serve_rate_limits.recent``: the times
(seconds since the epoch) of their accepted requests of that kind in the last 60 s, as a JSON
list. A check, in one transaction: make sure the row exists, read it *locked*, drop the times
older than 60 s (the pruning), refuse if ``per_minute`` are left, else append now. A refused
request is not recorded. The row lock makes concurrent checks of one student take turns, and
every other student's row is free:

- SQLite: the transaction's first statement is a write (the INSERT ... ON CONFLICT DO NOTHING),
  so it holds the database's write lock from its start (waiting for it up to the busy timeout)
  and reads what the last writer committed;
- PostgreSQL: ``SELECT ... FOR UPDATE`` waits for another transaction holding the row and then
  reads its committed list (READ COMMITTED reads the newest row version after the wait).

A student's row never holds more than ``per_minute`` times, and a student who stops leaves one
row per kind: the table stays small without a cleanup job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa

from . import db
from .service import _INSERTS

__all__ = ["WINDOW", "RateLimit"]

#: The window a limit counts requests in (seconds).
WINDOW = 60.0

_b = sa.bindparam
_WHERE = (db.rate_limits.c.student == _b("b_student"), db.rate_limits.c.kind == _b("b_kind"))
_RECENT = sa.select(db.rate_limits.c.recent).where(*_WHERE).with_for_update()
_SET = sa.update(db.rate_limits).where(*_WHERE).values(recent=_b("b_recent"))


@lru_cache(maxsize=4)
def _ensure_row(dialect: str):
    """INSERT the (student, kind) row with an empty list, or nothing if it is there."""
    if dialect not in _INSERTS:
        raise ValueError(f"quizgen serve keeps rate limits in SQLite or PostgreSQL, not {dialect}")
    return _INSERTS[dialect](db.rate_limits).on_conflict_do_nothing(
        index_elements=[db.rate_limits.c.student, db.rate_limits.c.kind]
    )


@dataclass(frozen=True)
class RateLimit:
    """At most ``per_minute`` requests of ``kind`` per student in any 60 s (a sliding window),
    counted in the database ``engine``; ``clock``: () -> seconds since the epoch."""

    engine: sa.Engine
    kind: str
    per_minute: int
    clock: object

    def allow(self, student: str) -> bool:
        """Record one request of ``student`` and say True, or say False (nothing recorded) when
        they already made ``per_minute`` in the last 60 s."""
        now = float(self.clock())
        key = {"b_student": student, "b_kind": self.kind}
        with self.engine.begin() as conn:
            conn.execute(
                _ensure_row(conn.dialect.name), {"student": student, "kind": self.kind, "recent": "[]"}
            )
            recent = [t for t in json.loads(conn.execute(_RECENT, key).scalar_one()) if t > now - WINDOW]
            if len(recent) >= self.per_minute:
                return False  # the transaction commits having changed nothing
            conn.execute(_SET, {**key, "b_recent": json.dumps([*recent, now])})
        return True
