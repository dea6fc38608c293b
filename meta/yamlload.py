"""YAML loading that remembers where everything came from.

Mappings load as :class:`LDict` and sequences as :class:`LList`; both remember
the file, their own line and the line of each key and item, so every spec error
can name ``file:line``.  Duplicate keys are errors (plain PyYAML silently keeps
the last one).

Example::

    >>> doc = load_yaml_text("a: 1\\nb:\\n  - x\\n  - y\\n", "demo.yaml")
    >>> doc["b"], doc.value_line("b"), doc["b"].item_line(1)
    (['x', 'y'], 3, 4)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from heron.errors import SpecError

__all__ = ["LDict", "LList", "load_yaml", "load_yaml_text", "describe"]


class LDict(dict):
    """A dict that knows its file and the lines of its keys and values."""

    file: str = "<spec>"
    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: dict[Any, int] = {}
        self.value_lines: dict[Any, int] = {}

    def key_line(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)

    def value_line(self, key: Any) -> int:
        return self.value_lines.get(key, self.key_line(key))

    def error(self, message: str, key: Any = None) -> SpecError:
        """A SpecError located at ``key`` (or at the mapping itself)."""
        return SpecError(message, self.file, self.key_line(key) if key is not None else self.line)


class LList(list):
    """A list that knows its file and the line of each item."""

    file: str = "<spec>"
    line: int = 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines: list[int] = []

    def item_line(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line

    def error(self, message: str, index: int | None = None) -> SpecError:
        return SpecError(message, self.file, self.item_line(index) if index is not None else self.line)


def _value_start_line(node: yaml.Node) -> int:
    line = node.start_mark.line + 1
    # A block scalar (`|` or `>`) starts on the line after its indicator.
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        line += 1
    return line


# libyaml's parser when PyYAML has it (several times faster); the same nodes and marks.
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _make_loader(file: str) -> type:
    class Loader(_BASE_LOADER):  # type: ignore[valid-type, misc]
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LDict:
        loader.flatten_mapping(node)
        out = LDict()
        out.file = file
        out.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise SpecError("a mapping key must be a plain value", file, key_node.start_mark.line + 1) from None
            if key in out:
                raise SpecError(f"duplicate key '{key}'", file, key_node.start_mark.line + 1)
            out[key] = loader.construct_object(value_node, deep=True)
            out.key_lines[key] = key_node.start_mark.line + 1
            out.value_lines[key] = _value_start_line(value_node)
        return out

    def construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LList:
        out = LList(loader.construct_object(child, deep=True) for child in node.value)
        out.file = file
        out.line = node.start_mark.line + 1
        out.item_lines = [_value_start_line(child) for child in node.value]
        return out

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    return Loader


def load_yaml_text(text: str, file: str = "<spec>") -> Any:
    """Parse YAML text; syntax errors become :class:`SpecError` with file:line."""
    try:
        return yaml.load(text, Loader=_make_loader(file))  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = err.problem or err.context or "malformed YAML"
        raise SpecError(f"YAML syntax: {problem}", file, line) from None
    except yaml.YAMLError as err:
        raise SpecError(f"YAML syntax: {err}", file, 0) from None


def load_yaml(path: str | Path) -> Any:
    """Load a YAML file with line tracking."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise SpecError(f"cannot read spec: {err.strerror}", str(p), 0) from None
    return load_yaml_text(text, str(p))


def describe(value: Any) -> str:
    """A short description of a YAML value's kind, for error messages."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()} (YAML reads yes, no, on, off as booleans: quote words)"
    if isinstance(value, int):
        return "an integer"
    if value is None:
        return "nothing"
    return f"'{value}'"
