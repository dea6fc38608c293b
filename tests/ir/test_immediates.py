"""Tests of heron.ir.immediates: Cranelift's own examples, round trips, Python's float.hex."""

from __future__ import annotations

import math
import random
import struct

import pytest
from hypothesis import given, settings, strategies as st

from heron.ir import softfloat as sf
from heron.ir.immediates import (
    format_float,
    format_imm64,
    format_offset32,
    format_uimm,
    parse_float,
    parse_int,
)

WIDTHS = (16, 32, 64, 128)
PROPERTY = settings(max_examples=300, deadline=None)


def f64_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


# -- format_float: the examples of Cranelift's own tests ----------------------------

FORMAT_CASES = [
    # f16
    (16, 0x0000, "0.0"),
    (16, 0x8000, "-0.0"),
    (16, 0x3C00, "0x1.000p0"),
    (16, 0x3E00, "0x1.800p0"),
    (16, 0x3800, "0x1.000p-1"),
    (16, 0x1400, "0x1.000p-10"),
    (16, 0xFBFF, "-0x1.ffcp15"),
    (16, 0x7BFF, "0x1.ffcp15"),
    (16, 0x0400, "0x1.000p-14"),
    (16, 0x0200, "0x0.800p-14"),
    (16, 0x0001, "0x0.004p-14"),
    (16, 0x7C00, "+Inf"),
    (16, 0xFC00, "-Inf"),
    (16, 0x7E00, "+NaN"),
    (16, 0xFE00, "-NaN"),
    (16, 0x7E01, "+NaN:0x1"),
    (16, 0x7F01, "+NaN:0x101"),
    (16, 0x7C01, "+sNaN:0x1"),
    (16, 0x7D01, "+sNaN:0x101"),
    # f32
    (32, f32_bits(0.0), "0.0"),
    (32, f32_bits(-0.0), "-0.0"),
    (32, f32_bits(1.0), "0x1.000000p0"),
    (32, f32_bits(1.5), "0x1.800000p0"),
    (32, f32_bits(0.5), "0x1.000000p-1"),
    (32, f32_bits(2.0**-23), "0x1.000000p-23"),
    (32, 0xFF7FFFFF, "-0x1.fffffep127"),
    (32, 0x7F7FFFFF, "0x1.fffffep127"),
    (32, 0x00800000, "0x1.000000p-126"),
    (32, 0x00400000, "0x0.800000p-126"),
    (32, 0x00000001, "0x0.000002p-126"),
    (32, 0x7F800000, "+Inf"),
    (32, 0xFF800000, "-Inf"),
    (32, 0x7FC00000, "+NaN"),
    (32, 0xFFC00000, "-NaN"),
    (32, 0x7FC00001, "+NaN:0x1"),
    (32, 0x7FF00001, "+NaN:0x300001"),
    (32, 0x7F800001, "+sNaN:0x1"),
    (32, 0x7FA00001, "+sNaN:0x200001"),
    (32, 0x40C00000, "0x1.800000p2"),
    # f64
    (64, f64_bits(0.0), "0.0"),
    (64, f64_bits(-0.0), "-0.0"),
    (64, f64_bits(1.0), "0x1.0000000000000p0"),
    (64, f64_bits(1.5), "0x1.8000000000000p0"),
    (64, f64_bits(0.5), "0x1.0000000000000p-1"),
    (64, f64_bits(2.0**-52), "0x1.0000000000000p-52"),
    (64, f64_bits(-1.7976931348623157e308), "-0x1.fffffffffffffp1023"),
    (64, f64_bits(1.7976931348623157e308), "0x1.fffffffffffffp1023"),
    (64, f64_bits(2.0**-1022), "0x1.0000000000000p-1022"),
    (64, f64_bits(2.0**-1023), "0x0.8000000000000p-1022"),
    (64, 1, "0x0.0000000000001p-1022"),
    (64, 0x7FF0000000000000, "+Inf"),
    (64, 0xFFF0000000000000, "-Inf"),
    (64, 0x7FF8000000000000, "+NaN"),
    (64, 0xFFF8000000000000, "-NaN"),
    (64, 0x7FF8000000000001, "+NaN:0x1"),
    (64, 0x7FFC000000000001, "+NaN:0x4000000000001"),
    (64, 0x7FF0000000000001, "+sNaN:0x1"),
    (64, 0x7FF4000000000001, "+sNaN:0x4000000000001"),
    # f128
    (128, 0, "0.0"),
    (128, 0x80000000000000000000000000000000, "-0.0"),
    (128, 0x3FFF0000000000000000000000000000, "0x1.0000000000000000000000000000p0"),
    (128, 0x3FFF8000000000000000000000000000, "0x1.8000000000000000000000000000p0"),
    (128, 0x3FFE0000000000000000000000000000, "0x1.0000000000000000000000000000p-1"),
    (128, 0x3F8F0000000000000000000000000000, "0x1.0000000000000000000000000000p-112"),
    (128, 0xFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFF, "-0x1.ffffffffffffffffffffffffffffp16383"),
    (128, 0x7FFEFFFFFFFFFFFFFFFFFFFFFFFFFFFF, "0x1.ffffffffffffffffffffffffffffp16383"),
    (128, 0x00010000000000000000000000000000, "0x1.0000000000000000000000000000p-16382"),
    (128, 0x00008000000000000000000000000000, "0x0.8000000000000000000000000000p-16382"),
    (128, 1, "0x0.0000000000000000000000000001p-16382"),
    (128, 0x7FFF0000000000000000000000000000, "+Inf"),
    (128, 0xFFFF0000000000000000000000000000, "-Inf"),
    (128, 0x7FFF8000000000000000000000000000, "+NaN"),
    (128, 0xFFFF8000000000000000000000000000, "-NaN"),
    (128, 0x7FFF8000000000000000000000000001, "+NaN:0x1"),
    (128, 0x7FFFC000000000000000000000000001, "+NaN:0x4000000000000000000000000001"),
    (128, 0x7FFF0000000000000000000000000001, "+sNaN:0x1"),
    (128, 0x7FFF4000000000000000000000000001, "+sNaN:0x4000000000000000000000000001"),
]


@pytest.mark.parametrize("w, bits, text", FORMAT_CASES)
def test_format_float(w: int, bits: int, text: str) -> None:
    assert format_float(w, bits) == text
    assert parse_float(w, text) == bits


# -- parse_float: accepted forms ----------------------------------------------------

def fmt(w: int, text: str) -> str:
    return format_float(w, parse_float(w, text))


def one_text(w: int, exp: int, sign: str = "") -> str:
    digits = {16: 3, 32: 6, 64: 13, 128: 28}[w]
    return f"{sign}0x1.{'0' * digits}p{exp}"


@pytest.mark.parametrize("w", WIDTHS)
def test_parse_float_forms(w: int) -> None:
    for text in ("0.0", "+0.0", "0x0", "0x0.0", "0x.0", "0x0.", "0x0p5", "0x0.000p-99"):
        assert parse_float(w, text) == 0, text
    assert parse_float(w, "-0.0") == 1 << (w - 1)
    assert parse_float(w, "-0x0.0") == 1 << (w - 1)
    assert fmt(w, "0x1") == one_text(w, 0)
    assert fmt(w, "+0x1") == one_text(w, 0)
    assert fmt(w, "-0x1") == one_text(w, 0, "-")
    assert fmt(w, "0x10") == one_text(w, 4)
    assert fmt(w, "0x10.0") == one_text(w, 4)
    assert fmt(w, "0x1p3") == one_text(w, 3)
    assert fmt(w, "0x1p+3") == one_text(w, 3)
    assert fmt(w, "0x1p-3") == one_text(w, -3)
    assert fmt(w, "0x1.0p3") == one_text(w, 3)
    assert fmt(w, "0x2.0p3") == one_text(w, 4)
    assert fmt(w, "-0x1p-1") == one_text(w, -1, "-")
    assert fmt(w, "0x.8") == one_text(w, -1)
    assert fmt(w, "0x00000000000000000000000000000001") == one_text(w, 0)   # 32 digits
    for text, want in (("Inf", "+Inf"), ("+Inf", "+Inf"), ("-Inf", "-Inf"), ("NaN", "+NaN"),
                       ("+NaN", "+NaN"), ("-NaN", "-NaN"), ("NaN:0x0", "+NaN"), ("NaN:0x001", "+NaN:0x1"),
                       ("-NaN:0x1", "-NaN:0x1"), ("sNaN:0x1", "+sNaN:0x1"), ("-sNaN:0x1", "-sNaN:0x1"),
                       ("NaN:0x+1", "+NaN:0x1"), ("NaN:0xA", "+NaN:0xa")):
        assert fmt(w, text) == want, text


def test_parse_float_examples() -> None:
    assert parse_float(32, "0x1.5p3") == f32_bits(10.5)
    assert parse_float(64, "0x1.5p3") == f64_bits(10.5)
    assert parse_float(64, "0x4.2") == f64_bits(4.125)
    assert parse_float(16, "0x4.2") == 0x4420
    assert parse_float(32, "0x1.fffffe") == f32_bits(2 - 2.0**-23)
    assert parse_float(32, "-NaN:0x300001") == 0xFFF00001
    assert parse_float(32, "+Inf") == 0x7F800000
    assert parse_float(64, "0xABCDEFp-4") == f64_bits(0xABCDEF / 16)
    assert parse_float(128, "0x1.ffffffffffffffffffffffffffff") == 0x3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF


CRANELIFT_OK = [
    # Significant bits (Cranelift's tests).
    (16, "0x0.ffe", "0x1.ffcp-1"),
    (16, "0x1.ffc", "0x1.ffcp0"),
    (16, "0x3.ff8", "0x1.ffcp1"),
    (16, "0x7.ff", "0x1.ffcp2"),
    (16, "0xf.fe", "0x1.ffcp3"),
    (32, "0x0.ffffff", "0x1.fffffep-1"),
    (32, "0xf.fffff0", "0x1.fffffep3"),
    (64, "0x0.fffffffffffff8", "0x1.fffffffffffffp-1"),
    (64, "0xf.ffffffffffff8", "0x1.fffffffffffffp3"),
    (128, "0x0.ffffffffffffffffffffffffffff8", "0x1.ffffffffffffffffffffffffffffp-1"),
    (128, "0xf.fffffffffffffffffffffffffff8", "0x1.ffffffffffffffffffffffffffffp3"),
    # Exponent limits.
    (16, "0x1.0p15", "0x1.000p15"),
    (16, "0x1.0p-14", "0x1.000p-14"),
    (16, "0x0.1p-10", "0x1.000p-14"),
    (32, "0x1.0p127", "0x1.000000p127"),
    (32, "0x0.1p-122", "0x1.000000p-126"),
    (64, "0x1.0p1023", "0x1.0000000000000p1023"),
    (64, "0x0.1p-1018", "0x1.0000000000000p-1022"),
    (128, "0x1.0p16383", "0x1.0000000000000000000000000000p16383"),
    (128, "0x0.1p-16378", "0x1.0000000000000000000000000000p-16382"),
    # Subnormals.
    (16, "0x1.0p-15", "0x0.800p-14"),
    (16, "0x1.0p-24", "0x0.004p-14"),
    (32, "0x1.0p-127", "0x0.800000p-126"),
    (32, "0x1.0p-149", "0x0.000002p-126"),
    (64, "0x1.0p-1074", "0x0.0000000000001p-1022"),
    (128, "0x1.0p-16494", "0x0.0000000000000000000000000001p-16382"),
    # NaN payloads at the top of their range.
    (16, "NaN:0x101", "+NaN:0x101"),
    (32, "NaN:0x300001", "+NaN:0x300001"),
    (32, "sNaN:0x200001", "+sNaN:0x200001"),
    (64, "NaN:0x4000000000001", "+NaN:0x4000000000001"),
    (128, "sNaN:0x4000000000000000000000000001", "+sNaN:0x4000000000000000000000000001"),
]


@pytest.mark.parametrize("w, text, want", CRANELIFT_OK)
def test_parse_float_cranelift_cases(w: int, text: str, want: str) -> None:
    assert fmt(w, text) == want


CRANELIFT_ERR = [
    (32, "0.", "Float must be hexadecimal"),
    (32, ".0", "Float must be hexadecimal"),
    (32, "0", "Float must be hexadecimal"),
    (32, "-0", "Float must be hexadecimal"),
    (32, ".", "Float must be hexadecimal"),
    (32, "", "Float must be hexadecimal"),
    (32, "-", "Float must be hexadecimal"),
    (32, "1.0", "Float must be hexadecimal"),
    (64, "-2.5", "Float must be hexadecimal"),
    (64, "1e10", "Float must be hexadecimal"),
    (64, "inf", "Float must be hexadecimal"),
    (64, "nan", "Float must be hexadecimal"),
    (64, "--0x1", "Float must be hexadecimal"),
    (64, "0X1", "Float must be hexadecimal"),
    (32, "NaN:", "Float must be hexadecimal"),
    (32, "NaN:0", "Float must be hexadecimal"),
    (32, "0x", "No digits"),
    (32, "0x.", "No digits"),
    (32, "0xp3", "No digits"),
    (32, "0x..", "Multiple radix points"),
    (32, "0x1.2.3", "Multiple radix points"),
    (32, "0x1_0", "Invalid character"),
    (32, "0x1g", "Invalid character"),
    (32, "0x1P3", "Invalid character"),
    (32, "0x\u0661", "Invalid character"),             # a non-ASCII digit
    (32, "0x1p", "Bad exponent"),
    (32, "0x1p-", "Bad exponent"),
    (32, "0x1p1.0", "Bad exponent"),
    (32, "0x1p32768", "Bad exponent"),
    (32, "0x1p\u0661", "Bad exponent"),
    (16, "0x1.ffe", "Too many significant bits"),
    (32, "0x1.ffffff", "Too many significant bits"),
    (32, "0x1.000001", "Too many significant bits"),
    (64, "0x3.fffffffffffff", "Too many significant bits"),
    (128, "0x3.ffffffffffffffffffffffffffff", "Too many significant bits"),
    (16, "0x1.ffc00000000000000000000000000000", "Too many digits"),
    (32, "0x1.fffffe00000000000000000000000000", "Too many digits"),
    (64, "0x001.fffffe000000000000000000000000", "Too many digits"),
    (16, "0x2.0p15", "Magnitude too large"),
    (32, "0x2.0p127", "Magnitude too large"),
    (64, "0x2.0p1023", "Magnitude too large"),
    (128, "0x2.0p16383", "Magnitude too large"),
    (16, "0x0.102p-14", "Subnormal underflow"),
    (16, "0x1.8p-24", "Subnormal underflow"),
    (32, "0x0.100001p-126", "Subnormal underflow"),
    (32, "0x1.8p-149", "Subnormal underflow"),
    (64, "0x0.10000000000008p-1022", "Subnormal underflow"),
    (128, "0x1.8p-16494", "Subnormal underflow"),
    (16, "0x1.0p-25", "Magnitude too small"),
    (32, "0x1.0p-150", "Magnitude too small"),
    (64, "0x1.0p-1075", "Magnitude too small"),
    (128, "0x1.0p-16495", "Magnitude too small"),
    (32, "NaN:0x", "Invalid NaN payload"),
    (32, "NaN:0x400001", "Invalid NaN payload"),
    (16, "NaN:0x301", "Invalid NaN payload"),
    (64, "NaN:0x8000000000001", "Invalid NaN payload"),
    (128, "NaN:0x8000000000000000000000000001", "Invalid NaN payload"),
    (32, "NaN:0x_1", "Invalid NaN payload"),
    (32, "NaN:0x-1", "Invalid NaN payload"),
    (32, "NaN:0x+", "Invalid NaN payload"),
    (32, "sNaN:0x0", "Invalid sNaN payload"),
    (32, "-sNaN:0x0", "Invalid sNaN payload"),
    (32, "sNaN:0x400001", "Invalid sNaN payload"),
    (16, "sNaN:0x301", "Invalid sNaN payload"),
]


@pytest.mark.parametrize("w, text, reason", CRANELIFT_ERR)
def test_parse_float_errors(w: int, text: str, reason: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_float(w, text)
    assert str(err.value) == f"invalid f{w} literal {text!r}: {reason}"


def test_bad_width() -> None:
    with pytest.raises(ValueError, match="width 80"):
        parse_float(80, "0.0")
    with pytest.raises(ValueError, match="width 8"):
        format_float(8, 0)


# -- round trips ---------------------------------------------------------------------

def special_patterns(w: int) -> list[int]:
    e = {16: 5, 32: 8, 64: 11, 128: 15}[w]
    t = w - 1 - e
    inf = ((1 << e) - 1) << t
    out = []
    for sign in (0, 1 << (w - 1)):
        for mag in (0, 1, 2, (1 << t) - 1, 1 << t, (1 << t) + 1, inf - 1, inf, inf + 1,
                    inf | (1 << (t - 1)), inf | ((1 << t) - 1), inf | (1 << (t - 2)),
                    ((1 << (e - 1)) - 1) << t):
            out.append(sign | mag)
    return out


@pytest.mark.parametrize("w", WIDTHS)
def test_round_trip_special_and_random(w: int) -> None:
    rng = random.Random(w)
    patterns = special_patterns(w) + [rng.getrandbits(w) for _ in range(3000)]
    for bits in patterns:
        text = format_float(w, bits)
        assert parse_float(w, text) == bits, text


def test_round_trip_f16_exhaustive() -> None:
    for bits in range(1 << 16):
        assert parse_float(16, format_float(16, bits)) == bits


@given(data=st.data())
@PROPERTY
def test_round_trip_property(data: st.DataObject) -> None:
    w = data.draw(st.sampled_from(WIDTHS))
    bits = data.draw(st.integers(0, (1 << w) - 1))
    text = format_float(w, bits)
    assert parse_float(w, text) == bits
    assert format_float(w, parse_float(w, text)) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
@PROPERTY
def test_python_hex_floats_agree(x: float) -> None:
    # Python's float.hex() is another spelling of the same hex float
    # ("0x1.8000000000000p+1"), and float.fromhex reads ours.
    assert parse_float(64, x.hex()) == f64_bits(x)
    back = float.fromhex(format_float(64, f64_bits(x)))
    assert back == x and math.copysign(1.0, back) == math.copysign(1.0, x)


@given(st.floats(allow_nan=False, allow_infinity=False, width=32))
@PROPERTY
def test_f32_literals_equal_promoted_values(x: float) -> None:
    # A literal parsed as f32 and widened equals the same literal parsed as f64/f128.
    text = format_float(32, f32_bits(x))
    for wide in (64, 128):
        assert parse_float(wide, text) == sf.fcvt(32, wide, parse_float(32, text))


# -- integers ---------------------------------------------------------------------------

INT_OK = [
    ("0", 0), ("1", 1), ("-0", 0), ("-1", -1), ("+7", 7), ("0x0", 0), ("0xf", 15), ("0xF", 15),
    ("-0x9", -9), ("+0x10", 16),
    ("0xffffffff_ffffffff", 0xFFFFFFFFFFFFFFFF),
    ("-0x80000000_00000000", -(1 << 63)),
    ("18446744073709551615", (1 << 64) - 1),
    ("-9223372036854775808", -(1 << 63)),
    ("0xC0FFEEEE_ABCDEF01", 0xC0FFEEEEABCDEF01),
    ("0x00000000_00000000_00000000_00000001", 1),
    ("0xffffffffffffffffffffffffffffffff", (1 << 128) - 1),
    ("340282366920938463463374607431768211455", (1 << 128) - 1),
    ("0_0", 0), ("-_10_0", -100), ("_10_", 10), ("1_000", 1000), ("0x97_88_bb", 0x9788BB), ("0x_97_", 0x97),
]


@pytest.mark.parametrize("text, value", INT_OK)
def test_parse_int(text: str, value: int) -> None:
    assert parse_int(text) == value


INT_ERR = [
    ("", "No digits in number"),
    ("-", "No digits in number"),
    ("+", "No digits in number"),
    ("_", "No digits in number"),
    ("0x", "No digits in number"),
    ("0x_", "No digits in number"),
    ("-0x", "No digits in number"),
    (" ", "Invalid character in decimal number"),
    ("0 ", "Invalid character in decimal number"),
    (" 0", "Invalid character in decimal number"),
    ("--", "Invalid character in decimal number"),
    ("--1", "Invalid character in decimal number"),
    ("abc", "Invalid character in decimal number"),
    ("-abc", "Invalid character in decimal number"),
    ("0X10", "Invalid character in decimal number"),
    ("1.0", "Invalid character in decimal number"),
    ("\u0661", "Invalid character in decimal number"),
    ("--0x1", "Invalid character in hexadecimal number"),
    ("-0x-", "Invalid character in hexadecimal number"),
    ("0xg", "Invalid character in hexadecimal number"),
]


@pytest.mark.parametrize("text, reason", INT_ERR)
def test_parse_int_errors(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_int(text)
    assert str(err.value) == f"invalid integer {text!r}: {reason}"


@given(st.integers(-(1 << 130), 1 << 130))
@PROPERTY
def test_parse_int_reads_what_python_writes(v: int) -> None:
    assert parse_int(str(v)) == v
    assert parse_int(hex(v)) == v
    assert parse_int(f"{v:_x}".replace("-", "-0x") if v < 0 else f"0x{v:_x}") == v


def test_format_imm64() -> None:
    assert format_imm64(0) == "0"
    assert format_imm64(9999) == "9999"
    assert format_imm64(10000) == "0x2710"
    assert format_imm64(-9999) == "-9999"
    assert format_imm64(-10000) == "0xffff_ffff_ffff_d8f0"
    assert format_imm64(0xFFFF) == "0xffff"
    assert format_imm64(0x10000) == "0x0001_0000"
    assert format_imm64(-(1 << 63)) == "0x8000_0000_0000_0000"
    assert format_imm64((1 << 64) - 1) == "-1"                 # read as i64
    assert format_imm64(0x9788BB) == "0x0097_88bb"
    for bad in (1 << 64, -(1 << 63) - 1):
        with pytest.raises(ValueError):
            format_imm64(bad)


@given(st.integers(-(1 << 63), (1 << 63) - 1))
@PROPERTY
def test_format_imm64_round_trips(v: int) -> None:
    got = parse_int(format_imm64(v))
    assert got == v or got == v + (1 << 64)


def test_format_uimm() -> None:
    assert format_uimm(0) == "0"
    assert format_uimm(9999) == "9999"
    assert format_uimm(10000) == "0x2710"
    assert format_uimm((-9999) & ((1 << 64) - 1)) == "0xffff_ffff_ffff_d8f1"
    assert format_uimm((-10000) & ((1 << 64) - 1)) == "0xffff_ffff_ffff_d8f0"
    assert format_uimm(0xFFFF) == "0xffff"
    assert format_uimm(0x10000) == "0x0001_0000"
    assert format_uimm((1 << 64) - 1) == "0xffff_ffff_ffff_ffff"
    with pytest.raises(ValueError):
        format_uimm(-1)


def test_format_offset32() -> None:
    assert format_offset32(0) == ""
    assert format_offset32(1) == "+1"
    assert format_offset32(-1) == "-1"
    assert format_offset32(8) == "+8"
    assert format_offset32(-8) == "-8"
    assert format_offset32(9999) == "+9999"
    assert format_offset32(10000) == "+0x2710"
    assert format_offset32(-9999) == "-9999"
    assert format_offset32(-10000) == "-0x2710"
    assert format_offset32(0xFFFF) == "+0xffff"
    assert format_offset32(0x10000) == "+0x0001_0000"
    assert format_offset32(-(1 << 31)) == "-0x8000_0000"
    assert parse_int(format_offset32(-(1 << 31))) == -(1 << 31)
    for bad in (1 << 31, -(1 << 31) - 1):
        with pytest.raises(ValueError):
            format_offset32(bad)
