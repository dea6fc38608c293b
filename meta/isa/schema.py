"""Shape checks shared by the ISA spec loaders: keys in a fixed order, typed values.

Every check raises a :class:`~heron.errors.SpecError` at the ``file:line`` of the
offending key or item and says what was expected.

Example::

    >>> from heron.meta.yamlload import load_yaml_text
    >>> doc = load_yaml_text("bits: 64\\nclass: gpr\\n", "isa.yaml")
    >>> check_keys(doc, ("class", "bits"), "register rax")
    Traceback (most recent call last):
    heron.errors.SpecError: isa.yaml:2: error: register rax: keys must appear in the order class, bits (found bits, class)
"""

from __future__ import annotations

import re
from typing import Any

from heron.errors import SpecError
from heron.meta.yamlload import LDict, LList, describe

__all__ = [
    "NAME",
    "check_keys",
    "require",
    "expect_map",
    "expect_list",
    "expect_str",
    "expect_int",
    "expect_bool",
    "expect_name",
    "line_of",
]

NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def check_keys(doc: LDict, order: tuple[str, ...], what: str, required: tuple[str, ...] = ()) -> None:
    """``doc`` has only keys of ``order``, in that order, and every key of ``required``."""
    for k in doc:
        if k not in order:
            raise doc.error(f"{what}: unknown key '{k}' (expected {', '.join(order)})", k)
    keys = list(doc)
    ranks = [order.index(k) for k in keys]
    for i in range(1, len(ranks)):
        if ranks[i] < ranks[i - 1]:
            raise doc.error(
                f"{what}: keys must appear in the order {', '.join(k for k in order if k in doc)} (found {', '.join(keys)})",
                keys[i],
            )
    for k in required:
        if k not in doc:
            raise doc.error(f"{what}: missing '{k}'")


def require(doc: LDict, key: str, what: str) -> Any:
    if key not in doc:
        raise doc.error(f"{what}: missing '{key}'")
    return doc[key]


def line_of(parent: LDict | LList, key: Any) -> int:
    if isinstance(parent, LDict):
        return parent.value_line(key)
    return parent.item_line(key)


def expect_map(parent: LDict | LList, key: Any, what: str) -> LDict:
    value = parent[key]
    if not isinstance(value, LDict):
        raise SpecError(f"{what} must be a mapping, found {describe(value)}", parent.file, line_of(parent, key))
    return value


def expect_list(parent: LDict | LList, key: Any, what: str) -> LList:
    value = parent[key]
    if not isinstance(value, LList):
        raise SpecError(f"{what} must be a list, found {describe(value)}", parent.file, line_of(parent, key))
    return value


def expect_str(parent: LDict | LList, key: Any, what: str) -> str:
    value = parent[key]
    if not isinstance(value, str):
        raise SpecError(f"{what} must be a string, found {describe(value)}", parent.file, line_of(parent, key))
    return value


def expect_int(parent: LDict | LList, key: Any, what: str, low: int | None = None, high: int | None = None) -> int:
    value = parent[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise SpecError(f"{what} must be an integer, found {describe(value)}", parent.file, line_of(parent, key))
    if (low is not None and value < low) or (high is not None and value > high):
        rng = f"from {low} to {high}" if low is not None and high is not None else (f">= {low}" if low is not None else f"<= {high}")
        raise SpecError(f"{what} must be {rng}, not {value}", parent.file, line_of(parent, key))
    return value


def expect_bool(parent: LDict | LList, key: Any, what: str) -> bool:
    value = parent[key]
    if not isinstance(value, bool):
        raise SpecError(f"{what} must be true or false, found {describe(value)}", parent.file, line_of(parent, key))
    return value


def expect_name(parent: LDict | LList, key: Any, what: str, value: Any = None) -> str:
    """A lower_snake_case name (``value`` defaults to ``parent[key]``)."""
    name = parent[key] if value is None else value
    if isinstance(name, bool):
        raise SpecError(
            f"{what} '{name}' must be a lower_snake_case name (YAML reads yes, no, on, off, true and false as booleans: quote it)",
            parent.file,
            parent.key_line(key) if isinstance(parent, LDict) else line_of(parent, key),
        )
    if not isinstance(name, str) or not NAME.match(name):
        raise SpecError(f"{what} '{name}' must be a lower_snake_case name", parent.file, line_of(parent, key))
    return name
