"""The core types that cross module boundaries: templates, instances, tolerances, grades.

All are frozen dataclasses. A ``Template`` is what the bank loader builds from YAML; an
``Instance`` is one student's concrete question with its expected answers, the values of its known
mistakes and its worked solution; the manifest is a list of instances, and grading reads nothing
else. ``Tolerance.close`` is the one definition of "close enough" used by grading, the bank's self
checks, distractor deduplication and the LMS exports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from enum import Enum
from functools import cached_property
from typing import Any

import numpy as np


def quick_init(cls):
    """Give a frozen dataclass an ``__init__`` that fills the instance's ``__dict__`` in one
    update, where the generated one calls ``object.__setattr__`` once per field: the same
    signature, defaults, ``__post_init__`` and immutability, at half the cost (0.7 against
    1.5 µs for nine fields). For the types built thousands of times per exam or grading run."""
    names, params, namespace = [], [], {}
    for f in fields(cls):
        if f.default_factory is not MISSING or not f.init or f.kw_only is True:
            raise TypeError(f"quick_init: {cls.__name__}.{f.name} needs the generated __init__")
        names.append(f.name)
        if f.default is MISSING:
            params.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    body = f"self.__dict__.update({{{', '.join(f'{n!r}: {n}' for n in names)}}})"
    if hasattr(cls, "__post_init__"):
        body += "; self.__post_init__()"
    exec(f"def __init__(self, {', '.join(params)}):\n    {body}", namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init
    return cls


# ---------------------------------------------------------------------------------------------
# answer kinds


@dataclass(frozen=True)
class AnswerKind:
    """What shape of answer a part expects.

    ``ndim`` is the number of array dimensions (None: any number >= 1); ``integral`` answers are
    compared exactly; ``choice`` answers are option letters (text: ``B``, ``T``, ``A,C``,
    ``C,A,B,D``); ``texts`` kinds (text choice, true/false, multiple select, ordering) take their
    options from the template's ``options`` (texts, truth by the draw) instead of a step's value
    and its mistakes: their behaviour is registered by name in quizgen.selection and
    quizgen.graders.selection.
    """

    name: str
    ndim: int | None
    integral: bool = False
    choice: bool = False
    texts: bool = False


ANSWER_KINDS: dict[str, AnswerKind] = {
    k.name: k
    for k in (
        AnswerKind("integer", 0, integral=True),
        AnswerKind("real", 0),
        AnswerKind("vector", 1),
        AnswerKind("matrix", 2),
        AnswerKind("tensor", None),
        AnswerKind("shape", 1, integral=True),
        AnswerKind("choice", 0, choice=True),
        AnswerKind("text_choice", 0, choice=True, texts=True),
        AnswerKind("true_false", 0, choice=True, texts=True),
        AnswerKind("multi_select", 0, choice=True, texts=True),
        AnswerKind("ordering", 0, choice=True, texts=True),
    )
}


# ---------------------------------------------------------------------------------------------
# tolerance

#: Float slack so that a value printed to exactly the allowed precision is still accepted.
_SLACK = 1.0 + 1e-9


@dataclass(frozen=True)
class Tolerance:
    """When a given number counts as the expected one. Exactly one mode applies:

    - ``exact``: given == expected (integers, shapes, choices).
    - ``sigfigs = n``: |given - expected| <= 0.5 * 10^(floor(log10|expected|) - n + 1), i.e. the
      given value agrees with the expected one to n significant figures.
    - ``decimals = d``: |given - expected| <= 0.5 * 10^-d.
    - otherwise relative plus absolute: |given - expected| <= atol + rtol * |expected|
      (numpy.isclose's rule, anchored on the expected value). Defaults: rtol 1e-2, atol 1e-8.

    NaN and infinities are never accepted.
    """

    rtol: float = 1e-2
    atol: float = 1e-8
    sigfigs: int | None = None
    decimals: int | None = None
    exact: bool = False

    def __post_init__(self) -> None:
        if not all(math.isfinite(t) and t >= 0 for t in (self.rtol, self.atol)):  # NaN, inf: refused
            raise ValueError(
                f"tolerance: rtol and atol must be finite numbers >= 0, got rtol={self.rtol}, atol={self.atol}"
            )
        if self.sigfigs is not None and self.sigfigs < 1:
            raise ValueError(f"tolerance: sigfigs must be >= 1, got {self.sigfigs}")
        if self.decimals is not None and self.decimals < 0:
            raise ValueError(f"tolerance: decimals must be >= 0, got {self.decimals}")
        modes = sum((self.exact, self.sigfigs is not None, self.decimals is not None))
        if modes > 1:
            raise ValueError("tolerance: choose one of exact, sigfigs and decimals")

    @property
    def mode(self) -> str:
        """'exact', 'sigfigs', 'decimals' or 'relative'."""
        if self.exact:
            return "exact"
        if self.sigfigs is not None:
            return "sigfigs"
        if self.decimals is not None:
            return "decimals"
        return "relative"

    def _margin_scalar(self, e: float) -> float:
        e = abs(e)
        if self.exact:
            return 0.0
        if self.sigfigs is not None:
            exponent = math.floor(math.log10(e)) if e > 0 else 0
            return 0.5 * 10.0 ** (exponent - self.sigfigs + 1) * _SLACK
        if self.decimals is not None:
            return 0.5 * 10.0 ** (-self.decimals) * _SLACK
        return self.atol + self.rtol * e

    def margin(self, expected) -> np.ndarray:
        """The half-width of the accepted interval around each expected value (0 for exact)."""
        e = np.abs(np.asarray(expected, dtype=np.float64))
        if e.ndim == 0:
            return np.float64(self._margin_scalar(float(e)))
        if self.exact:
            return np.zeros_like(e)
        if self.sigfigs is not None:
            positive = e > 0
            exponent = np.floor(np.log10(np.where(positive, e, 1.0)))
            return 0.5 * 10.0 ** (exponent - self.sigfigs + 1) * _SLACK
        if self.decimals is not None:
            return np.full_like(e, 0.5 * 10.0 ** (-self.decimals) * _SLACK)
        return self.atol + self.rtol * e

    def close_scalar(self, expected: float, given: float) -> bool:
        """:meth:`close` for two plain numbers, without NumPy (the grading hot path)."""
        if not (math.isfinite(expected) and math.isfinite(given)):
            return False
        if self.exact:
            return given == expected
        return abs(given - expected) <= self._margin_scalar(expected)

    def close(self, expected, given) -> np.ndarray:
        """Elementwise: is each given value accepted for the expected one? (Broadcasts.)"""
        e = np.asarray(expected, dtype=np.float64)
        g = np.asarray(given, dtype=np.float64)
        if e.ndim == 0 and g.ndim == 0:
            return np.bool_(self.close_scalar(float(e), float(g)))
        ok = np.isfinite(g) & np.isfinite(e)
        if self.exact:
            return ok & (g == e)
        diff = np.abs(np.subtract(g, e, out=np.full(np.broadcast(e, g).shape, np.inf), where=ok))
        return ok & (diff <= self.margin(e))

    def accepts(self, expected, given) -> bool:
        """True when shapes agree and every element is close."""
        if isinstance(expected, (int, float)) and isinstance(given, (int, float)):
            return self.close_scalar(float(expected), float(given))
        if type(expected) is list and type(given) is list:  # plain answers: no NumPy round trip
            flat_e, flat_g = flat_numbers(expected), flat_numbers(given)
            if flat_e is not None and flat_g is not None:
                if flat_e[0] != flat_g[0]:
                    return False
                close = self.close_scalar
                return all(close(float(e), float(g)) for e, g in zip(flat_e[1], flat_g[1], strict=True))
        e = np.asarray(expected, dtype=np.float64)
        g = np.asarray(given, dtype=np.float64)
        return e.shape == g.shape and bool(np.all(self.close(e, g)))

    def describe(self) -> str:
        """A short phrase for feedback and answer keys."""
        if self.exact:
            return "exact"
        if self.sigfigs is not None:
            return f"{self.sigfigs} significant figures"
        if self.decimals is not None:
            return f"{self.decimals} decimal places"
        return f"relative {self.rtol:g}, absolute {self.atol:g}"

    def to_dict(self) -> dict:
        """The settings that differ from the defaults (what the manifest stores)."""
        return dict(self._non_default_items)

    @cached_property
    def _non_default_items(self) -> tuple:
        """(name, value) of each setting that is not its default, worked out once per object (a
        bank's parts share a few dozen tolerance objects; the manifest writes one per part). Per
        object, not per equal value: rtol=1 and rtol=1.0 are equal but are written differently."""
        return tuple(
            (f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) != f.default
        )

    @classmethod
    def from_dict(cls, data: Mapping | None) -> Tolerance:
        return cls(**dict(data or {}))


EXACT = Tolerance(exact=True)


def flat_numbers(value: list) -> tuple[tuple[int, ...], list] | None:
    """(shape, elements) of a regular nested list of plain numbers; None otherwise."""
    shape = []
    level = value
    while type(level) is list:
        shape.append(len(level))
        if not level:
            break
        level = level[0]
    flat = value
    for size in shape[1:]:
        rows = flat
        flat = []
        for row in rows:
            if type(row) is not list or len(row) != size:
                return None
            flat.extend(row)
    for v in flat:
        if type(v) is not float and type(v) is not int:
            return None
    return tuple(shape), flat


# ---------------------------------------------------------------------------------------------
# templates (built by quizgen.bank from YAML)


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a template: its name, sampler kind and the sampler's settings."""

    name: str
    kind: str
    spec: Mapping[str, Any]


@dataclass(frozen=True)
class Step:
    """One reference computation: ``name = call(**args)``, or ``name = pick`` from an earlier step.

    ``args`` values are jinja2 expressions over the parameters and earlier steps (strings) or
    literals; ``pick`` is a path such as ``fwd.out`` or ``grads.dw[0]``.
    """

    name: str
    call: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)
    pick: str | None = None


@dataclass(frozen=True)
class StepChange:
    """How a mistake changes one step: another function, and/or some arguments replaced."""

    call: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MistakeSpec:
    """A known wrong way to answer a part: the same pipeline with some steps changed.

    An answer that equals the mistake earns ``credit`` (0 unless the template gives a share in
    [0, 1] with a ``credit_reason``, which the feedback states); never per-element credit."""

    id: str
    feedback: str
    changes: Mapping[str, StepChange]
    credit: float = 0.0
    credit_reason: str = ""


@dataclass(frozen=True)
class OptionSpec:
    """One option of a text-option part (text choice, multiple select, ordering).

    ``text`` is a jinja text rendered with the draw; ``correct`` is True, False or an expression
    over the parameters and steps (so a statement's truth comes from the reference); ``feedback``
    names the misconception of marking the option wrongly (choosing a wrong one, leaving out a
    right one); ``credit`` (text choice only) is what choosing it earns when it is wrong. For
    ordering the options are listed in the right order and ``correct`` is unused."""

    id: str
    text: str
    correct: bool | str = False
    feedback: str = ""
    credit: float = 0.0
    credit_reason: str = ""


@dataclass(frozen=True)
class CaseSpec:
    """A named misconception of a true/false or ordering part: for true/false, the wrong
    answer's meaning in the draws where ``when`` (an expression; empty: always) holds; for
    ordering, a wrong ``order`` of the option ids."""

    id: str
    feedback: str
    when: str = ""
    order: tuple[str, ...] = ()
    credit: float = 0.0
    credit_reason: str = ""


@dataclass(frozen=True)
class SelectionSpec:
    """What a text-option part shows and how its key is decided: ``options`` (text choice,
    multiple select, ordering), ``truth`` (true/false: True, False or an expression) and the
    named ``cases`` (true/false, ordering)."""

    options: tuple[OptionSpec, ...] = ()
    truth: bool | str = ""
    cases: tuple[CaseSpec, ...] = ()


@dataclass(frozen=True)
class Part:
    """One answerable part of a template; ``answer`` names the step whose value is expected
    (empty for the text-option kinds, whose key ``selection`` decides)."""

    id: str
    kind: str
    answer: str
    points: float = 1.0
    tolerance: Tolerance = Tolerance()
    prompt: str = ""
    mistakes: tuple[MistakeSpec, ...] = ()
    choices: int = 0  # number of options when presented as multiple choice; 0 for free response
    selection: SelectionSpec | None = None  # the text-option kinds (ANSWER_KINDS[kind].texts)


#: The bank's quality rules (quizgen.quality) and what each exception must name: template-wide
#: rules name nothing, part rules name a part, the visibility rule a part and one of its mistakes.
QUALITY_CHECKS: dict[str, tuple[str, ...]] = {
    "visibility": ("part", "mistake"),
    "constant": ("part",),
    "zero": ("part",),
    "zero_element": ("part",),
    "options": ("part",),
    "balance": ("part",),
    "no_mistake": ("part",),
    "variants": (),
    "solution": (),
}


@dataclass(frozen=True)
class QualityException:
    """A template's declared exception to one quality rule, with the reason a reviewer reads.
    ``minimum`` (optional) replaces the rule's threshold, so a regression below it still fails."""

    check: str
    reason: str
    part: str = ""
    mistake: str = ""
    minimum: float | None = None


@dataclass(frozen=True)
class Template:
    """A parameterized question as loaded from the bank."""

    id: str
    title: str
    topic: str
    family: str
    tags: tuple[str, ...]
    difficulty: int
    params: tuple[ParamSpec, ...]
    constraints: tuple[str, ...]
    steps: tuple[Step, ...]
    text: str
    parts: tuple[Part, ...]
    solution: str
    source: str = ""  # "path:line" where the template starts, for error messages
    quality: tuple[QualityException, ...] = ()  # declared exceptions to the bank's quality rules

    @property
    def points(self) -> float:
        return float(sum(p.points for p in self.parts))

    def part(self, part_id: str) -> Part:
        for p in self.parts:
            if p.id == part_id:
                return p
        raise ValueError(f"template {self.id}: no part {part_id!r}")


# ---------------------------------------------------------------------------------------------
# instances (one student's concrete question; what the manifest holds)


@quick_init
@dataclass(frozen=True)
class KnownMistake:
    """A mistake's value in one instance; ``distinguishable`` is False when it equals the answer.

    ``credit`` in [0, 1] is what an answer equal to the mistake earns (0 by default: a named
    mistake is wrong), ``credit_reason`` why a template gives more (required then)."""

    id: str
    feedback: str
    value: Any
    distinguishable: bool = True
    credit: float = 0.0
    credit_reason: str = ""

    def __post_init__(self) -> None:
        if self.credit == 0.0:
            return
        if not 0.0 <= self.credit <= 1.0:
            raise ValueError(f"mistake {self.id}: credit must be in [0, 1], got {self.credit}")
        if not self.credit_reason.strip():
            raise ValueError(f"mistake {self.id}: credit {self.credit} needs a credit_reason")

    def to_dict(self) -> dict:
        """The manifest's form; credit only when given (older manifests read as credit 0)."""
        d = {
            "id": self.id,
            "feedback": self.feedback,
            "value": self.value,
            "distinguishable": self.distinguishable,
        }
        if self.credit:
            d["credit"] = self.credit
            d["credit_reason"] = self.credit_reason
        return d


@quick_init
@dataclass(frozen=True)
class InstancePart:
    """One part of one instance: what is expected and how to judge it.

    ``expected`` is JSON-ready: a number, a list of numbers or nested lists, or an option letter
    for multiple choice (then ``options`` holds the option texts in order A, B, ...); for the
    text-option kinds letters as typed: ``"B"``, ``"T"``/``"F"`` (options True, False),
    ``"A,C"`` (multiple select), ``"C,A,B,D"`` (ordering), see quizgen.selection.
    ``depends_on`` lists earlier parts whose values feed this one (for error carried forward).
    """

    id: str
    kind: str
    prompt: str
    expected: Any
    tolerance: Tolerance
    points: float
    mistakes: tuple[KnownMistake, ...] = ()
    options: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "prompt": self.prompt,
            "expected": self.expected,
            "tolerance": self.tolerance.to_dict(),
            "points": self.points,
            "mistakes": [m.to_dict() for m in self.mistakes],
            "options": list(self.options),
            "depends_on": list(self.depends_on),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> InstancePart:
        return cls(
            id=d["id"],
            kind=d["kind"],
            prompt=d.get("prompt", ""),
            expected=d["expected"],
            tolerance=Tolerance.from_dict(d.get("tolerance")),
            points=float(d["points"]),
            mistakes=tuple(KnownMistake(**m) for m in d.get("mistakes", ())),
            options=tuple(d.get("options", ())),
            depends_on=tuple(d.get("depends_on", ())),
        )


@quick_init
@dataclass(frozen=True)
class Instance:
    """One concrete question: parameters, text, parts with expected answers, worked solution."""

    template_id: str
    seed: int
    params: Mapping[str, Any]
    text: str
    parts: tuple[InstancePart, ...]
    solution: str
    title: str = ""

    @property
    def points(self) -> float:
        return float(sum(p.points for p in self.parts))

    def part(self, part_id: str) -> InstancePart:
        for p in self.parts:
            if p.id == part_id:
                return p
        raise ValueError(f"instance of {self.template_id}: no part {part_id!r}")

    def to_dict(self) -> dict:
        return {
            "template_id": self.template_id,
            "title": self.title,
            "seed": self.seed,
            "params": dict(self.params),
            "text": self.text,
            "parts": [p.to_dict() for p in self.parts],
            "solution": self.solution,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Instance:
        return cls(
            template_id=d["template_id"],
            title=d.get("title", ""),
            seed=int(d["seed"]),
            params=d["params"],
            text=d["text"],
            parts=tuple(InstancePart.from_dict(p) for p in d["parts"]),
            solution=d.get("solution", ""),
        )


# ---------------------------------------------------------------------------------------------
# grades


class Status(str, Enum):
    """Outcome of grading one answer. A format error is not a wrong answer."""

    CORRECT = "correct"
    PARTIAL = "partial"
    INCORRECT = "incorrect"
    BLANK = "blank"
    FORMAT_ERROR = "format_error"


@quick_init
@dataclass(frozen=True)
class GradeResult:
    """The grade of one part: score in [0, 1], points earned of ``max_points``, and why."""

    part_id: str
    score: float
    max_points: float
    status: Status
    feedback: str
    mistake: str | None = None
    format_error: str | None = None
    carried_forward: bool = False

    def __post_init__(self) -> None:
        if not (0.0 <= self.score <= 1.0) or math.isnan(self.score):
            raise ValueError(f"GradeResult: score must be in [0, 1], got {self.score}")

    @property
    def points(self) -> float:
        return self.score * self.max_points
