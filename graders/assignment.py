"""Code assignments: the YAML spec, its loader, the test cases drawn from it, and the starter file.

An assignment names the functions students write (signature, what they return, a docstring with
shapes and the formula) and its tests. A test draws its inputs from a parameter space with the
bank's samplers (:mod:`quizgen.sampling`), calls the student's functions in steps, and checks
parts of their results against the reference called here, in the grading process, on the same
inputs. Example (see examples/assignments/ for complete ones)::

    id: conv2d
    title: "2-D convolution"
    tolerance: {rtol: 1.0e-6, atol: 1.0e-9}          # default for every check
    limits: {call_seconds: 2, submission_seconds: 60, memory_mb: 512}
    functions:
      - name: conv2d_forward
        params: "x, w, b, stride=1, padding=0"
        returns: "out, cache"
        doc: "x (N, C, H, W), w (F, C, KH, KW), b (F,) -> out (N, F, H', W') ..."
    tests:
      - id: forward
        title: forward pass
        points: 2                  # per case
        visible: 2                 # cases students see (inputs included) and run with `check`
        hidden: 3                  # cases drawn per student variant; feedback says how, not on what
        params:                    # drawn in order, as in the question bank
          K: {choice: [1, 3]}
          x: {array: [2, 3, 5, 5], real: [-2, 2, 0.01]}
        constraints: ["K <= 5"]    # redrawn until these hold
        edge_cases:                # extra visible cases with some parameters fixed
          - {name: "no padding, stride 2", set: {padding: 0, stride: 2}}
        hint: "shown when a case of this test fails and no known mistake matches"
        steps:
          - name: fwd
            call: conv2d_forward                # the student's function
            args: [x, w, b]                     # expressions over params and earlier references
            kwargs: {stride: stride}
            reference: {call: conv.conv2d_forward, args: {x: x, w: w, b: b, stride: stride}}
            checks:
              - name: out
                result: 0                       # path into what the student returned
                expected: out                   # path into the reference's result
                mistakes:
                  - {id: flipped_kernel, feedback: "...", changes: {fwd: {convention: "'convolution'"}}}
          - name: bwd
            call: conv2d_backward
            args: [dout, {result: fwd, path: [1]}]   # the student's own cache, kept in their process
            reference: {call: conv.conv2d_backward, args: {dout: dout, cache: fwd.cache}}

A step without ``call`` only computes a reference value for later steps. A mistake is either
``changes`` (the same reference pipeline with some arguments replaced, as in the bank) or a
``transform`` of the expected value (see :data:`TRANSFORMS`).

Seeds: visible cases use ``stable_seed(assignment, test, "visible", k)``. Hidden cases (and
hidden edge cases) are keyed by the instructor's secret and the student's variant (e.g. their
Gradescope user id), :func:`quizgen.graders.hidden_key.hidden_seed`, so each student's hidden
inputs differ and nobody without the key can compute them; without a key they are not drawn
(:class:`~quizgen.graders.hidden_key.MissingHiddenKey`).

A drawn case is redrawn (from the same generator, so still deterministic) while it is
degenerate: while some check's expected value is passed by a trivial answer, all zeros, all ones
or one of the case's own inputs of that shape; a case no draw can fix is a SpecError.

What a spec may ask for is capped (:data:`CAPS`: cases per test, tests, array elements, limits),
so a typo such as ``hidden: 100000000`` is a one-line error naming the file and the field.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from quizgen import expressions, sampling
from quizgen.errors import SpecError
from quizgen.models import KnownMistake, ParamSpec, Tolerance
from quizgen.reference import registry
from quizgen.seeding import make_rng, stable_seed
from quizgen.yamlio import load_yaml

from .hidden_key import ENV, MissingHiddenKey, hidden_seed
from .sandbox import Call, Limits, Ref

__all__ = [
    "CAPS",
    "TRANSFORMS",
    "Assignment",
    "Case",
    "CheckPlan",
    "CheckSpec",
    "CodeMistake",
    "EdgeCase",
    "FunctionSpec",
    "ReferenceCall",
    "StepSpec",
    "StudentRef",
    "TestSpec",
    "build_cases",
    "has_hidden_cases",
    "load_assignment",
    "parse_assignment",
    "starter",
    "with_hidden_key",
]

_NAME = re.compile(r"^[A-Za-z_]\w*$")
_MAX_DRAWS = 200
_MAX_REDRAWS = 50  # draws tried for a case that a trivial answer passes

#: The most a spec may ask for (field -> largest value). Limits are capped by the same table.
CAPS: dict[str, float] = {
    "functions": 50,
    "tests": 100,
    "steps": 50,
    "visible": 50,
    "hidden": 50,
    "edge_cases": 50,
    "points": 1e6,
    "call_seconds": 600,
    "array elements": 1_000_000,
    "limits.call_seconds": 600,
    "limits.import_seconds": 600,
    "limits.submission_seconds": 3600,
    "limits.memory_mb": 65536,
    "limits.processes": 256,
    "limits.file_size_mb": 4096,
    "limits.output_bytes": 1_000_000,
    "limits.open_files": 4096,
    "limits.result_mb": 4096,
}

#: Known mistakes computed from the expected value itself (name -> function of it).
TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "transpose": lambda v: np.swapaxes(np.asarray(v), -1, -2),
    "negate": lambda v: -np.asarray(v),
}


@dataclass(frozen=True)
class FunctionSpec:
    """A function the student writes: ``def name(params):`` returning ``returns``."""

    name: str
    params: str
    returns: str
    doc: str


@dataclass(frozen=True)
class StudentRef:
    """An argument that is the student's own earlier result (or part of it) in the same case."""

    step: str
    path: tuple = ()


@dataclass(frozen=True)
class ReferenceCall:
    """``call`` (``family.function``) with keyword ``args`` (expressions or literals)."""

    call: str
    args: Mapping[str, Any]


@dataclass(frozen=True)
class CodeMistake:
    """A known wrong implementation: the reference with ``changes`` ({step: {arg: expr}}), or
    ``transform`` (a :data:`TRANSFORMS` name) applied to the expected value."""

    id: str
    feedback: str
    changes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    transform: str | None = None


@dataclass(frozen=True)
class CheckSpec:
    """Compare the student's ``result`` path with the reference result's ``expected`` path."""

    name: str
    result: tuple
    expected: str
    tolerance: Tolerance | None = None
    mistakes: tuple[CodeMistake, ...] = ()
    may_equal_input: bool = False  # its right answer is one of the inputs by design


@dataclass(frozen=True)
class StepSpec:
    name: str
    call: str | None
    args: tuple
    kwargs: Mapping[str, Any]
    reference: ReferenceCall | None
    checks: tuple[CheckSpec, ...]


@dataclass(frozen=True)
class EdgeCase:
    name: str
    set: Mapping[str, Any]
    hidden: bool = False


@dataclass(frozen=True)
class TestSpec:
    id: str
    title: str
    points: float
    visible: int
    hidden: int
    params: tuple[ParamSpec, ...]
    constraints: tuple[str, ...]
    edge_cases: tuple[EdgeCase, ...]
    steps: tuple[StepSpec, ...]
    tolerance: Tolerance | None = None
    call_seconds: float | None = None
    hint: str = ""


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    summary: str
    functions: tuple[FunctionSpec, ...]
    tests: tuple[TestSpec, ...]
    tolerance: Tolerance
    limits: Limits
    source: str = ""
    #: The instructor's secret for hidden cases (see :mod:`quizgen.graders.hidden_key`); never
    #: part of the spec file, never shown.
    hidden_key: bytes | None = field(default=None, repr=False, compare=False)

    def function(self, name: str) -> FunctionSpec:
        for f in self.functions:
            if f.name == name:
                return f
        raise ValueError(f"assignment {self.id}: no function {name!r}")


# ---------------------------------------------------------------------------------------------
# loading


class _Where:
    """Builds SpecErrors that name the file, the line and the field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, node, key, where: str, message: str) -> SpecError:
        line = node.line_of(key) if hasattr(node, "line_of") and key is not None else getattr(node, "line", 0)
        src = f"{self.source}:{line}" if line else self.source
        return SpecError(message, source=src, where=where)


def _mapping(w: _Where, node, where: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict:
    if not isinstance(node, dict):
        raise w.error(node, None, where, "expected a mapping")
    for key in required:
        if key not in node:
            raise w.error(node, None, where, f"missing {key!r}")
    for key in node:
        if key not in required and key not in optional:
            allowed = ", ".join(sorted(required + optional))
            raise w.error(node, key, where, f"unknown key {key!r}; expected one of {allowed}")
    return node


def _name(w: _Where, node, key: str, where: str) -> str:
    value = node[key]
    if not isinstance(value, str) or not _NAME.match(value) or keyword.iskeyword(value):
        raise w.error(node, key, f"{where}.{key}", f"expected an identifier, got {value!r}")
    return value


def _count(w: _Where, node, key: str, where: str, default: int) -> int:
    value = node.get(key, default)
    cap = int(CAPS[key])
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= cap:
        raise w.error(node, key, f"{where}.{key}", f"expected a whole number from 0 to {cap}, got {value!r}")
    return value


def _at_most(w: _Where, node, key, where: str, items, what: str) -> None:
    if isinstance(items, (list, dict)) and len(items) > CAPS[what]:
        raise w.error(node, key, where, f"at most {CAPS[what]:g} {what}, got {len(items)}")


def _literal_elements(spec: Mapping) -> int | None:
    """The element count of an array parameter whose sizes are all literal numbers, else None."""
    dims = spec.get("array")
    if isinstance(dims, list) and dims and all(type(d) is int for d in dims):
        return math.prod(dims)
    return None


def _tolerance(w: _Where, node, key: str, where: str) -> Tolerance | None:
    if key not in node:
        return None
    try:
        return Tolerance.from_dict(node[key])
    except (TypeError, ValueError) as exc:
        raise w.error(node, key, f"{where}.{key}", str(exc)) from None


def _functions(w: _Where, node) -> tuple[FunctionSpec, ...]:
    if not isinstance(node, list) or not node:
        raise w.error(node, None, "functions", "expected a list of functions")
    _at_most(w, node, None, "functions", node, "functions")
    out = []
    for i, f in enumerate(node):
        where = f"functions[{i}]"
        _mapping(w, f, where, ("name", "params", "returns"), ("doc",))
        name = _name(w, f, "name", where)
        try:
            ast.parse(f"def {name}({f['params']}):\n    pass\n")
        except (SyntaxError, TypeError):
            raise w.error(f, "params", f"{where}.params", f"not a parameter list: {f['params']!r}") from None
        out.append(FunctionSpec(name, str(f["params"]), str(f["returns"]), str(f.get("doc", "")).rstrip()))
    if len({f.name for f in out}) != len(out):
        raise w.error(node, None, "functions", "function names must be unique")
    return tuple(out)


def _params(w: _Where, node, where: str) -> tuple[ParamSpec, ...]:
    if not isinstance(node, dict):
        raise w.error(node, None, where, "expected a mapping of parameters such as {K: {choice: [1, 3]}}")
    out = []
    for name, spec in node.items():
        pwhere = f"{where}.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            raise w.error(node, name, pwhere, "parameter names are identifiers")
        if not isinstance(spec, dict):
            raise w.error(node, name, pwhere, "expected a sampler such as {int: [1, 5]}")
        try:
            kind = sampling.sampler_kind(spec)
        except ValueError as exc:
            raise w.error(node, name, pwhere, str(exc)) from None
        allowed = {kind} | sampling.SAMPLERS[kind].modifiers
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise w.error(node, name, pwhere, f"unknown setting(s) {unknown} for a {kind} parameter")
        size = _literal_elements(spec)
        if size is not None and size > CAPS["array elements"]:
            raise w.error(
                node, name, f"{pwhere}.array", f"at most {CAPS['array elements']:,.0f} elements, got {size:,}"
            )
        out.append(ParamSpec(name, kind, dict(spec)))
    return tuple(out)


def _check_names(w: _Where, node, key, where: str, value, scope: set[str]) -> None:
    try:
        names = expressions.names_in(value)
    except Exception as exc:  # jinja's syntax errors, whatever their class
        raise w.error(node, key, where, f"not a valid expression: {exc}") from None
    unknown = sorted(names - scope - expressions.BUILTIN_NAMES)
    if unknown:
        raise w.error(
            node, key, where, f"unknown name(s) {', '.join(unknown)}; known: {', '.join(sorted(scope))}"
        )


def _student_arg(w: _Where, node, key, where: str, value, steps_so_far: list[str], scope: set[str]):
    if isinstance(value, dict) and "result" in value:
        _mapping(w, value, where, ("result",), ("path",))
        if value["result"] not in steps_so_far:
            raise w.error(
                node, key, where, f"result {value['result']!r} is not an earlier step that calls the student"
            )
        path = value.get("path", [])
        if not isinstance(path, list) or not all(isinstance(p, (int, str)) for p in path):
            raise w.error(value, "path", where, "expected a list of indices and keys")
        return StudentRef(value["result"], tuple(path))
    _check_names(w, node, key, where, value, scope)
    return value


def _path(w: _Where, node, key, where: str) -> tuple:
    value = node.get(key, [])
    value = [value] if isinstance(value, (int, str)) else value
    if not isinstance(value, list) or not all(
        isinstance(p, (int, str)) and not isinstance(p, bool) for p in value
    ):
        raise w.error(node, key, where, f"expected an index, a key or a list of them, got {value!r}")
    return tuple(value)


def _mistakes(w: _Where, node, where: str, step_names: set[str]) -> tuple[CodeMistake, ...]:
    if not isinstance(node, list):
        raise w.error(node, None, where, "expected a list of mistakes")
    out = []
    for i, m in enumerate(node):
        mwhere = f"{where}[{i}]"
        _mapping(w, m, mwhere, ("id", "feedback"), ("changes", "transform"))
        if ("changes" in m) == ("transform" in m):
            raise w.error(m, None, mwhere, "give exactly one of changes and transform")
        if "transform" in m and m["transform"] not in TRANSFORMS:
            raise w.error(
                m, "transform", mwhere, f"unknown transform; expected one of {', '.join(TRANSFORMS)}"
            )
        changes = m.get("changes", {})
        if not isinstance(changes, dict) or any(
            s not in step_names or not isinstance(a, dict) for s, a in changes.items()
        ):
            raise w.error(
                m,
                "changes",
                mwhere,
                f"expected {{step: {{argument: value}}}} with steps among {sorted(step_names)}",
            )
        out.append(CodeMistake(str(m["id"]), str(m["feedback"]), changes, m.get("transform")))
    return tuple(out)


def _steps(w: _Where, node, where: str, functions: set[str], scope: set[str]) -> tuple[StepSpec, ...]:
    if not isinstance(node, list) or not node:
        raise w.error(node, None, where, "expected a list of steps")
    _at_most(w, node, None, where, node, "steps")
    out: list[StepSpec] = []
    student_steps: list[str] = []
    scope = set(scope)
    for i, s in enumerate(node):
        swhere = f"{where}[{i}]"
        _mapping(w, s, swhere, ("name",), ("call", "args", "kwargs", "reference", "checks"))
        name = _name(w, s, "name", swhere)
        if name in scope:
            raise w.error(s, "name", swhere, f"step name {name!r} is already a parameter or step")
        call = s.get("call")
        if call is not None and call not in functions:
            raise w.error(
                s, "call", swhere, f"unknown function {call!r}; the assignment defines {sorted(functions)}"
            )
        args = s.get("args", [])
        kwargs = s.get("kwargs", {})
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise w.error(s, None, swhere, "args is a list and kwargs a mapping")
        if call is None and (args or kwargs or s.get("checks")):
            raise w.error(s, None, swhere, "a step without call has no args, kwargs or checks")
        args_t = tuple(_student_arg(w, s, "args", f"{swhere}.args", a, student_steps, scope) for a in args)
        kwargs_d = {
            k: _student_arg(w, kwargs, k, f"{swhere}.kwargs.{k}", v, student_steps, scope)
            for k, v in kwargs.items()
        }
        reference = None
        if "reference" in s:
            r = _mapping(w, s["reference"], f"{swhere}.reference", ("call",), ("args",))
            try:
                registry.resolve(r["call"])
            except ValueError as exc:
                raise w.error(r, "call", f"{swhere}.reference.call", str(exc)) from None
            ref_args = r.get("args", {})
            if not isinstance(ref_args, dict):
                raise w.error(
                    r, "args", f"{swhere}.reference.args", "expected a mapping of keyword arguments"
                )
            for k, v in ref_args.items():
                _check_names(w, ref_args, k, f"{swhere}.reference.args.{k}", v, scope)
            reference = ReferenceCall(r["call"], dict(ref_args))
        elif call is None:
            raise w.error(s, None, swhere, "a step needs a call, a reference or both")
        checks = []
        for j, c in enumerate(s.get("checks", [])):
            cwhere = f"{swhere}.checks[{j}]"
            _mapping(
                w, c, cwhere, ("name", "expected"), ("result", "tolerance", "mistakes", "may_equal_input")
            )
            if not isinstance(c.get("may_equal_input", False), bool):
                raise w.error(c, "may_equal_input", f"{cwhere}.may_equal_input", "expected true or false")
            if reference is None:
                raise w.error(c, None, cwhere, "a check needs the step's reference")
            expected = str(c["expected"])
            if expected and not re.match(r"^[A-Za-z_]\w*((\.[A-Za-z_]\w*)|\[-?\d+\])*$", expected):
                raise w.error(c, "expected", cwhere, f"not a path such as dx or state.exp_avg: {expected!r}")
            mistakes = _mistakes(
                w, c.get("mistakes", []), f"{cwhere}.mistakes", {x.name for x in out} | {name}
            )
            checks.append(
                CheckSpec(
                    str(c["name"]),
                    _path(w, c, "result", cwhere),
                    expected,
                    _tolerance(w, c, "tolerance", cwhere),
                    mistakes,
                    c.get("may_equal_input", False),
                )
            )
        out.append(StepSpec(name, call, args_t, kwargs_d, reference, tuple(checks)))
        scope.add(name)
        if call is not None:
            student_steps.append(name)
    return tuple(out)


def _tests(w: _Where, node, functions: set[str]) -> tuple[TestSpec, ...]:
    if not isinstance(node, list) or not node:
        raise w.error(node, None, "tests", "expected a list of tests")
    _at_most(w, node, None, "tests", node, "tests")
    out = []
    for i, t in enumerate(node):
        where = f"tests[{i}]"
        _mapping(
            w,
            t,
            where,
            ("id", "steps"),
            (
                "title",
                "points",
                "visible",
                "hidden",
                "params",
                "constraints",
                "edge_cases",
                "tolerance",
                "call_seconds",
                "hint",
            ),
        )
        tid = _name(w, t, "id", where)
        params = _params(w, t.get("params", {}), f"{where}.params")
        scope = {p.name for p in params}
        constraints = t.get("constraints", [])
        if not isinstance(constraints, list) or not all(isinstance(c, str) for c in constraints):
            raise w.error(t, "constraints", f"{where}.constraints", "expected a list of expressions")
        for c in constraints:
            _check_names(w, t, "constraints", f"{where}.constraints", c, scope)
        edges = []
        if not isinstance(t.get("edge_cases", []), list):
            raise w.error(t, "edge_cases", f"{where}.edge_cases", "expected a list of edge cases")
        _at_most(w, t, "edge_cases", f"{where}.edge_cases", t.get("edge_cases", []), "edge_cases")
        for j, e in enumerate(t.get("edge_cases", [])):
            ewhere = f"{where}.edge_cases[{j}]"
            _mapping(w, e, ewhere, ("name", "set"), ("hidden",))
            if not isinstance(e["set"], dict) or not set(e["set"]) <= scope:
                raise w.error(e, "set", ewhere, f"expected {{parameter: value}} over {sorted(scope)}")
            edges.append(EdgeCase(str(e["name"]), dict(e["set"]), bool(e.get("hidden", False))))
        points = t.get("points", 1)
        if (
            isinstance(points, bool)
            or not isinstance(points, (int, float))
            or not 0 <= points <= CAPS["points"]
        ):
            raise w.error(
                t,
                "points",
                f"{where}.points",
                f"expected a number from 0 to {CAPS['points']:g}, got {points!r}",
            )
        seconds = t.get("call_seconds")
        if seconds is not None and (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not 0 < seconds <= CAPS["call_seconds"]
        ):
            raise w.error(
                t,
                "call_seconds",
                f"{where}.call_seconds",
                f"expected a positive number up to {CAPS['call_seconds']:g}, got {seconds!r}",
            )
        visible, hidden = _count(w, t, "visible", where, 1), _count(w, t, "hidden", where, 0)
        if visible + hidden + len(edges) == 0:
            raise w.error(t, None, where, "a test needs at least one case (visible, hidden or edge_cases)")
        out.append(
            TestSpec(
                id=tid,
                title=str(t.get("title", tid)),
                points=float(points),
                visible=visible,
                hidden=hidden,
                params=params,
                constraints=tuple(constraints),
                edge_cases=tuple(edges),
                steps=_steps(w, t["steps"], f"{where}.steps", functions, scope),
                tolerance=_tolerance(w, t, "tolerance", where),
                call_seconds=None if seconds is None else float(seconds),
                hint=str(t.get("hint", "")).strip(),
            )
        )
    if len({t.id for t in out}) != len(out):
        raise w.error(node, None, "tests", "test ids must be unique")
    return tuple(out)


def parse_assignment(node, source: str = "<spec>") -> Assignment:
    """Validate a parsed YAML document; every problem is a SpecError naming file, line and field."""
    w = _Where(source)
    _mapping(w, node, "assignment", ("id", "title", "functions", "tests"), ("summary", "tolerance", "limits"))
    functions = _functions(w, node["functions"])
    try:
        limits = Limits.from_dict(node.get("limits"))
    except (TypeError, ValueError) as exc:
        raise w.error(node, "limits", "limits", str(exc)) from None
    for name, value in limits.to_dict().items():
        cap = CAPS.get(f"limits.{name}")
        if cap is not None and not value <= cap:
            where_node = node.get("limits") if isinstance(node.get("limits"), dict) else node
            raise w.error(where_node, name, f"limits.{name}", f"at most {cap:g}, got {value!r}")
    return Assignment(
        id=_name(w, node, "id", "assignment"),
        title=str(node["title"]),
        summary=str(node.get("summary", "")).strip(),
        functions=functions,
        tests=_tests(w, node["tests"], {f.name for f in functions}),
        tolerance=_tolerance(w, node, "tolerance", "assignment") or Tolerance(rtol=1e-6, atol=1e-9),
        limits=limits,
        source=source,
    )


def load_assignment(path: str | Path) -> Assignment:
    """Read and validate an assignment spec (YAML, safe loading only)."""
    return parse_assignment(load_yaml(path, error=SpecError), str(path))


# ---------------------------------------------------------------------------------------------
# cases


@dataclass(frozen=True)
class CheckPlan:
    """One comparison in a case: part ``pick`` of call ``call``'s selected results."""

    name: str
    call: int
    pick: int
    expected: Any
    tolerance: Tolerance
    mistakes: tuple[KnownMistake, ...] = ()


@dataclass(frozen=True)
class Case:
    """One drawn case of a test: the calls to make in the sandbox and the checks on their results."""

    test: str
    title: str
    label: str
    hidden: bool
    points: float
    seed: int
    params: Mapping[str, Any]
    calls: tuple[Call, ...]
    checks: tuple[CheckPlan, ...]
    hint: str = ""

    @property
    def name(self) -> str:
        return f"{self.title} [{self.label}]"


def _array_elements(spec: Mapping, env: dict) -> int:
    """How many elements an array parameter will have with ``env`` (before it is drawn)."""
    size = 1
    for d in spec.get("array") or ():
        value = d if type(d) is int else expressions.evaluate(str(d), env)
        size *= (
            int(value) if isinstance(value, (int, float, np.integer)) and not isinstance(value, bool) else 1
        )
    return size


def _draw(test: TestSpec, rng: np.random.Generator, fixed: Mapping[str, Any], source: str = "") -> dict:
    """One draw of the test's parameters that satisfies its constraints."""
    for _ in range(_MAX_DRAWS):
        env: dict = {}
        for p in test.params:
            if p.name in fixed:
                env[p.name] = fixed[p.name]
                continue
            if p.kind == "array" or "array" in p.spec:
                size = _array_elements(p.spec, env)
                if size > CAPS["array elements"]:
                    raise SpecError(
                        f"at most {CAPS['array elements']:,.0f} elements, got {size:,}",
                        source=source,
                        where=f"test {test.id}, params.{p.name}.array",
                    )
            env[p.name] = sampling.draw(p.kind, rng, p.spec, env)
        if all(expressions.evaluate(c, env) for c in test.constraints):
            return env
    raise SpecError(f"test {test.id}: no draw in {_MAX_DRAWS} satisfied the constraints", source=source)


def _reference_values(
    test: TestSpec, env: dict, changes: Mapping[str, Mapping[str, Any]] | None = None
) -> dict:
    """Run the reference steps in order; context maps each step name to its result."""
    context = dict(env)
    for step in test.steps:
        if step.reference is None:
            continue
        args = dict(step.reference.args)
        if changes and step.name in changes:
            args.update(changes[step.name])
        fn = registry.resolve(step.reference.call)
        context[step.name] = fn(**{k: expressions.evaluate(v, context) for k, v in args.items()})
    return context


def _expected(context: dict, step: str, path: str):
    value = expressions.pick(f"{step}.{path}" if path else step, context)
    return (
        value
        if value is None
        else (np.asarray(value, dtype=np.float64) if not np.isscalar(value) else float(value))
    )


def _student_value(value, context: dict, index: dict[str, int]):
    if isinstance(value, StudentRef):
        return Ref(index[value.step], value.path)
    return expressions.evaluate(value, context)


def _trivial_pass(expected, env: Mapping[str, Any], tol: Tolerance, inputs: bool = True) -> str:
    """The trivial answer that ``expected`` accepts ("all zeros", "all ones", "the input x"), or "";
    ``inputs=False`` leaves the inputs out (a check whose answer is an input by design)."""
    if expected is None:
        return ""
    e = np.asarray(expected, dtype=np.float64)
    candidates = [("all zeros", np.zeros_like(e)), ("all ones", np.ones_like(e))]
    for name, value in env.items() if inputs else ():
        if (
            isinstance(value, (np.ndarray, int, float))
            and not isinstance(value, bool)
            and np.shape(value) == e.shape
        ):
            candidates.append((f"the input {name}", value))
    for what, value in candidates:
        if tol.accepts(e, np.asarray(value, dtype=np.float64)):
            return what
    return ""


def _degenerate(test: TestSpec, context: dict, env: dict, tol_default: Tolerance) -> str:
    """Why this draw is degenerate ("check dx: all zeros passes"), or "" if it is not."""
    for step in test.steps:
        for c in step.checks if step.call is not None else ():
            expected = _expected(context, step.name, c.expected)
            what = _trivial_pass(expected, env, c.tolerance or tol_default, not c.may_equal_input)
            if what:
                return f"check {c.name}: {what} passes"
    return ""


def _case(
    assignment: Assignment, test: TestSpec, label: str, hidden: bool, seed: int, fixed: Mapping
) -> Case:
    tol_default = test.tolerance or assignment.tolerance
    rng = make_rng(seed)
    for _ in range(_MAX_REDRAWS):
        env = _draw(test, rng, fixed, assignment.source)
        context = _reference_values(test, env)
        why = _degenerate(test, context, env, tol_default)
        if not why:
            break
    else:
        raise SpecError(
            f"every one of {_MAX_REDRAWS} draws of case {label!r} is degenerate ({why}): "
            "widen its parameters, or mark a check whose right answer is an input by design "
            "may_equal_input: true",
            source=assignment.source,
            where=f"test {test.id}",
        )
    calls: list[Call] = []
    checks: list[CheckPlan] = []
    index: dict[str, int] = {}
    mistake_contexts: dict[tuple, dict] = {}
    for step in test.steps:
        if step.call is None:
            continue
        args = tuple(_student_value(a, context, index) for a in step.args)
        kwargs = {k: _student_value(v, context, index) for k, v in step.kwargs.items()}
        select = tuple(c.result for c in step.checks) if step.checks else ((),)
        index[step.name] = len(calls)
        for k, c in enumerate(step.checks):
            expected = _expected(context, step.name, c.expected)
            known = []
            for m in c.mistakes:
                if m.transform is not None:
                    value = TRANSFORMS[m.transform](expected)
                else:
                    key = tuple(sorted((s, tuple(sorted(a.items()))) for s, a in m.changes.items()))
                    if key not in mistake_contexts:
                        mistake_contexts[key] = _reference_values(test, env, m.changes)
                    value = _expected(mistake_contexts[key], step.name, c.expected)
                tol = c.tolerance or tol_default
                distinct = np.shape(value) != np.shape(expected) or not tol.accepts(expected, value)
                known.append(KnownMistake(m.id, m.feedback, value, distinct))
            checks.append(
                CheckPlan(c.name, len(calls), k, expected, c.tolerance or tol_default, tuple(known))
            )
        calls.append(Call(step.call, args, kwargs, select=select, seconds=test.call_seconds))
    plain = {p.name: expressions.to_plain(env[p.name]) for p in test.params}
    return Case(
        test.id, test.title, label, hidden, test.points, seed, plain, tuple(calls), tuple(checks), test.hint
    )


def has_hidden_cases(assignment: Assignment) -> bool:
    """Whether any test has hidden cases (or hidden edge cases), which need the instructor's key."""
    return any(t.hidden or any(e.hidden for e in t.edge_cases) for t in assignment.tests)


def with_hidden_key(assignment: Assignment, key: bytes | None) -> Assignment:
    """``assignment`` holding the instructor's key for its hidden cases (None: no key)."""
    return replace(assignment, hidden_key=key)


def build_cases(assignment: Assignment, *, variant: str = "", hidden: bool = True) -> list[Case]:
    """Every case of every test: visible ones, edge cases, and (if ``hidden``) the hidden ones of
    this ``variant`` (a student's id: each student gets their own hidden inputs), drawn from the
    assignment's ``hidden_key``; hidden cases without a key raise :class:`MissingHiddenKey`."""
    key = assignment.hidden_key
    if hidden and key is None and has_hidden_cases(assignment):
        raise MissingHiddenKey(
            f"the hidden cases of assignment {assignment.id} need the instructor's key: set {ENV} "
            "or pass --key-file FILE (or leave them out with --visible-only)",
            source=assignment.source,
        )
    cases = []
    for test in assignment.tests:
        for k in range(test.visible):
            seed = stable_seed(assignment.id, test.id, "visible", k)
            cases.append(_case(assignment, test, f"visible {k + 1}", False, seed, {}))
        for k, edge in enumerate(test.edge_cases):
            if edge.hidden and not hidden:
                continue
            if edge.hidden:
                seed = hidden_seed(key, assignment.id, test.id, "edge", k, variant)
            else:
                seed = stable_seed(assignment.id, test.id, "edge", k, "")
            cases.append(_case(assignment, test, edge.name, edge.hidden, seed, edge.set))
        if hidden:
            for k in range(test.hidden):
                seed = hidden_seed(key, assignment.id, test.id, "hidden", k, variant)
                cases.append(_case(assignment, test, f"hidden {k + 1}", True, seed, {}))
    return cases


# ---------------------------------------------------------------------------------------------
# starter file


def starter(assignment: Assignment) -> str:
    """The student's starter file: each function's signature, a docstring with its shapes and
    formula, and a body that raises NotImplementedError."""
    head = [f'"""{assignment.title}']
    if assignment.summary:
        head += ["", assignment.summary]
    head += [
        "",
        "Fill in each function below; use NumPy only. Check your work with",
        f"    quizgen check {assignment.id}.yaml <this file>",
        '"""',
        "",
        "import numpy as np",
    ]
    parts = ["\n".join(head)]
    for f in assignment.functions:
        doc = (f.doc.replace('"""', "'''") or f.name).splitlines()
        quote = 'r"""' if "\\" in f.doc else '"""'  # keep backslashes (e.g. LaTeX) as written
        lines = [f"def {f.name}({f.params}):", "    " + quote + doc[0]]
        lines += [("    " + line) if line.strip() else "" for line in doc[1:]]
        lines += ["", f"    Returns: {f.returns}", '    """', f'    raise NotImplementedError("{f.name}")']
        parts.append("\n".join(lines))
    return "\n\n\n".join(parts) + "\n"
