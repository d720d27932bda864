"""Every template tests itself (PrairieLearn's ``test()`` idea), over many seeds.

For each seed: an instance builds (constraints met, every reference call accepts its draw, every
answer finite), its text and worked solution render to HTML, the correct answer written as a
student would write it scores full marks, and each known mistake's value, submitted as an
answer, is graded as that mistake (or is flagged indistinguishable for that instance). Over all
seeds, every mistake must be distinguishable at least once, and multiple-choice parts must
always have at least two options.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import engine
from .errors import QuizgenError
from .formatting import plain
from .markup import to_html
from .models import ANSWER_KINDS, Status, Template
from .selection import mistake_ids as mistake_ids_of

DEFAULT_SEEDS = 500


@dataclass
class TemplateReport:
    template_id: str
    seeds: int
    problems: list[str] = field(default_factory=list)
    distinguishable: Counter = field(default_factory=Counter)  # "part/mistake" -> instances

    def to_dict(self) -> dict:
        return {
            "template_id": self.template_id,
            "seeds": self.seeds,
            "problems": self.problems,
            "distinguishable": dict(self.distinguishable),
        }


def _submitted(part) -> str:
    """The expected answer as text a student would type (full precision)."""
    return part.expected if ANSWER_KINDS[part.kind].choice else plain(part.expected, sig=12)


def check_template(template: Template, *, seeds: int = DEFAULT_SEEDS, first_seed: int = 0) -> TemplateReport:
    from .graders.numeric import grade_part  # grading is checked through the real grader

    report = TemplateReport(template.id, seeds)
    where = f"{template.source}: template {template.id}"

    def problem(seed: int, message: str) -> None:
        if len(report.problems) < 10:
            report.problems.append(f"{where}, seed {seed}: {message}")

    mistake_ids = [(p.id, m.id) for p in template.parts for m in p.mistakes]
    # a text-option part's misconceptions are its options or cases, each to be reached in some draw
    mistake_ids += [
        (p.id, mid) for p in template.parts if p.selection is not None for mid in mistake_ids_of(p)
    ]
    for seed in range(first_seed, first_seed + seeds):
        try:
            instance = engine.build_instance(template, seed)
            to_html(instance.text)
            to_html(instance.solution)
        except QuizgenError as exc:
            problem(seed, exc.message)
            break  # the same failure would repeat for every seed
        except Exception as exc:  # a template or reference bug is reported, not a crash
            problem(seed, f"{type(exc).__name__}: {exc}")
            break
        for part in instance.parts:
            if ANSWER_KINDS[part.kind].choice and len(part.options) < 2:
                problem(seed, f"part {part.id}: fewer than two distinct options")
            result = grade_part(part, _submitted(part))
            if result.status is not Status.CORRECT or result.score != 1.0:
                problem(
                    seed,
                    f"part {part.id}: the correct answer {_submitted(part)!r} scored {result.score} ({result.feedback})",
                )
            for m in part.mistakes:
                if not m.distinguishable:
                    continue
                report.distinguishable[f"{part.id}/{m.id}"] += 1
                given = m.value if ANSWER_KINDS[part.kind].choice else plain(m.value, sig=12)
                graded = grade_part(part, given)
                same_value = {k.id for k in part.mistakes if k.distinguishable and k.value == m.value}
                if graded.score == 1.0 or graded.mistake not in same_value:
                    problem(
                        seed,
                        f"part {part.id}: mistake {m.id} was graded as {graded.mistake!r} with score {graded.score}",
                    )
        if seed == first_seed:
            for message in carry_problems(template, instance):
                problem(seed, message)
    if not report.problems:
        for pid, mid in mistake_ids:
            if report.distinguishable[f"{pid}/{mid}"] == 0:
                report.problems.append(
                    f"{where}: part {pid}, mistake {mid} never differs from the answer in {seeds} seeds; "
                    "change the mistake or the parameter ranges"
                )
    return report


def _moved(part):
    """A wrong value for ``part``: the key scaled and shifted (rounded for whole-number kinds)."""
    moved = np.asarray(part.expected, dtype=np.float64) * 1.37 + 0.29
    if ANSWER_KINDS[part.kind].integral:
        moved = np.round(moved)
    return moved


def carry_problems(template: Template, instance) -> list[str]:
    """Error carried forward checked against the data, on one instance: carrying every part's
    own answer forward changes nothing (each pick can be written back where it came from), and
    a wrong value for a part changes no later part that does not list it in ``depends_on``."""
    out = []
    parts = [p for p in instance.parts if not ANSWER_KINDS[p.kind].choice]
    try:
        same = engine.recompute(template, instance.params, {p.id: p.expected for p in parts})
    except Exception as exc:  # a template or reference bug is reported, not a crash
        return [f"carrying the answers forward failed: {type(exc).__name__}: {exc}"]
    for p in parts:
        if p.id not in same or not p.tolerance.accepts(p.expected, same[p.id]):
            out.append(
                f"part {p.id}: carrying every part's own answer forward changes it to {same.get(p.id)!r}"
            )
    for i, earlier in enumerate(parts):
        try:
            redone = engine.recompute(template, instance.params, {earlier.id: _moved(earlier)})
        except Exception as exc:
            out.append(
                f"part {earlier.id}: carrying a wrong value forward failed: {type(exc).__name__}: {exc}"
            )
            continue
        for later in parts[i + 1 :]:
            if earlier.id in later.depends_on or later.id not in redone:
                continue
            if not later.tolerance.accepts(later.expected, redone[later.id]):
                out.append(
                    f"part {later.id} changes with part {earlier.id}'s value but does not list it in depends_on; "
                    "error carried forward would miss it (a value read in a way the step graph does not show)"
                )
    return out


def check_bank(bank, *, seeds: int = DEFAULT_SEEDS, progress=None) -> list[TemplateReport]:
    reports = []
    for template in bank.select():
        report = check_template(template, seeds=seeds)
        reports.append(report)
        if progress:
            progress(report)
    return reports
