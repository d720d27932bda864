"""The sandbox's fork server, the child it forks for each submission, and their wire format.

This file runs as a plain script in its own interpreter (``python -I -S``, started by
:mod:`quizgen.graders.sandbox`), never as part of quizgen: it imports only the standard library
and NumPy, so a child forked from it holds nothing of the grader (no reference, no expected
values). The parent imports this file too, for the wire format, the one thing both sides share.

The server reads requests from a Unix socket: ``spawn`` (fork a child for one submission; the
child's end of a fresh socket pair arrives with the request as SCM_RIGHTS), ``wait`` (reap a
child, report how it ended) and ``sweep`` (kill every process of a sandbox uid). A child applies
its limits and isolation, imports the student's file from its own working directory, then
answers ``call`` requests on its socket until told to exit. It never trusts itself either: what
it sends is re-validated by the parent, which alone computes and writes results.

Frames: a 4-byte big-endian header length, a UTF-8 JSON header whose ``"blobs"`` lists the byte
lengths of the binary parts that follow (NumPy arrays as ``.npy`` bytes, never pickles).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import io
import json
import os
import resource
import select
import signal
import socket
import struct
import sys
import time
import traceback
import types
from dataclasses import dataclass

import numpy as np

# ---------------------------------------------------------------------------------------------
# wire format (shared by parent and child)

MAX_HEADER = 1 << 20  # bytes of JSON in one frame
MAX_DEPTH = 12  # nesting of tuples/lists/dicts in one value
MAX_NODES = 4096  # values in one frame
MAX_STR = 2000  # characters of a returned string kept
MAX_DIMS = 16


class WireError(Exception):
    """A frame or value that does not follow the wire format (from the child: bad output)."""


@dataclass(frozen=True)
class Opaque:
    """A returned value that is not data; only its type's name crosses the pipe."""

    type_name: str

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


@dataclass(frozen=True)
class Missing:
    """A part of a result that the grader asked for and that is not there (e.g. a short tuple)."""

    reason: str


@dataclass(frozen=True)
class Ref:
    """An argument that is an earlier call's result, or a part of it, kept inside the child.

    ``path`` indexes into the result: ints for tuple/list positions, strings for dict keys.
    """

    call: int
    path: tuple = ()


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _encode_array(value, blobs: list) -> dict:
    """An array's true values (base-class copy, C order, its own shape: a 0-d array stays 0-d;
    ``np.ascontiguousarray`` would make it shape (1,)). A 0-d array of a real number or a bool
    is what NumPy treats as a scalar, and goes as one, like ``np.float64``."""
    arr = np.array(value, copy=True, subok=False, order="C")
    if type(arr) is not np.ndarray or arr.dtype.fields is not None or arr.dtype.kind not in "biufc":
        return {"t": "object", "type": f"numpy array of dtype {arr.dtype}"[:100]}
    if arr.ndim == 0 and arr.dtype.kind == "b":
        return {"t": "bool", "v": bool(arr.item())}
    blobs.append(_npy_bytes(arr))
    return {"t": "scalar" if arr.ndim == 0 and arr.dtype.kind in "iuf" else "ndarray", "b": len(blobs) - 1}


def _scalar_array(value, kind) -> np.ndarray | None:
    """A 0-d array of a number's true value (base-class conversion: a subclass cannot lie)."""
    if issubclass(kind, (np.integer, np.floating)):
        arr = np.asarray(value)
    elif issubclass(kind, float):
        arr = np.asarray(float.__float__(value))
    else:
        v = int.__int__(value)
        arr = np.asarray(v) if -(2**63) <= v < 2**63 else None
    if arr is None or arr.shape != () or arr.dtype.kind not in "iuf":
        return None
    return arr


def encode(value, blobs: list, depth: int = 0) -> dict:
    """``value`` as a JSON-ready node; arrays and numbers go into ``blobs`` as .npy bytes.

    Anything that is not None, a bool, a number, an array, a str, a tuple/list or a dict with
    str keys is sent as its type's name only. Uses the real type (``type(v)``), not ``__class__``.
    """
    if depth > MAX_DEPTH:
        raise WireError("the value is nested too deeply")
    kind = type(value)
    if value is None:
        return {"t": "none"}
    if kind is Ref:
        return {"t": "ref", "call": int(value.call), "path": list(value.path)}
    if kind is Missing:
        return {"t": "missing", "reason": str(value.reason)[:300]}
    if kind is bool or kind is np.bool_:
        return {"t": "bool", "v": bool(value)}
    if issubclass(kind, (int, float, np.integer, np.floating)):
        arr = _scalar_array(value, kind)
        if arr is None:
            return {"t": "object", "type": f"{kind.__name__} out of range"[:100]}
        blobs.append(_npy_bytes(arr))
        return {"t": "scalar", "b": len(blobs) - 1}
    if issubclass(kind, np.ndarray):
        return _encode_array(value, blobs)
    if issubclass(kind, str):
        return {"t": "str", "v": str.__str__(value)[:MAX_STR]}
    if issubclass(kind, (tuple, list)):
        seq = tuple.__iter__(value) if issubclass(kind, tuple) else list.__iter__(value)
        items = []
        for item in seq:
            if len(items) >= MAX_NODES:
                raise WireError("the value has too many parts")
            items.append(encode(item, blobs, depth + 1))
        return {"t": "tuple" if issubclass(kind, tuple) else "list", "items": items}
    if kind is dict:
        pairs = []
        for k, v in dict.items(value):
            if type(k) is not str:
                return {"t": "object", "type": "dict with non-text keys"}
            pairs.append([k[:MAX_STR], encode(v, blobs, depth + 1)])
        return {"t": "dict", "items": pairs}
    return {"t": "object", "type": str(getattr(kind, "__name__", "object"))[:100]}


def _load_npy(data: bytes) -> np.ndarray:
    try:
        arr = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # any malformed .npy is bad output, whatever numpy raises
        raise WireError(f"an array could not be read ({type(exc).__name__})") from None
    if type(arr) is not np.ndarray or arr.dtype.fields is not None or arr.ndim > MAX_DIMS:
        raise WireError("an array is not a plain numeric array")
    return arr


class _Decoder:
    """Strict reader of a node tree; every check failure is a :class:`WireError`."""

    def __init__(self, blobs: list, resolve=None) -> None:
        self.blobs = blobs
        self.resolve = resolve  # Ref -> value (child side only); None: refs are refused
        self.nodes = 0

    def blob(self, node: dict) -> bytes:
        b = node.get("b")
        if type(b) is not int or not 0 <= b < len(self.blobs):
            raise WireError("a value points at a missing binary part")
        return self.blobs[b]

    def __call__(self, node, depth: int = 0):
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise WireError("the value is too large or nested too deeply")
        if type(node) is not dict or type(node.get("t")) is not str:
            raise WireError("a value is not tagged")
        reader = _READERS.get(node["t"])
        if reader is None:
            raise WireError(f"unknown value tag {node['t'][:20]!r}")
        return reader(self, node, depth)


def _read_none(d, node, depth):
    return None


def _read_bool(d, node, depth):
    if type(node.get("v")) is not bool:
        raise WireError("a bool value is not true or false")
    return node["v"]


def _read_scalar(d, node, depth):
    arr = _load_npy(d.blob(node))
    if arr.shape != () or arr.dtype.kind not in "iuf":
        raise WireError("a number is not a single integer or float")
    return arr.item()


def _read_ndarray(d, node, depth):
    arr = _load_npy(d.blob(node))
    if arr.dtype.kind not in "biufc":
        raise WireError("an array is not numeric")
    return arr


def _items(node) -> list:
    items = node.get("items")
    if type(items) is not list:
        raise WireError("a sequence has no item list")
    return items


def _read_tuple(d, node, depth):
    return tuple(d(item, depth + 1) for item in _items(node))


def _read_list(d, node, depth):
    return [d(item, depth + 1) for item in _items(node)]


def _read_dict(d, node, depth):
    out = {}
    for pair in _items(node):
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
            raise WireError("a dict entry is malformed")
        out[pair[0][:MAX_STR]] = d(pair[1], depth + 1)
    return out


def _read_str(d, node, depth):
    if type(node.get("v")) is not str:
        raise WireError("a text value is not text")
    return node["v"][:MAX_STR]


def _read_object(d, node, depth):
    name = node.get("type")
    return Opaque(name[:100] if type(name) is str else "object")


def _read_missing(d, node, depth):
    reason = node.get("reason")
    return Missing(reason[:300] if type(reason) is str else "missing")


def _read_ref(d, node, depth):
    call, path = node.get("call"), node.get("path")
    if d.resolve is None or type(call) is not int or type(path) is not list:
        raise WireError("a reference is not allowed here")
    return d.resolve(Ref(call, tuple(path)))


_READERS = {
    "none": _read_none,
    "bool": _read_bool,
    "scalar": _read_scalar,
    "ndarray": _read_ndarray,
    "tuple": _read_tuple,
    "list": _read_list,
    "dict": _read_dict,
    "str": _read_str,
    "object": _read_object,
    "missing": _read_missing,
    "ref": _read_ref,
}


def decode(node, blobs: list, resolve=None):
    """The value a node tree describes; ``resolve`` turns a :class:`Ref` into a value (child only)."""
    return _Decoder(blobs, resolve)(node)


def pick(value, path):
    """``value[path[0]][path[1]]...`` over tuples, lists, dicts and named tuples, or a
    :class:`Missing` saying where the path broke ("expected a tuple, got ndarray")."""
    for key in path:
        if value is None:
            return Missing("returned None (a missing return statement?)")
        kind = type(value)
        if type(key) is int and issubclass(kind, (tuple, list)):
            n = len(value)
            if not -n <= key < n:
                return Missing(f"expected at least {key + 1} returned values, got {n}")
            value = value[key]
        elif type(key) is str and kind is dict:
            if key not in value:
                return Missing(f"the returned dict has no key {key!r}")
            value = value[key]
        elif type(key) is str and key in getattr(kind, "_fields", ()):
            value = getattr(value, key)
        else:
            want = "a tuple" if type(key) is int else f"a dict with key {key!r}"
            return Missing(f"expected {want}, got {getattr(kind, '__name__', 'object')}")
    return value


def _recv_exact(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("timed out")
            sock.settimeout(remaining)
        else:
            sock.settimeout(None)
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        buf += chunk
    return bytes(buf)


def read_frame(sock: socket.socket, *, deadline: float | None = None, max_bytes: int = 1 << 30):
    """One frame: ``(header dict, [blob bytes, ...])``. Raises EOFError, TimeoutError, WireError."""
    (size,) = struct.unpack(">I", _recv_exact(sock, 4, deadline))
    if size > MAX_HEADER:
        raise WireError(f"a message header of {size} bytes is too large")
    try:
        header = json.loads(_recv_exact(sock, size, deadline).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WireError("a message header is not valid JSON") from None
    if type(header) is not dict:
        raise WireError("a message header is not an object")
    sizes = header.get("blobs", [])
    if type(sizes) is not list or any(type(s) is not int or s < 0 for s in sizes):
        raise WireError("a message lists invalid binary parts")
    if sum(sizes) > max_bytes:
        raise WireError(f"the result is larger than the limit of {max_bytes} bytes")
    return header, [_recv_exact(sock, s, deadline) for s in sizes]


def write_frame(sock: socket.socket, header: dict, blobs: list = ()) -> None:
    """Send one frame (blocking)."""
    header = dict(header, blobs=[len(b) for b in blobs])
    data = json.dumps(header, allow_nan=False).encode("utf-8")
    sock.settimeout(None)
    sock.sendall(struct.pack(">I", len(data)) + data)
    for b in blobs:
        sock.sendall(b)


# ---------------------------------------------------------------------------------------------
# Linux isolation primitives (ctypes; each may be unavailable)

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = (
    1024,
    2048,
    4096,
    16384,
    1 << 18,
    1 << 21,
)
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 36, 38
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = None


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _function(name: str):
    """A libc function, or OSError(ENOSYS) where the system has none (macOS has no unshare)."""
    try:
        return getattr(libc(), name)
    except AttributeError:
        raise OSError(errno.ENOSYS, f"{name}: not available on this system") from None


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_function("unshare")(ctypes.c_int(flags)), "unshare")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [None if s is None else s.encode() for s in (source, target, fstype, data)]
    _check(_function("mount")(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]), f"mount {target}")


def prctl(option: int, arg: int) -> None:
    _check(_function("prctl")(ctypes.c_int(option), ctypes.c_ulong(arg), 0, 0, 0), "prctl")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_capabilities() -> None:
    """Empty this process's capability sets (the ones a user namespace's creator holds in it)."""
    header, data = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _check(_function("capset")(ctypes.byref(header), data), "capset")


# ---------------------------------------------------------------------------------------------
# the child: one submission

#: Modules imported by the server before forking, so a submission has them at no cost (any other
#: standard-library module is imported from the read-only standard library in its view).
PRELOADED = (
    "numpy", "numpy.linalg", "numpy.random", "numpy.fft", "numpy.lib.stride_tricks", "numpy.testing",
    "math", "cmath", "itertools", "functools", "collections", "collections.abc", "typing",
    "dataclasses", "operator", "copy", "numbers", "random", "time", "warnings", "types", "abc",
    "enum", "string", "re", "heapq", "bisect", "statistics", "fractions", "decimal", "traceback",
    "linecache", "textwrap", "contextlib", "json", "glob", "fnmatch", "pkgutil", "multiprocessing",
    "threading", "pathlib", "tempfile", "shutil", "io", "struct", "array", "pickle", "csv", "gzip",
    "hashlib", "base64", "datetime", "pprint", "inspect", "argparse", "logging", "unittest",
)  # fmt: skip

SANDBOX_UID_BASE = 1_000_000_000  # uid = base + child pid: one uid per child, never reused at once


class _Capture(io.TextIOBase):
    """sys.stdout/sys.stderr for the submission: keeps the first ``cap`` characters of each call."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, s) -> int:
        s = str(s)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(s[:room])
        self.size += min(len(s), max(room, 0))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def take(self) -> tuple[str, int]:
        text, dropped = "".join(self.parts), self.dropped
        self.parts, self.size, self.dropped = [], 0, 0
        return text, dropped


class _BlockQuizgen:
    """A meta-path finder that refuses quizgen (one layer of several; see the parent's notes)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "quizgen" or name.startswith("quizgen."):
            raise ModuleNotFoundError(f"No module named {name!r} (not available to submissions)", name=name)
        return None


def _count_tasks(uid: int) -> int:
    """Tasks (processes and threads) whose real uid is ``uid``: what RLIMIT_NPROC counts."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                status = f.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            total += int(fields.get("Threads", "1").strip() or 1)
    return total


def _vm_size() -> int:
    """This process's mapped size in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# What the child's filesystem holds (set once by :func:`serve`, see :func:`view_plan`).
_VIEW: list[tuple] = []

# Size and inode caps of the child's own tmpfs mounts: an inode costs the host kernel memory
# whether or not the file holds data, so both are capped.
TMP_INODES = 2048
SHM_INODES = 64
_ROOT_TMPFS = "size=256k,nr_inodes=512,mode=755"
_EMPTY_TMPFS = "size=16k,nr_inodes=64,mode=755"
_HIDDEN_TMPFS = "size=4k,nr_inodes=2,mode=000"
_DEVICES = ("null", "zero", "random", "urandom")


def view_plan(numpy_dir: str) -> list[tuple]:
    """The child's filesystem, as steps: ``("bind", path)`` read-only, ``("link", path, target)``
    a symlink, ``("empty", path)`` an empty read-only folder over a bound one.

    It holds the system folders (the interpreter's and NumPy's shared libraries), the standard
    library, and of every site-packages folder only NumPy: not the grader's code, the
    assignment, the solutions, other students' files or any host folder anyone can write to.
    """
    import sysconfig

    plan: list[tuple] = []
    bound: list[str] = []

    def under(path: str, roots) -> bool:
        return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)

    def bind(path: str) -> None:
        path = os.path.realpath(path)
        if os.path.exists(path) and not under(path, bound):
            plan.append(("bind", path))
            bound.append(path)

    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            plan.append(("link", top, os.readlink(top)))
        elif os.path.isdir(top):
            bind(top)
    bind("/etc/ld.so.cache")
    libdir = sysconfig.get_config_var("LIBDIR")  # e.g. conda's lib/, with the BLAS NumPy loads lazily
    if libdir and os.path.isdir(libdir):
        bind(libdir)
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib"):  # the base interpreter's (a venv's lib/ holds only packages)
        bind(sysconfig.get_paths(vars=base)[key])
    numpy_dir = os.path.realpath(numpy_dir)
    sites = {numpy_dir}
    for paths in (sysconfig.get_paths(), sysconfig.get_paths(vars=base)):
        sites.update(os.path.realpath(paths[k]) for k in ("purelib", "platlib"))
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")):
            sites.add(os.path.realpath(entry))
    for site in sorted(sites):
        if os.path.isdir(site) and under(site, bound):
            plan.append(("empty", site))
    for name in ("numpy", "numpy.libs"):
        path = os.path.join(numpy_dir, name)
        if os.path.isdir(path):
            plan.append(("bind", path))
    return plan


def _mount_flags(path: str) -> int:
    """The flags a read-only bind of ``path`` must keep (a user namespace may not clear them)."""
    st = os.statvfs(path).f_flag
    flags = MS_NOSUID | MS_NODEV
    for st_bit, ms_bit in ((8, MS_NOEXEC), (1024, MS_NOATIME), (2048, MS_NODIRATIME), (4096, MS_RELATIME)):
        if st & st_bit:
            flags |= ms_bit
    return flags


def _touch(path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a"):
        pass


def _build_view(new: str, hide, size_mb: int) -> int:
    """Build the child's filesystem in a fresh tmpfs at ``new`` and make it the root (this
    process must be in its own mount namespace); returns how many grader paths were hidden."""
    mount("none", "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, _ROOT_TMPFS)
    read_only = ["/"]
    # the private /tmp and /dev/shm first: a folder bound below comes on top of them (Python or
    # NumPy in a virtual environment under /tmp, as mktemp -d makes on a CI runner)
    tmpfs = MS_NOSUID | MS_NODEV
    os.makedirs(f"{new}/dev/shm")
    mount("tmpfs", f"{new}/dev/shm", "tmpfs", tmpfs, f"size={size_mb}m,nr_inodes={SHM_INODES},mode=1777")
    os.makedirs(f"{new}/tmp")
    mount("tmpfs", f"{new}/tmp", "tmpfs", tmpfs, f"size={size_mb}m,nr_inodes={TMP_INODES},mode=1777")
    for step in _VIEW:
        kind, path = step[0], step[1]
        target = new + path
        if kind == "link":
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(step[2], target)
        elif kind == "empty":
            mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, _EMPTY_TMPFS)
            read_only.append(path)
        else:
            if os.path.isdir(path):
                os.makedirs(target, exist_ok=True)
            else:
                _touch(target)
            mount(path, target, None, MS_BIND | MS_REC)
            mount("none", target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _mount_flags(path))
    for dev in _DEVICES:
        _touch(f"{new}/dev/{dev}")
        mount(f"/dev/{dev}", f"{new}/dev/{dev}", None, MS_BIND)
    hidden = 0
    for path in hide:  # grader paths that fall inside a bound folder (e.g. a system-wide install)
        target = new + path
        if os.path.isdir(target) and not os.path.islink(target):
            mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, _HIDDEN_TMPFS)
        elif os.path.lexists(target) and not os.path.islink(target):
            mount(f"{new}/dev/null", target, None, MS_BIND)
        else:
            continue
        hidden += 1
    # chroot, not pivot_root: unmounting the old root costs an RCU grace period (milliseconds on
    # a busy machine) per submission. A chroot is escapable only with CAP_SYS_CHROOT, which the
    # submission has not (its uid is dropped or its capabilities emptied) and cannot get from a
    # user namespace of its own: the kernel refuses to create one for a chrooted process.
    os.chroot(new)
    os.chdir("/")
    for path in read_only:
        mount("none", path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return hidden


def _map_user(uid: int, gid: int) -> None:
    """Map this process's user and group to themselves in its new user namespace."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


@dataclass
class _Env:
    """What the supervisor set up for the submission's process."""

    report: dict
    root: bool
    uid: int | None  # the sandbox uid to drop to (root only)
    workdir: str
    userns: bool = False
    pidns: bool = False
    vm_size: int = 0
    tasks: int = 0


#: The layers whose absence makes the child refuse to run student code (unless allowed):
#: option that asks for it -> the layer's name in the report.
ESSENTIAL = (
    ("private_tmp", "filesystem view"),
    ("private_network", "no network"),
    (None, "own pid namespace"),
)


def _enter(req: dict) -> _Env:
    """In the supervisor (forked by the server): own session, namespaces, filesystem view."""
    opts = req["options"]
    applied: list[str] = []
    unavailable: dict[str, str] = {}
    root = os.geteuid() == 0
    os.setsid()
    applied.append("own process group")
    uid, gid = os.getuid(), os.getgid()
    env = _Env({"applied": applied, "unavailable": unavailable}, root, None, req["workdir"])
    env.vm_size = _vm_size()
    if root and opts.get("drop_user", True):
        env.uid = SANDBOX_UID_BASE + os.getpid()

    # a pid namespace keeps the submission from signalling the grader and its other processes;
    # as root its own uid does that already, and a pid namespace would cost two more processes
    wanted = {"own pid namespace": CLONE_NEWPID} if env.uid is None else {}
    if opts.get("private_network", True):
        wanted["no network"] = CLONE_NEWNET
    else:
        unavailable["no network"] = "turned off"
    if opts.get("private_tmp", True):
        wanted["filesystem view"] = CLONE_NEWNS | CLONE_NEWIPC
    else:
        for layer in ("filesystem view", "private /tmp", "hidden grader files"):
            unavailable[layer] = "turned off"
    flags = 0
    for bits in wanted.values():
        flags |= bits
    try:
        if root:
            unshare(flags)
        else:  # an unprivileged user may have these inside a user namespace of its own
            prctl(PR_SET_DUMPABLE, 1)  # else /proc/self/uid_map belongs to root
            unshare(flags | CLONE_NEWUSER)
            _map_user(uid, gid)
            prctl(PR_SET_DUMPABLE, 0)
            env.userns = True
            applied.append("user namespace")
    except OSError as exc:
        why = str(exc) if root else f"no user namespace for an unprivileged user ({exc})"
        if not root:  # the process limit then counts this user's processes (slow: all of /proc)
            with contextlib.suppress(OSError):
                env.tasks = _count_tasks(uid)
        for layer in wanted:
            unavailable[layer] = why
        if "filesystem view" in wanted:
            unavailable["private /tmp"] = unavailable["hidden grader files"] = why
        return env
    env.pidns = "own pid namespace" in wanted
    applied.extend(layer for layer in wanted if layer != "filesystem view")
    if "filesystem view" in wanted:
        size_mb = max(1, int(req["limits"]["file_size_mb"]))
        try:
            hidden = _build_view(req["workdir"], req.get("hide", []), size_mb)
        except OSError as exc:
            for layer in ("filesystem view", "private /tmp", "hidden grader files"):
                unavailable[layer] = str(exc)
        else:
            applied.extend(("filesystem view", "private /tmp", f"hidden grader files ({hidden})"))
            env.workdir = "/tmp/submission"
    return env


def refusal(report: dict, opts: dict) -> str:
    """Why untrusted code must not run with these layers missing ("" when it may run; a pid
    namespace is not asked for where the submission gets a uid of its own)."""
    if opts.get("allow_unsandboxed"):
        return ""
    missing = [
        f"{layer} ({report['unavailable'][layer]})"
        for option, layer in ESSENTIAL
        if (option is None or opts.get(option, True)) and layer in report["unavailable"]
    ]
    return "; ".join(missing)


def _setup(req: dict, env: _Env) -> str:
    """In the submission's process: its folder, limits and user; returns its working dir."""
    limits = req["limits"]
    applied, unavailable = env.report["applied"], env.report["unavailable"]
    root, uid = env.root, env.uid
    workdir = env.workdir
    if workdir != req["workdir"]:
        os.mkdir(workdir, 0o700)
    name = req["name"]
    with open(os.path.join(workdir, name), "wb") as f:
        f.write(req["source"])
    if uid is not None:
        for p in (workdir, os.path.join(workdir, name)):
            os.chown(p, uid, uid)
    os.chdir(workdir)

    # limits (the address-space limit counts what is already mapped: NumPy, the interpreter)
    seconds, file_bytes = int(limits["submission_seconds"]), int(limits["file_size_mb"] * 2**20)
    rl = {
        "CPU time": (resource.RLIMIT_CPU, seconds + 1, seconds + 2),
        "file size": (resource.RLIMIT_FSIZE, file_bytes, file_bytes),
        "open files": (resource.RLIMIT_NOFILE, int(limits["open_files"]), int(limits["open_files"])),
        "core dumps": (resource.RLIMIT_CORE, 0, 0),
    }
    if env.vm_size:
        memory = env.vm_size + int(limits["memory_mb"] * 2**20)
        rl["memory"] = (resource.RLIMIT_AS, memory, memory)
    else:
        unavailable["memory limit"] = "cannot read this process's size (no /proc)"
    if uid is not None:
        rl["processes"] = (resource.RLIMIT_NPROC, int(limits["processes"]), int(limits["processes"]))
    elif root:
        unavailable["process limit"] = "the submission runs as root (drop_user is off)"
    elif env.userns:  # counted per user namespace: the supervisor and the namespace's init, plus these
        nproc = int(limits["processes"]) + 2
        rl["processes"] = (resource.RLIMIT_NPROC, nproc, nproc)
    elif env.tasks:  # the count is per user: allow what the user already runs, plus the submission's
        nproc = int(limits["processes"]) + env.tasks - 1
        rl["processes"] = (resource.RLIMIT_NPROC, nproc, nproc)
    else:
        unavailable["process limit"] = "cannot count this user's processes (no /proc)"
    for what, (which, soft, hard) in rl.items():
        try:
            if not root:  # an unprivileged process cannot raise a hard limit
                _, current = resource.getrlimit(which)
                if current != resource.RLIM_INFINITY:
                    soft, hard = min(soft, current), min(hard, current)
            resource.setrlimit(which, (soft, hard))
            applied.append(f"{what} limit")
        except (OSError, ValueError) as exc:
            unavailable[f"{what} limit"] = str(exc)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large file is an OSError, not a kill

    if uid is not None:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            applied.append(f"unprivileged uid {uid}")
        except OSError as exc:  # e.g. a user namespace that maps few uids: fall back to nobody
            try:
                os.setgid(65534)
                os.setuid(65534)
                applied.append("unprivileged uid 65534")
                unavailable["own uid"] = str(exc)
            except OSError as exc2:
                unavailable["unprivileged uid"] = str(exc2)
                with contextlib.suppress(OSError):  # root of a user namespace: keep nothing of it
                    drop_capabilities()
    elif root:
        unavailable["unprivileged uid"] = "turned off"
    else:
        unavailable["unprivileged uid"] = "the grader does not run as root"
    if env.userns or (root and uid is None):
        try:  # root, or the user namespace's creator, holds every capability: give them all up
            drop_capabilities()
            applied.append("no capabilities")
        except OSError as exc:
            unavailable["no capabilities"] = str(exc)
    try:
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid, which clears it
        applied.append("no new privileges")
    except OSError as exc:
        unavailable["no new privileges"] = str(exc)
    return workdir


def _frames(exc: BaseException, name: str) -> list:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == name]
    return [[int(f.lineno or 0), str(f.name)[:100], (f.line or "")[:200]] for f in frames[-20:]]


def _exc_info(exc: BaseException, name: str) -> dict:
    try:
        message = str(exc)[:1000]
    except BaseException:  # a student's __str__ may raise anything
        message = "<the exception's message could not be shown>"
    kind = type(exc)
    return {
        "type": str(getattr(kind, "__name__", "Exception"))[:100],
        "message": message,
        "frames": _frames(exc, name),
    }


def _status_of(exc: BaseException) -> str:
    return "memory" if isinstance(exc, MemoryError) else "exception"


def _child(chan: socket.socket, req: dict, env: _Env) -> None:
    """Everything the submission's process does; student code runs only after ``ready`` is sent.
    Its source comes from the grader on ``chan``, never through the fork server."""
    header, blobs = read_frame(chan, deadline=time.monotonic() + 60, max_bytes=1 << 26)
    if header.get("op") != "source" or len(blobs) != 1:
        raise WireError("the submission's source did not come first")
    req = dict(req, source=blobs[0])
    workdir = _setup(req, env)
    report = env.report
    name = req["name"]
    cap = _Capture(int(req["limits"]["output_bytes"]))
    sys.stdout = sys.stderr = cap
    sys.stdin = io.StringIO("")
    sys.argv = [name]
    sys.path[:] = [workdir] + [p for p in sys.path if p not in ("", ".")]
    sys.meta_path.insert(0, _BlockQuizgen)
    for mod in [m for m in sys.modules if m.startswith(("quizgen", "_quizgen", "__editable__"))]:
        del sys.modules[mod]
    sys.modules["__main__"] = types.ModuleType("__main__")
    write_frame(chan, {"op": "ready", "report": report})

    module = types.ModuleType("submission")
    module.__file__ = name
    sys.modules["submission"] = module
    start = time.monotonic()
    try:
        code = compile(req["source"], name, "exec", dont_inherit=True)
    except BaseException as exc:  # SyntaxError, null bytes (ValueError), or too deep to compile
        info = _exc_info(exc, name)
        status = "syntax_error" if isinstance(exc, (SyntaxError, ValueError)) else _status_of(exc)
        if isinstance(exc, SyntaxError):
            info["frames"] = [[int(exc.lineno or 0), "<module>", (exc.text or "").rstrip()[:200]]]
        write_frame(chan, {"op": "imported", "status": status, "exc": info, "stdout": ""})
        return
    try:
        exec(code, module.__dict__)
    except BaseException as exc:
        text, dropped = cap.take()
        write_frame(
            chan,
            {
                "op": "imported",
                "status": _status_of(exc),
                "exc": _exc_info(exc, name),
                "stdout": text,
                "dropped": dropped,
            },
        )
        return
    text, dropped = cap.take()
    names = sorted(k for k, v in list(module.__dict__.items()) if callable(v) and not k.startswith("_"))[:200]
    write_frame(
        chan,
        {"op": "imported", "status": "ok", "stdout": text, "dropped": dropped, "functions": names,
         "seconds": time.monotonic() - start},
    )  # fmt: skip

    results: dict[int, object] = {}

    def resolve(ref: Ref):
        if ref.call not in results:
            raise WireError(f"call {ref.call} has no result here")
        return pick(results[ref.call], ref.path)

    while True:
        header, blobs = read_frame(chan)
        if header.get("op") != "call":
            return
        cid = header["id"]
        reply: dict = {"op": "result", "id": cid}
        out_blobs: list = []
        try:
            args = decode(header["args"], blobs, resolve)
            kwargs = decode(header["kwargs"], blobs, resolve)
        except WireError as exc:
            reply.update(status="bad_input", error=str(exc))
            write_frame(chan, reply)
            continue
        func = module.__dict__.get(header["function"])
        if not callable(func):
            reply.update(status="missing_function")
            write_frame(chan, reply)
            continue
        write_frame(chan, {"op": "started", "id": cid})  # a death before this is not this call's
        try:
            value = func(*args, **kwargs)
            results[cid] = value
            selection = header.get("select")
            sent = value if selection is None else tuple(pick(value, p) for p in selection)
            try:
                reply["value"] = encode(sent, out_blobs)
                reply["status"] = "ok"
            except WireError as exc:
                out_blobs = []
                reply.update(status="bad_output", error=str(exc))
        except BaseException as exc:
            out_blobs = []
            reply.update(status=_status_of(exc), exc=_exc_info(exc, name))
        text, dropped = cap.take()
        reply.update(stdout=text, dropped=dropped)
        write_frame(chan, reply, out_blobs)


def _init() -> None:
    """Process 1 of the submission's pid namespace: reaps what the submission orphans. (The
    submission itself is not process 1, which would ignore the signals it sends itself.)"""
    os.close(3)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    while True:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        signal.sigwait({signal.SIGCHLD})


def _mirror(status: int) -> None:
    """End this process as the submission's process ended (same signal or exit status)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)


def _supervise(chan: socket.socket, req: dict) -> None:
    """The process the server forked: enters the namespaces, then (with a pid namespace) forks
    its init and the submission's process, and ends as the latter did."""
    env = _enter(req)
    why = refusal(env.report, req["options"])
    if why:
        write_frame(chan, {"op": "ready", "report": env.report, "refused": why})
        return
    if not env.pidns:
        _child(chan, req, env)
        return
    init = os.fork()
    if init == 0:
        with contextlib.suppress(BaseException):
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            _init()
        os._exit(0)
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            _child(chan, req, env)
        except BaseException:
            code = 70
        os._exit(code)
    chan.close()
    _, status = os.waitpid(pid, 0)
    with contextlib.suppress(OSError):
        os.kill(init, signal.SIGKILL)  # and with it everything left in the namespace
        os.waitpid(init, 0)
    _mirror(status)


def _child_main(fd: int, req: dict) -> None:
    code = 0
    try:
        # the channel becomes fd 3; 0-2 go to /dev/null; every other inherited fd is closed
        os.dup2(fd, 3)
        null = os.open(os.devnull, os.O_RDWR)
        for target in (0, 1, 2):
            os.dup2(null, target)
        os.closerange(4, 1 << 16)
        with contextlib.suppress(OSError):
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        chan = socket.socket(fileno=3)
        _supervise(chan, req)
    except BaseException:
        code = 70
    os._exit(code)


# ---------------------------------------------------------------------------------------------
# the server


def _reply(ctl: socket.socket, header: dict) -> None:
    write_frame(ctl, header)


def _exit_waiter(pid: int):
    """A poll object that wakes when ``pid`` exits (a pidfd), or None where there is none."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None, None
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return poller, fd


def _wait(pid: int, timeout: float, statuses: dict) -> dict:
    deadline = time.monotonic() + timeout
    poller, fd = _exit_waiter(pid) if pid not in statuses else (None, None)
    try:
        while pid not in statuses:
            try:
                got, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return {"found": False}
            if got == pid:
                statuses[pid] = status
                break
            left = deadline - time.monotonic()
            if left < 0:
                return {"found": True, "running": True}
            if poller is not None:
                poller.poll(min(left, 0.05) * 1000)
            else:
                time.sleep(0.001)
    finally:
        if fd is not None:
            os.close(fd)
    status = statuses.pop(pid)
    if os.WIFSIGNALED(status):
        return {"found": True, "signal": os.WTERMSIG(status)}
    return {"found": True, "exit": os.WEXITSTATUS(status)}


def _reap(children: set, statuses: dict) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in children:
            children.discard(pid)
            statuses[pid] = status
            while len(statuses) > 1000:
                statuses.pop(next(iter(statuses)))


def _drain_group(pgid: int, deadline: float, children: set, statuses: dict) -> None:
    """Wait until no process of a supervisor's group is left, reaping the zombies that come
    back here: its pid namespace's init leaves only once every process in it is gone."""
    while time.monotonic() < deadline:
        _reap(children, statuses)
        try:
            os.killpg(pgid, 0)
        except OSError:
            return
        time.sleep(0.0002)


def _sweep(uid: int) -> None:
    """Kill every process of a sandbox uid (kill(-1) as that uid reaches exactly those)."""
    if os.geteuid() != 0 or uid < SANDBOX_UID_BASE:
        return
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        except BaseException:
            pass
        os._exit(0)
    os.waitpid(pid, 0)


def serve(ctl_fd: int) -> None:
    """The server loop: one request at a time from the parent, until it hangs up."""
    import importlib

    for mod in PRELOADED:
        with contextlib.suppress(ImportError):
            importlib.import_module(mod)
    with contextlib.suppress(Exception):  # load what BLAS and FFT load on first use, while visible
        np.linalg.solve(np.eye(2), np.ones(2))
        np.fft.fft(np.ones(4))
    _VIEW[:] = view_plan(os.path.dirname(os.path.dirname(os.path.realpath(np.__file__))))
    with contextlib.suppress(OSError):  # a submission (same user) may not read or write our memory
        prctl(PR_SET_DUMPABLE, 0)
    with contextlib.suppress(OSError):  # orphaned grandchildren come back here to be reaped
        prctl(PR_SET_CHILD_SUBREAPER, 1)
    ctl = socket.socket(fileno=ctl_fd)
    children: set[int] = set()
    statuses: dict[int, int] = {}
    _reply(ctl, {"op": "hello", "pid": os.getpid(), "numpy": np.__version__, "root": os.geteuid() == 0})
    try:
        while True:
            ctl.settimeout(None)
            try:
                _msg, fds, _flags, _addr = socket.recv_fds(ctl, 1, 1)
            except OSError:
                break
            if not _msg:
                break
            header, _ = read_frame(ctl)  # requests carry no source (see _child)
            _reap(children, statuses)
            op = header.get("op")
            if op == "spawn":
                req = dict(header)
                pid = os.fork()
                if pid == 0:
                    ctl.close()
                    _child_main(fds[0], req)
                for fd in fds:
                    os.close(fd)
                children.add(pid)
                _reply(ctl, {"op": "spawned", "pid": pid, "uid": SANDBOX_UID_BASE + pid})
            elif op == "wait":
                pid, timeout = int(header["pid"]), float(header.get("timeout", 1.0))
                reply = _wait(pid, timeout, statuses)
                if "running" not in reply:
                    _drain_group(pid, time.monotonic() + timeout, children, statuses)
                _reply(ctl, reply)
                children.discard(pid)
            elif op == "sweep":
                _sweep(int(header["uid"]))
                _reply(ctl, {"op": "swept"})
            else:
                _reply(ctl, {"op": "pong"})
    finally:
        for pid in list(children):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            if os.geteuid() == 0:
                _sweep(SANDBOX_UID_BASE + pid)
