"""Integer helpers for the generated IR evaluators (``heron.generated.ir_eval``).

Values are unsigned Python ints below ``2**w``.  Every function is total and agrees
bit for bit with the Z3 back end of the semantics DSL (SMT-LIB bit-vector rules):
division by zero gives all ones (``udiv``), the dividend (``urem``, ``srem``) or
``1``/``-1`` by sign (``sdiv``); shifts by ``w`` or more give 0 (or the sign); rotates
take the amount modulo ``w``.  Traps are the semantics' job, never these helpers'.

Example::

    >>> sdiv(0xF9, 0x02, 8)   # -7 / 2 == -3
    253
    >>> clz(1, 32), ctz(0, 16), cls(0xFF, 8), bswap(0x1234, 16)
    (31, 16, 7, 13330)
"""

from __future__ import annotations

__all__ = [
    "signed",
    "sdiv",
    "srem",
    "smulhi",
    "ashr",
    "rotl",
    "rotr",
    "clz",
    "ctz",
    "cls",
    "bswap",
    "bitrev",
]


def signed(x: int, w: int) -> int:
    """The two's-complement value of the ``w``-bit pattern ``x``."""
    return x - (1 << w) if x >> (w - 1) else x


def sdiv(x: int, y: int, w: int) -> int:
    """Signed division rounding toward zero; ``min / -1`` wraps to ``min``."""
    m = (1 << w) - 1
    if y == 0:
        return 1 if x >> (w - 1) else m
    a, b = signed(x, w), signed(y, w)
    q = abs(a) // abs(b)
    return (-q if (a < 0) != (b < 0) else q) & m


def srem(x: int, y: int, w: int) -> int:
    """Signed remainder with the sign of the dividend; ``x`` when ``y`` is 0."""
    if y == 0:
        return x
    a, b = signed(x, w), signed(y, w)
    r = abs(a) % abs(b)
    return (-r if a < 0 else r) & ((1 << w) - 1)


def smulhi(x: int, y: int, w: int) -> int:
    """The high ``w`` bits of the signed ``2w``-bit product."""
    return ((signed(x, w) * signed(y, w)) >> w) & ((1 << w) - 1)


def ashr(x: int, n: int, w: int) -> int:
    """Arithmetic shift right; ``n >= w`` fills with the sign bit."""
    return (signed(x, w) >> min(n, w)) & ((1 << w) - 1)


def rotl(x: int, n: int, w: int) -> int:
    n %= w
    return ((x << n) | (x >> (w - n))) & ((1 << w) - 1) if n else x


def rotr(x: int, n: int, w: int) -> int:
    n %= w
    return ((x >> n) | (x << (w - n))) & ((1 << w) - 1) if n else x


def clz(x: int, w: int) -> int:
    return w - x.bit_length()


def ctz(x: int, w: int) -> int:
    return (x & -x).bit_length() - 1 if x else w


def cls(x: int, w: int) -> int:
    """Leading bits equal to the sign bit, not counting the sign bit itself."""
    if x >> (w - 1):
        x ^= (1 << w) - 1
    return w - x.bit_length() - 1


def bswap(x: int, w: int) -> int:
    n = w // 8
    return int.from_bytes(x.to_bytes(n, "little"), "big")


def bitrev(x: int, w: int) -> int:
    return int(format(x, f"0{w}b")[::-1], 2)
