"""Where a gradebook lives: a SQLite file or a PostgreSQL database, and the little its SQL does
differently on each.

A location is a path (a SQLite file, as ``quizgen grade`` has always written), a ``sqlite:///path``
URL, or a ``postgresql://user:password@host/dbname`` URL (``postgres://`` too): :func:`locate`
reads it into a :class:`Location`, whose :class:`Dialect` comes from :data:`DIALECTS` by URL
scheme. The gradebook's SQL (:mod:`.gradebook`) is written once, for both:

- ``?`` placeholders: SQLite's own; on PostgreSQL each statement's text is translated once to
  psycopg's ``%s`` (:func:`pg_sql`, cached);
- rows read by index and by column name: ``sqlite3.Row``, and :class:`Row` on PostgreSQL;
- upserts as ``INSERT ... ON CONFLICT (key) DO UPDATE`` (SQLite >= 3.24) and new ids by
  ``RETURNING`` (SQLite >= 3.35);
- the schema's column types are placeholders (:attr:`Dialect.types`): ``{real}`` is a double on
  both (PostgreSQL's ``REAL`` is a 4-byte float: a score of 1/3 would come back as
  0.3333333432674408), ``{text}`` sorts by bytes on both (SQLite's ``BINARY``, PostgreSQL's
  ``"C"``, whatever the database's locale), ``{serial}`` is a generated integer key, and
  ``{rowid}`` gives PostgreSQL the insertion-order column SQLite has implicitly;
- a writer's transaction is serialized against every other writer as SQLite's
  ``BEGIN IMMEDIATE`` does: on PostgreSQL ``BEGIN`` then a transaction-scoped advisory lock
  (:data:`LOCK_KEY`), released by ``COMMIT`` or ``ROLLBACK``.

SQLite stays a plain ``sqlite3`` connection (no wrapper in the grading loop); psycopg (3) is
imported only for a PostgreSQL location (``pip install 'quizgen[postgres]'``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from quizgen.errors import SpecError

__all__ = [
    "DIALECTS",
    "LOCK_KEY",
    "Dialect",
    "Location",
    "Row",
    "default_reports_dir",
    "locate",
    "pg_sql",
    "shown",
]

#: The advisory lock every gradebook writer takes on PostgreSQL (b"quizgen" as an integer).
LOCK_KEY = int.from_bytes(b"quizgen", "big")

_FORMS = "a SQLite file path, sqlite:///path/to/gradebook.sqlite or postgresql://user@host/dbname"


@dataclass(frozen=True)
class Dialect:
    """What one database does its own way (see the module docstring)."""

    name: str
    types: Mapping[str, str]  # schema placeholder -> this database's column type
    begin: tuple[str, ...]  # statements opening a writer's transaction
    connect: Callable[[Location], Any]  # -> a connection with execute, executemany, close
    has_schema: Callable[[Any], bool]  # whether the database holds a gradebook's tables
    create: Callable[[Any, str], None]  # run the schema script (idempotent)
    error: Callable[[], type[Exception]]  # the driver's database error class


@dataclass(frozen=True)
class Location:
    """A gradebook's place: ``target`` is the file (SQLite) or the URL (PostgreSQL) to connect
    to, ``shown`` the same for messages (a URL without its password)."""

    dialect: Dialect
    target: str
    shown: str

    @property
    def path(self) -> Path | None:
        """The SQLite file, None for a server database."""
        return Path(self.target) if self.dialect.name == "sqlite" else None


# ------------------------------------------------------------------------------ SQLite


def _sqlite_connect(location: Location) -> sqlite3.Connection:
    path = Path(location.target)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), isolation_level=None)
    db.row_factory = sqlite3.Row
    return db


def _sqlite_create(db: sqlite3.Connection, schema: str) -> None:
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # durable against a killed process
    db.execute("PRAGMA foreign_keys=ON")
    db.executescript(schema)


def _sqlite_has_schema(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone() is not None


SQLITE = Dialect(
    name="sqlite",
    types=MappingProxyType(
        {"real": "REAL", "text": "TEXT", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT", "rowid": ""}
    ),
    begin=("BEGIN IMMEDIATE",),
    connect=_sqlite_connect,
    has_schema=_sqlite_has_schema,
    create=_sqlite_create,
    error=lambda: sqlite3.DatabaseError,
)


# ------------------------------------------------------------------------------ PostgreSQL


@lru_cache(maxsize=512)
@lru_cache(maxsize=512)
def pg_sql(sql: str) -> str:
    """``sql`` with its ``?`` placeholders as psycopg's ``%s`` (and a literal ``%`` doubled);
    nothing inside quotes is touched."""
    out, quote = [], ""
    for ch in sql:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            ch = "%s"
        if ch == "%":
            ch = "%%"
        out.append(ch)
    return "".join(out)


class Row:
    """A row read by position or by column name, as ``sqlite3.Row`` (the first column of a name)."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence, index: Mapping[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key):
        return self._values[self._index[key]] if isinstance(key, str) else self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._index)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values, strict=False))!r})"


def _row_factory(cursor):
    index: dict[str, int] = {}
    for i, column in enumerate(cursor.description or ()):
        index.setdefault(column.name, i)
    return lambda values: Row(values, index)


class PgConnection:
    """A psycopg connection in autocommit mode (transactions are opened by ``BEGIN``, as on
    SQLite) that takes the gradebook's ``?`` statements."""

    __slots__ = ("_conn",)

    def __init__(self, conn) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence = ()):
        return self._conn.execute(pg_sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence]):
        cursor = self._conn.cursor()
        rows = list(rows)
        if rows:
            cursor.executemany(pg_sql(sql), rows)
        return cursor

    def executescript(self, script: str) -> None:
        self._conn.execute(script)  # no parameters: psycopg sends several statements at once

    def close(self) -> None:
        self._conn.close()


def _psycopg():
    try:
        import psycopg
    except ImportError:
        raise SpecError("a PostgreSQL gradebook needs psycopg; pip install 'quizgen[postgres]'") from None
    return psycopg


def _pg_connect(location: Location) -> PgConnection:
    psycopg = _psycopg()
    try:
        conn = psycopg.connect(location.target, autocommit=True, row_factory=_row_factory)
    except psycopg.Error as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise SpecError(
            f"cannot connect to the PostgreSQL gradebook ({detail}); check that the server runs, the "
            "database exists and the user may use it (postgresql://user:password@host:port/dbname)",
            source=location.shown,
        ) from None
    return PgConnection(conn)


def _pg_create(db: PgConnection, schema: str) -> None:
    """The schema, unless the database has it (one query: opening a gradebook to read a page
    neither waits for the writers' lock nor sends the script), in one transaction under the
    writers' lock (two processes opening a new database at once would otherwise race on
    CREATE TABLE IF NOT EXISTS)."""
    if _pg_has_schema(db):
        return
    db.execute("BEGIN")
    try:
        db.execute(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
        db.executescript(schema)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _pg_has_schema(db: PgConnection) -> bool:
    return db.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()[0]


POSTGRESQL = Dialect(
    name="postgresql",
    types=MappingProxyType(
        {
            "real": "DOUBLE PRECISION",
            "text": 'TEXT COLLATE "C"',
            "serial": "INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "rowid": ", rowid BIGINT GENERATED ALWAYS AS IDENTITY",
        }
    ),
    begin=("BEGIN", f"SELECT pg_advisory_xact_lock({LOCK_KEY})"),
    connect=_pg_connect,
    has_schema=_pg_has_schema,
    create=_pg_create,
    error=lambda: _psycopg().Error,
)

#: URL scheme -> dialect (a plain path is SQLite).
DIALECTS: Mapping[str, Dialect] = MappingProxyType(
    {"sqlite": SQLITE, "postgresql": POSTGRESQL, "postgres": POSTGRESQL}
)


# ------------------------------------------------------------------------------ locations


def _scheme(text: str) -> str | None:
    scheme, sep, _ = text.partition("://")
    return scheme.lower() if sep and scheme.replace("+", "").isalnum() else None


def shown(location: str | Path) -> str:
    """``location`` for messages: a path as it is, a URL without its password."""
    text = str(location)
    if _scheme(text) is None:
        return text
    parts = urlsplit(text)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:***@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs], safe="/:@")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def locate(location: str | Path | Location) -> Location:
    """Where the gradebook ``location`` is: a path (SQLite), ``sqlite:///path`` or
    ``postgresql://...`` (a scheme with a driver, ``postgresql+psycopg://``, is read as its
    database). ValueError for another scheme."""
    if isinstance(location, Location):
        return location
    text = str(location)
    scheme = None if isinstance(location, Path) else _scheme(text)
    if scheme is None:
        return Location(SQLITE, text, text)
    dialect = DIALECTS.get(scheme.partition("+")[0])
    if dialect is None:
        raise ValueError(f"gradebook {shown(text)!r}: not a database quizgen knows; write {_FORMS}")
    if dialect is SQLITE:  # sqlite:///relative/path, sqlite:////absolute/path (as SQLAlchemy)
        path = unquote(text[len("sqlite:///") :]) if text.lower().startswith("sqlite:///") else ""
        if not path:
            raise ValueError(f"gradebook {text!r}: no file named; write {_FORMS}")
        return Location(SQLITE, path, path)
    target = "postgresql" + text[len(scheme) :]  # psycopg takes postgresql:// (libpq), no driver
    return Location(dialect, target, shown(target))


def default_reports_dir(location: str | Path | Location) -> Path:
    """Where reports go when nobody said: ``<file stem>-reports`` beside a SQLite gradebook,
    ``<dbname>-reports`` in the current folder for a server database."""
    loc = locate(location)
    if loc.path is not None:
        return loc.path.with_name(f"{loc.path.stem}-reports")
    name = urlsplit(loc.target).path.strip("/") or "gradebook"
    return Path(f"{name}-reports")
