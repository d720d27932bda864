"""Every built-in template meets the quality rules of quizgen.quality (issue 15) over 100 seeds,
or declares its exception with a reason: mistakes visible, answers not constant or zero,
at least 200 variants in 1,000 draws, 4 options per choice part, clean worked solutions.
`quizgen bank validate` runs the same rules over 1,000 seeds."""

import pytest

from quizgen import bank, quality

SEEDS = 100
#: Templates the rules still flag (issue 15 follow-up; none now). Strict: a template that starts
#: passing must be taken off this list.
STILL_FLAGGED: frozenset[str] = frozenset()
TEMPLATES = sorted(bank.load_bank().templates)


@pytest.mark.parametrize(
    "template_id",
    [
        pytest.param(t, marks=pytest.mark.xfail(strict=True, reason="still flagged (issue 15 follow-up)"))
        if t in STILL_FLAGGED
        else t
        for t in TEMPLATES
    ],
)
def test_template_meets_the_quality_rules(builtin_bank, template_id):
    report = quality.measure(builtin_bank.get(template_id), seeds=SEEDS, exact_variants=False)
    assert report.seeds == SEEDS
    assert list(report.problems) == []


def test_every_declared_exception_has_a_reason(builtin_bank):
    for t in builtin_bank.select():
        for e in t.quality:
            assert e.reason.strip(), (t.id, e)
