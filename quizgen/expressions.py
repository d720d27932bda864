"""The sandbox in which bank templates' expressions and texts are evaluated.

Constraints, step arguments, derived parameters, question texts and worked solutions are jinja2
in an immutable sandbox with ``StrictUndefined``: a template can read its parameters and the
values of its steps, index arrays and call the formatting filters, and nothing else. Nothing a
YAML file says is evaluated as Python.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jinja2
import jinja2.meta
import numpy as np
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .formatting import FILTERS


def _env() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    env.filters.update(FILTERS)
    env.globals.update({"abs": abs, "min": min, "max": max, "len": len, "range": range, "round": round})
    return env


ENV = _env()
#: Names an expression may use without defining them.
BUILTIN_NAMES = frozenset(ENV.globals) | {"true", "false", "none", "True", "False", "None", "loop"}


@lru_cache(maxsize=4096)
def compile_expression(source: str):
    """A callable ``f(**context)`` for a jinja2 expression (cached)."""
    return ENV.compile_expression(source, undefined_to_none=False)


@lru_cache(maxsize=4096)
def compile_template(source: str) -> jinja2.Template:
    """A compiled jinja2 text template (cached)."""
    return ENV.from_string(source)


@lru_cache(maxsize=4096)
def expression_names(source: str) -> frozenset[str]:
    """The variables an expression reads (raises ``jinja2.TemplateSyntaxError`` on bad syntax)."""
    return frozenset(jinja2.meta.find_undeclared_variables(ENV.parse("{{ (" + source + ") }}")))


@lru_cache(maxsize=4096)
def template_names(source: str) -> frozenset[str]:
    """The variables a text template reads."""
    return frozenset(jinja2.meta.find_undeclared_variables(ENV.parse(source)))


_NAME_ONLY = re.compile(r"^\s*([A-Za-z_]\w*)\s*$")


@lru_cache(maxsize=4096)
def _evaluator(source: str):
    """A fast path for the commonest argument, a bare name (a jinja context costs ~40 µs)."""
    m = _NAME_ONLY.match(source)
    if m and m.group(1) not in BUILTIN_NAMES:
        name = m.group(1)

        def lookup(context: dict):
            try:
                return context[name]
            except KeyError:
                raise jinja2.UndefinedError(f"{name!r} is undefined") from None

        return lookup
    compiled = compile_expression(source)
    return lambda context: compiled(**context)


def evaluate(source, context: dict):
    """Evaluate an argument: a string is an expression; lists and dicts are evaluated inside;
    numbers, booleans and None are literals."""
    if isinstance(source, str):
        return _evaluator(source)(context)
    if isinstance(source, list):
        return [evaluate(s, context) for s in source]
    if isinstance(source, dict):
        return {k: evaluate(v, context) for k, v in source.items()}
    return source


def names_in(source) -> frozenset[str]:
    """Every variable an argument (string, list or dict of them) reads."""
    if isinstance(source, str):
        return expression_names(source)
    if isinstance(source, list):
        return frozenset().union(*(names_in(s) for s in source)) if source else frozenset()
    if isinstance(source, dict):
        return frozenset().union(*(names_in(s) for s in source.values())) if source else frozenset()
    return frozenset()


_PATH = re.compile(r"^([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*|\[-?\d+\])*)$")
_PATH_STEP = re.compile(r"\.([A-Za-z_]\w*)|\[(-?\d+)\]")


def path_root(path: str) -> str:
    """The first name of a path such as ``fwd.out[0]`` (raises ValueError if it is not a path)."""
    m = _PATH.match(path)
    if not m:
        raise ValueError(f"not a value path: {path!r}; expected a name followed by .field or [index]")
    return m.group(1)


def pick(path: str, context: dict):
    """Follow ``name.field[0]...`` through NamedTuples, dataclasses, dicts, lists and arrays."""
    root = path_root(path)
    value = context[root]
    for attr, index in _PATH_STEP.findall(_PATH.match(path).group(2)):
        if attr:
            value = value[attr] if isinstance(value, dict) else getattr(value, attr)
        else:
            value = value[int(index)]
    return value


def to_plain(value):
    """A value as JSON-ready Python: arrays to nested lists, numpy scalars to int/float."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iub":
            return value.astype(int).tolist()
        return value.astype(float).tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    return value
