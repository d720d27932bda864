"""docs/coverage.md names only templates that exist (a renamed or removed template shows here)."""

import re
from pathlib import Path

from quizgen import bank

DOC = Path(__file__).resolve().parents[2] / "docs" / "coverage.md"


def test_coverage_map_names_only_real_templates():
    named = set(re.findall(r"`([a-z0-9_]+\.[a-z0-9_.]+)`", DOC.read_text(encoding="utf-8")))
    ids = set(bank.load_bank().templates)
    assert len(named) >= 90
    assert named - ids == set(), "docs/coverage.md names templates that do not exist"
