"""Grading the text-option kinds: text choice, true/false, multiple select, ordering.

The answer has been read by :func:`~quizgen.graders.parse.parse_answer` (letters, upper case,
comma-separated); blanks were taken out before. Each kind's rule (docs/grading.md):

- ``text_choice``, ``true_false``: the key's letter scores 1; a known mistake's letter earns its
  credit (0 unless the template gives some) and its feedback, which names the misconception;
  any other letter that is an option scores 0; a letter that is not an option is a format error.
- ``multi_select`` (right minus wrong, floored at 0): with ``k`` right options among ``n``,
  each right option selected earns 1/k and each wrong option selected costs 1/(n - k)::

      score = max(0, right_selected / k - wrong_selected / (n - k))

  Selecting everything earns 1 - 1 = 0 and selecting nothing 0 (a blank). It is Moodle's
  multichoice with ``single=false`` and fractions +100/k % and -100/(n-k) % (Moodle floors the
  total at 0 too); Canvas Classic's (right - wrong)/k is not, and the export says so. Each
  option marked wrongly (a wrong one selected, a right one left out) has its feedback in the
  message.
- ``ordering`` (longest correctly ordered subsequence): with ``L`` the length of the longest
  subsequence of the given items that is in the right relative order among ``n`` items::

      score = (L - 1) / (n - 1)

  so the right order earns 1 and the reversed order 0. A listed wrong order (a known mistake)
  gets its feedback and scores by the same rule. Every item must be written exactly once.

:data:`SELECTION_GRADERS` maps each kind to ``grade(part, letters) -> (score, status, feedback,
mistake id or None)`` or raises :class:`~quizgen.graders.parse.FormatError` with a message for
a student.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence

from quizgen.models import InstancePart, KnownMistake, Status
from quizgen.selection import labels, split_letters

from .compare import match_mistake, mistake_feedback
from .numeric import GradedPart
from .parse import FormatError, parse_answer

__all__ = ["SELECTION_GRADERS", "longest_ordered", "multi_select_score", "option_weights", "ordering_score"]

Outcome = tuple[float, Status, str, str | None]


def option_weights(n: int, k: int) -> tuple[float, float]:
    """(what a right option selected earns, what a wrong option selected costs) for ``k``
    right options among ``n``: 1/k and 1/(n - k). The exports give the same fractions."""
    if not 0 < k < n:
        raise ValueError(f"multiple select: need 0 < right options < options, got {k} of {n}")
    return 1.0 / k, 1.0 / (n - k)


def multi_select_score(right: set[str], selected: set[str], n: int) -> float:
    """max(0, right_selected/k - wrong_selected/(n - k)), k = len(right)."""
    gain, cost = option_weights(n, len(right))
    hits = len(selected & right)
    misses = len(selected - right)
    score = hits * gain - misses * cost
    return 1.0 if selected == right else max(0.0, min(1.0, score))


def longest_ordered(positions: Sequence[int]) -> int:
    """Length of the longest strictly increasing subsequence of ``positions`` (O(n log n))."""
    tails: list[int] = []
    for x in positions:
        i = bisect_left(tails, x)
        if i == len(tails):
            tails.append(x)
        else:
            tails[i] = x
    return len(tails)


def ordering_score(expected: Sequence[str], given: Sequence[str]) -> float:
    """(L - 1)/(n - 1), L the longest subsequence of ``given`` in ``expected``'s relative order."""
    n = len(expected)
    if n < 2:
        raise ValueError(f"ordering: need at least two items, got {n}")
    rank = {x: i for i, x in enumerate(expected)}
    return (longest_ordered([rank[x] for x in given]) - 1) / (n - 1)


def _status(score: float) -> Status:
    return Status.CORRECT if score == 1.0 else Status.PARTIAL if score > 0 else Status.INCORRECT


def _check_letters(part: InstancePart, letters: Sequence[str]) -> None:
    shown = labels(part)
    outside = [x for x in letters if x not in shown]
    if outside:
        raise FormatError(
            f"expected option letters from {shown[0]} to {shown[-1]}; got {', '.join(outside)}, which "
            f"{'is' if len(outside) == 1 else 'are'} not an option"
        )


def _grade_one(part: InstancePart, letters: str) -> Outcome:
    """text_choice, true_false: the key, a named mistake, or another option."""
    _check_letters(part, [letters])
    if letters == part.expected:
        return 1.0, Status.CORRECT, "Correct.", None
    m = match_mistake(letters, part.mistakes, None)
    if m is not None:
        return m.credit, _status(m.credit) if m.credit < 1 else Status.PARTIAL, mistake_feedback(m), m.id
    return 0.0, Status.INCORRECT, f"Option {letters} is not the answer.", None


def _option_mistake(part: InstancePart, letter: str) -> KnownMistake | None:
    """The multiple-select mistake of marking option ``letter`` wrongly."""
    key = set(split_letters(part.expected))
    for m in part.mistakes:
        if m.value is not None and set(split_letters(m.value)) ^ key == {letter}:
            return m
    return None


def _grade_multi_select(part: InstancePart, letters: str) -> Outcome:
    given = split_letters(letters)
    _check_letters(part, given)
    right, selected = set(split_letters(part.expected)), set(given)
    score = multi_select_score(right, selected, len(part.options))
    if selected == right:
        return 1.0, Status.CORRECT, "Correct.", None
    wrong = sorted(selected ^ right)
    notes = []
    for letter in wrong:
        m = _option_mistake(part, letter)
        what = "You selected" if letter in selected else "You left out"
        notes.append(f"{what} {letter}: {m.feedback if m is not None else 'that option is marked wrongly.'}")
    only = _option_mistake(part, wrong[0]) if len(wrong) == 1 else None
    gain, cost = option_weights(len(part.options), len(right))
    rule = (
        f"{len(selected & right)} of {len(right)} right options selected, {len(selected - right)} wrong: "
        f"{len(selected & right)}/{len(right)} - {len(selected - right)}/{len(part.options) - len(right)}"
        f" = {score:.2f}"
        + (" (floored at 0)" if len(selected & right) * gain - len(selected - right) * cost < 0 else "")
    )
    return score, _status(score), " ".join(notes) + f" Score: {rule}.", only.id if only is not None else None


def _grade_ordering(part: InstancePart, letters: str) -> Outcome:
    given = split_letters(letters)
    _check_letters(part, given)
    expected = split_letters(part.expected)
    missing = [x for x in labels(part) if x not in given]
    if missing:
        raise FormatError(f"expected every item's letter once; {', '.join(missing)} missing")
    score = ordering_score(expected, given)
    if given == expected:
        return 1.0, Status.CORRECT, "Correct.", None
    rank = {x: i for i, x in enumerate(expected)}
    length = longest_ordered([rank[x] for x in given])
    rule = f"{length} of {len(expected)} items in the right relative order: ({length} - 1)/({len(expected)} - 1) = {score:.2f}"
    m = match_mistake(letters, part.mistakes, None)
    lead = m.feedback if m is not None else f"The right order is {part.expected}."
    return score, _status(score), f"{lead} Score: {rule}.", m.id if m is not None else None


#: kind -> grade(part, letters read by the parser) -> (score, status, feedback, mistake id).
SELECTION_GRADERS: dict[str, Callable[[InstancePart, str], Outcome]] = {
    "text_choice": _grade_one,
    "true_false": _grade_one,
    "multi_select": _grade_multi_select,
    "ordering": _grade_ordering,
}


def grade_selection(column, rows: Sequence[int]) -> None:
    """Grade ``rows`` of a batch column (:class:`quizgen.graders.batch._Column`, answers not
    blank) of a text-option kind: read, then the kind's rule; an unreadable answer or a letter
    that is not an option is a format error, as for numbers."""
    for i in rows:
        part = column.parts[i]
        try:
            letters = parse_answer(column.texts[i], part.kind)
            score, status, feedback, mistake = SELECTION_GRADERS[part.kind](part, letters)
        except FormatError as exc:
            column.format_error(i, exc.message)
            continue
        result = column.result(part, score, status, feedback, mistake)
        column.out[i] = GradedPart(result, letters, score == 1.0)
