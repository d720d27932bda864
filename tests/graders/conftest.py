"""Shared fixtures of the grading tests."""

import pytest


@pytest.fixture
def hand_written_papers(monkeypatch):
    """The papers of ``grading_fixtures`` are written by hand, not drawn from a bank template, so
    the gradebook's redraw check (:func:`quizgen.manifest_check.check_manifest`, tested on drawn
    papers in tests/quizgen/test_bad_manifests.py) cannot vouch for them: it is off for the tests
    that grade them, which test grading, not where the keys came from."""
    monkeypatch.setattr("quizgen.graders.gradebook.check_manifest", lambda manifest, bank, skip=(): None)
