"""The instructor's key for hidden cases: where it comes from, and the seeds drawn from it.

Hidden cases must be unknown to a student even one who holds the assignment spec and quizgen
itself (both are public in a GitHub Classroom template, and quizgen's API can draw any case from
public seeds). So a hidden case's seed is keyed by a secret that never reaches the student::

    seed = (first 8 bytes of HMAC-SHA256(key, JSON [assignment id, test id, kind, index, student id])) >> 1

The key is the text of a key file (``--key-file``; inside Gradescope's autograder.zip, where the
student's code cannot read it) or of the environment variable :data:`ENV` (a GitHub Actions
secret). Make one with ``python -c "import secrets; print(secrets.token_hex(32))" > hidden.key``
and keep it with the course's private files: the same key draws the same hidden cases, so a
regrade needs it, and anyone who has it can compute every student's hidden cases.

Without a key, hidden cases cannot be drawn: the commands that would run them stop with a
one-line error saying so (:class:`MissingHiddenKey`) rather than fall back to public seeds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from pathlib import Path

from quizgen.errors import SpecError

__all__ = ["ENV", "MIN_KEY_CHARS", "MissingHiddenKey", "hidden_seed", "load_hidden_key", "make_key"]

#: The environment variable holding the key when no key file is given.
ENV = "QUIZGEN_HIDDEN_KEY"
#: The shortest key accepted (a 32-hex-digit key has 128 bits).
MIN_KEY_CHARS = 32
_MAX_KEY_BYTES = 4096


class MissingHiddenKey(SpecError):
    """Hidden cases were asked for and there is no instructor's key to draw them from."""


def make_key() -> str:
    """A fresh random key (64 hex digits, 256 bits)."""
    import secrets

    return secrets.token_hex(32)


def _checked(text: str, source: str) -> bytes:
    key = text.strip()
    if len(key) < MIN_KEY_CHARS:
        raise SpecError(
            f"the hidden-case key has {len(key)} characters; it needs at least {MIN_KEY_CHARS}: "
            'make one with python -c "import secrets; print(secrets.token_hex(32))"',
            source=source,
        )
    return key.encode("utf-8", "surrogateescape")


def load_hidden_key(
    key_file: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None
) -> bytes | None:
    """The key from ``key_file`` if given, else from the environment variable :data:`ENV`, else
    None. A key file that cannot be read or a key that is too short is a :class:`SpecError`."""
    if key_file is not None:
        path = Path(key_file)
        try:
            with open(path, "rb") as f:
                data = f.read(_MAX_KEY_BYTES + 1)
        except OSError as exc:
            raise SpecError(
                f"the hidden-case key file cannot be read ({exc.strerror})", source=str(path)
            ) from None
        if len(data) > _MAX_KEY_BYTES:
            raise SpecError(f"not a key file: longer than {_MAX_KEY_BYTES} bytes", source=str(path))
        return _checked(data.decode("utf-8", "surrogateescape"), str(path))
    environ = os.environ if environ is None else environ
    value = environ.get(ENV)
    if not value:
        return None
    return _checked(value, f"${ENV}")


def hidden_seed(key: bytes, *parts: object) -> int:
    """A 63-bit seed (like :func:`quizgen.seeding.stable_seed`'s) from the key and ``parts``."""
    message = json.dumps([str(p) for p in parts], ensure_ascii=True).encode("ascii")
    return int.from_bytes(hmac.new(key, message, hashlib.sha256).digest()[:8], "big") >> 1
