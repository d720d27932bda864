"""Every built-in template tests itself over 500 seeds (PrairieLearn's test() idea).

The self-check (quizgen.selfcheck) draws 500 instances per template and checks that each is
well posed, renders, grades its own correct answer full marks through the real grader and
grades each known mistake as that mistake. Templates are checked in parallel worker processes;
each template is then its own test, so a failure names the template.
"""

import os
from concurrent.futures import ProcessPoolExecutor

import pytest

from quizgen import bank, selfcheck
from quizgen.models import ANSWER_KINDS

SEEDS = selfcheck.DEFAULT_SEEDS
TEMPLATES = sorted(bank.load_bank().templates)
TOPICS = (
    "convolution",
    "pooling",
    "activations",
    "softmax",
    "losses",
    "backprop",
    "optimizers",
    "schedules",
    "batchnorm",
    "regularization",
    "initialization",
    "metrics",
    "rnn",
)


def _check(template_id: str) -> selfcheck.TemplateReport:
    return selfcheck.check_template(bank.load_bank().get(template_id), seeds=SEEDS)


@pytest.fixture(scope="module")
def reports() -> dict:
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return dict(zip(TEMPLATES, pool.map(_check, TEMPLATES, chunksize=1), strict=True))


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_template_passes_its_self_check(reports, template_id):
    report = reports[template_id]
    assert report.seeds == SEEDS
    assert report.problems == []


def test_the_bank_covers_every_family_at_several_difficulties():
    templates = bank.load_bank().select()
    assert len(templates) >= 60
    for topic in TOPICS:
        levels = {t.difficulty for t in templates if t.topic == topic}
        assert levels, f"no template for topic {topic}"
    assert {t.difficulty for t in templates} == {1, 2, 3, 4, 5}
    assert sum(1 for t in templates if len(t.parts) >= 3) >= 10  # chained multi-part questions
    assert sum(1 for t in templates for p in t.parts if p.kind == "choice") >= 5


def test_no_template_answers_with_a_derived_parameter():
    for t in bank.load_bank().select():
        derived = {p.name for p in t.params if p.kind == "derived"}
        step_names = {s.name for s in t.steps}
        for part in t.parts:
            if ANSWER_KINDS[part.kind].texts:
                # a text-option part names no step: its options' truth (expressions over the
                # draw, checked by the loader) decides the key
                assert part.answer == "" and part.selection is not None, (t.id, part.id)
                continue
            assert part.answer in step_names and part.answer not in derived, (t.id, part.id)
