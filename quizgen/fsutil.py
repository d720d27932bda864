"""Reading and writing files safely.

Writing: a crash never leaves a file half-written (temp file, fsync, rename).

Reading text (:func:`read_text`, :func:`decode_text`; every input file, responses included):
quizgen reads UTF-8, with or without a byte-order mark, and UTF-16 or UTF-32 with a byte-order
mark (what Excel's "Unicode text" and Windows' Notepad write). UTF-16 without a byte-order mark
is recognised and refused by name. Nothing else is guessed: a legacy 8-bit file (cp1252 as Excel's plain "CSV" writes it, Latin-1) reads
as valid text in several encodings, each giving other names, so it is refused with the line and
byte offset of the first byte that is not UTF-8 and the fix (save as UTF-8).
"""

from __future__ import annotations

import codecs
import os
import tempfile
from pathlib import Path

from .errors import QuizgenError

#: The largest text file read by default (bank files, exam specs, rosters).
MAX_TEXT_BYTES = 16 * 2**20

_BOMS = (  # longest first: UTF-32's little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _place(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column of byte ``offset``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _looks_like_utf16(head: bytes) -> bool:
    """Mostly-ASCII UTF-16 without a byte-order mark: nearly every other byte is 0 (the high
    bytes), and almost none of the rest."""
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    zero_even, zero_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    return (zero_odd >= 0.75 and zero_even < 0.1) or (zero_even >= 0.75 and zero_odd < 0.1)


def decode_text(
    data: bytes,
    source: str,
    *,
    error: type[QuizgenError] = QuizgenError,
    what: str = "file",
    fix: str = "save it as UTF-8",
) -> str:
    """``data`` as text: UTF-8 (with or without a byte-order mark), or UTF-16/32 with one.
    Anything else raises ``error`` as one line naming ``source``, the line and the byte, and
    ``fix``: a legacy 8-bit file, UTF-16 without a byte-order mark, a binary file (NUL bytes)."""
    encoding, body = "utf-8", data
    for bom, name in _BOMS:
        if data.startswith(bom):
            encoding, body = name, data[len(bom) :]
            break
    if encoding == "utf-8" and b"\0" in body:
        nul = body.index(b"\0")
        line, column = _place(body, nul)
        if _looks_like_utf16(body[:400]):
            raise error(f"UTF-16 text without a byte-order mark; {fix}", source=f"{source}:1")
        raise error(
            f"a binary file, not a text {what} (a NUL byte at byte offset {nul}, line {line}, column {column}); {fix}",
            source=f"{source}:{line}",
        )
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            line = body[: exc.start].decode(encoding, errors="replace").count("\n") + 1
            raise error(
                f"not valid {encoding.upper()} text (byte {exc.start} after the byte-order mark); {fix}",
                source=f"{source}:{line}",
            ) from None
        line, column = _place(body, exc.start)
        raise error(
            f"not UTF-8 text: byte 0x{body[exc.start]:02x} at byte offset {exc.start} (line {line}, column "
            f"{column}; an Excel/Windows encoding such as cp1252 or Latin-1?); {fix}",
            source=f"{source}:{line}",
        ) from None
    if "\0" in text:  # UTF-16 or UTF-32 text with a NUL character
        line = text.count("\n", 0, text.index("\0")) + 1
        raise error(f"a binary file, not a text {what} (a NUL character); {fix}", source=f"{source}:{line}")
    return text


def read_text(
    path: str | Path,
    *,
    error: type[QuizgenError] = QuizgenError,
    what: str = "file",
    fix: str = "save it as UTF-8",
    max_bytes: int = MAX_TEXT_BYTES,
) -> str:
    """The text of ``path`` (UTF-8, UTF-8 with BOM, or UTF-16 with BOM; see the module
    docstring). Anything else raises ``error`` as one line naming the file, line and byte
    offset and ``fix``; so does a file larger than ``max_bytes``, a folder, or a binary file
    (NUL bytes)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise error(f"expected a {what}, got a folder", source=str(path))
        if size > max_bytes:
            raise error(
                f"the {what} is {size:,} bytes, more than the {max_bytes:,} quizgen reads; is it the right file?",
                source=str(path),
            )
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read the {what} ({exc.strerror})", source=str(path)) from None
    return decode_text(data, str(path), error=error, what=what, fix=fix)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (the old file stays whole until the rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


#: The longest file stem made from a student id, in UTF-8 bytes: a file system's name limit is
#: 255 bytes, and room is left for an extension, a "-N" to keep names distinct and
#: :func:`atomic_write_bytes`'s temporary name (".<name>.XXXXXXXX.tmp").
MAX_STEM_BYTES = 120


_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{d}{i}" for d in ("COM", "LPT") for i in range(1, 10)}
)


def student_file_stem(student_id: str, taken: set[str], *, keep: str = "-_.") -> str:
    """A file stem for ``student_id`` unlike every stem already given out with ``taken`` (the
    caller's set, which holds them case-folded; the new one is added).

    Characters other than letters, digits and ``keep`` become "_", leading dots go (no hidden
    or ``..`` names), a Windows device name ("CON", "nul", "COM1") gets a "_" in front, and
    "-2", "-3", ... is appended until the stem differs from every taken one, ignoring case (as a
    macOS or Windows disk does); with its number, a stem is at most :data:`MAX_STEM_BYTES` long.
    """
    name = "".join(c if c.isalnum() or c in keep else "_" for c in student_id).lstrip(".") or "student"
    if name.split(".")[0].upper() in _WINDOWS_DEVICES:  # "CON.html" cannot be made on Windows
        name = "_" + name
    raw = name.encode("utf-8")
    k = 1
    name = raw[:MAX_STEM_BYTES].decode("utf-8", "ignore")
    while name.casefold() in taken:
        k += 1
        suffix = f"-{k}"
        name = raw[: MAX_STEM_BYTES - len(suffix)].decode("utf-8", "ignore") + suffix
    taken.add(name.casefold())
    return name
