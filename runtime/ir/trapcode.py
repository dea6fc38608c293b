"""CLIF trap codes: the built-in names and the user codes ``user1`` .. ``user250``.

Example::

    >>> canonical_trap_code("int_divz"), canonical_trap_code("user007"), is_trap_code("oops")
    ('int_divz', 'user7', False)
"""

from __future__ import annotations

import re

__all__ = ["TRAP_CODE_NAMES", "MAX_USER_TRAP", "canonical_trap_code", "is_trap_code"]

# The trap codes Cranelift names; everything else is a user code.
TRAP_CODE_NAMES: frozenset[str] = frozenset({"stk_ovf", "heap_oob", "int_ovf", "int_divz", "bad_toint"})
# Cranelift reserves the user codes above this for itself.
MAX_USER_TRAP = 250
_DECIMAL = re.compile(r"[0-9]+")


def canonical_trap_code(word: str) -> str | None:
    """The trap code ``word`` spells (``user007`` is ``user7``), or None if it is none."""
    if word in TRAP_CODE_NAMES:
        return word
    if word.startswith("user") and _DECIMAL.fullmatch(word, 4) and 1 <= int(word[4:]) <= MAX_USER_TRAP:
        return f"user{int(word[4:])}"
    return None


def is_trap_code(word: object) -> bool:
    """Whether ``word`` is a trap code exactly as stored (``user7``, not ``user007``)."""
    return isinstance(word, str) and canonical_trap_code(word) == word
