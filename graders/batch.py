"""Grade typed answers column by column: the one implementation of the grading ladder.

blank → format → kind and shape → values → which mistake (the rules: docs/grading.md). Every
student's answer to one part of one template (a column) has the same kind and tolerance and
usually the same shape, so a column is graded with a few array operations; one answer
(:func:`~quizgen.graders.numeric.grade_part_detail`) is a column of one. The rules on values
(closeness, per-element credit, hints, messages) are :mod:`quizgen.graders.compare`'s:

1. read: blanks; plain numbers, JSON-style lists and MATLAB-style rows of plain numbers
   (``[1 -2; 3 4]``) are read in bulk; anything else goes through
   :func:`~quizgen.graders.parse.parse_answer`, remembered per (text, kind) because a class
   repeats the same malformed answers;
2. decide: expected values, given values and each known mistake's values are stacked into
   arrays of one shape and :func:`~quizgen.graders.compare.close_rows` judges the whole
   column; a wrong array earns :func:`~quizgen.graders.compare.element_scores`;
3. which mistake: an answer equal to a known mistake earns that mistake's ``credit`` (0 unless
   the template gives some) and its feedback, never per-element credit;
4. explain: the facts of a wrong answer's message (wrong indices, the largest error, the
   transpose, sign or power-of-ten hint) are computed for the column and written by
   :func:`~quizgen.graders.compare.scalar_message` and
   :func:`~quizgen.graders.compare.array_messages`;
5. anything unusual (a shape other than the key's, values that do not stack, a response that
   is not text) is graded row by row with the same rules.

Error carried forward follows, only for the wrong parts whose earlier parts were wrong: the
keys are recomputed (each distinct set of carried values once per question, so ``recompute``
must be pure, as the bank's is) and the answers graded against them as one more batch.

:func:`grade_questions` returns exactly what
:func:`~quizgen.graders.numeric.grade_instance_detail` returns for each question; a test
checks it over the whole bank.
"""

from __future__ import annotations

import gc
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from json import JSONDecoder
from json.decoder import WHITESPACE

import numpy as np

from quizgen.models import (
    ANSWER_KINDS,
    EXACT,
    GradeResult,
    Instance,
    InstancePart,
    KnownMistake,
    Status,
    Tolerance,
)

from .carry import carried_keys, grade_carried
from .compare import (
    all_rows,
    array_messages,
    close_rows,
    compare_arrays,
    element_scores,
    hints,
    match_mistake,
    mistake_feedback,
    scalar_message,
)
from .numeric import LETTERS, GradedPart, Recompute, _capital
from .parse import _PLAIN_LIST, _PLAIN_NUMBER, MAX_CHARS, MAX_NESTING, FormatError, parse_answer
from .selection import SELECTION_GRADERS, grade_selection

__all__ = ["close_rows", "grade_parts", "grade_questions"]

_WRONG = (Status.INCORRECT, Status.PARTIAL)
#: Kinds whose plain lists are read in bulk (the parser's fast path reads these too).
_LISTS = ("vector", "matrix", "tensor")

# A MATLAB-style matrix of plain numbers: "[1 -2 3]", "[1 2; 3 4]", "[1; 2; 3]", "[1 2 3;]".
# Inside a row a space separates numbers and a sign stuck to a number starts one, as in the
# full parser; anything else (commas, spaced operators, new lines, names) is the parser's.
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_ROW = rf"{_NUM}(?: +{_NUM})*"
_MATLAB = re.compile(rf" *\[ *({_ROW}(?: *; *{_ROW})*) *(;?) *\] *\Z", re.ASCII)
#: Longest number the bulk reader takes (the full parser refuses beyond 400 characters).
_LONGEST_NUMBER = 100

_SCAN = JSONDecoder().scan_once
_JSON_SPACE = WHITESPACE.match

#: (text, kind) -> what parse_answer made of it: (value, None) or (None, the format error).
_READ: dict[tuple[str, str], tuple[np.ndarray | str | None, str | None]] = {}
_READ_LIMIT = 20_000
_READ_LONGEST = 400


@contextmanager
def collector_paused() -> Iterator[None]:
    """Grading a class makes many small containers; with a large manifest in memory, each full
    garbage collection they trigger walks all of it (that made grading 2-3 times slower)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_slow(text: str, kind: str) -> tuple[np.ndarray | str | None, str | None]:
    """parse_answer's value or format error; each caller gets its own array, as from the parser."""
    key = (text, kind)
    hit = _READ.get(key)
    if hit is None:
        try:
            hit = (parse_answer(text, kind), None)
        except FormatError as exc:
            hit = (None, exc.message)
        if len(text) <= _READ_LONGEST:
            if len(_READ) >= _READ_LIMIT:
                _READ.clear()
            _READ[key] = hit
    value, error = hit
    return (value.copy() if isinstance(value, np.ndarray) else value), error


def _json(text: str):
    """``json.loads(text)`` (what the parser's fast path reads), or None where it fails."""
    try:
        start = 0 if text[0] == "[" else _JSON_SPACE(text, 0).end()
        value, end = _SCAN(text, start)
    except (StopIteration, ValueError, RecursionError):
        return None
    if end != len(text) and _JSON_SPACE(text, end).end() != len(text):
        return None
    return value


def _matlab(text: str) -> list | None:
    """``[1 2; 3 4]`` as nested lists, as the full parser reads it; None when unsure."""
    m = _MATLAB.match(text)
    if m is None:
        return None
    body, trailing = m.group(1), m.group(2)
    tokens = [row.split() for row in body.split(";")]
    if any(len(x) > _LONGEST_NUMBER for row in tokens for x in row):
        return None
    rows = [[float(x) for x in row] for row in tokens]
    if any(not math.isfinite(x) for row in rows for x in row):
        return None
    if len(rows) == 1 and not trailing:
        return rows[0]
    if len({len(r) for r in rows}) != 1:
        return None  # ragged: the parser says where
    return rows


def _probe(value) -> tuple[int, ...]:
    """The shape of nested lists, following first elements (checked when stacked)."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(shape)


class _Column:
    """The answers to one part (one kind and tolerance): the rows to grade, where results go."""

    def __init__(
        self, kind: str, tol: Tolerance, partial: bool, parts, texts, expecteds, overridden: bool, out: list
    ) -> None:
        spec = ANSWER_KINDS[kind]
        self.kind = kind
        self.tol = EXACT if spec.integral else tol
        self.scalar = spec.ndim == 0
        self.elementwise = partial and spec.ndim != 0 and kind != "shape"
        self.partial = partial
        self.parts, self.texts, self.expecteds, self.out = parts, texts, expecteds, out
        self.overridden = overridden
        self.shared: dict[tuple, GradeResult] = {}
        self.right: dict[float, GradeResult] = {}  # points -> the right answer's result

    def result(
        self, part: InstancePart, score: float, status: Status, feedback: str, mistake=None, error=None
    ):
        """Results are immutable: equal ones (every right answer to a part) are one object."""
        key = (part.id, part.points, score, status.value, feedback, mistake, error)
        r = self.shared.get(key)
        if r is None:
            r = self.shared[key] = GradeResult(part.id, score, part.points, status, feedback, mistake, error)
        return r

    def format_error(self, i: int, error: str) -> None:
        """Not graded as wrong: the parser's message kept apart in ``format_error``."""
        feedback = f"Could not read the answer: {error}."
        result = self.result(self.parts[i], 0.0, Status.FORMAT_ERROR, feedback, error=error)
        self.out[i] = GradedPart(result, None, False)

    def not_text(self, i: int) -> None:
        """A response that is not text (None is blank): the parser says so."""
        try:
            parse_answer(self.texts[i], self.kind)
        except FormatError as exc:
            self.format_error(i, exc.message)
        else:  # pragma: no cover - the parser reads only text
            raise TypeError(f"parse_answer read a {type(self.texts[i]).__name__}")

    def not_whole(self, i: int) -> bool:
        """An integer part answered with a number that is not whole: a wrong answer (score 0),
        not an unreadable one. False when the text is not such a number."""
        value, error = _read_slow(self.texts[i], "real")  # remembered: a class repeats them
        if error is not None:
            return False
        x = float(value)
        if not math.isfinite(x) or x == round(x):
            return False  # whole but too large: the parser's message stands
        feedback = f"Expected a whole number; {x:.10g} is not one."
        self.out[i] = GradedPart(self.result(self.parts[i], 0.0, Status.INCORRECT, feedback), None, False)
        return True

    # -- 1. read
    def grade(self, rows: list[int]) -> None:
        texts, parts, out = self.texts, self.parts, self.out
        pending = []
        for i in rows:
            t = texts[i]
            if isinstance(t, str) and t.strip():
                pending.append(i)
            elif t is None or isinstance(t, str):
                out[i] = GradedPart(self.result(parts[i], 0.0, Status.BLANK, "No answer."), None, False)
            else:
                self.not_text(i)
        if self.kind == "choice":
            self.choices(pending)
            return
        if self.kind in SELECTION_GRADERS:  # text choice, true/false, multiple select, ordering
            grade_selection(self, pending)
            return
        slow: list[int] = []
        if self.scalar:
            self.read_numbers(pending, slow)
        elif self.kind in _LISTS:
            self.read_lists(pending, slow)
        else:
            slow = pending  # shapes: "4x4x10", "(4, 4, 10)", ... read as whole numbers by the parser
        self.read_slowly(slow)

    def read_numbers(self, pending: list[int], slow: list[int]) -> None:
        texts = self.texts
        integer = self.kind == "integer"
        match = _PLAIN_NUMBER.match
        idx: list[int] = []
        numbers: list = []
        for i in pending:
            t = texts[i]
            if len(t) <= MAX_CHARS and match(t):
                x = float(t)
                if math.isfinite(x):
                    if not integer:
                        idx.append(i)
                        numbers.append(x)
                        continue
                    if x == round(x) and abs(x) <= 2**53:
                        idx.append(i)
                        numbers.append(round(x))
                        continue
            slow.append(i)
        if idx:
            dtype = np.int64 if integer else np.float64
            values = [np.asarray(x, dtype=dtype) for x in numbers]
            self.decide(idx, values, np.array(numbers, dtype=np.float64))

    def read_lists(self, pending: list[int], slow: list[int]) -> None:
        texts = self.texts
        match = _PLAIN_LIST.match
        idx: list[int] = []
        nested: list = []
        for i in pending:
            t = texts[i]
            v = None
            if len(t) <= MAX_CHARS:
                if match(t):
                    v = _json(t)
                if v is None:
                    v = _matlab(t)
            if v is None:
                slow.append(i)
            else:
                idx.append(i)
                nested.append(v)
        if not idx:
            return
        try:
            g = np.array(nested, dtype=np.float64)
        except (ValueError, TypeError, OverflowError, RecursionError):
            g = None
        if g is not None and g.ndim >= 2:
            self.stack(idx, g, slow)
            return
        by_shape: dict[tuple[int, ...], tuple[list[int], list]] = defaultdict(lambda: ([], []))
        for i, v in zip(idx, nested, strict=True):
            rows, values = by_shape[_probe(v)]
            rows.append(i)
            values.append(v)
        for shape, (rows, values) in by_shape.items():
            try:
                g = np.array(values, dtype=np.float64)
            except (ValueError, TypeError, OverflowError, RecursionError):
                g = None
            if g is None or g.shape != (len(rows), *shape):
                slow.extend(rows)  # ragged or mixed: the parser reads each
            else:
                self.stack(rows, g, slow)

    def stack(self, idx: list[int], g: np.ndarray, slow: list[int]) -> None:
        """Lists read in bulk, stacked in ``g``: kept where the parser's fast path keeps them."""
        n, shape = len(idx), g.shape[1:]
        if not shape or 0 in shape or len(shape) > MAX_NESTING:
            slow.extend(idx)
            return
        if self.kind == "vector" and len(shape) == 2 and 1 in shape:
            g = g.reshape(n, -1)  # a row or a column
        elif (self.kind == "vector" and len(shape) != 1) or (self.kind == "matrix" and len(shape) != 2):
            slow.extend(idx)  # the parser says what is wrong
            return
        finite = all_rows(np.isfinite(g))
        if not finite.all():
            slow.extend(i for i, f in zip(idx, finite, strict=True) if not f)
            keep = np.flatnonzero(finite)
            idx = [idx[k] for k in keep]
            g = g[keep]
        if idx:
            self.decide(idx, list(g), g)

    def read_slowly(self, slow: list[int]) -> None:
        by_shape: dict[tuple[int, ...], tuple[list[int], list]] = defaultdict(lambda: ([], []))
        for i in slow:
            value, error = _read_slow(self.texts[i], self.kind)
            if error is not None:
                if not (self.kind == "integer" and self.not_whole(i)):
                    self.format_error(i, error)
            else:
                rows, values = by_shape[value.shape]
                rows.append(i)
                values.append(value)
        for rows, values in by_shape.values():
            self.decide(rows, values, np.array(values, dtype=np.float64))

    def choices(self, pending: list[int]) -> None:
        """Option letters: a letter past the last option is a format error; the key's letter is
        right; a mistake's letter earns its credit and feedback. A choice part's key is never
        overridden (the options are fixed on the paper)."""
        for i in pending:
            letter, error = _read_slow(self.texts[i], "choice")
            if error is not None:
                self.format_error(i, error)
                continue
            p = self.parts[i]
            n = len(p.options)
            if n and LETTERS.index(letter) >= n:
                self.format_error(
                    i,
                    f"expected an option letter from A to {LETTERS[n - 1]}; got {letter!r}, which is not an option",
                )
            elif letter == str(p.expected).strip().upper():
                self.out[i] = GradedPart(self.result(p, 1.0, Status.CORRECT, "Correct."), letter, True)
            else:
                m = match_mistake(letter, p.mistakes, EXACT)
                if m is not None:
                    self.out[i] = GradedPart(self.mistaken(p, m), letter, False)
                else:
                    feedback = f"Option {letter} is not the answer."
                    self.out[i] = GradedPart(self.result(p, 0.0, Status.INCORRECT, feedback), letter, False)

    def mistaken(self, part: InstancePart, m: KnownMistake) -> GradeResult:
        """An answer equal to known mistake ``m``: its credit (0 unless the template gives
        some) and its feedback, never per-element credit."""
        status = Status.PARTIAL if m.credit > 0 else Status.INCORRECT
        return self.result(part, m.credit, status, mistake_feedback(m), m.id)

    # -- 2. decide
    def decide(self, idx: list[int], values: list, g: np.ndarray) -> None:
        """Grade rows ``idx``, whose given values (``values``, stacked in ``g``) share a shape."""
        parts, out = self.parts, self.out
        if self.overridden:
            exp = [parts[i].expected if self.expecteds[i] is None else self.expecteds[i] for i in idx]
        else:
            exp = [parts[i].expected for i in idx]
        try:
            e = np.array(exp, dtype=np.float64)
        except (ValueError, TypeError, OverflowError):
            e = None
        if e is None or e.shape != g.shape:
            idx, values, g, e = self.same_shape(idx, values, g, exp)
            if not idx:
                return
        n = len(idx)
        ok = close_rows(self.tol, e, g)
        n_bad = (~ok).reshape(n, -1).sum(axis=1).tolist()
        right = self.right
        wrong = []
        for k, i in enumerate(idx):
            if n_bad[k]:
                wrong.append(k)
            else:
                p = parts[i]
                r = right.get(p.points)
                if r is None or r.part_id != p.id:
                    r = right[p.points] = self.result(p, 1.0, Status.CORRECT, "Correct.")
                out[i] = GradedPart(r, values[k], True)
        if not wrong:
            return
        w = np.asarray(wrong)
        matched = self.mistakes([idx[k] for k in wrong], g[w], [values[k] for k in wrong])
        explain = []
        for j, k in enumerate(wrong):
            m = matched[j]
            if m is None:
                explain.append(j)
            else:
                out[idx[k]] = GradedPart(self.mistaken(parts[idx[k]], m), values[k], False)
        if explain:
            sub = w[explain]
            if self.elementwise:
                scores = element_scores(self.tol, e[sub], g[sub], ok[sub]).tolist()
            else:
                scores = [0.0] * len(sub)
            self.explain(
                [idx[k] for k in sub],
                [values[k] for k in sub],
                e[sub],
                g[sub],
                ~ok[sub],
                scores,
            )

    def same_shape(self, idx, values, g, exp):
        """The rows whose key has the given values' shape (:meth:`mismatched` grades the others)."""
        keep = []
        for k, i in enumerate(idx):
            try:
                same = np.shape(np.asarray(exp[k], dtype=np.float64)) == g.shape[1:]
            except (ValueError, TypeError, OverflowError):
                same = False
            if same:
                keep.append(k)
            else:
                self.mismatched(i, values[k], exp[k])
        e = np.array([exp[k] for k in keep], dtype=np.float64).reshape(len(keep), *g.shape[1:])
        return [idx[k] for k in keep], [values[k] for k in keep], g[keep], e

    def mismatched(self, i: int, value: np.ndarray, expected) -> None:
        """One answer whose shape is not the key's: score 0 (or a known mistake of that shape:
        its credit), with both shapes and, when the values say so, a transpose or reshape."""
        part = self.parts[i]
        m = match_mistake(value, part.mistakes, self.tol)
        if m is not None:
            self.out[i] = GradedPart(self.mistaken(part, m), value, False)
            return
        if self.kind == "shape":
            want, got = np.asarray(expected).size, value.size
            feedback = f"Expected a shape with {want} dimension{'s' if want != 1 else ''}, got {got}."
        else:
            feedback = _capital(compare_arrays(expected, value, self.tol).message) + "."
        self.out[i] = GradedPart(self.result(part, 0.0, Status.INCORRECT, feedback), value, False)

    # -- 3. which mistake
    def mistakes(self, idx: list[int], g: np.ndarray, values: list) -> list[KnownMistake | None]:
        """The first distinguishable known mistake (in the part's order) each row's answer
        equals within the tolerance, or None."""
        found: list[KnownMistake | None] = [None] * len(idx)
        lists = [self.parts[i].mistakes for i in idx]
        shape = g.shape[1:]
        for j in range(max(map(len, lists), default=0)):
            rows, vals = [], []
            for r, ms in enumerate(lists):
                if found[r] is None and j < len(ms):
                    m = ms[j]
                    if m.distinguishable and m.value is not None and not isinstance(m.value, str):
                        rows.append(r)
                        vals.append(m.value)
            if not rows:
                continue
            try:
                mv = np.array(vals, dtype=np.float64)
            except (ValueError, TypeError, OverflowError):
                mv = None
            if mv is None or mv.shape != (len(rows), *shape):
                for r in rows:  # values of other shapes, or that do not stack: one by one
                    if match_mistake(values[r], (lists[r][j],), self.tol) is not None:
                        found[r] = lists[r][j]
                continue
            hit = all_rows(close_rows(self.tol, mv, g[rows]))
            for r in np.flatnonzero(hit).tolist():
                found[rows[r]] = lists[rows[r]][j]
        return found

    # -- 4. how far off
    def explain(self, idx, values, e: np.ndarray, g: np.ndarray, bad: np.ndarray, scores) -> None:
        tol = self.tol
        hint = hints(tol, e, g)
        if self.scalar:
            messages = [
                scalar_message(ev, gv, tol, h) for ev, gv, h in zip(e.tolist(), g.tolist(), hint, strict=True)
            ]
        else:
            messages = array_messages(e, g, bad, hint)
        for r, i in enumerate(idx):
            p = self.parts[i]
            score = scores[r]
            status = Status.PARTIAL if score > 0 else Status.INCORRECT
            result = GradeResult(p.id, score, p.points, status, _capital(messages[r]) + ".")
            self.out[i] = GradedPart(result, values[r], False)


def _is_blank(response) -> bool:
    return response is None or (isinstance(response, str) and not response.strip())


def grade_parts(
    items: Sequence[tuple[InstancePart, str | None]],
    *,
    partial: bool = True,
    expected: Sequence | None = None,
) -> list[GradedPart]:
    """Grade many (part, response) pairs at once, in their order (one pair:
    :func:`~quizgen.graders.numeric.grade_part_detail`); ``expected`` optionally gives each
    pair's ``expected_override`` (None keeps the part's key)."""
    expecteds = list(expected) if expected is not None else [None] * len(items)
    if len(expecteds) != len(items):
        raise ValueError(f"expected: one value per item ({len(items)}), got {len(expecteds)}")
    overridden = any(x is not None for x in expecteds)
    with collector_paused():
        parts = [p for p, _ in items]
        texts = [t for _, t in items]
        out: list = [None] * len(items)
        columns: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, p in enumerate(parts):
            columns[(p.kind, p.id)].append(i)
        for (kind, _), rows in columns.items():
            if kind not in ANSWER_KINDS:
                for i in rows:  # blank, else the parser names the kinds there are
                    if not _is_blank(texts[i]):
                        parse_answer(texts[i], kind)
                    out[i] = GradedPart(
                        GradeResult(parts[i].id, 0.0, parts[i].points, Status.BLANK, "No answer."),
                        None,
                        False,
                    )
                continue
            tol = parts[rows[0]].tolerance
            if (
                ANSWER_KINDS[kind].integral
                or ANSWER_KINDS[kind].choice
                or all(parts[i].tolerance == tol for i in rows)
            ):
                by_tol = {tol: rows}
            else:
                by_tol = defaultdict(list)
                for i in rows:
                    by_tol[parts[i].tolerance].append(i)
            for tol, same in by_tol.items():
                _Column(kind, tol, partial, parts, texts, expecteds, overridden, out).grade(same)
    return out


def grade_questions(
    questions: Sequence[tuple[Instance, Mapping[str, str | None]]],
    *,
    recompute_factory: Callable[[Instance], Recompute | None] | None = None,
    carry_forward_credit: float = 1.0,
    partial: bool = True,
) -> list[list[GradedPart]]:
    """Grade many questions (any students, any templates) at once: for each (instance,
    responses), what :func:`~quizgen.graders.numeric.grade_instance_detail` returns with
    ``recompute = recompute_factory(instance)`` (called for every instance in order, as the
    gradebook does) and the same credit and partial settings."""
    if not 0.0 <= carry_forward_credit <= 1.0:
        raise ValueError(f"carry_forward_credit: expected a number in [0, 1], got {carry_forward_credit}")
    with collector_paused():
        items = [(p, responses.get(p.id)) for instance, responses in questions for p in instance.parts]
        flat = grade_parts(items, partial=partial)
        graded: list[list[GradedPart]] = []
        carry = []  # (question, part index, CarriedKey)
        k = 0
        for q, (instance, _) in enumerate(questions):
            n = len(instance.parts)
            rows = flat[k : k + n]
            k += n
            graded.append(rows)
            recompute = recompute_factory(instance) if recompute_factory is not None else None
            if recompute is not None and carry_forward_credit > 0:
                carry.extend((q, *c) for c in carried_keys(instance, rows, recompute))
        if carry:
            grade_carried(questions, graded, carry, carry_forward_credit, partial, grade_parts)
    return graded
