"""The text-option kinds on the served pages: their form fields and their practice feedback.

Fields (``name`` is the part's answer field: ``a`` in practice, ``q3.a`` on the paper):

=============  ===========================================  ======================================
kind           fields the page sends                        answer the grader reads
=============  ===========================================  ======================================
text_choice    radio ``name`` = a letter                    ``"B"``
true_false     radio ``name`` = ``T`` or ``F``              ``"T"``
multi_select   hidden ``name`` = "" and a checkbox          the checked letters, ``"A,C"`` (none
               ``name:A`` = ``1`` per option                checked: "", a blank)
ordering       a select ``name:A`` = position 1..n (or "")  the letters by position, ``"C,A,B,D"``
               per item
=============  ===========================================  ======================================

No JavaScript is needed (a phone's native radio, checkbox and select). An answer typed into
``name`` itself (an API client) is read as before. :func:`fold_fields` turns the fields into
the answer text before the answer is checked and saved, so drafts, attempts and the gradebook
hold the same string a response file would.

Practice feedback before the solution is shown (:func:`practice_feedback`) names the
misconception of what the student chose but never which options are right: the grader's
"You left out C" (multiple select) or "The right order is ..." (ordering) would give the key
away, so they are left out until the student asks for the solution.
"""

from __future__ import annotations

from collections.abc import Mapping

from quizgen.graders.parse import FormatError, parse_answer
from quizgen.models import InstancePart
from quizgen.selection import is_selection, labels, split_letters

from .service import Refused

__all__ = ["chosen", "fold_fields", "positions", "practice_feedback"]


def chosen(text: str | None) -> list[str]:
    """The letters of a saved answer (``"a, c"`` -> ``["A", "C"]``), to tick the page's inputs."""
    return [x.strip().upper() for x in (text or "").split(",") if x.strip()]


def positions(text: str | None) -> dict[str, int]:
    """letter -> its position (1-based) in a saved ordering answer ``"C,A,B"``."""
    return {x: i for i, x in enumerate(chosen(text), 1)}


def _fold_one(name: str, part: InstancePart, form: Mapping[str, str], subs: dict[str, str]) -> str | None:
    shown = labels(part)
    for letter in subs:
        if letter not in shown:
            raise Refused(f"Unknown answer field {name + ':' + letter!r}; nothing was saved.")
    typed = form.get(name)
    if not subs:
        return typed
    if typed:
        raise Refused(f"The answer to {name} was sent both typed and ticked; nothing was saved.")
    if part.kind == "multi_select":
        return ",".join(x for x in shown if x in subs)
    if part.kind != "ordering":
        raise Refused(f"Unknown answer field {name + ':' + next(iter(subs))!r}; nothing was saved.")
    at: dict[int, str] = {}
    for letter, value in subs.items():
        value = value.strip()
        if not value:
            continue
        if not value.isdigit() or not 1 <= int(value) <= len(shown):
            raise Refused(
                f"Item {letter} of {name} has position {value!r}; give a position from 1 to {len(shown)}. "
                "Nothing was saved."
            )
        if int(value) in at:
            raise Refused(
                f"Items {at[int(value)]} and {letter} of {name} are both at position {value}; give each item "
                "its own position. Nothing was saved."
            )
        at[int(value)] = letter
    return ",".join(at[k] for k in sorted(at))


def fold_fields(parts: Mapping[str, InstancePart], form: Mapping[str, str]) -> dict[str, str]:
    """``form`` with each text-option part's fields (``parts``: field name -> part) folded into
    its answer field, as the module's table says; other fields pass through unchanged.
    A sub-field of an unknown part or letter, or an ordering with two items at one position,
    is :class:`Refused`."""
    subs: dict[str, dict[str, str]] = {}
    out = {}
    for key, value in form.items():
        name, sep, letter = key.rpartition(":")
        if sep and name in parts and is_selection(parts[name].kind):
            subs.setdefault(name, {})[letter] = value
        elif sep and key not in parts:
            raise Refused(f"Unknown answer field {key!r}; nothing was saved.")
        else:
            out[key] = value
    for name, part in parts.items():
        if not is_selection(part.kind) or name not in subs:
            continue
        folded = _fold_one(name, part, form, subs[name])
        if folded is not None:
            out[name] = folded
    return out


def practice_feedback(part: InstancePart, result: Mapping, solution_shown: bool) -> tuple[str, str | None]:
    """(feedback, mistake id) of a practice try (``result``: the stored attempt's row) to show
    before the solution: the grader's, except that what would name a right option is left out
    (a multiple select's options left out, an ordering's right order)."""
    feedback, mistake = result["feedback"], result["mistake"]
    if solution_shown or part.kind not in ("multi_select", "ordering") or result["status"] == "correct":
        return feedback, mistake
    try:
        given = split_letters(parse_answer(result["response"] or "", part.kind))
    except FormatError:
        return feedback, mistake
    if not given or result["status"] in ("format_error", "blank"):
        return feedback, mistake
    if part.kind == "ordering":
        if mistake is not None:
            return next(m.feedback for m in part.mistakes if m.id == mistake), mistake
        return "That is not the right order.", None
    right = set(split_letters(part.expected))
    notes = []
    for letter in (x for x in given if x not in right):
        m = next(
            (
                m
                for m in part.mistakes
                if m.value is not None and set(split_letters(m.value)) ^ right == {letter}
            ),
            None,
        )
        notes.append(f"You selected {letter}: {m.feedback if m is not None else 'it is not a right option.'}")
    if right - set(given):
        notes.append("Some right options are not selected.")
    shown_mistake = mistake if mistake is not None and len(notes) == 1 and not right - set(given) else None
    return " ".join(notes), shown_mistake
