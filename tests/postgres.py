"""A throwaway PostgreSQL server for the tests that need one (the gradebook and the serve tables on
PostgreSQL, several serve workers on one database).

:func:`start` runs ``initdb`` and ``pg_ctl`` (Debian's ``postgresql`` package, which ``.ci/run``
installs) on a temporary folder, listening on a Unix socket in that folder only (no TCP port, so
parallel test workers never collide), with fsync off (the data is thrown away). As root, the
server runs as the ``postgres`` user, since PostgreSQL refuses to run as root. Set
``QUIZGEN_TEST_POSTGRES`` to a server URL (``postgresql://user@host/db``) to use an existing
server instead. Where neither is available, :func:`start` raises :class:`Unavailable` saying why,
and the fixtures skip with that reason.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Server", "Unavailable", "start"]


class Unavailable(RuntimeError):
    """No PostgreSQL server can be started here (the message says why)."""


@dataclass(frozen=True)
class Server:
    """A running server: ``url`` of its ``postgres`` database; :meth:`new_database` makes an empty one."""

    url: str
    socket_dir: str | None  # None: a server given by QUIZGEN_TEST_POSTGRES
    data_dir: str | None

    def database_url(self, name: str) -> str:
        if self.socket_dir is None:
            base, _, _ = self.url.rpartition("/")
            return f"{base}/{name}"
        return f"postgresql://postgres@/{name}?host={self.socket_dir}"

    def new_database(self) -> str:
        """Create an empty database with a fresh name; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def stop(self) -> None:
        if self.data_dir is None:
            return
        _as_postgres([_binary("pg_ctl"), "-D", self.data_dir, "-m", "immediate", "stop"], check=False)
        shutil.rmtree(Path(self.data_dir).parent, ignore_errors=True)


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise Unavailable(f"no {name}: install PostgreSQL (Debian: apt-get install postgresql)")
    return candidates[-1]


def _as_postgres(cmd: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:  # PostgreSQL will not run as root
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=60)


def start() -> Server:
    """Start a server (or use ``QUIZGEN_TEST_POSTGRES``); raise :class:`Unavailable` if impossible."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise Unavailable("no psycopg: pip install 'psycopg[binary]' (in the test extra)") from None
    given = os.environ.get("QUIZGEN_TEST_POSTGRES")
    if given:
        return Server(url=given, socket_dir=None, data_dir=None)
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    root = tempfile.mkdtemp(prefix="quizgen-pg-")
    data = os.path.join(root, "data")
    if os.geteuid() == 0:
        try:
            shutil.chown(root, "postgres")
        except (LookupError, PermissionError) as exc:
            raise Unavailable(f"running as root and no postgres user to run the server as ({exc})") from None
    try:
        _as_postgres([initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
        _as_postgres(
            [
                pg_ctl,
                "-D",
                data,
                "-w",
                "-l",
                os.path.join(root, "log"),
                "-o",
                f"-k {root} -c listen_addresses='' -c fsync=off -c full_page_writes=off -c max_connections=200",
                "start",
            ]
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        detail = getattr(exc, "stderr", "") or str(exc)
        raise Unavailable(
            f"could not start PostgreSQL: {detail.strip().splitlines()[-1] if detail.strip() else exc}"
        ) from None
    return Server(url=f"postgresql://postgres@/postgres?host={root}", socket_dir=root, data_dir=data)
