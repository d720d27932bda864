"""YAML reading with line numbers (``yaml.safe_load`` semantics, nothing else is constructed)."""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import QuizgenError


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


def load_yaml(path: str | Path, *, error=QuizgenError):
    """Parse a YAML file safely, mappings as :class:`LineDict`; syntax errors become one line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read file ({exc.strerror})", source=str(path)) from None
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"{path}:{mark.line + 1}" if mark else str(path)
        what = exc.problem or exc.context or "invalid YAML"
        raise error(f"invalid YAML: {what}; fix the syntax there", source=line) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", source=str(path)) from None
