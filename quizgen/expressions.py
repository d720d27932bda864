"""The sandbox in which bank templates' expressions and texts are evaluated.

Constraints, step arguments, derived parameters, question texts and worked solutions are jinja2
in an immutable sandbox with ``StrictUndefined``: a template can read its parameters and the
values of its steps, index arrays and call the formatting filters, and nothing else. Nothing a
YAML file says is evaluated as Python.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from functools import lru_cache

import jinja2
import jinja2.meta
import numpy as np
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import new_context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg

from .formatting import FILTERS


def _env() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    env.filters.update(FILTERS)
    # the sandbox's own safe_range stays as `range`
    env.globals.update({"abs": abs, "min": min, "max": max, "len": len, "round": round})
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


def text_context(values: Mapping) -> dict:
    """The context texts are rendered in: the sandbox's globals and ``values``. Build it once
    per instance and :func:`render` every text in it (jinja would copy it for each text)."""
    return {**ENV.globals, **values}


def render(source: str, context: dict) -> str:
    """Render a text template in a context from :func:`text_context` (what
    ``compile_template(source).render(**values)`` gives, without its per-render copy)."""
    if "{" not in source:  # no jinja syntax: the text renders to itself
        return source
    template = compile_template(source)
    ctx = new_context(ENV, template.name, template.blocks, context, shared=True)
    try:
        return ENV.concat(template.root_render_func(ctx))
    except Exception:
        return ENV.handle_exception()


@lru_cache(maxsize=4096)
def expression_names(source: str) -> frozenset[str]:
    """The variables an expression reads (raises ``jinja2.TemplateSyntaxError`` on bad syntax)."""
    return frozenset(jinja2.meta.find_undeclared_variables(ENV.parse("{{ (" + source + ") }}")))


@lru_cache(maxsize=4096)
def template_names(source: str) -> frozenset[str]:
    """The variables a text template reads."""
    return frozenset(jinja2.meta.find_undeclared_variables(ENV.parse(source)))


class _Unsupported(Exception):
    """An expression node the closure compiler leaves to jinja itself."""


def _undefined(name: str):
    raise jinja2.UndefinedError(f"{name!r} is undefined")


def _checked(value):
    """The sandbox answers an unsafe attribute with an Undefined; raise its error at once."""
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    return value


def _call(fn, args, kwargs):
    if not ENV.is_safe_callable(fn):
        raise SecurityError(f"{fn!r} is not safely callable")
    return fn(*args, **kwargs)


_BINARY = {
    nodes.Add: operator.add,
    nodes.Sub: operator.sub,
    nodes.Mul: operator.mul,
    nodes.Div: operator.truediv,
    nodes.FloorDiv: operator.floordiv,
    nodes.Mod: operator.mod,
    nodes.Pow: operator.pow,
}
_COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gteq": operator.ge,
    "lt": operator.lt,
    "lteq": operator.le,
    "in": lambda a, b: a in b,
    "notin": lambda a, b: a not in b,
}


def _const(node):
    value = node.value
    return lambda ctx: value


def _name(node):
    name, glob = node.name, ENV.globals

    def lookup(ctx):
        if name in ctx:
            return ctx[name]
        if name in glob:
            return glob[name]
        return _undefined(name)

    return lookup


def _sequence(node):
    items = [_compile(i) for i in node.items]
    kind = list if isinstance(node, nodes.List) else tuple
    return lambda ctx: kind(f(ctx) for f in items)


def _getattr(node):
    obj, attr = _compile(node.node), node.attr
    return lambda ctx: _checked(ENV.getattr(obj(ctx), attr))


def _getitem(node):
    obj = _compile(node.node)
    if isinstance(node.arg, nodes.Slice):
        bounds = [
            _compile(p) if p is not None else (lambda ctx: None)
            for p in (node.arg.start, node.arg.stop, node.arg.step)
        ]
        return lambda ctx: _checked(ENV.getitem(obj(ctx), slice(*(b(ctx) for b in bounds))))
    arg = _compile(node.arg)
    return lambda ctx: _checked(ENV.getitem(obj(ctx), arg(ctx)))


def _binary(op):
    def compile_binary(node):
        left, right = _compile(node.left), _compile(node.right)
        return lambda ctx: op(left(ctx), right(ctx))

    return compile_binary


def _unary(op):
    def compile_unary(node):
        inner = _compile(node.node)
        return lambda ctx: op(inner(ctx))

    return compile_unary


def _and(node):
    left, right = _compile(node.left), _compile(node.right)
    return lambda ctx: left(ctx) and right(ctx)


def _or(node):
    left, right = _compile(node.left), _compile(node.right)
    return lambda ctx: left(ctx) or right(ctx)


def _condexpr(node):
    if node.expr2 is None:
        raise _Unsupported("if without else")
    test, yes, no = _compile(node.test), _compile(node.expr1), _compile(node.expr2)
    return lambda ctx: yes(ctx) if test(ctx) else no(ctx)


def _compare(node):
    first = _compile(node.expr)
    ops = [(_COMPARE[o.op], _compile(o.expr)) for o in node.ops]
    if len(ops) == 1:  # no truth test: an elementwise array comparison stays an array
        ((op, right_fn),) = ops
        return lambda ctx: op(first(ctx), right_fn(ctx))

    def compare(ctx):  # Python's chaining: the first falsy result, else the last one
        left, result = first(ctx), True
        for op, right_fn in ops:
            right = right_fn(ctx)
            result = op(left, right)
            if not result:
                return result
            left = right
        return result

    return compare


def _arguments(node):
    if node.dyn_args or node.dyn_kwargs:
        raise _Unsupported("*args or **kwargs")
    return [_compile(a) for a in node.args], [(k.key, _compile(k.value)) for k in node.kwargs]


def _callnode(node):
    fn = _compile(node.node)
    args, kwargs = _arguments(node)
    return lambda ctx: _call(fn(ctx), [a(ctx) for a in args], {k: v(ctx) for k, v in kwargs})


def _filter(node):
    func = ENV.filters.get(node.name)
    if node.node is None or func is None or _PassArg.from_obj(func) is not None:
        raise _Unsupported(f"filter {node.name}")
    value = _compile(node.node)
    args, kwargs = _arguments(node)
    return lambda ctx: func(value(ctx), *[a(ctx) for a in args], **{k: v(ctx) for k, v in kwargs})


_COMPILERS = {
    nodes.Const: _const,
    nodes.Name: _name,
    nodes.List: _sequence,
    nodes.Tuple: _sequence,
    nodes.Getattr: _getattr,
    nodes.Getitem: _getitem,
    nodes.Add: _binary(operator.add),
    nodes.Sub: _binary(operator.sub),
    nodes.Mul: _binary(operator.mul),
    nodes.Div: _binary(operator.truediv),
    nodes.FloorDiv: _binary(operator.floordiv),
    nodes.Mod: _binary(operator.mod),
    nodes.Pow: _binary(operator.pow),
    nodes.Neg: _unary(operator.neg),
    nodes.Pos: _unary(operator.pos),
    nodes.Not: _unary(operator.not_),
    nodes.And: _and,
    nodes.Or: _or,
    nodes.CondExpr: _condexpr,
    nodes.Compare: _compare,
    nodes.Call: _callnode,
    nodes.Filter: _filter,
}


def _compile(node):
    """A closure ``f(context)`` computing a jinja expression node, with the sandbox's checks on
    attribute access, item access and calls; _Unsupported for node types not in _COMPILERS."""
    compiler = _COMPILERS.get(type(node))
    if compiler is None:
        raise _Unsupported(type(node).__name__)
    return compiler(node)


@lru_cache(maxsize=4096)
def _evaluator(source: str):
    """``f(context)`` for an expression: jinja's parse, compiled to plain closures that keep the
    sandbox's checks (a jinja context per call costs ~35 µs, which dominated instance building);
    expressions with nodes the compiler does not cover run through jinja itself."""
    try:
        return _compile(ENV.parse("{{ (" + source + ") }}").body[0].nodes[0])
    except _Unsupported:
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


def compile_arg(source):
    """:func:`evaluate` compiled: a closure ``f(context)`` for a string, list, dict or literal
    argument (a syntax error is raised when the closure is called, where evaluate raised it)."""
    if isinstance(source, str):
        try:
            return _evaluator(source)
        except Exception as exc:  # re-raised when the expression is evaluated
            error = exc

            def fail(context):
                raise error

            return fail
    if isinstance(source, list):
        items = [compile_arg(s) for s in source]
        return lambda context: [f(context) for f in items]
    if isinstance(source, dict):
        pairs = [(k, compile_arg(v)) for k, v in source.items()]
        return lambda context: {k: f(context) for k, f in pairs}
    return lambda context: source


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
    return compile_pick(path)(context)


@lru_cache(maxsize=4096)
def compile_pick(path: str):
    """:func:`pick` compiled: a closure ``f(context)`` following ``path`` (a malformed path
    raises ValueError when the closure is called)."""
    try:
        root = path_root(path)
    except ValueError as exc:
        message = str(exc)

        def fail(context):
            raise ValueError(message)  # a fresh error each time (this closure is cached)

        return fail
    steps = tuple(
        (attr, int(index) if index else None)
        for attr, index in _PATH_STEP.findall(_PATH.match(path).group(2))
    )

    def follow(context):
        value = context[root]
        for attr, index in steps:
            if attr:
                value = value[attr] if isinstance(value, dict) else getattr(value, attr)
            else:
                value = value[index]
        return value

    return follow


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
