"""IEEE 754 binary floating point on raw bit patterns: binary16, 32, 64 and 128.

Every value is a Python ``int`` holding the unsigned bit pattern of a float of
width ``w`` (16, 32, 64 or 128 bits).  Every arithmetic operation is exactly
the one IEEE 754 defines, rounding to nearest, ties to even, including
subnormals, overflow to infinity and signed zeros.  The interpreter and the
constant folder evaluate float instructions through this module, so a result
never depends on the host's float type.

How results are computed:

- binary64 ``+ - * /`` and ``sqrt`` use Python floats (IEEE binary64 on every
  platform CPython supports).
- binary32 ``+ - * /`` and ``sqrt`` compute in binary64 and round the result
  once more to binary32.  That double rounding is innocuous for these five
  operations because 53 >= 2 * 24 + 2 (Figueroa, 1995).  It is *not* for a
  fused multiply-add nor for integer-to-float conversion, which take the exact
  path below.
- Everything else (binary16, binary128, fma, conversions, rounding to
  integral) takes the exact path: decode each operand to ``m * 2**e`` with
  integers, compute the exact result (or the quotient / square root with a
  sticky bit), and round once to the target format in :func:`_round_pack`.

NaN rule: any arithmetic operation whose IEEE result is NaN returns the
*canonical* quiet NaN: sign 0, exponent all ones, only the top significand
bit set (f32 ``0x7FC00000``, f64 ``0x7FF8000000000000``).  That covers the
arithmetic, ``fmin``/``fmax``, rounding to integral and ``fcvt``.  The pure bit
operations ``fneg``, ``fabs`` and ``fcopysign`` act on the bits and keep NaN
payloads, and ``fmin_pseudo``/``fmax_pseudo`` select one of their operands
unchanged (Wasm ``pmin``/``pmax`` are selections).

Inputs are trusted to be in range (``0 <= a < 2**w``); an unknown width
raises ``ValueError``.

Example::

    >>> from heron.ir.softfloat import fadd, ffma, fcvt, fptosi, canonical_nan
    >>> hex(fadd(32, 0x3F800000, 0x40000000))       # 1.0 + 2.0 == 3.0
    '0x40400000'
    >>> hex(fadd(64, 0x7FF0000000000000, 0xFFF0000000000000))   # inf - inf
    '0x7ff8000000000000'
    >>> fadd(16, 0x3C00, 0x3C00) == 0x4000          # f16: 1.0 + 1.0 == 2.0
    True
    >>> hex(fcvt(64, 32, 0x3FF0000010000000))       # a tie, rounds to even
    '0x3f800000'
    >>> fptosi(32, 32, 0x4F000000) is None          # 2**31 does not fit in i32
    True
    >>> canonical_nan(16) == 0x7E00
    True
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction

__all__ = [
    "canonical_nan",
    "is_nan",
    "fadd",
    "fsub",
    "fmul",
    "fdiv",
    "fsqrt",
    "ffma",
    "fneg",
    "fabs",
    "fcopysign",
    "fmin",
    "fmax",
    "fmin_pseudo",
    "fmax_pseudo",
    "fceil",
    "ffloor",
    "ftrunc",
    "fnearest",
    "feq",
    "flt",
    "fle",
    "funord",
    "fcvt",
    "sitofp",
    "uitofp",
    "fptosi",
    "fptoui",
    "fptosi_sat",
    "fptoui_sat",
    "to_fraction",
    "from_fraction",
    "from_python_float",
    "to_python_float",
]


class _Format:
    """The constants of one IEEE binary interchange format."""

    __slots__ = (
        "width", "exp_bits", "frac_bits", "precision", "bias", "sign_bit", "abs_mask",
        "frac_mask", "exp_max", "inf", "nan", "q_min",
    )

    def __init__(self, width: int, exp_bits: int) -> None:
        self.width = width
        self.exp_bits = exp_bits
        self.frac_bits = width - 1 - exp_bits          # trailing significand field
        self.precision = self.frac_bits + 1            # with the implicit bit
        self.bias = (1 << (exp_bits - 1)) - 1
        self.sign_bit = 1 << (width - 1)
        self.abs_mask = self.sign_bit - 1
        self.frac_mask = (1 << self.frac_bits) - 1
        self.exp_max = (1 << exp_bits) - 1             # the all-ones exponent field
        self.inf = self.exp_max << self.frac_bits
        self.nan = self.inf | (1 << (self.frac_bits - 1))
        # Exponent of one unit in the last place of the smallest numbers
        # (subnormals and the smallest normal binade): 2**q_min is the least
        # positive subnormal.
        self.q_min = 1 - self.bias - self.frac_bits


_FORMATS: dict[int, _Format] = {16: _Format(16, 5), 32: _Format(32, 8), 64: _Format(64, 11), 128: _Format(128, 15)}


def _fmt(w: int) -> _Format:
    try:
        return _FORMATS[w]
    except KeyError:
        raise ValueError(f"no IEEE binary float of width {w}; expected 16, 32, 64 or 128") from None


# -- host float helpers (binary64 and binary32 fast paths) ----------------------

_S_D = struct.Struct("<d")
_S_Q = struct.Struct("<Q")
_S_F = struct.Struct("<f")
_S_I = struct.Struct("<I")
_NAN64 = _FORMATS[64].nan
_NAN32 = _FORMATS[32].nan


def _f64_to_float(a: int) -> float:
    return _S_D.unpack(_S_Q.pack(a))[0]


def _float_to_f64(x: float) -> int:
    if x != x:
        return _NAN64
    return _S_Q.unpack(_S_D.pack(x))[0]


def _f32_to_float(a: int) -> float:
    return _S_F.unpack(_S_I.pack(a))[0]


def _float_to_f32(x: float) -> int:
    """Round a host float to binary32 (RNE); NaN becomes the canonical NaN."""
    if x != x:
        return _NAN32
    try:
        # CPython packs 'f' with a C cast, which rounds to nearest even.
        return _S_I.unpack(_S_F.pack(x))[0]
    except OverflowError:
        # Raised exactly when the rounded value is infinite but x is not.
        return 0xFF800000 if x < 0 else 0x7F800000


def _is_nan_fmt(f: _Format, a: int) -> bool:
    return (a & f.abs_mask) > f.inf


# -- the exact path -------------------------------------------------------------

def _decode(f: _Format, a: int) -> tuple[int, int]:
    """(m, e) with |value| == m * 2**e for a finite, nonzero or zero, float."""
    t = f.frac_bits
    biased = (a >> t) & f.exp_max
    if biased:
        return (a & f.frac_mask) | (1 << t), biased + f.q_min - 1
    return a & f.frac_mask, f.q_min


def _round_pack(f: _Format, sign: int, m: int, e: int) -> int:
    """Encode ``sign * m * 2**e`` rounded to nearest even, with overflow to infinity.

    ``sign`` is the format's sign bit or 0, ``m > 0``.  ``m`` may carry a
    sticky bit in its least significant place (the true value lies strictly
    between ``m`` and ``m + 1`` units) provided ``m`` has at least
    ``precision + 2`` bits, so that bit is always below the rounding bit.
    """
    t = f.frac_bits
    q = e + m.bit_length() - 1 - t            # exponent of the result's last place
    if q < f.q_min:
        q = f.q_min                           # subnormal: fewer significant bits
    shift = q - e
    if shift > 0:
        r = m >> shift
        rem = m & ((1 << shift) - 1)
        half = 1 << (shift - 1)
        if rem > half or (rem == half and r & 1):
            r += 1
            if r >> (t + 1):                  # carried into a new binade
                r >>= 1
                q += 1
    else:
        r = m << -shift
    if not r >> t:
        return sign | r                       # subnormal or zero: exponent field 0
    biased = q - f.q_min + 1
    if biased >= f.exp_max:
        return sign | f.inf
    return sign | (biased << t) | (r & f.frac_mask)


def _add_exact(f: _Format, a: int, b: int) -> int:
    sa = a & f.sign_bit
    sb = b & f.sign_bit
    aa = a & f.abs_mask
    ab = b & f.abs_mask
    if aa > f.inf or ab > f.inf:
        return f.nan
    if aa == f.inf:
        if ab == f.inf and sa != sb:
            return f.nan
        return a
    if ab == f.inf:
        return b
    if not aa:
        return (sa & sb) if not ab else b     # -0 + -0 == -0, otherwise +0
    if not ab:
        return a
    ma, ea = _decode(f, aa)
    mb, eb = _decode(f, ab)
    return _sum_round(f, sa, ma, ea, sb, mb, eb)


def _sum_round(f: _Format, sa: int, ma: int, ea: int, sb: int, mb: int, eb: int) -> int:
    """Round the exact sum of two nonzero terms; an exact zero is +0 (RNE)."""
    e = ea if ea < eb else eb
    m = ((-ma if sa else ma) << (ea - e)) + ((-mb if sb else mb) << (eb - e))
    if m > 0:
        return _round_pack(f, 0, m, e)
    if m < 0:
        return _round_pack(f, f.sign_bit, -m, e)
    return 0


def _mul_exact(f: _Format, a: int, b: int) -> int:
    sign = (a ^ b) & f.sign_bit
    aa = a & f.abs_mask
    ab = b & f.abs_mask
    if aa > f.inf or ab > f.inf:
        return f.nan
    if aa == f.inf or ab == f.inf:
        if not aa or not ab:
            return f.nan                      # inf * 0
        return sign | f.inf
    if not aa or not ab:
        return sign
    ma, ea = _decode(f, aa)
    mb, eb = _decode(f, ab)
    return _round_pack(f, sign, ma * mb, ea + eb)


def _div_exact(f: _Format, a: int, b: int) -> int:
    sign = (a ^ b) & f.sign_bit
    aa = a & f.abs_mask
    ab = b & f.abs_mask
    if aa > f.inf or ab > f.inf:
        return f.nan
    if aa == f.inf:
        return f.nan if ab == f.inf else sign | f.inf
    if ab == f.inf:
        return sign
    if not ab:
        return f.nan if not aa else sign | f.inf
    if not aa:
        return sign
    ma, ea = _decode(f, aa)
    mb, eb = _decode(f, ab)
    # Scale so the quotient has at least precision + 2 bits, then keep the
    # remainder as a sticky bit.
    k = f.precision + 2 + mb.bit_length() - ma.bit_length()
    if k < 0:
        k = 0
    q, r = divmod(ma << k, mb)
    if r:
        q |= 1
    return _round_pack(f, sign, q, ea - eb - k)


def _sqrt_exact(f: _Format, a: int) -> int:
    aa = a & f.abs_mask
    if aa > f.inf:
        return f.nan
    if not aa:
        return a                              # sqrt(-0) == -0
    if a & f.sign_bit:
        return f.nan
    if aa == f.inf:
        return a
    m, e = _decode(f, aa)
    if e & 1:
        m <<= 1
        e -= 1
    # The root needs at least precision + 2 bits: m << 2k needs 2p + 3.
    k = (2 * f.precision + 4 - m.bit_length()) // 2
    if k < 0:
        k = 0
    big = m << (2 * k)
    r = math.isqrt(big)
    if r * r != big:
        r |= 1
    return _round_pack(f, 0, r, (e >> 1) - k)


def _fma_exact(f: _Format, a: int, b: int, c: int) -> int:
    sp = (a ^ b) & f.sign_bit
    sc = c & f.sign_bit
    aa = a & f.abs_mask
    ab = b & f.abs_mask
    ac = c & f.abs_mask
    inf = f.inf
    if aa > inf or ab > inf or ac > inf:
        return f.nan
    if aa == inf or ab == inf:
        if not aa or not ab:
            return f.nan                      # inf * 0
        if ac == inf and sc != sp:
            return f.nan                      # inf - inf
        return sp | inf
    if ac == inf:
        return c
    if not aa or not ab:
        if not ac:
            return sp & sc                    # (+-0) + (+-0): -0 only if both are
        return c
    ma, ea = _decode(f, aa)
    mb, eb = _decode(f, ab)
    if not ac:
        return _round_pack(f, sp, ma * mb, ea + eb)
    mc, ec = _decode(f, ac)
    return _sum_round(f, sp, ma * mb, ea + eb, sc, mc, ec)


# -- public API: classification and constants -----------------------------------

def canonical_nan(w: int) -> int:
    """The canonical quiet NaN of width ``w``: sign 0, only the top significand bit set."""
    return _fmt(w).nan


def is_nan(w: int, a: int) -> bool:
    """True if ``a`` is a NaN (quiet or signaling, any sign and payload)."""
    f = _fmt(w)
    return (a & f.abs_mask) > f.inf


# -- public API: arithmetic -----------------------------------------------------

def fadd(w: int, a: int, b: int) -> int:
    """a + b."""
    if w == 64:
        return _float_to_f64(_f64_to_float(a) + _f64_to_float(b))
    if w == 32:
        return _float_to_f32(_f32_to_float(a) + _f32_to_float(b))
    return _add_exact(_fmt(w), a, b)


def fsub(w: int, a: int, b: int) -> int:
    """a - b."""
    if w == 64:
        return _float_to_f64(_f64_to_float(a) - _f64_to_float(b))
    if w == 32:
        return _float_to_f32(_f32_to_float(a) - _f32_to_float(b))
    f = _fmt(w)
    return _add_exact(f, a, b ^ f.sign_bit)


def fmul(w: int, a: int, b: int) -> int:
    """a * b."""
    if w == 64:
        return _float_to_f64(_f64_to_float(a) * _f64_to_float(b))
    if w == 32:
        return _float_to_f32(_f32_to_float(a) * _f32_to_float(b))
    return _mul_exact(_fmt(w), a, b)


def fdiv(w: int, a: int, b: int) -> int:
    """a / b (x / 0 is a signed infinity, 0 / 0 NaN)."""
    if w == 64 or w == 32:
        f = _FORMATS[w]
        if not b & f.abs_mask:                # Python raises on a zero divisor
            aa = a & f.abs_mask
            if not aa or aa > f.inf:
                return f.nan
            return ((a ^ b) & f.sign_bit) | f.inf
        if w == 64:
            return _float_to_f64(_f64_to_float(a) / _f64_to_float(b))
        return _float_to_f32(_f32_to_float(a) / _f32_to_float(b))
    return _div_exact(_fmt(w), a, b)


def fsqrt(w: int, a: int) -> int:
    """Square root; sqrt(-0) == -0, a negative operand gives NaN."""
    if w == 64 or w == 32:
        f = _FORMATS[w]
        if a & f.sign_bit and a & f.abs_mask:     # negative (or a negative NaN)
            return f.nan
        if w == 64:
            return _float_to_f64(math.sqrt(_f64_to_float(a)))
        return _float_to_f32(math.sqrt(_f32_to_float(a)))
    return _sqrt_exact(_fmt(w), a)


def ffma(w: int, a: int, b: int, c: int) -> int:
    """a * b + c with a single rounding."""
    return _fma_exact(_fmt(w), a, b, c)


# -- public API: bit operations (NaN payloads kept) -----------------------------

def fneg(w: int, a: int) -> int:
    """Flip the sign bit."""
    return a ^ _fmt(w).sign_bit


def fabs(w: int, a: int) -> int:
    """Clear the sign bit."""
    return a & _fmt(w).abs_mask


def fcopysign(w: int, a: int, b: int) -> int:
    """The magnitude of ``a`` with the sign of ``b``."""
    f = _fmt(w)
    return (a & f.abs_mask) | (b & f.sign_bit)


# -- public API: comparisons, min and max ---------------------------------------

def _order_key(f: _Format, a: int) -> int:
    """An int that orders non-NaN floats as IEEE does (+0 and -0 both map to 0)."""
    mag = a & f.abs_mask
    return -mag if a & f.sign_bit else mag


def feq(w: int, a: int, b: int) -> bool:
    """IEEE equality: False if either is NaN; +0 == -0."""
    f = _fmt(w)
    if _is_nan_fmt(f, a) or _is_nan_fmt(f, b):
        return False
    return a == b or not ((a | b) & f.abs_mask)


def flt(w: int, a: int, b: int) -> bool:
    """IEEE a < b (False if either is NaN)."""
    f = _fmt(w)
    if _is_nan_fmt(f, a) or _is_nan_fmt(f, b):
        return False
    return _order_key(f, a) < _order_key(f, b)


def fle(w: int, a: int, b: int) -> bool:
    """IEEE a <= b (False if either is NaN)."""
    f = _fmt(w)
    if _is_nan_fmt(f, a) or _is_nan_fmt(f, b):
        return False
    return _order_key(f, a) <= _order_key(f, b)


def funord(w: int, a: int, b: int) -> bool:
    """True if either operand is NaN."""
    f = _fmt(w)
    return _is_nan_fmt(f, a) or _is_nan_fmt(f, b)


def fmin(w: int, a: int, b: int) -> int:
    """Cranelift ``fmin``: canonical NaN if either is NaN, and -0 < +0."""
    f = _fmt(w)
    if _is_nan_fmt(f, a) or _is_nan_fmt(f, b):
        return f.nan
    ka = _order_key(f, a)
    kb = _order_key(f, b)
    if ka != kb:
        return a if ka < kb else b
    return a | b        # equal: the same bits, or two zeros where -0 wins


def fmax(w: int, a: int, b: int) -> int:
    """Cranelift ``fmax``: canonical NaN if either is NaN, and +0 > -0."""
    f = _fmt(w)
    if _is_nan_fmt(f, a) or _is_nan_fmt(f, b):
        return f.nan
    ka = _order_key(f, a)
    kb = _order_key(f, b)
    if ka != kb:
        return a if ka > kb else b
    return a & b        # equal: the same bits, or two zeros where +0 wins


def fmin_pseudo(w: int, a: int, b: int) -> int:
    """Wasm ``pmin``: ``b < a ? b : a`` (an operand is returned unchanged, NaN included)."""
    return b if flt(w, b, a) else a


def fmax_pseudo(w: int, a: int, b: int) -> int:
    """Wasm ``pmax``: ``a < b ? b : a`` (an operand is returned unchanged, NaN included)."""
    return b if flt(w, a, b) else a


# -- public API: rounding to integral -------------------------------------------

_CEIL, _FLOOR, _TRUNC, _NEAREST = range(4)


def _round_integral(w: int, a: int, mode: int) -> int:
    f = _fmt(w)
    aa = a & f.abs_mask
    if aa > f.inf:
        return f.nan
    if aa == f.inf or not aa:
        return a
    m, e = _decode(f, aa)
    if e >= 0:
        return a                              # already an integer
    sign = a & f.sign_bit
    shift = -e
    ip = m >> shift
    rem = m & ((1 << shift) - 1)
    if rem:
        if mode == _NEAREST:
            half = 1 << (shift - 1)
            if rem > half or (rem == half and ip & 1):
                ip += 1
        elif (mode == _CEIL and not sign) or (mode == _FLOOR and sign):
            ip += 1
    if not ip:
        return sign                           # keeps the sign: ceil(-0.5) == -0
    return _round_pack(f, sign, ip, 0)


def fceil(w: int, a: int) -> int:
    """Round toward +inf to an integral value in the same format."""
    return _round_integral(w, a, _CEIL)


def ffloor(w: int, a: int) -> int:
    """Round toward -inf to an integral value in the same format."""
    return _round_integral(w, a, _FLOOR)


def ftrunc(w: int, a: int) -> int:
    """Round toward zero to an integral value in the same format."""
    return _round_integral(w, a, _TRUNC)


def fnearest(w: int, a: int) -> int:
    """Round to the nearest integral value, ties to even."""
    return _round_integral(w, a, _NEAREST)


# -- public API: conversions ----------------------------------------------------

def fcvt(w_from: int, w_to: int, a: int) -> int:
    """Convert between float widths (promote exactly, demote RNE); NaN -> canonical NaN."""
    src = _fmt(w_from)
    dst = _fmt(w_to)
    aa = a & src.abs_mask
    if aa > src.inf:
        return dst.nan
    if w_from == w_to:
        return a
    if w_from == 64 and w_to == 32:
        return _float_to_f32(_f64_to_float(a))
    sign = dst.sign_bit if a & src.sign_bit else 0
    if aa == src.inf:
        return sign | dst.inf
    if not aa:
        return sign
    m, e = _decode(src, aa)
    return _round_pack(dst, sign, m, e)


def _signed(w_int: int, x: int) -> int:
    x &= (1 << w_int) - 1
    return x - (1 << w_int) if x >> (w_int - 1) else x


def _int_to_float(w_fp: int, v: int) -> int:
    if w_fp == 64:
        return _float_to_f64(float(v))        # CPython rounds int -> float correctly (RNE)
    f = _fmt(w_fp)
    if v > 0:
        return _round_pack(f, 0, v, 0)
    if v < 0:
        return _round_pack(f, f.sign_bit, -v, 0)
    return 0


def sitofp(w_int: int, w_fp: int, x: int) -> int:
    """Convert the ``w_int``-bit pattern ``x``, read as signed, to a float (RNE)."""
    return _int_to_float(w_fp, _signed(w_int, x))


def uitofp(w_int: int, w_fp: int, x: int) -> int:
    """Convert the ``w_int``-bit pattern ``x``, read as unsigned, to a float (RNE)."""
    return _int_to_float(w_fp, x & ((1 << w_int) - 1))


def _truncate(f: _Format, a: int, limit_bits: int) -> int | None:
    """The value of ``a`` truncated toward zero, or None for NaN/inf.

    Magnitudes of ``2**limit_bits`` or more are returned as that bound (with
    the sign), which every caller treats as out of range.
    """
    aa = a & f.abs_mask
    if aa >= f.inf:
        return None
    m, e = _decode(f, aa)
    if e >= 0:
        mag = (1 << limit_bits) if m.bit_length() + e > limit_bits else m << e
    else:
        mag = m >> -e
    return -mag if a & f.sign_bit else mag


def fptosi(w_fp: int, w_int: int, a: int) -> int | None:
    """Truncate to a signed ``w_int``-bit integer; None on NaN or overflow.

    The result is the unsigned ``w_int``-bit pattern.
    """
    v = _truncate(_fmt(w_fp), a, w_int)
    if v is None:
        return None
    half = 1 << (w_int - 1)
    if not -half <= v < half:
        return None
    return v & ((1 << w_int) - 1)


def fptoui(w_fp: int, w_int: int, a: int) -> int | None:
    """Truncate to an unsigned ``w_int``-bit integer; None on NaN or overflow (-0.9 gives 0)."""
    v = _truncate(_fmt(w_fp), a, w_int)
    if v is None or not 0 <= v < (1 << w_int):
        return None
    return v


def fptosi_sat(w_fp: int, w_int: int, a: int) -> int:
    """Truncate to a signed ``w_int``-bit integer, saturating; NaN gives 0."""
    f = _fmt(w_fp)
    if _is_nan_fmt(f, a):
        return 0
    half = 1 << (w_int - 1)
    if (a & f.abs_mask) == f.inf:
        v = -half if a & f.sign_bit else half - 1
    else:
        v = _truncate(f, a, w_int)
        assert v is not None
        v = max(-half, min(half - 1, v))
    return v & ((1 << w_int) - 1)


def fptoui_sat(w_fp: int, w_int: int, a: int) -> int:
    """Truncate to an unsigned ``w_int``-bit integer, saturating; NaN gives 0."""
    f = _fmt(w_fp)
    if _is_nan_fmt(f, a):
        return 0
    top = (1 << w_int) - 1
    if (a & f.abs_mask) == f.inf:
        return 0 if a & f.sign_bit else top
    v = _truncate(f, a, w_int)
    assert v is not None
    return max(0, min(top, v))


# -- public API: exact values and host floats -----------------------------------

def to_fraction(w: int, a: int) -> Fraction | None:
    """The exact value of a finite float (both zeros give 0); None for inf and NaN."""
    f = _fmt(w)
    aa = a & f.abs_mask
    if aa >= f.inf:
        return None
    m, e = _decode(f, aa)
    if a & f.sign_bit:
        m = -m
    return Fraction(m << e) if e >= 0 else Fraction(m, 1 << -e)


def from_fraction(w: int, q: Fraction) -> int:
    """Round an exact rational to the nearest float of width ``w`` (ties to even).

    Overflow gives a signed infinity, underflow a signed zero; 0 gives +0.
    """
    f = _fmt(w)
    q = Fraction(q)
    num, den = q.numerator, q.denominator
    if not num:
        return 0
    sign = 0
    if num < 0:
        sign = f.sign_bit
        num = -num
    if den == 1:
        return _round_pack(f, sign, num, 0)
    k = f.precision + 2 + den.bit_length() - num.bit_length()
    if k < 0:
        k = 0
    quo, rem = divmod(num << k, den)
    if rem:
        quo |= 1
    return _round_pack(f, sign, quo, -k)


def from_python_float(w: int, x: float) -> int:
    """The bits of the host float ``x`` as a float of width ``w``.

    Width 64 gives the exact bits (NaN payload included); other widths convert
    as :func:`fcvt` does (exact for 128, RNE for 16 and 32, NaN canonical).
    """
    bits = _S_Q.unpack(_S_D.pack(x))[0]
    return bits if w == 64 else fcvt(64, w, bits)


def to_python_float(w: int, a: int) -> float:
    """The host float of ``a``: exact for widths 16, 32 and 64, RNE from 128.

    Width 64 keeps the NaN payload; other widths give the canonical NaN.
    """
    bits = a if w == 64 else fcvt(w, 64, a)
    return _f64_to_float(bits)
