"""The sandbox in which bank templates' expressions and texts are evaluated.

Constraints, step arguments, derived parameters, question texts and worked solutions are jinja2
in an immutable sandbox with ``StrictUndefined``: a template can read its parameters and the
values of its steps, index arrays and call the formatting filters, and nothing else. Nothing a
YAML file says is evaluated as Python.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import jinja2
import jinja2.meta
import numpy as np
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import new_context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg

from .formatting import FILTERS

#: The largest whole number ``**`` and ``*`` may make, in bits (about 1,200 decimal digits): a
#: bank needs far less, and ``10 ** (10 ** 10)`` would otherwise run for hours.
MAX_INT_BITS = 4096
#: The longest string, list or tuple ``*`` may make (jinja's sandbox caps ``range`` alike).
MAX_SEQUENCE = 100_000


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def safe_pow(base, exponent):
    """``base ** exponent``, refusing a whole number of more than :data:`MAX_INT_BITS` bits
    (SecurityError) before computing it; floats and arrays overflow quickly on their own."""
    big = _is_int(base) and _is_int(exponent) and exponent > 1 and abs(base) > 1
    if big and exponent * (abs(base).bit_length() - 1) > MAX_INT_BITS:
        raise SecurityError(
            f"{base} ** {exponent} is too large (more than {MAX_INT_BITS} bits); use floats or smaller numbers"
        )
    return base**exponent


def safe_mul(left, right):
    """``left * right``, refusing a whole number of more than :data:`MAX_INT_BITS` bits or a
    string, list or tuple longer than :data:`MAX_SEQUENCE` (SecurityError) before making it."""
    if _is_int(left) and _is_int(right):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
            raise SecurityError(f"a product of more than {MAX_INT_BITS} bits; use floats or smaller numbers")
    else:
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and _is_int(n) and len(seq) * n > MAX_SEQUENCE:
                raise SecurityError(f"repeating a sequence to more than {MAX_SEQUENCE} items is not allowed")
    return left * right


_SAFE_BINOPS = {"**": safe_pow, "*": safe_mul}


class _Sandbox(ImmutableSandboxedEnvironment):
    """jinja's immutable sandbox with ``**`` and ``*`` size-checked (:func:`safe_pow`,
    :func:`safe_mul`); intercepted, they are also never folded at compile time."""

    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context, operator, left, right):
        op = _SAFE_BINOPS.get(operator)
        return op(left, right) if op is not None else super().call_binop(context, operator, left, right)


def _env() -> ImmutableSandboxedEnvironment:
    env = _Sandbox(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
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
    renderer = _text_renderer(source)
    if renderer is not None:
        return renderer(context)
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
    """An expression node the code generator leaves to jinja itself."""


def _lookup(name: str):
    """A name the context lacks: one of the sandbox's globals, or an UndefinedError."""
    if name in ENV.globals:
        return ENV.globals[name]
    raise jinja2.UndefinedError(f"{name!r} is undefined")


def _checked(value):
    """The sandbox answers an unsafe attribute with an Undefined; raise its error at once."""
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    return value


def _call(fn, /, *args, **kwargs):
    if not ENV.is_safe_callable(fn):
        raise SecurityError(f"{fn!r} is not safely callable")
    return fn(*args, **kwargs)


#: The sandbox's verdict on reading an attribute, per (type, attribute name): jinja's
#: ``is_safe_attribute`` looks at nothing else (the name, and isinstance tests of the object)
_SAFE_ATTRIBUTES: dict[tuple[type, str], bool] = {}
_METHODS = (types.MethodType, types.BuiltinMethodType)


def _getattr(obj, attribute: str):
    """``ENV.getattr(obj, attribute)`` with the sandbox's verdict remembered (jinja decides it
    afresh each time, 4.7 µs for a NamedTuple field). A safe attribute that is not a method is
    returned as jinja returns it; methods (``str.format`` is wrapped), missing attributes
    (which fall back to items) and unsafe ones take jinja's own path."""
    key = (type(obj), attribute)
    safe = _SAFE_ATTRIBUTES.get(key)
    if safe is None:
        safe = _SAFE_ATTRIBUTES[key] = ENV.is_safe_attribute(obj, attribute, None)
    if safe:
        try:
            value = getattr(obj, attribute)
        except AttributeError:
            pass
        else:
            if not isinstance(value, _METHODS):
                return value
    return ENV.getattr(obj, attribute)


#: What generated code calls besides its own references.
_RUNTIME = {
    "_lookup": _lookup,
    "_checked": _checked,
    "_call": _call,
    "_getattr": _getattr,
    "_getitem": ENV.getitem,
    "_slice": slice,
    "_pow": safe_pow,
    "_mul": safe_mul,
}


class _Code:
    """Python source for jinja expression nodes, compiled into one function ``f(c)`` of the
    context ``c``: what jinja itself does with a template, without its per-call Context.

    The source holds only the operators below, parentheses and references ``_0``, ``_1``, ...
    to objects kept beside it: every name, constant, filter and fallback. No text from a YAML
    file is ever part of the source, so nothing a template says runs as Python; attribute and
    item access and calls go through the sandbox as in jinja."""

    def __init__(self) -> None:
        self.refs: dict[str, object] = {}

    def ref(self, obj) -> str:
        name = f"_{len(self.refs)}"
        self.refs[name] = obj
        return name

    def function(self, body: str) -> Callable[[dict], Any]:
        namespace = {"__builtins__": {}, **_RUNTIME, **self.refs}
        return eval(compile(f"lambda c: {body}", "<quizgen expression>", "eval"), namespace)

    def expression(self, node) -> str:
        """The source of ``node``; _Unsupported for node types not in :data:`_EMITTERS`."""
        emit = _EMITTERS.get(type(node))
        if emit is None:
            raise _Unsupported(type(node).__name__)
        return emit(self, node)

    def arguments(self, node) -> str:
        """``a, b, **{k: v}`` for a call's or a filter's arguments."""
        if node.dyn_args or node.dyn_kwargs:
            raise _Unsupported("*args or **kwargs")
        args = [self.expression(a) for a in node.args]
        if node.kwargs:
            pairs = ", ".join(f"{self.ref(k.key)}: {self.expression(k.value)}" for k in node.kwargs)
            args.append(f"**{{{pairs}}}")
        return ", ".join(args)

    def argument(self, source) -> str:
        """The source of a step argument: an expression string, a list or dict of them, or a
        literal. An expression jinja must run, or one that does not parse, becomes a call of a
        closure (raising the parse error when called, where evaluate raises it)."""
        if isinstance(source, str):
            try:
                return self.expression(_parse_expression(source))
            except _Unsupported:
                compiled = compile_expression(source)
                return f"{self.ref(lambda context: compiled(**context))}(c)"
            except Exception as exc:
                return f"{self.ref(_raiser(exc))}(c)"
        if isinstance(source, list):
            return "[" + "".join(f"{self.argument(s)}, " for s in source) + "]"
        if isinstance(source, dict):
            return "{" + "".join(f"{self.ref(k)}: {self.argument(v)}, " for k, v in source.items()) + "}"
        return self.ref(source)


def _raiser(exc: Exception) -> Callable[[dict], Any]:
    def fail(context):
        raise exc

    return fail


def _parse_expression(source: str):
    return ENV.parse("{{ (" + source + ") }}").body[0].nodes[0]


def _name(code: _Code, node) -> str:
    name = code.ref(node.name)
    return f"(c[{name}] if {name} in c else _lookup({name}))"


def _sequence(code: _Code, node) -> str:
    items = "".join(f"{code.expression(i)}, " for i in node.items)
    return f"[{items}]" if isinstance(node, nodes.List) else f"({items})"


def _getitem(code: _Code, node) -> str:
    obj = code.expression(node.node)
    if isinstance(node.arg, nodes.Slice):
        bounds = [
            code.ref(None) if b is None else code.expression(b)
            for b in (node.arg.start, node.arg.stop, node.arg.step)
        ]
        arg = f"_slice({', '.join(bounds)})"
    else:
        arg = code.expression(node.arg)
    return f"_checked(_getitem({obj}, {arg}))"


def _binary(op: str) -> Callable[[_Code, Any], str]:
    return lambda code, node: f"({code.expression(node.left)} {op} {code.expression(node.right)})"


def _unary(op: str) -> Callable[[_Code, Any], str]:
    return lambda code, node: f"({op}{code.expression(node.node)})"


def _condexpr(code: _Code, node) -> str:
    if node.expr2 is None:
        raise _Unsupported("if without else")
    yes, test, no = (code.expression(n) for n in (node.expr1, node.test, node.expr2))
    return f"({yes} if {test} else {no})"


#: jinja's comparison operators; a chain compares as Python's does (the first false result,
#: else the last), and a single comparison of arrays stays an array
_COMPARE = {
    "eq": "==",
    "ne": "!=",
    "gt": ">",
    "gteq": ">=",
    "lt": "<",
    "lteq": "<=",
    "in": "in",
    "notin": "not in",
}


def _compare(code: _Code, node) -> str:
    chain = "".join(f" {_COMPARE[o.op]} {code.expression(o.expr)}" for o in node.ops)
    return f"({code.expression(node.expr)}{chain})"


def _callnode(code: _Code, node) -> str:
    args = code.arguments(node)
    return f"_call({code.expression(node.node)}{', ' if args else ''}{args})"


def _filter(code: _Code, node) -> str:
    func = ENV.filters.get(node.name)
    if node.node is None or func is None or _PassArg.from_obj(func) is not None:
        raise _Unsupported(f"filter {node.name}")
    value, args = code.expression(node.node), code.arguments(node)
    return f"{code.ref(func)}({value}{', ' if args else ''}{args})"


_EMITTERS: dict[type, Callable[[_Code, Any], str]] = {
    nodes.Const: lambda code, node: code.ref(node.value),
    nodes.Name: _name,
    nodes.List: _sequence,
    nodes.Tuple: _sequence,
    nodes.Getattr: lambda code, node: (
        f"_checked(_getattr({code.expression(node.node)}, {code.ref(node.attr)}))"
    ),
    nodes.Getitem: _getitem,
    nodes.Add: _binary("+"),
    nodes.Sub: _binary("-"),
    nodes.Mul: lambda code, node: f"_mul({code.expression(node.left)}, {code.expression(node.right)})",
    nodes.Div: _binary("/"),
    nodes.FloorDiv: _binary("//"),
    nodes.Mod: _binary("%"),
    nodes.Pow: lambda code, node: f"_pow({code.expression(node.left)}, {code.expression(node.right)})",
    nodes.Neg: _unary("-"),
    nodes.Pos: _unary("+"),
    nodes.Not: _unary("not "),
    nodes.And: _binary("and"),
    nodes.Or: _binary("or"),
    nodes.CondExpr: _condexpr,
    nodes.Compare: _compare,
    nodes.Call: _callnode,
    nodes.Filter: _filter,
}


@lru_cache(maxsize=4096)
def _evaluator(source: str):
    """``f(context)`` for an expression: jinja's parse, compiled to one Python function that
    keeps the sandbox's checks (a jinja context per call costs ~35 µs, which dominated instance
    building); expressions with nodes the generator does not cover run through jinja itself."""
    try:
        node = _parse_expression(source)
        code = _Code()
        return code.function(code.expression(node))
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


def compile_arg(source) -> Callable[[dict], Any]:
    """:func:`evaluate` compiled: ``f(context)`` for a string, list, dict or literal argument
    (a syntax error is raised when ``f`` is called, where evaluate raises it)."""
    code = _Code()
    return code.function(code.argument(source))


def compile_call(fn: Callable, args: Mapping[str, Any]) -> Callable[[dict], Any]:
    """``f(context) = fn(**{name: evaluate(arg, context)})`` as one generated function."""
    code = _Code()
    pairs = "".join(f"{code.ref(k)}: {code.argument(v)}, " for k, v in args.items())
    return code.function(f"{code.ref(fn)}(**{{{pairs}}})")


@lru_cache(maxsize=4096)
def _text_renderer(source: str) -> Callable[[dict], str] | None:
    """A text made only of literal text and ``{{ expression }}`` outputs (nearly every text in
    the bank) as one generated function printing each output's ``str``, as jinja prints it;
    None for a text with statements (if, for, set, ...), which jinja renders itself."""
    code = _Code()
    pieces = []
    try:
        for node in ENV.parse(source).body:
            if type(node) is not nodes.Output:
                raise _Unsupported(type(node).__name__)
            for child in node.nodes:
                if type(child) is nodes.TemplateData:
                    pieces.append(code.ref(child.data))
                else:
                    pieces.append(f"{code.ref(str)}({code.expression(child)})")
    except _Unsupported:
        return None
    return code.function(f"''.join(({''.join(p + ', ' for p in pieces)}))")


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


_PLAIN = frozenset({int, float, str, bool, type(None)})


def to_plain(value):
    """A value as JSON-ready Python: arrays to nested lists, numpy scalars to int/float."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iub":
            return value.astype(int).tolist()
        return value.astype(float).tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):  # parameters: mostly plain numbers under str keys
        return {
            k if type(k) is str else str(k): v if type(v) in _PLAIN else to_plain(v) for k, v in value.items()
        }
    return value
