"""What a submission hands the grader, made safe to handle: its text and its files.

Text: everything a submission can put into a result (printed output, exception types and
messages, traceback lines, function and type names, file names) goes through :func:`clean_text`
where it enters the parent's results, so that no student's bytes can stop the writers or break
an output file for the whole class:

- valid Unicode that encodes as UTF-8 (a lone surrogate becomes U+FFFD);
- no control characters but newline and tab: C0 (NUL, ESC, ...), DEL and C1 become a visible
  escape such as ``\\x1b``, and so do bidirectional overrides (which make text read backwards);
- only characters XML 1.0 allows (so also no U+FFFE/U+FFFF), so junit.xml stays valid;
- at most ``limit`` characters, with a note of how many more there were.

Files: :func:`find_submissions` lists a class's folder and :func:`read_submission` reads one file
without ever following a symbolic link (the grader may run as root, and a link could name a file
only root may read, or a huge one). Only regular files are read, their size is checked on the
open file before reading, and at most :data:`MAX_SOURCE_BYTES` + 1 bytes are read. A link, a
FIFO, a device, a socket, or a folder that is a link is refused with a sentence saying why, and
that submission is still listed (with the reason) so every hand-in appears in the grades.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from .sandbox import MAX_SOURCE_BYTES

__all__ = [
    "MAX_ENTRIES",
    "MAX_SOURCE_BYTES",
    "MAX_TEXT",
    "Refused",
    "Submission",
    "clean_text",
    "find_submissions",
    "pick_file",
    "read_submission",
]

#: Characters of one text kept by default (feedback, a message, printed output).
MAX_TEXT = 20_000
#: Entries looked at in one student's folder (all depths) before it is refused.
MAX_ENTRIES = 2000
_MAX_DEPTH = 8

_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_ESCAPES = {
    c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    for c in [*range(0x00, 0x20), *range(0x7F, 0xA0), *_BIDI]
    if c not in (0x09, 0x0A)
}
_ESCAPES[0x0D] = ""  # a carriage return (Windows line ends) is dropped, not shown
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")  # lone surrogates and XML's two non-characters


def clean_text(text: object, limit: int | None = MAX_TEXT) -> str:
    """``text`` (anything; non-strings become their ``str``) as safe text: valid UTF-8, no control
    characters but newline and tab, XML-1.0-legal, at most ``limit`` characters (None: no cap)."""
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:  # a hostile __str__; the parent never calls one, but be sure
            text = f"<{type(text).__name__}>"
    if limit is not None and len(text) > 4 * limit:
        text = text[: 4 * limit]  # escapes can only lengthen; cut early so huge input stays cheap
    text = _NOT_XML.sub("\ufffd", text.translate(_ESCAPES))
    if limit is not None and len(text) > limit:
        text = text[:limit] + f" ... [{len(text) - limit} more characters not shown]"
    return text


# ---------------------------------------------------------------------------------------------
# files


class Refused(ValueError):
    """A submission that is not read: the message says why, in a sentence for the student."""


@dataclass(frozen=True)
class Submission:
    """One hand-in found in a class's folder: the student's id (the file's or folder's name,
    cleaned), the file to grade, and ``refused``: why there is nothing to grade ("" if there is)."""

    student: str
    path: Path
    refused: str = ""


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _not_regular(name: str, mode: int) -> str:
    what = _kind(mode)
    if stat.S_ISLNK(mode):
        return f"{clean_text(name, 200)} is a symbolic link, which the grader does not follow: hand in the file itself"
    return f"{clean_text(name, 200)} is {what}, not a regular file: hand in the file itself"


def read_submission(path: str | os.PathLike, *, root: str | os.PathLike | None = None) -> bytes:
    """The bytes of the regular file ``path``, read without following any symbolic link: the
    file itself and, when ``root`` is given, every folder between ``root`` and it. Raises
    :class:`Refused` (a link, not a regular file, too large, unreadable)."""
    path = Path(path)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
    dir_fd = None
    name: str | Path = path
    try:
        if root is not None:
            parts = path.relative_to(root).parts
            dir_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            for part in parts[:-1]:
                fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
                os.close(dir_fd)
                dir_fd = fd
            name = parts[-1]
        try:
            fd = os.open(name, flags, dir_fd=dir_fd)
        except OSError as exc:
            try:
                mode = os.lstat(name, dir_fd=dir_fd).st_mode
            except OSError:
                mode = None
            if mode is not None and not stat.S_ISREG(mode):
                raise Refused(_not_regular(path.name, mode)) from None
            raise Refused(f"your file could not be read ({exc.strerror})") from None
    except OSError as exc:  # a folder on the way that is a link (ELOOP/ENOTDIR) or is gone
        raise Refused(
            f"your file could not be read: a folder on its path is a link or is missing ({exc.strerror})"
        ) from None
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(_not_regular(path.name, info.st_mode))
        if info.st_size > MAX_SOURCE_BYTES:
            raise Refused(f"your file is larger than {MAX_SOURCE_BYTES} bytes ({info.st_size} bytes)")
        chunks, left = [], MAX_SOURCE_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > MAX_SOURCE_BYTES:  # it grew after fstat
            raise Refused(f"your file is larger than {MAX_SOURCE_BYTES} bytes")
        return data
    except OSError as exc:
        raise Refused(f"your file could not be read ({exc.strerror})") from None
    finally:
        os.close(fd)


def _walk(folder: Path) -> tuple[list[Path], str]:
    """The ``.py`` regular files under ``folder`` (hidden names skipped, links never followed),
    or the reason the folder is refused (a link or special file in it, too many entries)."""
    found: list[Path] = []
    seen = 0
    stack = [(folder, 0)]
    while stack:
        where, depth = stack.pop()
        try:
            with os.scandir(where) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            return [], f"the folder {clean_text(where.name, 200)} could not be read ({exc.strerror})"
        for entry in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                return (
                    [],
                    f"more than {MAX_ENTRIES} files and folders in the submission: hand in only your code",
                )
            if entry.name.startswith(".") or entry.name == "__pycache__":
                continue
            rel = Path(entry.path).relative_to(folder).as_posix()
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                if depth + 1 >= _MAX_DEPTH:
                    return [], f"folders nested deeper than {_MAX_DEPTH} levels in the submission"
                stack.append((Path(entry.path), depth + 1))
            elif stat.S_ISREG(mode):
                if entry.name.endswith(".py"):
                    found.append(Path(entry.path))
            else:
                return [], _not_regular(rel, mode)
    return sorted(found), ""


def pick_file(folder: str | os.PathLike, assignment_id: str) -> tuple[Path | None, str]:
    """The one Python file to grade in a student's folder (the only ``.py`` file, or the only one
    named ``<assignment_id>.py``), and "" ; or None and why not."""
    folder = Path(folder)
    files, refused = _walk(folder)
    if refused:
        return None, refused
    if len(files) == 1:
        return files[0], ""
    named = [p for p in files if p.name == f"{assignment_id}.py"]
    if len(named) == 1:
        return named[0], ""
    return None, (
        f"no single Python file to grade in {clean_text(folder.name, 200) or folder}: "
        f"submit one .py file (or one named {assignment_id}.py)"
    )


def find_submissions(folder: str | os.PathLike, assignment_id: str) -> list[Submission]:
    """Every hand-in in a class's folder, in name order: ``<student>.py`` files and
    ``<student>/`` folders (see :func:`pick_file`). Hidden names and other regular files (notes,
    a CSV) are skipped; anything else (a link, a FIFO, a device, ...) is listed, refused."""
    folder = Path(folder)
    out = []
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        mode = entry.stat(follow_symlinks=False).st_mode
        path = Path(entry.path)
        stem = entry.name[:-3] if entry.name.endswith(".py") and len(entry.name) > 3 else entry.name
        student = clean_text(stem, 200)
        if stat.S_ISREG(mode):
            if entry.name.endswith(".py"):
                out.append(Submission(student, path))
        elif stat.S_ISDIR(mode):
            chosen, why = pick_file(path, assignment_id)
            out.append(Submission(student, chosen or path, why))
        else:
            out.append(Submission(student, path, _not_regular(entry.name, mode)))
    return out
