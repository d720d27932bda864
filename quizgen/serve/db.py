"""The serve tables (SQLAlchemy Core) and their Alembic migrations.

They sit in the same database as the gradebook (:mod:`quizgen.graders.gradebook`): with SQLite,
one file holds both, with PostgreSQL one database does, and ``quizgen report --db FILE`` / ``regrade`` read the grades a final
submit wrote. Alembic keeps its version in ``serve_alembic_version`` so it never touches the
gradebook's own tables.

Tables (every token and session id stored as its SHA-256, never in clear):

- ``serve_meta`` (key, value): the practice secret;
- ``serve_tokens`` (token_hash, subject, role, created_at, revoked): sign-in tokens;
- ``serve_sessions`` (session_hash, subject, role, csrf, expires_at);
- ``serve_variants`` (id, student, template_id, counter, seed, tries, solution_shown, created_at):
  practice variants, seed = HMAC(secret, student, counter);
- ``serve_attempts`` (id, variant_id, student, topic, score, max_points, results, at);
- ``serve_drafts`` (exam, student, number, part, text, saved_at): autosaved homework answers;
- ``serve_submissions`` (exam, student, submitted_at, how): final submits;
- ``serve_code_attempts`` (id, student, assignment, filename, score, max_score, summary, at):
  graded code uploads (migration 0002);
- ``serve_rate_limits`` (student, kind, recent): each student's requests of one kind in the
  last 60 s (a JSON list of times), so a rate limit holds across server processes (0003).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import sqlalchemy as sa

__all__ = ["METADATA", "connect", "gradebook_path", "migrate", "secret"]

METADATA = sa.MetaData()

meta = sa.Table(
    "serve_meta", METADATA, sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text)
)
tokens = sa.Table(
    "serve_tokens",
    METADATA,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
)
sessions = sa.Table(
    "serve_sessions",
    METADATA,
    sa.Column("session_hash", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)
variants = sa.Table(
    "serve_variants",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("student", sa.String(200), nullable=False),
    sa.Column("template_id", sa.String(200), nullable=False),
    sa.Column("counter", sa.Integer, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("tries", sa.Integer, nullable=False, default=0),
    sa.Column("solution_shown", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.UniqueConstraint("student", "counter"),
)
attempts = sa.Table(
    "serve_attempts",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("variant_id", sa.Integer, sa.ForeignKey("serve_variants.id"), nullable=False),
    sa.Column("student", sa.String(200), nullable=False),
    sa.Column("topic", sa.String(200), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("max_points", sa.Float, nullable=False),
    sa.Column("results", sa.Text, nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
)
drafts = sa.Table(
    "serve_drafts",
    METADATA,
    sa.Column("exam", sa.String(64), primary_key=True),
    sa.Column("student", sa.String(200), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("part", sa.String(64), primary_key=True),
    sa.Column("text", sa.Text),
    sa.Column("saved_at", sa.String(40), nullable=False),
)
submissions = sa.Table(
    "serve_submissions",
    METADATA,
    sa.Column("exam", sa.String(64), primary_key=True),
    sa.Column("student", sa.String(200), primary_key=True),
    sa.Column("submitted_at", sa.String(40), nullable=False),
    sa.Column("how", sa.String(16), nullable=False),  # "final" or "deadline"
)

code_attempts = sa.Table(
    "serve_code_attempts",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("student", sa.String(200), nullable=False),
    sa.Column("assignment", sa.String(200), nullable=False),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("max_score", sa.Float, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
)

rate_limits = sa.Table(
    "serve_rate_limits",
    METADATA,
    sa.Column("student", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("recent", sa.Text, nullable=False),
)

_MIGRATIONS = Path(__file__).parent / "migrations"


def connect(url: str, *, migrations: bool = True) -> sa.Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql://...``), migrated to the
    newest serve schema (``migrations=False``: a server's worker process, whose parent migrated
    it: Alembic run from several processes at once would race). A ``postgresql://`` (or
    ``postgres://``) URL is driven by psycopg 3, as the gradebook is (SQLAlchemy would pick
    psycopg2 for it)."""
    from quizgen.graders.gradebook_sql import DIALECTS, POSTGRESQL

    scheme, sep, rest = url.partition("://")
    if sep and DIALECTS.get(scheme.lower()) is POSTGRESQL:  # the gradebook's names for it
        url = f"postgresql+psycopg://{rest}"
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise ValueError(
            f"--database {_shown(url)!r}: {exc}; write sqlite:///path/to/file.sqlite or "
            "postgresql://user@host/dbname (PostgreSQL needs: pip install 'quizgen[postgres]')"
        ) from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        if engine.url.database:
            Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    if migrations:
        migrate(engine)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Each new SQLite connection (the pool keeps and reuses them): write-ahead logging, so
    pages are read while a submit writes (the gradebook uses it too); ``synchronous=NORMAL``,
    durable against a killed process without a disk flush per autosave; wait up to 10 s for
    another writer instead of failing with "database is locked"."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def migrate(engine: sa.Engine) -> None:
    """Run Alembic's ``upgrade head`` on ``engine`` (idempotent), then make the practice secret."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.begin() as conn:
        if conn.execute(sa.select(meta.c.value).where(meta.c.key == "practice_secret")).first() is None:
            conn.execute(sa.insert(meta).values(key="practice_secret", value=secrets.token_hex(32)))


def secret(engine: sa.Engine) -> bytes:
    """The server-side secret practice seeds are derived from (made by :func:`migrate`)."""
    with engine.connect() as conn:
        value = conn.execute(sa.select(meta.c.value).where(meta.c.key == "practice_secret")).scalar_one()
    return bytes.fromhex(value)


def gradebook_path(engine: sa.Engine, given: str | Path | None) -> str | Path:
    """Where the gradebook is (:mod:`quizgen.graders.gradebook_sql`): ``given`` (a SQLite file
    or a ``postgresql://`` URL), else this database itself: its SQLite file, or its PostgreSQL
    database (as a ``postgresql://`` URL, password included, for psycopg)."""
    if given is not None:
        return given
    url = engine.url
    if engine.dialect.name == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database)
    if engine.dialect.name == "postgresql":
        return url.set(drivername="postgresql").render_as_string(hide_password=False)
    raise ValueError(
        f"--database {url.render_as_string(hide_password=True)}: the gradebook needs a SQLite file or "
        "a PostgreSQL database; pass --gradebook PATH for it (the serve tables stay in this database)"
    )


def _shown(url: str) -> str:
    from quizgen.graders.gradebook_sql import shown

    return shown(url)
