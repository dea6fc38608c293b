"""The CLIF text of immediates: float literals, integer literals, offsets.

This follows Cranelift's ``cranelift/codegen/src/ir/immediates.rs`` (the
``Display`` and ``FromStr`` impls of ``Ieee16/32/64/128``, ``Imm64``,
``Uimm64`` and ``Offset32``), so CLIF text prints and parses as Cranelift's
does.

Floats
    Finite nonzero values print as C99 hex floats with a fixed number of
    fraction digits (f16: 3, f32: 6, f64: 13, f128: 28): ``0x1.800000p1``
    for a normal f32, ``0x0.800000p-126`` for a subnormal one.  Zeros print
    ``0.0``/``-0.0``; infinities ``+Inf``/``-Inf``; NaNs ``+NaN``, ``-NaN``,
    ``+NaN:0x1`` (quiet, payload below the quiet bit), ``+sNaN:0x1``
    (signaling).  The parser takes all of that plus hex floats with any
    number of digits (at most 32), an optional radix point and an optional
    decimal ``p`` exponent (``0x4.2``, ``-0x1p-1``, ``0x.8``), a missing sign
    on ``Inf``/``NaN``, and ``NaN:0x0``.  Like Cranelift it never rounds: a
    literal that is not exactly representable is an error ("Too many
    significant bits", "Subnormal underflow", "Magnitude too large/small").
    The only decimal it accepts is ``0.0``.  A signaling NaN needs a nonzero
    payload.

Integers
    Decimal or ``0x`` hex, an optional ``+``/``-`` sign, ``_`` allowed
    anywhere among the digits (``0xC0FFEEEE_ABCDEF01``, ``1_000``).  Values
    print in decimal when small and as ``_``-grouped hex otherwise.

Errors are ``ValueError`` with Cranelift's wording; the CLIF parser wraps them
into a located ``ParseError``.

Example::

    >>> from heron.ir.immediates import format_float, parse_float, parse_int, format_imm64
    >>> format_float(32, 0x40C00000)
    '0x1.800000p2'
    >>> hex(parse_float(32, "0x1.5p3"))
    '0x41280000'
    >>> format_float(64, parse_float(64, "-NaN:0x1"))
    '-NaN:0x1'
    >>> parse_float(32, "0x1.000001")
    Traceback (most recent call last):
    ValueError: invalid f32 literal '0x1.000001': Too many significant bits
    >>> parse_int("0xC0FFEEEE_ABCDEF01") == 0xC0FFEEEEABCDEF01
    True
    >>> format_imm64(-10000)
    '0xffff_ffff_ffff_d8f0'
"""

from __future__ import annotations

import re

__all__ = [
    "format_float",
    "parse_float",
    "parse_int",
    "format_imm64",
    "format_uimm",
    "format_offset32",
]

# Exponent field width of each float width (the trailing significand is the rest).
_EXP_BITS = {16: 5, 32: 8, 64: 11, 128: 15}

_HEX_DIGITS = "0123456789abcdefABCDEF"
_DEC_DIGITS = "0123456789"
# Rust's `u128::from_str_radix(s, 16)`: an optional '+' then ASCII hex digits.
_NAN_PAYLOAD = re.compile(r"\+?[0-9a-fA-F]+")
# Rust's `str::parse::<i16>()`: an optional sign then ASCII decimal digits.
_EXPONENT = re.compile(r"[+-]?[0-9]+")
_MAX_SIGNIFICAND_DIGITS = 32   # the significand is accumulated in a u128


def _layout(w: int) -> tuple[int, int]:
    try:
        e_bits = _EXP_BITS[w]
    except KeyError:
        raise ValueError(f"no IEEE binary float of width {w}; expected 16, 32, 64 or 128") from None
    return e_bits, w - 1 - e_bits


def format_float(w: int, bits: int) -> str:
    """Cranelift's text for the ``w``-bit float with bit pattern ``bits``."""
    e_width, t = _layout(w)
    max_e_bits = (1 << e_width) - 1
    t_bits = bits & ((1 << t) - 1)
    e_bits = (bits >> t) & max_e_bits
    negative = (bits >> (w - 1)) & 1
    bias = (1 << (e_width - 1)) - 1
    digits = (t + 3) // 4
    left_t_bits = t_bits << (4 * digits - t)     # left-aligned in `digits` hex digits

    sign = "-" if negative else ""
    if e_bits == 0:
        if t_bits == 0:
            return sign + "0.0"
        return f"{sign}0x0.{left_t_bits:0{digits}x}p{1 - bias}"
    if e_bits == max_e_bits:
        # Inf and NaN always carry a sign so they cannot be read as identifiers.
        sign = sign or "+"
        if t_bits == 0:
            return sign + "Inf"
        quiet_bit = 1 << (t - 1)
        payload = t_bits & (quiet_bit - 1)
        if t_bits & quiet_bit:
            return f"{sign}NaN:0x{payload:x}" if payload else sign + "NaN"
        return f"{sign}sNaN:0x{payload:x}"
    return f"{sign}0x1.{left_t_bits:0{digits}x}p{e_bits - bias}"


def parse_float(w: int, text: str) -> int:
    """The bit pattern of the CLIF float literal ``text`` as a ``w``-bit float.

    Raises ``ValueError`` for text Cranelift rejects, including every literal
    that is not exactly representable in the format.
    """
    try:
        return _parse_float(w, text)
    except _FloatSyntax as err:
        raise ValueError(f"invalid f{w} literal {text!r}: {err.reason}") from None


class _FloatSyntax(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _parse_float(w: int, s: str) -> int:
    e_width, t = _layout(w)
    sign_bit = 0
    if s.startswith("-"):
        sign_bit = 1 << (w - 1)
        s = s[1:]
    elif s.startswith("+"):
        s = s[1:]

    if not s.startswith("0x"):
        max_e_bits = ((1 << e_width) - 1) << t
        quiet_bit = 1 << (t - 1)
        if s == "0.0":                           # the only decimal literal
            return sign_bit
        if s == "Inf":
            return sign_bit | max_e_bits
        if s == "NaN":
            return sign_bit | max_e_bits | quiet_bit
        if s.startswith("NaN:0x"):
            payload = _nan_payload(s[6:])
            if payload is None or payload >= quiet_bit:
                raise _FloatSyntax("Invalid NaN payload")
            return sign_bit | max_e_bits | quiet_bit | payload
        if s.startswith("sNaN:0x"):
            payload = _nan_payload(s[7:])
            if payload is None or not 0 < payload < quiet_bit:
                raise _FloatSyntax("Invalid sNaN payload")
            return sign_bit | max_e_bits | payload
        raise _FloatSyntax("Float must be hexadecimal")

    body = s[2:]
    digits = 0
    digits_before_point: int | None = None
    significand = 0
    exponent = 0
    for idx, ch in enumerate(body):
        if ch == ".":
            if digits_before_point is not None:
                raise _FloatSyntax("Multiple radix points")
            digits_before_point = digits
        elif ch == "p":
            exp_text = body[idx + 1:]
            if not _EXPONENT.fullmatch(exp_text) or not -(1 << 15) <= int(exp_text) < (1 << 15):
                raise _FloatSyntax("Bad exponent")
            exponent = int(exp_text)
            break
        elif ch in _HEX_DIGITS:
            digits += 1
            if digits > _MAX_SIGNIFICAND_DIGITS:
                raise _FloatSyntax("Too many digits")
            significand = (significand << 4) | int(ch, 16)
        else:
            raise _FloatSyntax("Invalid character")

    if digits == 0:
        raise _FloatSyntax("No digits")
    if significand == 0:
        return sign_bit                          # +-0.0, whatever the exponent
    if digits_before_point is not None:
        exponent -= 4 * (digits - digits_before_point)

    # Normalize to exactly t + 1 significant bits; dropping a set bit is an error.
    significant_bits = significand.bit_length()
    if significant_bits > t + 1:
        adjust = significant_bits - (t + 1)
        if significand & ((1 << adjust) - 1):
            raise _FloatSyntax("Too many significant bits")
        significand >>= adjust
        exponent += adjust
    else:
        adjust = t + 1 - significant_bits
        significand <<= adjust
        exponent -= adjust

    t_bits = significand & ((1 << t) - 1)
    max_exp = (1 << e_width) - 2
    exponent += (1 << (e_width - 1)) - 1 + t     # now the biased exponent
    if exponent > max_exp:
        raise _FloatSyntax("Magnitude too large")
    if exponent > 0:
        return sign_bit | (exponent << t) | t_bits
    adjust = 1 - exponent
    if adjust <= t:
        # Subnormal: renormalize the significand for biased exponent 1.
        if significand & ((1 << adjust) - 1):
            raise _FloatSyntax("Subnormal underflow")
        return sign_bit | (significand >> adjust)
    raise _FloatSyntax("Magnitude too small")


def _nan_payload(text: str) -> int | None:
    if not _NAN_PAYLOAD.fullmatch(text):
        return None
    return int(text, 16)


def parse_int(text: str) -> int:
    """The value of a CLIF integer literal, as written (no range check, no masking).

    Decimal or ``0x`` hex (hex digits in either case), an optional leading
    ``+`` or ``-``, ``_`` separators anywhere among the digits.  The caller
    checks the value against the type it needs.
    """
    negative = text.startswith("-")
    body = text[1:] if negative or text.startswith("+") else text
    if body.startswith("-0x"):
        raise ValueError(f"invalid integer {text!r}: Invalid character in hexadecimal number")
    if body.startswith("0x"):
        digits, base, kind = body[2:], 16, "hexadecimal"
        allowed = _HEX_DIGITS
    else:
        digits, base, kind = body, 10, "decimal"
        allowed = _DEC_DIGITS
    value = 0
    count = 0
    for ch in digits:
        if ch in allowed:
            value = value * base + int(ch, 16)
            count += 1
        elif ch != "_":
            raise ValueError(f"invalid integer {text!r}: Invalid character in {kind} number")
    if count == 0:
        raise ValueError(f"invalid integer {text!r}: No digits in number")
    return -value if negative else value


def _write_hex(x: int) -> str:
    """Hex in groups of four digits: ``0xfff0``, ``0x0001_ffff``, ``0xffff_ffff_fff8_4400``."""
    pos = (x.bit_length() - 1) & ~0xF
    groups = [f"{(x >> pos) & 0xFFFF:04x}"]
    while pos > 0:
        pos -= 16
        groups.append(f"{(x >> pos) & 0xFFFF:04x}")
    return "0x" + "_".join(groups)


def format_imm64(value: int) -> str:
    """Cranelift's text of an ``Imm64``: decimal within (-10000, 10000), else 64-bit hex.

    ``value`` is read modulo 2**64 as a signed 64-bit number, so -1 and
    0xFFFF_FFFF_FFFF_FFFF both print ``-1``; values outside
    [-2**63, 2**64) raise ``ValueError``.
    """
    if not -(1 << 63) <= value < (1 << 64):
        raise ValueError(f"Imm64 out of range: {value}")
    if value >= 1 << 63:
        value -= 1 << 64
    if -10_000 < value < 10_000:
        return str(value)
    return _write_hex(value & ((1 << 64) - 1))


def format_uimm(value: int) -> str:
    """Cranelift's text of a ``Uimm64``/``Uimm32``: decimal below 10000, else grouped hex."""
    if value < 0:
        raise ValueError(f"unsigned immediate is negative: {value}")
    if value < 10_000:
        return str(value)
    return _write_hex(value)


def format_offset32(value: int) -> str:
    """Cranelift's text of an ``Offset32``: '' for 0, else always signed (``+8``, ``-0x2710``)."""
    if not -(1 << 31) <= value < (1 << 31):
        raise ValueError(f"Offset32 out of range: {value}")
    if value == 0:
        return ""
    sign = "-" if value < 0 else "+"
    magnitude = abs(value)
    return sign + (str(magnitude) if magnitude < 10_000 else _write_hex(magnitude))
