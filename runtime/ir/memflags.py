"""Memory flags of loads, stores, atomics and bitcasts (``notrap aligned little``...).

Flags are a small immutable bit set printed as words in a fixed order, as
Cranelift prints them.  Endianness is ``little``, ``big`` or unspecified
(native); ``heap``/``table``/``vmctx`` are alias regions.

Example::

    >>> f = MemFlags.parse_words(["notrap", "aligned"])
    >>> str(f), f.notrap, f.endianness
    ('notrap aligned', True, None)
"""

from __future__ import annotations

__all__ = ["MemFlags", "MEMFLAG_WORDS"]

# Text order of the flag words, as Cranelift prints them.
MEMFLAG_WORDS: tuple[str, ...] = (
    "notrap",
    "aligned",
    "readonly",
    "little",
    "big",
    "heap",
    "table",
    "vmctx",
    "checked",
    "can_move",
)
_BIT = {w: 1 << i for i, w in enumerate(MEMFLAG_WORDS)}


class MemFlags:
    """An immutable set of memory flags; an optional trap code for ``trap code`` flags."""

    __slots__ = ("bits", "trap_code")

    def __init__(self, bits: int = 0, trap_code: str | None = None) -> None:
        self.bits = bits
        self.trap_code = trap_code

    @classmethod
    def parse_words(cls, words: list[str]) -> MemFlags:
        """Build flags from words; raises ValueError on an unknown or conflicting word."""
        bits = 0
        for w in words:
            bit = _BIT.get(w)
            if bit is None:
                raise ValueError(f"unknown memory flag '{w}'")
            bits |= bit
        if bits & _BIT["little"] and bits & _BIT["big"]:
            raise ValueError("memory flags 'little' and 'big' conflict")
        return cls(bits)

    @staticmethod
    def is_word(word: str) -> bool:
        return word in _BIT

    def has(self, word: str) -> bool:
        return bool(self.bits & _BIT[word])

    @property
    def notrap(self) -> bool:
        return bool(self.bits & _BIT["notrap"])

    @property
    def aligned(self) -> bool:
        return bool(self.bits & _BIT["aligned"])

    @property
    def readonly(self) -> bool:
        return bool(self.bits & _BIT["readonly"])

    @property
    def endianness(self) -> str | None:
        if self.bits & _BIT["little"]:
            return "little"
        if self.bits & _BIT["big"]:
            return "big"
        return None

    def words(self) -> list[str]:
        out = [w for w in MEMFLAG_WORDS if self.bits & _BIT[w]]
        if self.trap_code is not None:
            out.append(self.trap_code)
        return out

    def __str__(self) -> str:
        return " ".join(self.words())

    def __repr__(self) -> str:
        return f"MemFlags({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MemFlags) and other.bits == self.bits and other.trap_code == self.trap_code

    def __hash__(self) -> int:
        return hash((self.bits, self.trap_code))
