"""What the Moodle, Canvas and PDF exports share.

- An :class:`ExportSource` is what gets exported: a manifest (a generated exam's, or one built
  from the bank with a paper per variant) and its questions grouped per exam slot into
  :class:`VariantGroup` s, the variants an LMS draws one of.
- :func:`blanks` lists the numbers a part expects, one :class:`Blank` per element in C order
  (row-major: ``[0, 0], [0, 1], ..., [1, 0], ...``), with the known mistakes that differ at it.
- :func:`number_text` writes a float so that it reads back as the same float (``repr``
  precision: 3e-05 stays 3e-05, 0.1 + 0.2 stays 0.30000000000000004); :func:`interval_problem`
  checks that an LMS reading the written answer and margin accepts what our grader accepts.
- :func:`stable_id` derives identifiers from content (template id, seed, part, element), never
  from time or randomness, so a rebuilt export has the same identifiers.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import engine
from ..bank import Bank
from ..graders.compare import mistake_feedback
from ..manifest import Manifest, Question, StudentPaper
from ..models import Instance, InstancePart, Tolerance

__all__ = [
    "CANVAS_PAGE_DECIMALS",
    "Blank",
    "CanvasScale",
    "ExportResult",
    "ExportSource",
    "VariantGroup",
    "blanks",
    "canvas_accepts",
    "canvas_page_accepts",
    "canvas_page_saves",
    "canvas_scale",
    "canvas_stored",
    "interval_problem",
    "layout",
    "moodle_accepts",
    "number_text",
    "positional",
    "source_from_bank",
    "source_from_manifest",
    "stable_id",
    "where",
]


@dataclass(frozen=True)
class VariantGroup:
    """The distinct instances asked at one exam slot (bank export: one template's variants).

    ``key`` is unique in the export and names the Moodle category and Canvas question group."""

    key: str
    template_id: str
    title: str
    slot: int
    instances: tuple[Instance, ...]

    @property
    def points(self) -> float:
        return self.instances[0].points if self.instances else 0.0


@dataclass(frozen=True)
class ExportSource:
    """A manifest to export, with its questions grouped per slot."""

    title: str
    manifest: Manifest
    groups: tuple[VariantGroup, ...]


@dataclass
class ExportResult:
    """What an export wrote, how many questions, everything it could not represent, and the
    ``notes`` the instructor must act on though nothing is inexact (Moodle's quiz maximum grade)."""

    files: list[Path] = field(default_factory=list)
    questions: int = 0
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def export_path(out: str | Path, suffix: str, default_name: str) -> Path:
    """Where an export writes: ``out`` itself if it names a ``suffix`` file, else
    ``default_name`` inside the folder ``out`` (its parent folders are created)."""
    path = Path(out)
    if path.is_dir() or path.suffix.lower() != suffix:
        path = path / default_name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _instance_key(instance: Instance) -> str:
    return json.dumps(instance.to_dict(), sort_keys=True, ensure_ascii=False)


def source_from_manifest(manifest: Manifest) -> ExportSource:
    """Group a generated exam's questions by slot; each distinct instance is one variant."""
    slots: dict[int, dict] = {}
    for paper in manifest.students:
        for q in paper.questions:
            entry = slots.setdefault(q.slot, {"template_ids": [], "instances": {}, "title": q.instance.title})
            if q.instance.template_id not in entry["template_ids"]:
                entry["template_ids"].append(q.instance.template_id)
            entry["instances"].setdefault(_instance_key(q.instance), q.instance)
    counts: dict[str, int] = {}
    for entry in slots.values():
        for tid in entry["template_ids"]:
            counts[tid] = counts.get(tid, 0) + 1
    groups = []
    for slot in sorted(slots):
        entry = slots[slot]
        tid = "+".join(entry["template_ids"])
        key = tid if counts.get(tid, 0) == 1 and len(entry["template_ids"]) == 1 else f"q{slot:02d}-{tid}"
        groups.append(VariantGroup(key, tid, entry["title"], slot, tuple(entry["instances"].values())))
    return ExportSource(str(manifest.exam.get("title", "quizgen exam")), manifest, tuple(groups))


def source_from_bank(
    bank: Bank, template_ids: Sequence[str], variants: int, *, title: str = "quizgen"
) -> ExportSource:
    """``variants`` instances (seeds 0..N-1) of each template, as a manifest with one paper per
    variant (paper i holds every template's seed-i instance) and a group per template."""
    if variants < 1:
        raise ValueError(f"variants must be at least 1, got {variants}")
    if not template_ids:
        raise ValueError("give at least one template id")
    templates = [bank.get(tid) for tid in dict.fromkeys(template_ids)]
    instances = {t.id: engine.build_instances(t, range(variants)) for t in templates}
    papers = tuple(
        StudentPaper(
            f"variant-{seed}",
            f"Variant {seed}",
            "",
            tuple(
                Question(n, n, t.topic or t.title, instances[t.id][seed]) for n, t in enumerate(templates, 1)
            ),
        )
        for seed in range(variants)
    )
    exam = {
        "title": title,
        "course": "",
        "instructions": "",
        "points": sum(i[0].points for i in instances.values()),
    }
    groups = tuple(
        VariantGroup(t.id, t.id, t.title, n, tuple(instances[t.id])) for n, t in enumerate(templates, 1)
    )
    return ExportSource(title, Manifest(exam, papers), groups)


def where(instance: Instance, part: InstancePart | None = None, index: tuple = ()) -> str:
    """``template seed S, part b[1, 0]``: where a warning is about."""
    text = f"{instance.template_id} seed {instance.seed}"
    if part is not None:
        text += f", part {part.id}"
        if index:
            text += "[" + ", ".join(str(i) for i in index) + "]"
    return text


def layout(instance: Instance) -> str:
    """How an instance is asked: 'numerical' (one number), 'multichoice' (one choice part) or
    'multi' (several parts, or an answer with several numbers)."""
    if len(instance.parts) == 1:
        part = instance.parts[0]
        if part.options:
            return "multichoice"
        if np.ndim(part.expected) == 0:
            return "numerical"
    return "multi"


def stable_id(*parts, prefix: str = "i") -> str:
    """An identifier from content: the same parts give the same id in every run."""
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode("utf-8"), digest_size=10).hexdigest()
    return prefix + digest


# ------------------------------------------------------------------------------------ numbers


def number_text(x) -> str:
    """A finite number as text that reads back as exactly the same float: integers without a
    decimal point, everything else with Python's shortest round-trip form (``repr``)."""
    value = float(x)
    if not math.isfinite(value):
        raise ValueError(f"cannot write {value} as an answer: it is not finite")
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class BlankMistake(NamedTuple):
    """A known mistake's value at one blank, its feedback as the grader words it
    (:func:`~quizgen.graders.compare.mistake_feedback`: with the credit and its reason when
    given) and the credit in [0, 1] an answer equal to it earns."""

    value: float
    feedback: str
    credit: float = 0.0


class Blank(NamedTuple):
    """One number a part expects: its element index (``()`` for a single number), the expected
    value, the tolerance, and the known mistakes that give a different value here (in the
    instance's order)."""

    part_id: str
    index: tuple[int, ...]
    expected: float
    tolerance: Tolerance
    mistakes: tuple[BlankMistake, ...]

    @property
    def margin(self) -> float:
        return float(self.tolerance.margin(self.expected))


def blanks(part: InstancePart) -> list[Blank]:
    """The numbers ``part`` expects, in C order, each with the mistakes distinguishable there."""
    expected = np.asarray(part.expected, dtype=np.float64)
    mistakes = []
    for m in part.mistakes:
        if not m.distinguishable or m.value is None:
            continue
        value = np.asarray(m.value, dtype=np.float64)
        if value.shape == expected.shape and np.all(np.isfinite(value)):
            mistakes.append((value, mistake_feedback(m), m.credit))
    out = []
    for index in np.ndindex(expected.shape):
        e = float(expected[index])
        here: list[BlankMistake] = []
        for value, feedback, credit in mistakes:
            v = float(value[index])
            if not bool(part.tolerance.close(e, v)) and all(v != seen.value for seen in here):
                here.append(BlankMistake(v, feedback, credit))
        out.append(Blank(part.id, tuple(int(i) for i in index), e, part.tolerance, tuple(here)))
    return out


#: PHP's default ``precision`` setting; Moodle widens every numerical interval by 10^-precision.
MOODLE_PRECISION = 14


def moodle_accepts(answer_text: str, tolerance_text: str, given: float) -> bool:
    """Moodle's numerical rule ('nominal' tolerance, qtype_numerical_answer::get_tolerance_interval):
    ``answer - t <= given <= answer + t`` with ``t = tol + 1e-14 * max(|tol|, |answer|, 1e-14)``."""
    answer, tol = float(answer_text), abs(float(tolerance_text))
    eps = 10.0**-MOODLE_PRECISION
    slack = tol + eps * max(tol, abs(answer), eps)
    return answer - slack <= float(given) <= answer + slack


def canvas_stored(text: str) -> Decimal:
    """A number as Canvas keeps it: its QTI converter stores the answer and the margin (computed
    as ``upper - exact`` in BigDecimal) as floats (``to_f``), and the grader reads them back as
    BigDecimal of their shortest text (``BigDecimal(x.to_s)``)."""
    return Decimal(repr(float(text)))


def canvas_accepts(exact_text: str, margin_text: str, given: float) -> bool:
    """Canvas's exact-answer rule: ``exact - margin <= given <= exact + margin`` in decimal
    arithmetic, with the answer and margin as stored (:func:`canvas_stored`) and the response
    read as BigDecimal."""
    with localcontext() as ctx:
        ctx.prec = 200
        exact, margin = canvas_stored(exact_text), canvas_stored(margin_text)
        g = Decimal(repr(float(given)))
        return exact - margin <= g <= exact + margin


#: Classic Quizzes' quiz page keeps this many decimals of a typed number (``toFixed(4)``).
CANVAS_PAGE_DECIMALS = 4
_PAGE_STEP = Decimal(1).scaleb(-CANVAS_PAGE_DECIMALS)


def canvas_page_saves(typed: str) -> str | None:
    """What Canvas Classic Quizzes' quiz page saves when a student types ``typed`` in a numerical
    answer box: the number read (JavaScript's ``parseFloat``, a double) and written with 4
    decimals (``toFixed(4)``: the nearest multiple of 10⁻⁴ to the double, ties away from zero),
    or None when the page blanks the box (not a number, or e-notation such as ``3e-05``)."""
    text = typed.strip()
    if not text or "e" in text.lower():
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or abs(value) >= 1e21:  # toFixed falls back to e-notation there
        return None
    saved = Decimal(value).quantize(_PAGE_STEP, rounding=ROUND_HALF_UP)
    return format(saved, "f")


def canvas_page_accepts(exact_text: str, margin_text: str, typed: str) -> bool:
    """Whether typing ``typed`` on the quiz page scores: the saved 4-decimal text (blank scores
    nothing) within ``exact ± margin`` in decimal arithmetic, as Canvas's server grades it."""
    saved = canvas_page_saves(typed)
    if saved is None:
        return False
    with localcontext() as ctx:
        ctx.prec = 200
        try:
            exact, margin = canvas_stored(exact_text), canvas_stored(margin_text)
        except (InvalidOperation, ValueError):
            return False
        return exact - margin <= Decimal(saved) <= exact + margin


def positional(value: float | Decimal, power: int = 0) -> str:
    """``value × 10^power`` written as a student types it: every digit of the float's shortest
    form, no exponent (``3e-05`` at power 3 -> ``0.03``)."""
    d = Decimal(repr(float(value))) if not isinstance(value, Decimal) else value
    d = d.scaleb(power)
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class CanvasScale(NamedTuple):
    """How a number is asked on Canvas's quiz page: in units of ``10^-power`` (0: as is), the
    answer and margin texts in those units (the floats nearest to the decimal shifts of ours,
    which Canvas stores as they are), or the reason
    no power up to :data:`MAX_CANVAS_POWER` works (``problem``)."""

    power: int
    exact_text: str
    margin_text: str
    problem: str | None = None


#: The finest unit a Canvas item is asked in: 10⁻¹² (powers go in steps of 3: 10⁻³, 10⁻⁶, ...).
MAX_CANVAS_POWER = 12


def _page_problem(blank: Blank, power: int, exact_text: str, margin_text: str) -> str | None:
    typed = positional(blank.expected, power)
    if not canvas_page_accepts(exact_text, margin_text, typed):
        return f"the answer typed as {typed} is saved as {canvas_page_saves(typed)}, outside the margin"
    for mistake in blank.mistakes:
        value = mistake.value
        typed = positional(value, power)
        if canvas_page_accepts(exact_text, margin_text, typed):
            return f"the known mistake {typed} is saved as {canvas_page_saves(typed)}, inside the margin"
    return None


def canvas_scale(blank: Blank) -> CanvasScale:
    """The smallest unit 10^-p (p = 0, 3, 6, ..., :data:`MAX_CANVAS_POWER`) in which the quiz
    page, keeping 4 decimals and blanking e-notation, saves the typed answer inside the margin
    and every known mistake outside it. The answer, margin and mistakes are all shifted by the
    same power of ten (the answer and margin to the nearest float, a relative change below
    1e-16), so Canvas decides as at power 0."""
    exact = Decimal(number_text(blank.expected))
    margin = Decimal(number_text(blank.margin))
    problem = None
    for power in range(0, MAX_CANVAS_POWER + 1, 3):
        if power == 0:  # as before: the shortest round-trip texts of our floats
            exact_text, margin_text = number_text(blank.expected), number_text(blank.margin)
        else:
            # the floats nearest to the shifted decimals, written shortest: what Canvas stores
            exact_text = number_text(float(exact.scaleb(power)))
            margin_text = number_text(float(margin.scaleb(power)))
        problem = _page_problem(blank, power, exact_text, margin_text)
        if problem is None:
            return CanvasScale(power, exact_text, margin_text)
    return CanvasScale(0, number_text(blank.expected), number_text(blank.margin), problem)


def _probes(e: float, m: float) -> list[float]:
    if m > 0:
        offsets = [m * (1 - 1e-6), m * (1 + 1e-6), m * 0.5, m * 2]
    else:
        offsets = [max(abs(e), 1.0) * 1e-9, max(abs(e), 1.0) * 1e-6]
    return [e] + [e + s * d for d in offsets for s in (-1.0, 1.0)]


def interval_problem(
    expected: float,
    tolerance: Tolerance,
    answer_text: str,
    margin_text: str,
    accepts: Callable[[str, str, float], bool],
) -> str | None:
    """None when an LMS reading ``answer_text`` and ``margin_text`` with the rule ``accepts``
    decides like our grader (``tolerance.close``), else what differs.

    The texts must read back as the expected value and its margin exactly, and at the expected
    value, halfway to the edge, just inside and just outside the edge (1e-6 of the margin) and
    twice the margin away, both must agree."""
    e = float(expected)
    m = float(tolerance.margin(e))
    if float(answer_text) != e:
        return f"the written answer {answer_text} reads back as {float(answer_text)!r}, not {e!r}"
    if float(margin_text) != m:
        return f"the written margin {margin_text} reads back as {float(margin_text)!r}, not {m!r}"
    for g in _probes(e, m):
        ours = bool(tolerance.close(e, g))
        theirs = accepts(answer_text, margin_text, g)
        if ours != theirs:
            verb = {True: "accepts", False: "rejects"}
            return (
                f"for the response {g!r} our grader {verb[ours]} but the LMS {verb[theirs]} "
                f"(answer {answer_text}, margin {margin_text})"
            )
    return None


def answered_numbers(parts: Iterable[InstancePart]) -> int:
    """How many numbers (or choices) the parts ask for."""
    return sum(1 if p.options else int(np.size(p.expected)) for p in parts)
