"""YAML reading with line numbers (``yaml.safe_load`` semantics, nothing else is constructed).

A file is read as :func:`quizgen.fsutil.read_text` reads text (UTF-8, or UTF-16 with a BOM), and
what it may ask for is capped before anything is built: at most :data:`MAX_DEPTH` levels of
nesting and :data:`MAX_VALUES` values counted with every alias expanded (a "billion laughs"
file of nested aliases is refused, not expanded); an alias inside its own anchor is refused.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import QuizgenError
from .fsutil import MAX_TEXT_BYTES, read_text

#: Deepest nesting of mappings and lists a YAML input may have.
MAX_DEPTH = 64
#: Most values (scalars, lists, mappings) a YAML input may hold, each alias counted expanded.
MAX_VALUES = 5_000_000


class LineDict(dict):
    """A dict that remembers the 1-based line of the mapping and of each key."""

    line: int = 0
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable key", key_node.start_mark
            ) from None
        if key in out:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

# libyaml's parser, where PyYAML was built with it, reads the same values and lines about five
# times faster (the bank: 0.9 s -> 0.2 s per load); an input it refuses is read again by the
# pure-Python parser, whose messages are the ones quizgen shows.
_FastLineLoader = type("_FastLineLoader", (yaml.CSafeLoader,), {}) if yaml.__with_libyaml__ else None
if _FastLineLoader is not None:
    _FastLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def node_shape(root: yaml.Node) -> tuple[int, int]:
    """(values with every alias expanded, depth) of a composed YAML node graph, in time linear
    in its distinct nodes (each node's expanded size is computed once). ValueError (with the
    node's mark) for an alias inside its own anchor."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        kids = _children(node)
        if finished:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            continue
        if key in size:
            continue
        if key in on_path:
            raise ValueError(node.start_mark)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in size)
    return size[id(root)], depth[id(root)]


def load_yaml(path: str | Path, *, error=QuizgenError, max_bytes: int = MAX_TEXT_BYTES):
    """Parse a YAML file safely, mappings as :class:`LineDict`; syntax errors, a wrong encoding
    and inputs past the caps (see the module docstring) become one line."""
    path = Path(path)
    text = read_text(path, error=error, what="YAML file", fix="save it as UTF-8", max_bytes=max_bytes)
    if _FastLineLoader is not None:
        try:
            return _load(text, path, error, _FastLineLoader)
        except error:
            pass  # said below in the pure-Python parser's words
    return _load(text, path, error, _LineLoader)


def _load(text: str, path: Path, error, loader_class):
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            values, depth = node_shape(node)
        except ValueError as exc:
            mark = exc.args[0]
            raise error(
                "an alias refers to the anchor that contains it (a loop); remove the alias",
                source=f"{path}:{mark.line + 1}",
            ) from None
        if depth > MAX_DEPTH:
            raise error(
                f"nested {depth} levels deep, more than the {MAX_DEPTH} quizgen reads; flatten it",
                source=str(path),
            )
        if values > MAX_VALUES:
            raise error(
                f"holds {values:,} values once its aliases (*name) are expanded, more than the "
                f"{MAX_VALUES:,} quizgen reads; write the values out or remove the aliases",
                source=str(path),
            )
        return loader.construct_document(node)
    except RecursionError:
        raise error(
            f"nested too deeply (more than {MAX_DEPTH} levels); flatten it", source=str(path)
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"{path}:{mark.line + 1}" if mark else str(path)
        what = exc.problem or exc.context or "invalid YAML"
        raise error(f"invalid YAML: {what}; fix the syntax there", source=line) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", source=str(path)) from None
    finally:
        loader.dispose()
