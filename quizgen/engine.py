"""From a template and a seed to an :class:`~quizgen.models.Instance`.

1. Draw the parameters in order from ``PCG64(seed)``; evaluate the steps (reference calls);
   redraw until every constraint holds and no step rejects its arguments.
2. Each part's expected answer is the value of the step it names; each known mistake is the same
   pipeline with the mistake's changes, re-run from the first changed step.
3. Texts are rendered in the sandbox with the parameters and step values.

The engine never computes an answer itself: every number comes from a reference call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from . import expressions, plan
from .errors import BankError
from .formatting import plain
from .models import ANSWER_KINDS, Instance, InstancePart, KnownMistake, Part, StepChange, Template
from .seeding import make_rng, rng_factories

#: How many draws to try before declaring a template's constraints unsatisfiable.
MAX_DRAWS = 200
#: What a reference call raises when it rejects its arguments (a draw that is not well posed).
REJECTED = (ValueError, ZeroDivisionError, FloatingPointError)
#: What a changed pipeline may raise when a mistake or a student's carried-forward value does not
#: apply to this instance (other shapes, so a later pick has no such index or field).
NOT_APPLICABLE = (*REJECTED, TypeError, IndexError, KeyError, AttributeError)
#: XORed into an instance's seed to seed the order of its multiple-choice options.
OPTION_ORDER_SALT = 0x5EED


class Rejected(Exception):
    """A draw that breaks a constraint or that a reference call rejects."""


@dataclass(frozen=True)
class Draw:
    """One accepted draw: the parameters and every step's value."""

    seed: int
    params: dict
    values: dict  # params and steps together, the context texts are rendered with


# ----------------------------------------------------------------------------------- steps


def run_steps(
    template: Template,
    params: Mapping,
    *,
    changes: Mapping[str, StepChange] | None = None,
    overrides: Mapping[str, object] | None = None,
    base: Mapping | None = None,
) -> dict:
    """Evaluate the steps in order; returns params and step values in one dict.

    ``changes`` alters some steps (a mistake); ``overrides`` replaces some step values (a
    student's earlier answer, for error carried forward). With ``base`` (a previous run of the
    unchanged pipeline), steps before the first changed or overridden one are reused.
    """
    compiled = plan.plan_for(template)
    changes = changes or {}
    overrides = overrides or {}
    env = dict(params)
    reuse = base is not None
    for step, runner in zip(template.steps, compiled.steps, strict=True):
        name = step.name
        if reuse and name not in changes and name not in overrides:
            env[name] = base[name]
            continue
        reuse = False
        if name in overrides:
            env[name] = overrides[name]
        elif name in changes:
            env[name] = compiled.changed(step, changes[name]).run(env)
        else:
            env[name] = runner.run(env)
    return env


def draw_params(template: Template, rng: np.random.Generator) -> dict:
    """One draw of the template's parameters, in the order written."""
    return plan.plan_for(template).draw_params(rng)


def sample(template: Template, seed: int, rng: np.random.Generator | None = None) -> Draw:
    """The first draw from ``seed`` that meets the constraints and that every step accepts;
    ``rng`` is ``make_rng(seed)`` if the caller has made it already."""
    rng = make_rng(seed) if rng is None else rng
    compiled = plan.plan_for(template)
    last = ""
    for _ in range(MAX_DRAWS):
        params = compiled.draw_params(rng)
        try:
            values = compiled.run_checked(params)  # stops at the first false constraint
        except REJECTED as exc:
            last = f"; the last draw failed in a step: {exc}"
            continue
        if values is not None:
            _check_finite(template, values)
            return Draw(seed=seed, params=params, values=values)
        last = "; the constraints were never all true"
    raise BankError(
        f"no draw in {MAX_DRAWS} satisfies the template{last}; widen the parameter ranges or relax the constraints",
        source=template.source,
        where=f"template {template.id}",
    )


def _finite(value) -> bool:
    """Is every number in ``value`` (a number, nested lists or an array) finite?"""
    if isinstance(value, (int, float)):  # Python and NumPy scalars: no array round trip
        return math.isfinite(value)
    return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))


def _check_finite(template: Template, values: dict) -> None:
    for part in template.parts:
        if not _finite(values[part.answer]):
            arr = np.asarray(values[part.answer], dtype=np.float64)
            raise BankError(
                f"part {part.id}: the answer is not finite ({arr})",
                source=template.source,
                where=f"template {template.id}",
            )


# ----------------------------------------------------------------------------------- parts


def depends_on(template: Template, part: Part) -> tuple[str, ...]:
    """Earlier parts whose answers feed this part's answer (for error carried forward)."""
    return plan.plan_for(template).part_deps[part.id]


def to_answer(kind: str, value):
    """A step value as the JSON-ready answer of a part of this kind (checks the shape)."""
    spec = ANSWER_KINDS[kind]
    if spec.ndim == 0 and type(value) in (int, float):  # the common plain-number case, no NumPy
        if spec.integral and value != round(value):
            raise ValueError(f"a {kind} answer must be whole numbers, the step gave {value}")
        return int(value) if spec.integral else float(value)
    if kind == "shape" and type(value) in (tuple, list) and all(type(v) is int for v in value):
        return list(value)  # a shape from a reference call: already whole numbers
    arr = np.asarray(value, dtype=np.float64)
    if kind == "shape":
        arr = arr.reshape(-1)
    if spec.ndim is not None and arr.ndim != spec.ndim:
        raise ValueError(f"a {kind} answer must have {spec.ndim} dimensions, the step gave shape {arr.shape}")
    if spec.ndim is None and arr.ndim == 0:
        raise ValueError(f"a {kind} answer must be an array, the step gave a single number")
    if spec.integral:
        if not np.all(arr == np.round(arr)):
            raise ValueError(f"a {kind} answer must be whole numbers, the step gave {arr}")
        return expressions.to_plain(arr.astype(np.int64))
    return expressions.to_plain(arr)


def _mistake_values(template: Template, part: Part, draw: Draw, kind: str, memo: dict):
    """(spec, value or None) per mistake; None when the changed pipeline rejects this draw.
    ``memo`` holds the instance's re-run step values by :attr:`plan.CompiledStep.key`."""
    reruns = plan.plan_for(template).mistakes
    values = draw.values
    out = []
    for m in part.mistakes:
        steps = reruns[part.id, m.id]  # the part's answer step last, if any
        env = dict(values) if len(steps) > 1 else values  # a step only reads; one needs no copy
        value = values[part.answer]
        try:
            for step in steps:
                value = memo.get(step.key, memo)  # the memo itself marks a miss
                if value is memo:
                    value = memo[step.key] = step.run(env)
                if env is not values:
                    env[step.name] = value
            out.append((m, to_answer(kind, value)))
        except NOT_APPLICABLE:
            out.append((m, None))
    return out


def _distinct(part: Part, a, b) -> bool:
    return not part.tolerance.accepts(a, b)  # accepts is False when the shapes differ


def _choice_part(
    template: Template,
    part: Part,
    draw: Draw,
    prompt: str,
    memo: dict,
    points: float,
    option_rng: Callable[[], np.random.Generator],
) -> InstancePart:
    """A multiple-choice part: the answer and distinct mistakes as options, shuffled by a fresh
    ``option_rng()`` (``make_rng(seed ^ OPTION_ORDER_SALT)``, the same for every choice part)."""
    value = draw.values[part.answer]
    value_kind = "real" if isinstance(value, (int, float)) or np.ndim(value) == 0 else "tensor"
    answer = to_answer(value_kind, value)
    options = [answer]
    owners: list[list[str]] = [[]]
    specs = {}
    for m, value in _mistake_values(template, part, draw, value_kind, memo):
        if value is None or not _finite(value):
            continue
        specs[m.id] = m
        for i, existing in enumerate(options):
            if not _distinct(part, existing, value):
                owners[i].append(m.id)
                break
        else:
            if len(options) < part.choices:
                options.append(value)
                owners.append([m.id])
    order = option_rng().permutation(len(options)).tolist()  # Python ints index faster
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    texts = tuple([plain(options[i], sig=4) for i in order])
    expected = letters[order.index(0)]
    mistakes = []
    for pos, i in enumerate(order):
        for mid in owners[i]:
            spec = specs[mid]
            mistakes.append(
                KnownMistake(mid, spec.feedback, letters[pos], bool(i != 0), spec.credit, spec.credit_reason)
            )
    return InstancePart(
        id=part.id,
        kind="choice",
        prompt=prompt,
        expected=expected,
        tolerance=part.tolerance,
        points=points,
        mistakes=tuple(mistakes),
        options=texts,
        depends_on=(),
    )


def build_part(
    template: Template,
    part: Part,
    draw: Draw,
    context: dict,
    *,
    points_scale: float = 1.0,
    memo: dict | None = None,
    option_rng: Callable[[], np.random.Generator] | None = None,
) -> InstancePart:
    """One part of an instance; ``context`` is the draw's :func:`expressions.text_context`,
    ``memo`` the mistake re-runs shared by the instance's parts, ``option_rng`` what orders a
    choice part's options (by default ``make_rng(draw.seed ^ OPTION_ORDER_SALT)``)."""
    memo = {} if memo is None else memo
    prompt = expressions.render(part.prompt, context)
    if part.kind == "choice":
        if option_rng is None:
            option_rng = partial(make_rng, draw.seed ^ OPTION_ORDER_SALT)
        return _choice_part(template, part, draw, prompt, memo, part.points * points_scale, option_rng)
    expected = to_answer(part.kind, draw.values[part.answer])
    mistakes = tuple(
        KnownMistake(
            m.id,
            m.feedback,
            value,
            value is not None and _distinct(part, expected, value),
            m.credit,
            m.credit_reason,
        )
        for m, value in _mistake_values(template, part, draw, part.kind, memo)
    )
    return InstancePart(
        id=part.id,
        kind=part.kind,
        prompt=prompt,
        expected=expected,
        tolerance=part.tolerance,
        points=part.points * points_scale,
        mistakes=mistakes,
        depends_on=depends_on(template, part),
    )


# ----------------------------------------------------------------------------------- instances


def render_text(source: str, values: Mapping) -> str:
    """One text rendered with ``values`` (build_instance renders all of an instance's texts in
    one shared context instead)."""
    return expressions.render(source, expressions.text_context(values))


def build_instance(template: Template, seed: int, *, points: float | None = None) -> Instance:
    """One instance of ``template`` from ``seed``; ``points`` rescales the parts to that total."""
    return _build(template, seed, points, make_rng(seed), None)


def build_instances(
    template: Template, seeds: Sequence[int], *, points: float | None = None
) -> list[Instance]:
    """``[build_instance(template, seed, points=points) for seed in seeds]``, the same instances
    built faster: the seeds' generators are seeded together (:func:`seeding.rng_factories`), and
    one template's instances in a row keep its code and data warm."""
    seeds = list(seeds)
    rngs = rng_factories(seeds)
    if any(p.kind == "choice" for p in template.parts):
        option_rngs = rng_factories([seed ^ OPTION_ORDER_SALT for seed in seeds])
    else:
        option_rngs = [None] * len(seeds)
    return [
        _build(template, seed, points, rng(), option_rng)
        for seed, rng, option_rng in zip(seeds, rngs, option_rngs, strict=True)
    ]


def _build(
    template: Template,
    seed: int,
    points: float | None,
    rng: np.random.Generator,
    option_rng: Callable[[], np.random.Generator] | None,
) -> Instance:
    """build_instance with its generators given (``option_rng`` None: build_part's default)."""
    draw = sample(template, seed, rng)
    scale = 1.0 if points is None else points / template.points
    try:
        context = expressions.text_context(draw.values)
        text = expressions.render(template.text, context)
        solution = expressions.render(template.solution, context)
        memo: dict = {}  # mistakes of different parts often re-run the same changed steps
        parts = tuple(
            build_part(template, p, draw, context, points_scale=scale, memo=memo, option_rng=option_rng)
            for p in template.parts
        )
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise BankError(
            f"{type(exc).__name__}: {exc}", source=template.source, where=f"template {template.id}"
        ) from exc
    return Instance(
        template_id=template.id,
        title=template.title,
        seed=seed,
        params=expressions.to_plain(draw.params),
        text=text,
        parts=parts,
        solution=solution,
    )


# ----------------------------------------------------------------------------------- regrading


def params_from_plain(template: Template, plain_params: Mapping) -> dict:
    """The parameters of a manifest entry, with arrays restored to the types the sampler made."""
    out: dict = {}
    for p in template.params:
        if p.kind == "derived":
            out[p.name] = expressions.evaluate(p.spec["derived"], out)
            continue
        value = plain_params[p.name]
        if p.kind in ("array", "onehot", "probs"):
            dtype = np.int64 if "label" in p.spec else np.float64
            value = np.asarray(value, dtype=dtype)
        out[p.name] = value
    return out


def _as_step_value(kind: str, value):
    arr = np.asarray(value, dtype=np.float64)
    if ANSWER_KINDS[kind].integral:
        ints = arr.astype(np.int64)
        return int(ints) if ints.ndim == 0 else tuple(int(v) for v in ints.reshape(-1))
    return float(arr) if arr.ndim == 0 else arr


def recompute(template: Template, plain_params: Mapping, overrides: Mapping[str, object]) -> dict:
    """Every part's expected answer when the given parts' values are replaced by ``overrides``
    (part id -> the student's answer): the reference pipeline with error carried forward.
    A part whose recomputation the reference rejects is left out."""
    params = params_from_plain(template, plain_params)
    by_id = {p.id: p for p in template.parts}
    step_overrides = {by_id[pid].answer: _as_step_value(by_id[pid].kind, v) for pid, v in overrides.items()}
    try:
        env = run_steps(template, params, overrides=step_overrides)
    except NOT_APPLICABLE:
        return {}
    out = {}
    for p in template.parts:
        if p.kind == "choice":
            continue
        try:
            out[p.id] = to_answer(p.kind, env[p.answer])
        except ValueError:
            continue
    return out
