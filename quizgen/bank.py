"""Load and validate question-bank YAML files into :class:`~quizgen.models.Template` objects.

A bank file holds one family's templates::

    family: conv
    templates:
      - id: conv.output_size
        title: Output size of a convolution
        topic: convolution
        tags: [conv, shapes]
        difficulty: 1
        params:   {H: {int: [5, 32]}, K: {choice: [1, 3, 5]}, P: {int: [0, 2]}, S: {int: [1, 2]}}
        constraints: ["(H + 2 * P - K) % S == 0"]
        steps:
          size: {call: conv.conv_output_size, args: {size: H, kernel: K, padding: P, stride: S}}
        text: "An input of height {{ H }} ..."
        parts:
          - {id: a, kind: integer, answer: size,
             mistakes: [{id: no_padding, feedback: "...", change: {size: {args: {padding: 0}}}}]}
        solution: "..."

Everything is checked statically when loading: keys and types, reference functions, that every
name an expression or text uses is defined before it is used, answer kinds and tolerances. Each
problem is one line: ``file:line: template ID, field F: what is wrong and what to write``.
Whether the constraints can be met and every answer is well posed is checked by drawing
instances (:mod:`quizgen.selfcheck`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jinja2

from . import expressions, sampling
from .errors import BankError
from .models import (
    ANSWER_KINDS,
    EXACT,
    QUALITY_CHECKS,
    CaseSpec,
    MistakeSpec,
    OptionSpec,
    ParamSpec,
    Part,
    QualityException,
    SelectionSpec,
    Step,
    StepChange,
    Template,
    Tolerance,
)
from .reference import registry
from .selection import mistake_ids
from .yamlio import LineDict, load_yaml

_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = frozenset({"parts", "params", "loop", "self"}) | expressions.BUILTIN_NAMES

_TEMPLATE_KEYS = {
    "id": str,
    "title": str,
    "topic": str,
    "tags": list,
    "difficulty": int,
    "params": dict,
    "constraints": list,
    "steps": dict,
    "text": str,
    "parts": list,
    "solution": str,
    "quality": list,
}
_TEMPLATE_REQUIRED = ("id", "title", "topic", "difficulty", "params", "steps", "text", "parts", "solution")
_PART_KEYS = {
    "id": str,
    "kind": str,
    "answer": str,
    "points": (int, float),
    "tolerance": dict,
    "prompt": str,
    "mistakes": list,
    "choices": int,
    "options": list,
    "truth": (bool, str),
}
#: The keys only the text-option kinds (ANSWER_KINDS[kind].texts) take, and the ones they refuse.
_SELECTION_ONLY = ("options", "truth")
_NOT_FOR_SELECTION = {
    "answer": "its options' correct (a true/false part's truth) decides the key, not a step",
    "tolerance": "its answers are letters, compared exactly",
    "choices": "every option is shown",
}
_OPTION_KEYS = {
    "id": str,
    "text": str,
    "correct": (bool, str),
    "feedback": str,
    "credit": (int, float),
    "credit_reason": str,
}
_CASE_KEYS = {
    "id": str,
    "feedback": str,
    "when": str,
    "order": list,
    "credit": (int, float),
    "credit_reason": str,
}
_MISTAKE_KEYS = {"id": str, "feedback": str, "change": dict, "credit": (int, float), "credit_reason": str}
_STEP_KEYS = {"call": str, "args": dict, "pick": str}
_QUALITY_KEYS = {"check": str, "part": str, "mistake": str, "min": (int, float), "reason": str}
_TOLERANCE_KEYS = {"rtol": (int, float), "atol": (int, float), "sigfigs": int, "decimals": int, "exact": bool}


class _Problems:
    """Collects one-line problems for a file; ``at`` builds the location prefix."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[BankError] = []

    def add(self, line: int, template_id: str, where: str, message: str) -> None:
        place = f"template {template_id}" if template_id else ""
        if where:
            place = f"{place}, field {where}" if place else f"field {where}"
        self.items.append(BankError(message, source=f"{self.path}:{line}", where=place))


def _line(node, key=None) -> int:
    if isinstance(node, LineDict):
        return node.line_of(key) if key is not None else node.line
    return 0


def _type_name(t) -> str:
    if isinstance(t, tuple):
        return " or ".join(_type_name(x) for x in t)
    return {
        str: "text",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "a mapping",
        bool: "true/false",
    }[t]


def _check_mapping(
    node, allowed: Mapping, required: Iterable[str], where: str, tid: str, probs: _Problems
) -> bool:
    """Unknown keys, missing keys and wrong types of a mapping; False if it is not a mapping."""
    if not isinstance(node, dict):
        probs.add(_line(node), tid, where, f"expected a mapping, got {type(node).__name__}")
        return False
    for key in node:
        if key not in allowed:
            probs.add(
                _line(node, key),
                tid,
                f"{where}.{key}" if where else str(key),
                f"unknown key {key!r}; expected one of {', '.join(allowed)}",
            )
    for key in required:
        if key not in node:
            probs.add(_line(node), tid, where or key, f"missing required key {key!r}")
    for key, typ in allowed.items():
        if key in node:
            value = node[key]
            bad = (
                isinstance(value, bool)
                and typ is not bool
                and bool not in (typ if isinstance(typ, tuple) else (typ,))
            )
            if bad or not isinstance(value, typ):
                probs.add(
                    _line(node, key),
                    tid,
                    f"{where}.{key}" if where else key,
                    f"expected {_type_name(typ)}, got {type(value).__name__}" + _number_hint(value),
                )
    return True


def _number_hint(value) -> str:
    """YAML 1.1 reads ``1e-6`` (a number without a point) as text: say how to write it."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return f" ({value!r} is read as text: write it with a point, e.g. 1.0e-6)"
    return ""


@dataclass
class _Scope:
    """Names defined so far while reading a template, for use-before-definition checks."""

    params: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    @property
    def names(self) -> set[str]:
        return set(self.params) | set(self.steps)


def _check_names(
    used: Iterable[str], defined: set[str], line: int, tid: str, where: str, probs: _Problems
) -> None:
    for name in sorted(set(used) - defined - expressions.BUILTIN_NAMES):
        probs.add(
            line, tid, where, f"uses {name!r}, which is not defined before it (define it in params or steps)"
        )


def _expr_names(source, line, tid, where, probs) -> frozenset[str]:
    try:
        return expressions.names_in(source)
    except jinja2.TemplateSyntaxError as exc:
        probs.add(line, tid, where, f"expression syntax error: {exc.message}")
        return frozenset()


def _text_names(source: str, line, tid, where, probs) -> frozenset[str]:
    try:
        return expressions.template_names(source)
    except jinja2.TemplateSyntaxError as exc:
        probs.add(line + (exc.lineno or 1) - 1, tid, where, f"template syntax error: {exc.message}")
        return frozenset()


def _parse_params(node, tid, probs, scope) -> tuple[ParamSpec, ...]:
    out = []
    for name, spec in node.items():
        line = _line(node, name)
        where = f"params.{name}"
        if not isinstance(name, str) or not _NAME.match(name) or name in _RESERVED:
            probs.add(
                line,
                tid,
                where,
                "parameter names are identifiers (letters, digits, _) and not reserved words",
            )
            continue
        if not isinstance(spec, dict):
            probs.add(line, tid, where, "expected a mapping such as {int: [1, 5]}")
            continue
        try:
            kind = sampling.sampler_kind(spec)
        except ValueError as exc:
            probs.add(line, tid, where, str(exc))
            continue
        allowed = {kind} | sampling.SAMPLERS[kind].modifiers
        for key in spec:
            if key not in allowed:
                probs.add(
                    line,
                    tid,
                    where,
                    f"unknown setting {key!r} for a {kind} parameter; expected {sorted(allowed)}",
                )
        used = frozenset().union(
            *(_expr_names(v, line, tid, where, probs) for k, v in spec.items() if k != "choice")
        )
        _check_names(used, set(scope.params), line, tid, where, probs)
        out.append(ParamSpec(name=name, kind=kind, spec=dict(spec)))
        scope.params.append(name)
    return tuple(out)


def _check_call(call: str, line, tid, where, probs) -> None:
    try:
        registry.resolve(call)
    except ValueError as exc:
        probs.add(line, tid, where, str(exc))
    except ImportError as exc:  # a reference module that fails to import is a bank problem too
        probs.add(line, tid, where, f"reference module failed to import: {exc}")


def _parse_steps(node, tid, probs, scope) -> tuple[Step, ...]:
    out = []
    for name, spec in node.items():
        line = _line(node, name)
        where = f"steps.{name}"
        if not isinstance(name, str) or not _NAME.match(name) or name in _RESERVED or name in scope.names:
            probs.add(line, tid, where, "step names are identifiers, not reserved words, and not used twice")
            continue
        if not _check_mapping(spec, _STEP_KEYS, (), where, tid, probs):
            continue
        if ("call" in spec) == ("pick" in spec):
            probs.add(line, tid, where, "a step has either call (with args) or pick, not both or neither")
            continue
        defined = scope.names
        if "call" in spec:
            _check_call(spec["call"], _line(spec, "call"), tid, f"{where}.call", probs)
            args = spec.get("args", {})
            for arg, src in args.items() if isinstance(args, dict) else ():
                aline = _line(args, arg)
                _check_names(
                    _expr_names(src, aline, tid, f"{where}.args.{arg}", probs),
                    defined,
                    aline,
                    tid,
                    f"{where}.args.{arg}",
                    probs,
                )
            out.append(Step(name=name, call=spec["call"], args=dict(args) if isinstance(args, dict) else {}))
        else:
            try:
                root = expressions.path_root(spec["pick"])
            except ValueError as exc:
                probs.add(_line(spec, "pick"), tid, f"{where}.pick", str(exc))
                continue
            _check_names({root}, defined, _line(spec, "pick"), tid, f"{where}.pick", probs)
            out.append(Step(name=name, pick=spec["pick"]))
        scope.steps.append(name)
    return tuple(out)


def _parse_tolerance(node, kind: str, line, tid, where, probs) -> Tolerance:
    if node is None:
        return EXACT if ANSWER_KINDS[kind].integral else Tolerance()  # choice: how far apart options must be
    if not _check_mapping(node, _TOLERANCE_KEYS, (), where, tid, probs):
        return Tolerance()
    values = {k: v for k, v in node.items() if k in _TOLERANCE_KEYS}
    if any(isinstance(v, str) for v in values.values()):
        return Tolerance()  # the wrong type is already reported by _check_mapping
    try:
        return Tolerance(**values)
    except (ValueError, TypeError) as exc:
        probs.add(line, tid, where, str(exc))
        return Tolerance()


def _mistake_credit(m, tid, where, probs) -> tuple[float, str]:
    """A mistake's ``credit`` (0 unless given: a named mistake is wrong) and ``credit_reason``:
    a number in [0, 1], with a reason whenever it is above 0."""
    credit = m.get("credit", 0)
    reason = m.get("credit_reason", "")
    if not isinstance(credit, (int, float)) or isinstance(credit, bool):
        return 0.0, ""  # _check_mapping has said so
    if not 0 <= credit <= 1:
        probs.add(
            _line(m, "credit"), tid, f"{where}.credit", f"credit must be a number in [0, 1], got {credit}"
        )
        return 0.0, ""
    if credit > 0 and not (isinstance(reason, str) and reason.strip()):
        probs.add(
            _line(m, "credit"),
            tid,
            f"{where}.credit_reason",
            f"credit {credit} needs a credit_reason: say why this mistake earns part of the points",
        )
        return 0.0, ""
    return float(credit), reason.strip() if isinstance(reason, str) else ""


def _parse_mistakes(node, tid, pwhere, probs, steps_by_name, scope) -> tuple[MistakeSpec, ...]:
    out = []
    seen = set()
    for i, m in enumerate(node):
        where = f"{pwhere}.mistakes[{i}]"
        if not _check_mapping(m, _MISTAKE_KEYS, ("id", "feedback", "change"), where, tid, probs):
            continue
        mid = m.get("id", "")
        if mid in seen:
            probs.add(_line(m, "id"), tid, where, f"mistake id {mid!r} is used twice in this part")
        seen.add(mid)
        changes = {}
        for step_name, change in (m.get("change") or {}).items():
            cwhere = f"{where}.change.{step_name}"
            cline = _line(m.get("change"), step_name)
            if step_name not in steps_by_name:
                probs.add(
                    cline,
                    tid,
                    cwhere,
                    f"no step {step_name!r} to change; steps are {', '.join(steps_by_name)}",
                )
                continue
            if not _check_mapping(change, {"call": str, "args": dict}, (), cwhere, tid, probs):
                continue
            if "call" in change:
                _check_call(change["call"], _line(change, "call"), tid, f"{cwhere}.call", probs)
            if steps_by_name[step_name].call is None:
                probs.add(cline, tid, cwhere, "only a step with a call can be changed")
            before = set(scope.params) | set(scope.steps[: scope.steps.index(step_name)])
            for arg, src in (change.get("args") or {}).items():
                aline = _line(change.get("args"), arg)
                _check_names(
                    _expr_names(src, aline, tid, f"{cwhere}.args.{arg}", probs),
                    before,
                    aline,
                    tid,
                    f"{cwhere}.args.{arg}",
                    probs,
                )
            changes[step_name] = StepChange(call=change.get("call"), args=dict(change.get("args") or {}))
        if not changes and "change" in m:
            probs.add(_line(m), tid, where, "a mistake must change at least one step")
        if "{{" in m.get("feedback", "") or "{%" in m.get("feedback", ""):
            probs.add(
                _line(m, "feedback"),
                tid,
                f"{where}.feedback",
                "feedback is shown as written, not rendered: write it without {{ }} (the key shows the numbers)",
            )
        credit, reason = _mistake_credit(m, tid, where, probs)
        out.append(
            MistakeSpec(
                id=mid, feedback=m.get("feedback", ""), changes=changes, credit=credit, credit_reason=reason
            )
        )
    return tuple(out)


def _parse_parts(node, tid, probs, scope, steps) -> tuple[Part, ...]:
    out = []
    steps_by_name = {s.name: s for s in steps}
    ids = set()
    if not node:
        probs.add(0, tid, "parts", "a template needs at least one part")
    for i, p in enumerate(node):
        where = f"parts[{i}]"
        texts = isinstance(p, dict) and p.get("kind") in ANSWER_KINDS and ANSWER_KINDS[p["kind"]].texts
        if not _check_mapping(
            p, _PART_KEYS, ("id", "kind") if texts else ("id", "kind", "answer"), where, tid, probs
        ):
            continue
        pid, kind, answer = p.get("id", f"#{i}"), p.get("kind"), p.get("answer")
        line = _line(p)
        if pid in ids:
            probs.add(line, tid, where, f"part id {pid!r} is used twice")
        ids.add(pid)
        if kind not in ANSWER_KINDS:
            probs.add(
                _line(p, "kind"),
                tid,
                f"{where}.kind",
                f"unknown answer kind {kind!r}; expected one of {', '.join(ANSWER_KINDS)}",
            )
            continue
        if texts:
            out.append(_parse_selection_part(p, tid, where, probs, scope))
            continue
        for key in _SELECTION_ONLY:
            if key in p:
                probs.add(
                    _line(p, key),
                    tid,
                    f"{where}.{key}",
                    f"{key} is only for the text-option kinds ({', '.join(k for k in ANSWER_KINDS if ANSWER_KINDS[k].texts)}); remove it",
                )
        if answer not in steps_by_name:
            probs.add(
                _line(p, "answer"),
                tid,
                f"{where}.answer",
                f"answer must name a step (one of {', '.join(steps_by_name) or 'none'}), got {answer!r}",
            )
        choices = p.get("choices", 0)
        if kind == "choice" and choices < 2:
            probs.add(line, tid, f"{where}.choices", "a multiple-choice part needs choices: N with N >= 2")
        if kind != "choice" and choices:
            probs.add(line, tid, f"{where}.choices", "choices is only for kind: choice")
        if "prompt" in p:
            _check_names(
                _text_names(p["prompt"], _line(p, "prompt"), tid, f"{where}.prompt", probs),
                scope.names,
                _line(p, "prompt"),
                tid,
                f"{where}.prompt",
                probs,
            )
        points = p.get("points", 1)
        if not (isinstance(points, (int, float)) and points > 0):
            probs.add(_line(p, "points"), tid, f"{where}.points", f"points must be > 0, got {points!r}")
            points = 1
        out.append(
            Part(
                id=pid,
                kind=kind,
                answer=answer or "",
                points=float(points),
                tolerance=_parse_tolerance(
                    p.get("tolerance"), kind, _line(p, "tolerance"), tid, f"{where}.tolerance", probs
                ),
                prompt=p.get("prompt", ""),
                mistakes=_parse_mistakes(p.get("mistakes") or [], tid, where, probs, steps_by_name, scope),
                choices=choices,
            )
        )
    return tuple(out)


def _check_text(source, line, tid, where, probs, scope) -> None:
    _check_names(_text_names(source, line, tid, where, probs), scope.names, line, tid, where, probs)


def _check_truth(node, key, tid, where, probs, scope) -> None:
    """``correct``/``truth``/``when``: true, false, or an expression over defined names."""
    value = node.get(key)
    if isinstance(value, str):
        line = _line(node, key)
        if "{{" in value:
            probs.add(
                line,
                tid,
                f"{where}.{key}",
                f'{key} is an expression: write it without {{{{ }}}}, e.g. "claimed == size"',
            )
            return
        _check_names(
            _expr_names(value, line, tid, f"{where}.{key}", probs),
            scope.names,
            line,
            tid,
            f"{where}.{key}",
            probs,
        )


def _plain_feedback(node, tid, where, probs) -> None:
    if "{{" in node.get("feedback", "") or "{%" in node.get("feedback", ""):
        probs.add(
            _line(node, "feedback"),
            tid,
            f"{where}.feedback",
            "feedback is shown as written, not rendered: write it without {{ }} (the key shows the numbers)",
        )


def _parse_options(p, kind, tid, where, probs, scope) -> tuple[OptionSpec, ...]:
    """A text-option part's ``options``: ids once each, texts over defined names, a truth per
    option (not for ordering, whose options are listed in the right order), the feedback that
    names the misconception of marking an option wrongly, credit only for text choice."""
    node = p.get("options")
    if not isinstance(node, list) or len(node) < 2:
        probs.add(
            _line(p, "options") or _line(p),
            tid,
            f"{where}.options",
            f"a {kind} part needs options: a list of at least two {{id, text}}",
        )
        return ()
    if len(node) > 26:
        probs.add(
            _line(p, "options"),
            tid,
            f"{where}.options",
            f"at most 26 options (letters A to Z), got {len(node)}",
        )
    out, seen = [], set()
    for j, o in enumerate(node):
        owhere = f"{where}.options[{j}]"
        if not _check_mapping(o, _OPTION_KEYS, ("id", "text"), owhere, tid, probs):
            continue
        oid = o.get("id", "")
        if oid in seen:
            probs.add(_line(o, "id"), tid, owhere, f"option id {oid!r} is used twice in this part")
        seen.add(oid)
        if isinstance(o.get("text"), str):
            _check_text(o["text"], _line(o, "text"), tid, f"{owhere}.text", probs, scope)
        _plain_feedback(o, tid, owhere, probs)
        if kind == "ordering":
            for key in ("correct", "feedback", "credit", "credit_reason"):
                if key in o:
                    probs.add(
                        _line(o, key),
                        tid,
                        f"{owhere}.{key}",
                        f"an ordering part lists its options in the right order and names wrong orders under mistakes; remove {key}",
                    )
            out.append(OptionSpec(id=oid, text=o.get("text", "")))
            continue
        _check_truth(o, "correct", tid, owhere, probs, scope)
        correct = o.get("correct", False)
        if correct is not True and not str(o.get("feedback", "")).strip():
            probs.add(
                _line(o),
                tid,
                f"{owhere}.feedback",
                "an option that can be wrong needs feedback naming the misconception of choosing it",
            )
        if kind == "multi_select" and correct is not False and not str(o.get("feedback", "")).strip():
            probs.add(
                _line(o),
                tid,
                f"{owhere}.feedback",
                "a multiple-select option that can be right needs feedback naming the misconception of leaving it out",
            )
        credit, reason = (0.0, "")
        if kind == "text_choice":
            credit, reason = _mistake_credit(o, tid, owhere, probs)
        elif "credit" in o or "credit_reason" in o:
            probs.add(
                _line(o),
                tid,
                f"{owhere}.credit",
                f"a {kind} part is scored by its rule (docs/grading.md), not by option credit; remove credit",
            )
        out.append(
            OptionSpec(
                id=oid,
                text=o.get("text", ""),
                correct=correct if isinstance(correct, (bool, str)) else False,
                feedback=o.get("feedback", ""),
                credit=credit,
                credit_reason=reason,
            )
        )
    if kind == "text_choice" and sum(o.correct is True for o in out) > 1:
        probs.add(
            _line(p, "options"),
            tid,
            f"{where}.options",
            "a text-choice part has one right option: mark at most one correct: true",
        )
    return tuple(out)


def _parse_cases(p, kind, tid, where, probs, scope, option_ids) -> tuple[CaseSpec, ...]:
    """The named misconceptions of a true/false part (each with ``when``) or an ordering part
    (each a wrong ``order`` of the option ids)."""
    out, seen = [], set()
    for j, c in enumerate(p.get("mistakes") or []):
        cwhere = f"{where}.mistakes[{j}]"
        required = ("id", "feedback", "order") if kind == "ordering" else ("id", "feedback")
        if not _check_mapping(c, _CASE_KEYS, required, cwhere, tid, probs):
            continue
        cid = c.get("id", "")
        if cid in seen:
            probs.add(_line(c, "id"), tid, cwhere, f"mistake id {cid!r} is used twice in this part")
        seen.add(cid)
        _plain_feedback(c, tid, cwhere, probs)
        order = c.get("order") if isinstance(c.get("order"), list) else []
        if kind == "true_false":
            if "order" in c:
                probs.add(
                    _line(c, "order"),
                    tid,
                    f"{cwhere}.order",
                    "order is for ordering parts; a true/false mistake says when it applies with when: EXPRESSION",
                )
            _check_truth(c, "when", tid, cwhere, probs, scope)
        else:
            if "when" in c:
                probs.add(
                    _line(c, "when"),
                    tid,
                    f"{cwhere}.when",
                    "when is for true/false parts; an ordering mistake is a wrong order: order: [ids]",
                )
            if "order" in c and sorted(map(str, order)) != sorted(option_ids):
                probs.add(
                    _line(c, "order"),
                    tid,
                    f"{cwhere}.order",
                    f"order must list each option id once ({', '.join(option_ids)}), got {order}",
                )
            elif "order" in c and list(order) == list(option_ids):
                probs.add(
                    _line(c, "order"),
                    tid,
                    f"{cwhere}.order",
                    "this order is the right one (the options' order): write the wrong order the misconception gives",
                )
        credit, reason = _mistake_credit(c, tid, cwhere, probs)
        out.append(
            CaseSpec(
                id=cid,
                feedback=c.get("feedback", ""),
                when=c.get("when", ""),
                order=tuple(map(str, order)),
                credit=credit,
                credit_reason=reason,
            )
        )
    if not out:
        probs.add(
            _line(p),
            tid,
            f"{where}.mistakes",
            f"this {kind} part needs mistakes: the named misconceptions its wrong answers show, each with feedback",
        )
    return tuple(out)


def _parse_selection_part(p, tid, where, probs, scope) -> Part:
    """A text-option part (text_choice, true_false, multi_select, ordering); see
    quizgen.selection for what each becomes."""
    kind, pid = p["kind"], p.get("id", "")
    for key, why in _NOT_FOR_SELECTION.items():
        if key in p:
            probs.add(_line(p, key), tid, f"{where}.{key}", f"a {kind} part takes no {key}: {why}; remove it")
    if "prompt" in p:
        _check_text(p["prompt"], _line(p, "prompt"), tid, f"{where}.prompt", probs, scope)
    options: tuple[OptionSpec, ...] = ()
    cases: tuple[CaseSpec, ...] = ()
    truth: bool | str = ""
    if kind == "true_false":
        if "options" in p:
            probs.add(
                _line(p, "options"),
                tid,
                f"{where}.options",
                "a true/false part's options are True and False: state the claim in prompt and decide it with truth",
            )
        if "truth" not in p:
            probs.add(
                _line(p),
                tid,
                f"{where}.truth",
                'a true/false part needs truth: true, false or an expression such as "claimed == size"',
            )
        else:
            _check_truth(p, "truth", tid, where, probs, scope)
            truth = p["truth"]
        if not str(p.get("prompt", "")).strip():
            probs.add(
                _line(p),
                tid,
                f"{where}.prompt",
                "a true/false part's prompt is the statement to judge; write it",
            )
    else:
        if "truth" in p:
            probs.add(
                _line(p, "truth"),
                tid,
                f"{where}.truth",
                f"truth is for true/false parts; a {kind} part marks its options with correct:",
            )
        options = _parse_options(p, kind, tid, where, probs, scope)
    if kind in ("true_false", "ordering"):
        cases = _parse_cases(p, kind, tid, where, probs, scope, [o.id for o in options])
    elif "mistakes" in p:
        probs.add(
            _line(p, "mistakes"),
            tid,
            f"{where}.mistakes",
            f"a {kind} part's misconceptions are its options: give each wrong option its feedback, and remove mistakes",
        )
    points = p.get("points", 1)
    if not (isinstance(points, (int, float)) and points > 0):
        probs.add(_line(p, "points"), tid, f"{where}.points", f"points must be > 0, got {points!r}")
        points = 1
    return Part(
        id=pid,
        kind=kind,
        answer="",
        points=float(points),
        tolerance=EXACT,
        prompt=p.get("prompt", ""),
        selection=SelectionSpec(options=options, truth=truth, cases=cases),
    )


def _parse_quality(node, tid, probs, parts) -> tuple[QualityException, ...]:
    """The template's declared exceptions to the quality rules (quizgen.quality): each names a
    known rule, the part (and mistake) it is about, and a reason."""
    out = []
    by_id = {p.id: p for p in parts}
    for i, e in enumerate(node):
        where = f"quality[{i}]"
        if not _check_mapping(e, _QUALITY_KEYS, ("check", "reason"), where, tid, probs):
            continue
        check, line = e.get("check"), _line(e)
        if check not in QUALITY_CHECKS:
            probs.add(
                line,
                tid,
                f"{where}.check",
                f"unknown check {check!r}; expected one of {', '.join(QUALITY_CHECKS)}",
            )
            continue
        if not str(e.get("reason", "")).strip():
            probs.add(
                line,
                tid,
                f"{where}.reason",
                "an exception needs a reason: say why this template may break the rule",
            )
        needs = QUALITY_CHECKS[check]
        for key in ("part", "mistake"):
            if key in needs and key not in e:
                probs.add(line, tid, where, f"a {check} exception names the {key} it is about: add {key}: ID")
            if key not in needs and key in e:
                probs.add(
                    line, tid, f"{where}.{key}", f"a {check} exception does not name a {key}; remove it"
                )
        part = by_id.get(e.get("part")) if "part" in e else None
        if "part" in e and part is None:
            probs.add(line, tid, f"{where}.part", f"no part {e['part']!r}; parts are {', '.join(by_id)}")
        known = (
            set(mistake_ids(part))
            if part is not None and part.selection
            else {m.id for m in part.mistakes}
            if part
            else set()
        )
        if part is not None and "mistake" in e and e["mistake"] not in known:
            probs.add(line, tid, f"{where}.mistake", f"part {part.id} has no mistake {e['mistake']!r}")
        out.append(
            QualityException(
                check=check,
                reason=str(e.get("reason", "")),
                part=str(e.get("part", "")),
                mistake=str(e.get("mistake", "")),
                minimum=float(e["min"]) if isinstance(e.get("min"), (int, float)) else None,
            )
        )
    return tuple(out)


def parse_template(node, path: str, family: str, probs: _Problems) -> Template | None:
    """One template from its YAML mapping; problems are added to ``probs``."""
    tid = node.get("id", "?") if isinstance(node, dict) else "?"
    before = len(probs.items)
    if not _check_mapping(node, _TEMPLATE_KEYS, _TEMPLATE_REQUIRED, "", tid, probs):
        return None
    if isinstance(tid, str) and not _ID.match(tid):
        probs.add(
            _line(node, "id"), tid, "id", "ids are lower-case words joined by . or _, e.g. conv.output_size"
        )
    if len(probs.items) > before:
        return None
    scope = _Scope()
    params = _parse_params(node["params"], tid, probs, scope)
    constraints = tuple(node.get("constraints") or ())
    steps = _parse_steps(node["steps"], tid, probs, scope)
    for i, c in enumerate(constraints):
        line = _line(node, "constraints")
        if not isinstance(c, str):
            probs.add(line, tid, f"constraints[{i}]", "a constraint is an expression in quotes")
            continue
        _check_names(
            _expr_names(c, line, tid, f"constraints[{i}]", probs),
            scope.names,
            line,
            tid,
            f"constraints[{i}]",
            probs,
        )
    for key in ("text", "solution"):
        line = _line(node, key)
        _check_names(_text_names(node[key], line, tid, key, probs), scope.names, line, tid, key, probs)
    difficulty = node["difficulty"]
    if not 1 <= difficulty <= 5:
        probs.add(
            _line(node, "difficulty"), tid, "difficulty", f"expected 1 (easiest) to 5, got {difficulty}"
        )
    parts = _parse_parts(node["parts"], tid, probs, scope, steps)
    quality = _parse_quality(node.get("quality") or [], tid, probs, parts)
    if len(probs.items) > before:
        return None
    return Template(
        id=tid,
        title=node["title"],
        topic=node["topic"],
        family=family,
        tags=tuple(str(t) for t in node.get("tags") or ()),
        difficulty=difficulty,
        params=params,
        constraints=constraints,
        steps=steps,
        text=node["text"],
        parts=parts,
        solution=node["solution"],
        source=f"{path}:{_line(node)}",
        quality=quality,
    )


def load_file(path: str | Path) -> tuple[list[Template], list[BankError]]:
    """All templates of one bank file, and every problem found (empty when the file is valid)."""
    path = Path(path)
    probs = _Problems(str(path))
    try:
        data = load_yaml(path, error=BankError)
    except BankError as exc:
        return [], [exc]
    if not _check_mapping(data, {"family": str, "templates": list}, ("family", "templates"), "", "", probs):
        return [], probs.items
    if probs.items:
        return [], probs.items
    templates = []
    for node in data["templates"]:
        t = parse_template(node, str(path), data["family"], probs)
        if t is not None:
            templates.append(t)
    return templates, probs.items


def builtin_bank_dir() -> Path:
    """The folder of the bank that ships with quizgen."""
    return Path(str(resources.files("quizgen.question_bank")))


@dataclass(frozen=True)
class Bank:
    """Templates by id, from one or more folders (later folders may not reuse an id)."""

    templates: Mapping[str, Template]

    def get(self, template_id: str) -> Template:
        try:
            return self.templates[template_id]
        except KeyError:
            raise BankError(f"no template {template_id!r} in the bank; see 'quizgen bank list'") from None

    def select(self, *, ids=None, topic=None, tags=None, difficulty=None) -> list[Template]:
        """Templates matching every given filter (ids keep their given order)."""
        pool = [self.get(i) for i in ids] if ids else sorted(self.templates.values(), key=lambda t: t.id)
        if topic:
            pool = [t for t in pool if t.topic == topic]
        if tags:
            pool = [t for t in pool if set(tags) <= set(t.tags)]
        if difficulty:
            allowed = set(difficulty) if isinstance(difficulty, (list, tuple, set)) else {difficulty}
            pool = [t for t in pool if t.difficulty in allowed]
        return pool


def bank_files(folders: Iterable[str | Path]) -> list[Path]:
    """The YAML files of the given folders and files, each once (a built-in file named again is not
    loaded twice, which would report its own ids as duplicates)."""
    files, seen = [], set()
    for folder in folders:
        folder = Path(folder)
        for f in sorted(folder.glob("*.yaml")) if folder.is_dir() else [folder]:
            if f.resolve() not in seen:
                seen.add(f.resolve())
                files.append(f)
    return files


def load_bank(extra: Iterable[str | Path] = (), *, include_builtin: bool = True, strict: bool = True):
    """Load the built-in bank and any extra folders or files.

    With ``strict`` the first problem raises :class:`BankError`; otherwise ``(bank, problems)``.
    """
    folders = ([builtin_bank_dir()] if include_builtin else []) + list(extra)
    problems: list[BankError] = []
    templates: dict[str, Template] = {}
    for path in bank_files(folders):
        if not path.exists():
            problems.append(BankError("no such file or folder", source=str(path)))
            continue
        found, errs = load_file(path)
        problems.extend(errs)
        for t in found:
            if t.id in templates:
                problems.append(
                    BankError(
                        f"duplicate template id, first defined at {templates[t.id].source}; rename one",
                        source=t.source,
                        where=f"template {t.id}",
                    )
                )
                continue
            templates[t.id] = t
    bank = Bank(templates)
    if strict:
        if problems:
            raise problems[0]
        return bank
    return bank, problems
