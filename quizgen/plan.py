"""A template compiled for running: what :mod:`quizgen.engine` executes many times per second.

Interpreting a template's steps costs more than the reference calls on small inputs: looking up
the function by name, walking argument lists, parsing value paths. A :class:`Plan` does that
once per template:

- every parameter gets its sampler specialised (:func:`quizgen.sampling.compile_draw`);
- every step becomes one function ``env -> value`` calling its reference function with its
  arguments compiled (:func:`quizgen.expressions.compile_call`);
- the steps and constraints are scheduled so that a draw failing a constraint stops early;
- every known mistake of every part becomes the short list of steps it has to re-run: the steps
  the mistake changes and those downstream of them, and of those only the ones the part's answer
  depends on. Every other value is the unchanged pipeline's, so a mistake costs the calls that
  can differ, not a re-run of the rest of the pipeline; two mistakes changing the same steps
  the same way share those values within an instance (:attr:`CompiledStep.key`).

Plans are cached per template object; nothing here computes an answer itself.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from jinja2 import nodes

from . import expressions, sampling
from .models import MistakeSpec, Part, Step, StepChange, Template
from .reference import registry

Runner = Callable[[dict], object]
#: A place inside a value: field names and indices, e.g. ("output", 0) for ``fwd.output[0]``.
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class CompiledStep:
    """One step ready to run: ``value = run(env)``."""

    name: str
    run: Runner
    #: for a mistake's re-run: the step and the changes its value depends on, so two mistakes
    #: that change the same steps the same way share the value within an instance
    key: tuple = ()
    #: for a mistake's re-run: the steps it reads (with the change applied) and whether the
    #: mistake changes it, so a re-run with a student's values in place of some steps skips
    #: what the change cannot reach past them (:func:`quizgen.engine._mistake_values`)
    reads: frozenset[str] = frozenset()
    changed: bool = False


@dataclass(frozen=True)
class Plan:
    """A template's steps compiled, the dependencies between them, and each mistake's re-run."""

    template: Template
    params: tuple[tuple[str, Callable], ...]  # (name, draw(rng, env)) in the order written
    steps: tuple[CompiledStep, ...]
    deps: Mapping[str, frozenset[str]]  # every step a step depends on, directly or not
    mistakes: Mapping[tuple[str, str], tuple[CompiledStep, ...]]  # (part, mistake) -> re-run
    #: how a draw is evaluated: steps (name, run) and constraint tests (None, test) in an order
    #: where each constraint comes as early as the values it reads allow, the cheapest first,
    #: so a draw that fails one stops before the steps no constraint needs
    schedule: tuple[tuple[str | None, Runner], ...]
    #: part id -> the earlier parts whose answers feed its answer (for error carried forward):
    #: those whose step reaches the part's step in :attr:`influence`
    part_deps: Mapping[str, tuple[str, ...]]
    #: pick step -> (the value it is picked from, the path inside it): a student's value for a
    #: pick is written there (:func:`write_path`), so the steps reading that value see it
    pick_sources: Mapping[str, tuple[str, Path]]
    #: step -> every step whose value changes when this step's value is replaced (directly,
    #: through what reads it, or, for a pick, through what reads the place it is picked from)
    influence: Mapping[str, frozenset[str]]
    #: step -> the places it reads, (variable, path) (``fwd.caches[1]``: ("fwd", ("caches", 1)),
    #: ``f(fwd)``: ("fwd", ())): what a re-run with one carried value moved must redo
    places: Mapping[str, frozenset[tuple[str, Path]]]

    def draw_params(self, rng) -> dict:
        """One draw of every parameter, in order, from ``rng``."""
        env: dict = {}
        for name, draw in self.params:
            env[name] = draw(rng, env)
        return env

    def run_checked(self, params: Mapping) -> dict | None:
        """Params and every step's value (in the template's order), or None as soon as a
        constraint is false. The steps are pure, so the order they run in changes no value."""
        env = dict(params)
        for name, run in self.schedule:
            if name is None:
                if not run(env):
                    return None
            else:
                env[name] = run(env)
        out = dict(params)
        for step in self.steps:
            out[step.name] = env[step.name]
        return out

    def changed(self, step: Step, change: StepChange) -> CompiledStep:
        """``step`` with ``change`` applied (for changes that are not a listed mistake's)."""
        return _compile_step(step, change)


def _raiser(exc: Exception) -> Runner:
    def run(env: dict):
        raise exc

    return run


def _compile_step(step: Step, change: StepChange | None = None) -> CompiledStep:
    if step.call is None:  # a pick; a change to a pick step changes nothing (as before)
        return CompiledStep(step.name, expressions.compile_pick(step.pick))
    name = change.call if change and change.call else step.call
    args = {**step.args, **(change.args if change else {})}
    try:
        fn = registry.resolve(name)
    except ValueError as exc:  # raised when run, where an unknown function used to be found
        return CompiledStep(step.name, _raiser(exc))
    return CompiledStep(step.name, expressions.compile_call(fn, args))


def _direct_deps(step: Step, change: StepChange | None, step_names: frozenset[str]) -> frozenset[str]:
    if step.call is None:
        return frozenset({expressions.path_root(step.pick)}) & step_names
    args = {**step.args, **(change.args if change else {})}
    return expressions.names_in(args) & step_names


def _closure(steps: tuple[Step, ...], changes: Mapping[str, StepChange]) -> dict[str, frozenset[str]]:
    """For each step, every step it depends on (with ``changes`` applied to the arguments)."""
    names = frozenset(s.name for s in steps)
    out: dict[str, frozenset[str]] = {}
    for step in steps:
        closure: set[str] = set()
        for dep in _direct_deps(step, changes.get(step.name), names):
            closure |= {dep} | out.get(dep, frozenset())
        out[step.name] = frozenset(closure)
    return out


def _mistake_run(template: Template, part: Part, mistake: MistakeSpec) -> tuple[CompiledStep, ...]:
    """The steps to re-run for ``mistake``: changed or downstream of a change, and needed by the
    part's answer; in pipeline order, so the answer's own step comes last (it is downstream of
    any change it needs)."""
    changes = mistake.changes
    names = frozenset(s.name for s in template.steps)
    deps = _closure(template.steps, changes)
    needed = deps[part.answer] | {part.answer}
    canonical = {name: (c.call or "", repr(sorted(dict(c.args).items()))) for name, c in changes.items()}
    out = []
    for step in template.steps:
        if step.name in needed and (step.name in changes or deps[step.name] & changes.keys()):
            compiled = _compile_step(step, changes.get(step.name))
            upstream = sorted((deps[step.name] | {step.name}) & changes.keys())
            key = (step.name, tuple((name, canonical[name]) for name in upstream))
            reads = _direct_deps(step, changes.get(step.name), names)
            out.append(CompiledStep(step.name, compiled.run, key, reads, step.name in changes))
    return tuple(out)


# ------------------------------------------------------------------ what a student's value reaches


def _pick_path(pick: str) -> tuple[str, Path]:
    """``fwd.output[0]`` -> ("fwd", ("output", 0))."""
    root = expressions.path_root(pick)
    rest = pick[len(root) :]
    return root, tuple(attr or int(index) for attr, index in _PATH_STEP.findall(rest))


_PATH_STEP = re.compile(r"\.([A-Za-z_]\w*)|\[(-?\d+)\]")


def _read_paths(source) -> set[tuple[str, Path]]:
    """The places an argument (an expression, or a list or dict of them) reads: each variable
    with the fields and constant indices followed from it (``fwd.caches[1]`` reads
    ("fwd", ("caches", 1)); ``f(fwd)`` reads all of ``fwd``: ("fwd", ()))."""
    if isinstance(source, list):
        return set().union(*(_read_paths(s) for s in source)) if source else set()
    if isinstance(source, dict):
        return set().union(*(_read_paths(s) for s in source.values())) if source else set()
    if not isinstance(source, str):
        return set()
    out: set[tuple[str, Path]] = set()

    def visit(node) -> None:
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
            # a method call, ``gap.out.reshape(3)``: the method reads all of ``gap.out``
            for child in (node.node.node, *node.args, *node.kwargs):
                visit(child)
            for extra in (node.dyn_args, node.dyn_kwargs):
                if extra is not None:
                    visit(extra)
            return
        path: list[str | int] = []
        inner = node
        while True:
            if isinstance(inner, nodes.Getattr):
                path.append(inner.attr)
                inner = inner.node
            elif (
                isinstance(inner, nodes.Getitem)
                and isinstance(inner.arg, nodes.Const)
                and isinstance(inner.arg.value, (int, str))
                and not isinstance(inner.arg.value, bool)
            ):
                path.append(inner.arg.value)
                inner = inner.node
            else:
                break
        if isinstance(inner, nodes.Name):
            out.add((inner.name, tuple(reversed(path))))
            return
        for child in inner.iter_child_nodes():
            visit(child)

    visit(expressions.ENV.parse("{{ (" + source + ") }}"))
    return out


def overlap(a: Path, b: Path) -> bool:
    """Does one place contain the other? (A negative index may be any index.)"""
    for x, y in zip(a, b, strict=False):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int) and (x < 0 or y < 0):
            continue
        return False
    return True


def _pick_sources(template: Template) -> dict[str, tuple[str, Path]]:
    """Each pick step's source, followed through picks of picks to a step that is a call (or
    a parameter)."""
    out: dict[str, tuple[str, Path]] = {}
    for step in template.steps:
        if step.call is None:
            root, path = _pick_path(step.pick)
            if root in out:
                parent, prefix = out[root]
                root, path = parent, prefix + path
            out[step.name] = (root, path)
    return out


def _places(step: Step) -> frozenset[tuple[str, Path]]:
    """The places ``step`` reads: (variable, path) as :func:`_read_paths` gives them."""
    return frozenset({_pick_path(step.pick)} if step.call is None else _read_paths(dict(step.args)))


def _influence(template: Template, sources: Mapping[str, tuple[str, Path]]) -> dict[str, frozenset[str]]:
    """For each step, every step whose value changes when its value is replaced: the steps that
    read it, and for a pick the steps that read an overlapping place of its source (the pick's
    value is written there); then what those reach, and so on."""
    names = [s.name for s in template.steps]
    reads: dict[str, set[tuple[str, Path]]] = {}
    for step in template.steps:
        resolved = set()
        for root, path in _places(step):
            if root in sources:  # a read of a pick is a read of its source
                parent, prefix = sources[root]
                resolved.add((parent, prefix + path))
            resolved.add((root, path))
        reads[step.name] = resolved
    edges: dict[str, set[str]] = {n: set() for n in names}
    for name in names:
        for other in names:
            if other == name:
                continue
            if any(root == name for root, _ in reads[other]):
                edges[name].add(other)
            elif name in sources:
                root, path = sources[name]
                if any(r == root and overlap(p, path) for r, p in reads[other]):
                    edges[name].add(other)
    out: dict[str, frozenset[str]] = {}
    for name in reversed(names):  # steps only read earlier ones: later closures are done
        reach = set(edges[name])
        for other in edges[name]:
            reach |= out.get(other, frozenset())
        out[name] = frozenset(reach)
    return out


def _part_deps(template: Template, influence: Mapping[str, frozenset[str]]) -> dict[str, tuple[str, ...]]:
    """For each part, the earlier parts whose answer steps reach its answer step."""
    out: dict[str, tuple[str, ...]] = {}
    for i, part in enumerate(template.parts):
        out[part.id] = tuple(
            other.id
            for other in template.parts[:i]
            if other.answer != part.answer and part.answer in influence.get(other.answer, ())
        )
    return out


def write_path(value, path: Path, new):
    """A copy of ``value`` with ``new`` at ``path`` (what a pick of ``path`` then returns);
    ``value`` is left as it was. NamedTuples, dataclasses, dicts, lists, tuples and arrays.
    Raises TypeError, IndexError, KeyError or ValueError where ``new`` does not fit."""
    if not path:
        return new
    key, rest = path[0], path[1:]
    if isinstance(key, str):
        if isinstance(value, dict):
            return {**value, key: write_path(value[key], rest, new)}
        if hasattr(value, "_replace"):
            return value._replace(**{key: write_path(getattr(value, key), rest, new)})
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.replace(value, **{key: write_path(getattr(value, key), rest, new)})
        raise TypeError(f"cannot write field {key!r} of a {type(value).__name__}")
    if isinstance(value, np.ndarray):
        inner = np.asarray(write_path(value[key], rest, new))
        out = value.astype(np.result_type(value.dtype, inner.dtype))  # a copy; ints widen to floats
        out[key] = inner
        return out
    if isinstance(value, list):
        out = list(value)
        out[key] = write_path(value[key], rest, new)
        return out
    if isinstance(value, tuple):
        items = list(value)
        items[key] = write_path(value[key], rest, new)
        return type(value)(*items) if hasattr(value, "_replace") else tuple(items)
    raise TypeError(f"cannot write index {key} of a {type(value).__name__}")


def _schedule(template: Template, steps: tuple[CompiledStep, ...], deps) -> tuple:
    """Steps and constraint tests in evaluation order (see :attr:`Plan.schedule`)."""
    names = [s.name for s in template.steps]
    pending = []
    for constraint in template.constraints:
        read = {n for n in expressions.names_in(constraint) if n in deps}
        needed = set().union(read, *(deps[n] for n in read))
        test = expressions.compile_arg(constraint)
        pending.append((needed, lambda env, test=test: bool(test(env))))
    runners = dict(zip(names, steps, strict=True))
    done: set[str] = set()
    out: list[tuple[str | None, Runner]] = []

    def run(needed) -> None:
        for name in names:
            if name in needed and name not in done:
                out.append((name, runners[name].run))
                done.add(name)

    while pending:  # the constraint needing the fewest steps not yet run goes next
        needed, test = min(pending, key=lambda p: len(p[0] - done))
        pending.remove((needed, test))
        run(needed)
        out.append((None, test))
    run(set(names))
    return tuple(out)


_PLANS: dict[int, Plan] = {}


def plan_for(template: Template) -> Plan:
    """The compiled plan of ``template`` (built on first use, then cached)."""
    plan = _PLANS.get(id(template))
    if plan is not None and plan.template is template:
        return plan
    steps = tuple(_compile_step(s) for s in template.steps)
    deps = _closure(template.steps, {})
    sources = _pick_sources(template)
    influence = _influence(template, sources)
    plan = Plan(
        template=template,
        params=tuple((p.name, sampling.compile_draw(p.kind, p.spec)) for p in template.params),
        steps=steps,
        deps=deps,
        mistakes={(p.id, m.id): _mistake_run(template, p, m) for p in template.parts for m in p.mistakes},
        schedule=_schedule(template, steps, deps),
        part_deps=_part_deps(template, influence),
        pick_sources=sources,
        influence=influence,
        places={s.name: _places(s) for s in template.steps},
    )
    _PLANS[id(template)] = plan
    return plan
