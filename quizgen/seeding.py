"""Stable per-student seeds: the same (exam seed, student id, slot) gives the same seed on every
machine and Python version (SHA-256, not Python's salted ``hash``)."""

from __future__ import annotations

import hashlib


def stable_seed(*parts: object) -> int:
    """A 63-bit seed from the parts' text, e.g. ``stable_seed(2026, "s001", 3)``."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") >> 1
