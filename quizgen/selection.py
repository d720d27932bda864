"""The text-option answer kinds: text choice, true/false, multiple select and ordering.

Their options are texts the template writes (jinja, rendered with the draw), and which options
are right is decided per draw: ``correct`` (or a true/false part's ``truth``) is True, False or
an expression over the parameters and steps, so a statement whose truth depends on the draw is
judged by the reference, never written down. Each kind is a :class:`SelectionKind` in
:data:`SELECTION_KINDS`, keyed by its exact name (the grading rules are in
:mod:`quizgen.graders.selection`).

What a part of each kind holds in the manifest (``InstancePart``):

=============  =====================  ===============  =========================================
kind           options (as shown)     expected          mistakes (value = the answer that makes it)
=============  =====================  ===============  =========================================
text_choice    option texts, shuffled  ``"B"``          each wrong option: its letter
true_false     ``("True", "False")``   ``"T"``/``"F"``  each case whose ``when`` holds: the wrong letter
multi_select   option texts, shuffled  ``"A,C"``        each option: the key with that option flipped
ordering       item texts, shuffled    ``"C,A,B,D"``    each listed wrong order, in letters
=============  =====================  ===============  =========================================

Options are shuffled per student by the part's option generator (the one numeric choices use:
``make_rng(seed ^ OPTION_ORDER_SALT)``), so every student's paper has its own order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import expressions
from .models import InstancePart, KnownMistake, Part
from .seeding import make_rng, stable_seed

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: A true/false part's options and the letters a student types for them.
TRUE_FALSE_OPTIONS = ("True", "False")
TRUE_FALSE_LABELS = "TF"


@dataclass(frozen=True)
class SelectionKind:
    """One text-option kind: ``labels(part)`` are the letters shown before its options (and
    typed by students), ``build`` makes a part of an instance, ``example`` is an answer in
    the kind's format (for response sheets and messages), ``describe`` one line on how it is
    answered."""

    name: str
    build: Callable[..., InstancePart]
    labels: Callable[[InstancePart], str]
    example: str
    describe: str


def is_selection(kind: str) -> bool:
    """Is ``kind`` one of the text-option kinds?"""
    return kind in SELECTION_KINDS


def split_letters(text: str) -> list[str]:
    """``"C,A,B"`` -> ``["C", "A", "B"]`` (a manifest's expected or mistake value; "" -> [])."""
    return [x for x in str(text).split(",") if x]


def join_letters(letters: Sequence[str]) -> str:
    return ",".join(letters)


def _truth(source, context: dict, what: str) -> bool:
    """True, False, or an expression's value, which must be true or false."""
    if isinstance(source, bool):
        return source
    value = expressions.evaluate(source, context)
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{what}: {source!r} must be true or false, got {value!r}")
    return bool(value)


def _texts(part: Part, context: dict, order: Sequence[int]) -> tuple[str, ...]:
    texts = tuple(expressions.render(part.selection.options[i].text, context).strip() for i in order)
    if len(set(texts)) != len(texts):
        raise ValueError(f"part {part.id}: two options read the same here: {list(texts)}")
    return texts


def _part_rng(part: Part, option_rng: Callable[[], np.random.Generator]) -> np.random.Generator:
    """The instance's option generator salted with the part's id: two parts with as many options
    are shuffled differently (their right letters do not repeat each other)."""
    return make_rng(stable_seed(int(option_rng().integers(2**62)), part.id))


def _order(part: Part, option_rng: Callable[[], np.random.Generator]) -> list[int]:
    return _part_rng(part, option_rng).permutation(len(part.selection.options)).tolist()


def _instance_part(part: Part, prompt: str, points: float, expected: str, mistakes, options) -> InstancePart:
    return InstancePart(
        id=part.id,
        kind=part.kind,
        prompt=prompt,
        expected=expected,
        tolerance=part.tolerance,
        points=points,
        mistakes=tuple(mistakes),
        options=tuple(options),
        depends_on=(),
    )


def _build_text_choice(part: Part, context: dict, prompt: str, points: float, option_rng) -> InstancePart:
    """One right option (exactly one ``correct`` holds in each draw); each other option is a
    mistake whose value is its letter."""
    options = part.selection.options
    truths = [_truth(o.correct, context, f"part {part.id}, option {o.id}, correct") for o in options]
    right = [o.id for o, t in zip(options, truths, strict=True) if t]
    if len(right) != 1:
        raise ValueError(
            f"part {part.id}: exactly one option must be correct in every draw; here {len(right)} are ({right})"
        )
    order = _order(part, option_rng)
    texts = _texts(part, context, order)
    expected = LETTERS[order.index(truths.index(True))]
    mistakes = [
        KnownMistake(
            o.id,
            o.feedback,
            None if truth else LETTERS[order.index(i)],
            not truth,
            o.credit,
            o.credit_reason,
        )
        for i, (o, truth) in enumerate(zip(options, truths, strict=True))
    ]
    return _instance_part(part, prompt, points, expected, mistakes, texts)


def _build_true_false(part: Part, context: dict, prompt: str, points: float, option_rng) -> InstancePart:
    """The statement is the prompt; ``truth`` decides T or F; each case whose ``when`` holds is
    what the other answer means in this draw."""
    truth = _truth(part.selection.truth, context, f"part {part.id}, truth")
    expected, wrong = ("T", "F") if truth else ("F", "T")
    mistakes = []
    for c in part.selection.cases:
        applies = not c.when or _truth(c.when, context, f"part {part.id}, mistake {c.id}, when")
        mistakes.append(
            KnownMistake(c.id, c.feedback, wrong if applies else None, applies, c.credit, c.credit_reason)
        )
    return _instance_part(part, prompt, points, expected, mistakes, TRUE_FALSE_OPTIONS)


def _build_multi_select(part: Part, context: dict, prompt: str, points: float, option_rng) -> InstancePart:
    """The right options' letters, in order (at least one right and one wrong in each draw);
    each option is a mistake whose value is the key with that option flipped."""
    options = part.selection.options
    truths = [_truth(o.correct, context, f"part {part.id}, option {o.id}, correct") for o in options]
    if all(truths) or not any(truths):
        raise ValueError(
            f"part {part.id}: a multiple-select part needs at least one right and one wrong option in every draw; "
            f"here {'all' if all(truths) else 'none'} are right"
        )
    order = _order(part, option_rng)
    texts = _texts(part, context, order)
    key = {LETTERS[pos] for pos, i in enumerate(order) if truths[i]}
    mistakes = []
    for i, o in enumerate(options):
        flipped = key ^ {LETTERS[order.index(i)]}
        mistakes.append(KnownMistake(o.id, o.feedback, join_letters(sorted(flipped)), True))
    return _instance_part(part, prompt, points, join_letters(sorted(key)), mistakes, texts)


def _build_ordering(part: Part, context: dict, prompt: str, points: float, option_rng) -> InstancePart:
    """Items shown shuffled (never in the right order); the key lists the letters in the right
    order; each case is a named wrong order, in letters."""
    options = part.selection.options
    n = len(options)
    rng = _part_rng(part, option_rng)
    order = rng.permutation(n).tolist()
    while order == sorted(order):  # shown in the right order, the question answers itself
        order = rng.permutation(n).tolist()
    texts = _texts(part, context, order)
    position = {o.id: LETTERS[order.index(i)] for i, o in enumerate(options)}
    expected = join_letters([position[o.id] for o in options])
    mistakes = []
    for c in part.selection.cases:
        value = join_letters([position[i] for i in c.order])
        mistakes.append(KnownMistake(c.id, c.feedback, value, value != expected, c.credit, c.credit_reason))
    return _instance_part(part, prompt, points, expected, mistakes, texts)


def _letters(part: InstancePart) -> str:
    return LETTERS[: len(part.options)]


SELECTION_KINDS: dict[str, SelectionKind] = {
    k.name: k
    for k in (
        SelectionKind("text_choice", _build_text_choice, _letters, "B", "one option letter, such as B"),
        SelectionKind(
            "true_false", _build_true_false, lambda part: TRUE_FALSE_LABELS, "T", "T (true) or F (false)"
        ),
        SelectionKind(
            "multi_select", _build_multi_select, _letters, "A,C", "every right option's letter, such as A,C"
        ),
        SelectionKind(
            "ordering",
            _build_ordering,
            _letters,
            "C,A,B,D",
            "every item's letter once, in the right order, such as C,A,B,D",
        ),
    )
}


def build_selection_part(
    part: Part, context: dict, prompt: str, points: float, option_rng: Callable[[], np.random.Generator]
) -> InstancePart:
    """The instance part of a text-option ``part`` (``context``: the draw's text context)."""
    return SELECTION_KINDS[part.kind].build(part, context, prompt, points, option_rng)


def labels(part: InstancePart) -> str:
    """The letters shown before a part's options (``"ABCD"``; ``"TF"`` for true/false)."""
    kind = SELECTION_KINDS.get(part.kind)
    return kind.labels(part) if kind is not None else LETTERS[: len(part.options)]


def option_of(part: InstancePart, letter: str) -> str:
    """The text of the option ``letter`` names."""
    return part.options[labels(part).index(letter)]


def answer_text(part: InstancePart) -> str:
    """The key as a student types it, with the options' texts: ``B (text)``,
    ``A,C (text; text)``, ``C,A,B (text; text; text)``."""
    letters = split_letters(part.expected)
    return f"{part.expected} ({'; '.join(option_of(part, x) for x in letters)})"


def flipped_option(part: InstancePart, value: str) -> str:
    """The one letter a multiple-select mistake's ``value`` differs from the key in."""
    (letter,) = set(split_letters(value)) ^ set(split_letters(part.expected))
    return letter


def mistake_ids(part: Part) -> tuple[str, ...]:
    """The named misconceptions of a text-option template part: its options' ids (text choice,
    multiple select) or its cases' (true/false, ordering); those of the instance's mistakes. A
    text choice's option that is right in every draw (``correct: true``) is never chosen wrongly,
    so it names no misconception."""
    if part.kind == "text_choice":
        return tuple(o.id for o in part.selection.options if o.correct is not True)
    if part.kind == "multi_select":
        return tuple(o.id for o in part.selection.options)
    return tuple(c.id for c in part.selection.cases)


def answer_hint(part: InstancePart) -> str:
    """How a student writes the answer to a text-option part, for papers and response sheets."""
    return f"Answer with {SELECTION_KINDS[part.kind].describe}."
