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
from types import MappingProxyType
from typing import Any

import numpy as np
from jinja2.exceptions import SecurityError

from . import expressions, plan
from .errors import BankError
from .formatting import plain
from .models import ANSWER_KINDS, Instance, InstancePart, KnownMistake, Part, StepChange, Template
from .seeding import make_rng, rng_factories
from .selection import build_selection_part

#: How many draws to try before declaring a template's constraints unsatisfiable.
MAX_DRAWS = 200
#: What a reference call raises when it rejects its arguments (a draw that is not well posed).
REJECTED = (ValueError, ZeroDivisionError, FloatingPointError)
#: What a changed pipeline may raise when a mistake or a student's carried-forward value does not
#: apply to this instance (other shapes, so a later pick has no such index or field).
NOT_APPLICABLE = (*REJECTED, TypeError, IndexError, KeyError, AttributeError)
#: XORed into an instance's seed to seed the order of its multiple-choice options.
OPTION_ORDER_SALT = 0x5EED
_NOTHING: Mapping = MappingProxyType({})


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
    student's earlier answer, for error carried forward). An overridden pick is also written
    into the value it is picked from (a copy, :func:`plan.write_path`), so a step reading that
    value sees the student's: overriding ``yhat = fwd.output[0]`` changes what
    ``mlp_backward(forward=fwd)`` computes. With ``base`` (a previous run of the unchanged
    pipeline), steps before the first changed, overridden or written-into one are reused.
    """
    compiled = plan.plan_for(template)
    changes = changes or {}
    overrides = overrides or {}
    writes = _writes(compiled, overrides)
    env = dict(params)
    for root in writes.keys() & env.keys():  # picks of a parameter
        env[root] = _written(env[root], writes[root])
    reuse = base is not None
    for step, runner in zip(template.steps, compiled.steps, strict=True):
        name = step.name
        if reuse and name not in changes and name not in overrides and name not in writes:
            env[name] = base[name]
            continue
        reuse = False
        if name in overrides:
            env[name] = overrides[name]
        elif name in changes:
            env[name] = compiled.changed(step, changes[name]).run(env)
        else:
            env[name] = runner.run(env)
        if name in writes:
            env[name] = _written(env[name], writes[name])
    return env


def _writes(compiled: plan.Plan, overrides: Mapping[str, object]) -> dict[str, list]:
    """source value -> [(path, the student's value)] for the overridden picks."""
    out: dict[str, list] = {}
    for name, value in overrides.items():
        source = compiled.pick_sources.get(name)
        if source is not None:
            out.setdefault(source[0], []).append((source[1], value))
    return out


def _written(value, writes: list):
    for path, new in writes:
        value = plan.write_path(value, path, new)
    return value


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
        except SecurityError as exc:  # e.g. 10 ** (10 ** 10): refused by the sandbox, not redrawn
            raise BankError(str(exc), source=template.source, where=f"template {template.id}") from None
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
        if ANSWER_KINDS[part.kind].texts:
            continue  # no step answer: the options' truth decides the key
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


def _mistake_values(
    template: Template,
    part: Part,
    draw: Draw,
    kind: str,
    memo: dict,
    overrides: Mapping[str, object] = _NOTHING,
    writes: Mapping[str, list] = _NOTHING,
):
    """(spec, value or None) per mistake; None when the changed pipeline rejects this draw.
    ``memo`` holds the instance's re-run step values by :attr:`plan.CompiledStep.key`.

    For error carried forward, ``draw.values`` is the pipeline run with a student's values
    (``overrides``, step -> value, with the ``writes`` of overridden picks, as
    :func:`run_steps` makes them): an overridden step keeps the student's value in every
    mistake's re-run, and a re-run source of an overridden pick gets it written in again."""
    reruns = plan.plan_for(template).mistakes
    values = draw.values
    out = []
    for m in part.mistakes:
        steps = reruns[part.id, m.id]  # the part's answer step last, if any
        env = dict(values) if len(steps) > 1 else values  # a step only reads; one needs no copy
        value = values[part.answer]
        try:
            for step in steps:
                if step.name in overrides:
                    value = values[step.name]  # the student's value, whatever the mistake
                else:
                    value = memo.get(step.key, memo)  # the memo itself marks a miss
                    if value is memo:
                        value = step.run(env)
                        if step.name in writes:
                            value = _written(value, writes[step.name])
                        memo[step.key] = value
                if env is not values:
                    env[step.name] = value
            out.append((m, to_answer(kind, value)))
        except NOT_APPLICABLE:
            out.append((m, None))
    return out


def _distinct(part: Part, a, b) -> bool:
    return not part.tolerance.accepts(a, b)  # accepts is False when the shapes differ


def _known_mistakes(part: Part, key, values) -> tuple[KnownMistake, ...]:
    """The part's mistakes with their values (``values``: (spec, value or None) pairs from
    :func:`_mistake_values`), each marked distinguishable when it differs from ``key``."""
    return tuple(
        KnownMistake(
            m.id,
            m.feedback,
            value,
            value is not None and _distinct(part, key, value),
            m.credit,
            m.credit_reason,
        )
        for m, value in values
    )


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
    if ANSWER_KINDS[part.kind].texts:
        if option_rng is None:
            option_rng = partial(make_rng, draw.seed ^ OPTION_ORDER_SALT)
        return build_selection_part(part, context, prompt, part.points * points_scale, option_rng)
    if part.kind == "choice":
        if option_rng is None:
            option_rng = partial(make_rng, draw.seed ^ OPTION_ORDER_SALT)
        return _choice_part(template, part, draw, prompt, memo, part.points * points_scale, option_rng)
    expected = to_answer(part.kind, draw.values[part.answer])
    mistakes = _known_mistakes(part, expected, _mistake_values(template, part, draw, part.kind, memo))
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
    if any(ANSWER_KINDS[p.kind].choice for p in template.parts):
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
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, SecurityError) as exc:
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
    return {pid: r.key for pid, r in carried_pipeline(template, plain_params, overrides).items()}


@dataclass(frozen=True)
class Recomputed:
    """One part's answer recomputed with a student's earlier answers in place of the keys'.

    ``key`` is JSON-ready like :attr:`InstancePart.expected`; ``mistakes`` are the part's known
    mistakes made on that same pipeline (as :func:`build_part` makes them on the unchanged one);
    ``slack`` (an array of the key's shape, or None when no margins were given) is, per
    element, how far the key can move while each carried value moves within its margin:
    sum over carried elements k of max(|key(v + m_k e_k) - key(v)|, |key(v - m_k e_k) - key(v)|).
    """

    key: Any
    mistakes: tuple[KnownMistake, ...] = ()
    slack: Any = None
    #: the same for each mistake's value, in the order of ``mistakes`` (() without margins)
    mistake_slack: tuple = ()


class CarriedPipeline(Mapping):
    """The reference pipeline run once with a student's answers in place of some parts'
    (error carried forward): part id -> :class:`Recomputed` with the key (every non-choice
    part the reference does not reject); :meth:`detail` adds a part's mistakes and slack,
    worked out on first use from the same run."""

    def __init__(self, template: Template, params: dict, step_overrides: dict, env: dict, keys: dict) -> None:
        self.template, self.params, self.env = template, params, env
        self.step_overrides = step_overrides
        self.writes = _writes(plan.plan_for(template), step_overrides)
        self.entries = {pid: Recomputed(key) for pid, key in keys.items()}
        self.memo: dict = {}  # mistake re-runs shared by the parts' details
        self.details: dict = {}

    def __getitem__(self, part_id: str) -> Recomputed:
        return self.entries[part_id]

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def detail(self, part_id: str, margins: Mapping[str, object] | None = None) -> Recomputed | None:
        """The part's entry with its known mistakes made on this pipeline and, for
        ``margins`` (carried part id -> the half-width of the rounding allowed on the
        student's answer, a number or an array of its shape), the key's and the mistakes'
        slack (two pipeline runs per carried element). None for a part left out."""
        if part_id not in self.entries:
            return None
        cached = self.details.get((part_id, margins is not None))
        if cached is not None:
            return cached
        part = next(p for p in self.template.parts if p.id == part_id)
        key = self.entries[part_id].key
        found: tuple[KnownMistake, ...] = ()
        plain = self.details.get((part_id, False)) if margins else None
        if plain is not None:
            found = plain.mistakes  # the same pipeline's mistakes, worked out already
        elif part.answer not in self.step_overrides and part.mistakes:
            draw = Draw(seed=0, params=self.params, values=self.env)
            found = _known_mistakes(
                part,
                key,
                _mistake_values(
                    self.template, part, draw, part.kind, self.memo, self.step_overrides, self.writes
                ),
            )
        entry = Recomputed(key, found)
        if margins:
            slack = _slack(
                self.template, self.params, self.step_overrides, margins, self.env, True, {part_id}, self.memo
            )
            entry = Recomputed(
                key,
                found,
                slack.get((part_id, None)),
                tuple(slack.get((part_id, i)) for i in range(len(found))),
            )
        self.details[part_id, margins is not None] = entry
        return entry


def carried_pipeline(
    template: Template, plain_params: Mapping, overrides: Mapping[str, object]
) -> CarriedPipeline | dict:
    """The pipeline with ``overrides`` (part id -> the student's answer) in place of those
    parts' values: what error carried forward grades against. {} when the reference rejects
    the values."""
    params = params_from_plain(template, plain_params)
    by_id = {p.id: p for p in template.parts}
    step_overrides = {by_id[pid].answer: _as_step_value(by_id[pid].kind, v) for pid, v in overrides.items()}
    try:
        env = run_steps(template, params, overrides=step_overrides)
    except NOT_APPLICABLE:
        return {}
    keys = {}
    for p in template.parts:
        if ANSWER_KINDS[p.kind].choice:
            continue
        try:
            keys[p.id] = to_answer(p.kind, env[p.answer])
        except ValueError:
            continue
    return CarriedPipeline(template, params, step_overrides, env, keys)


def recompute_parts(
    template: Template,
    plain_params: Mapping,
    overrides: Mapping[str, object],
    *,
    margins: Mapping[str, object] | None = None,
) -> dict[str, Recomputed]:
    """:func:`carried_pipeline` with every part's :meth:`~CarriedPipeline.detail`: its key,
    its known mistakes made on that pipeline and, for ``margins``, their slack."""
    pipeline = carried_pipeline(template, plain_params, overrides)
    if not isinstance(pipeline, CarriedPipeline):
        return {}
    return {pid: pipeline.detail(pid, margins) for pid in pipeline}


def _measure(template, params, env, step_overrides, writes, keys, mistakes, memo=None) -> dict:
    """part id -> [(mistake spec, value or None)] on the pipeline ``env``, for the parts not
    overridden (``memo``: re-run step values already made on this same ``env``)."""
    draw = Draw(seed=0, params=params, values=env)
    memo = {} if memo is None else memo
    out = {}
    for part in template.parts:
        if part.id in keys and part.answer not in step_overrides and part.mistakes:
            out[part.id] = _mistake_values(template, part, draw, part.kind, memo, step_overrides, writes)
    return out


def _values(template, params, env, step_overrides, mistakes, wanted, memo=None) -> dict:
    """(part id, None) -> the part's value and (part id, i) -> its i-th mistake's, as float
    arrays, for the real-valued parts not overridden (what :func:`_slack` compares)."""
    out = {}
    for part in template.parts:
        if part.id not in wanted or ANSWER_KINDS[part.kind].integral or part.answer in step_overrides:
            continue
        out[part.id, None] = env[part.answer]
    if mistakes:
        writes = _writes(plan.plan_for(template), step_overrides)
        keys = {pid for pid, _ in out}
        for pid, found in _measure(template, params, env, step_overrides, writes, keys, True, memo).items():
            for i, (_, value) in enumerate(found):
                if value is not None:
                    out[pid, i] = value
    floats = {}
    for k, v in out.items():
        try:
            floats[k] = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            continue
    return floats


def _slack(template, params, step_overrides, margins, env, mistakes, wanted, memo=None) -> dict:
    """:attr:`Recomputed.slack` and :attr:`Recomputed.mistake_slack` of every real-valued part
    not overridden, keyed as :func:`_values`: the pipeline re-run at both ends of each carried
    element's margin, one element at a time (``memo``: mistake re-runs already made on
    ``env``, shared by the unmoved run)."""
    by_id = {p.id: p for p in template.parts}
    with np.errstate(all="ignore"):  # a value a moved input makes NaN is left out (fmax)
        base = _values(template, params, env, step_overrides, mistakes, wanted, memo)
        total = {k: np.zeros_like(b) for k, b in base.items()}
        for pid, margin in margins.items():
            step = by_id[pid].answer
            value = np.asarray(step_overrides[step], dtype=np.float64)
            half = np.broadcast_to(np.abs(np.asarray(margin, dtype=np.float64)), value.shape)
            for k in np.ndindex(value.shape):
                if not (half[k] > 0 and np.isfinite(half[k])):
                    continue
                worst = {q: np.zeros_like(b) for q, b in base.items()}
                for sign in (1.0, -1.0):
                    moved = value.copy()
                    moved[k] += sign * half[k]
                    moved_overrides = {**step_overrides, step: float(moved) if moved.ndim == 0 else moved}
                    try:
                        redone = run_steps(template, params, overrides=moved_overrides, base=env)
                        got = _values(template, params, redone, moved_overrides, mistakes, wanted)
                    except NOT_APPLICABLE:
                        continue
                    for q, b in base.items():
                        if q in got and got[q].shape == b.shape:
                            worst[q] = np.fmax(worst[q], np.abs(got[q] - b))
                for q in total:
                    total[q] = total[q] + worst[q]
    return total
