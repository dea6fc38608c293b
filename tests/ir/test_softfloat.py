"""Tests of heron.ir.softfloat against the host, struct's binary16 and exact references.

Oracles, from most to least independent:
- the host's binary64 (Python floats) for f64, and binary64 followed by one
  more rounding (struct 'f' / 'e') for f32 and f16: innocuous double rounding
  for + - * / sqrt because 53 >= 2p + 2;
- f128 checked through f64: promote, operate in f128, demote must equal the
  host's f64 result (113 >= 2 * 53 + 2);
- an exact Fraction reference written here (``ref_value``/``ref_round``)
  that shares no code with the module, for fma and conversions.
"""

from __future__ import annotations

import math
import random
import struct
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from heron.ir import softfloat as sf

WIDTHS = (16, 32, 64, 128)
EXP_BITS = {16: 5, 32: 8, 64: 11, 128: 15}
# Hypothesis draws are the slow part here (milliseconds each), so the bulk
# comparisons run over a seeded corpus and hypothesis drives the properties.
PROPERTY = settings(max_examples=80, deadline=None)


# -- independent references ------------------------------------------------------

def layout(w: int) -> tuple[int, int, int]:
    e = EXP_BITS[w]
    t = w - 1 - e
    return e, t, (1 << (e - 1)) - 1


def sign_bit(w: int) -> int:
    return 1 << (w - 1)


def inf(w: int) -> int:
    e, t, _ = layout(w)
    return ((1 << e) - 1) << t


def ref_value(w: int, bits: int) -> Fraction | None:
    """Exact value of a finite float; None for inf/NaN."""
    e_bits, t, bias = layout(w)
    exp = (bits >> t) & ((1 << e_bits) - 1)
    frac = bits & ((1 << t) - 1)
    if exp == (1 << e_bits) - 1:
        return None
    if exp == 0:
        mag = Fraction(frac) * Fraction(2) ** (1 - bias - t)
    else:
        mag = Fraction((1 << t) | frac) * Fraction(2) ** (exp - bias - t)
    return -mag if bits >> (w - 1) else mag


def ref_round(w: int, q: Fraction, zero_sign: int = 0) -> int:
    """Round a rational to the nearest float (ties to even), the textbook way."""
    e_bits, t, bias = layout(w)
    if q == 0:
        return zero_sign
    sign = sign_bit(w) if q < 0 else 0
    q = abs(q)
    exp = q.numerator.bit_length() - q.denominator.bit_length()
    while Fraction(2) ** exp > q:
        exp -= 1
    while Fraction(2) ** (exp + 1) <= q:
        exp += 1
    exp = max(exp, 1 - bias)
    n = q / Fraction(2) ** (exp - t)
    whole = math.floor(n)
    rest = n - whole
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and whole % 2):
        whole += 1
    if whole == 1 << (t + 1):
        whole >>= 1
        exp += 1
    if exp > bias:
        return sign | inf(w)
    if whole < 1 << t:
        return sign | whole
    return sign | ((exp + bias) << t) | (whole - (1 << t))


def is_nan(w: int, bits: int) -> bool:
    return (bits & (sign_bit(w) - 1)) > inf(w)


def to_host(w: int, bits: int) -> float:
    if w == 64:
        return struct.unpack("<d", struct.pack("<Q", bits))[0]
    if w == 32:
        return struct.unpack("<f", struct.pack("<I", bits))[0]
    return struct.unpack("<e", struct.pack("<H", bits))[0]


def from_host(w: int, x: float) -> int:
    """Round a host double to width w with struct; NaN gives the canonical NaN."""
    if x != x:
        return sf.canonical_nan(w)
    if w == 64:
        return struct.unpack("<Q", struct.pack("<d", x))[0]
    code, ucode = ("f", "I") if w == 32 else ("e", "H")
    try:
        return struct.unpack("<" + ucode, struct.pack("<" + code, x))[0]
    except OverflowError:
        return (sign_bit(w) if x < 0 else 0) | inf(w)


def host_op(w: int, op: str, a: int, b: int = 0) -> int:
    x, y = to_host(w, a), to_host(w, b)
    if op == "add":
        r = x + y
    elif op == "sub":
        r = x - y
    elif op == "mul":
        r = x * y
    elif op == "div":
        if y == 0.0:
            r = math.nan if x == 0.0 or x != x else math.copysign(math.inf, x) * math.copysign(1.0, y)
        else:
            r = x / y
    else:
        r = math.nan if x < 0 else math.sqrt(x)
    return from_host(w, r)


def float_bits(w: int) -> st.SearchStrategy[int]:
    """Uniform patterns mixed with structured ones: specials, binade edges, near 1.0."""
    e_bits, t, bias = layout(w)
    e_max = (1 << e_bits) - 1
    exps = st.one_of(
        st.integers(0, e_max),
        st.sampled_from([0, 1, 2, bias - 1, bias, bias + 1, e_max - 1, e_max]),
        st.integers(bias - 8, bias + 8),
        st.integers(max(0, bias - t - 4), bias + t + 4),
    )
    fracs = st.one_of(
        st.integers(0, (1 << t) - 1),
        st.sampled_from([0, 1, 2, (1 << t) - 1, 1 << (t - 1), (1 << (t - 1)) + 1]),
        st.integers(0, 15),
        st.integers(0, 15).map(lambda x: x << (t - 4)),
    )
    structured = st.builds(lambda s, e, fr: (s << (w - 1)) | (e << t) | fr, st.integers(0, 1), exps, fracs)
    return st.one_of(st.integers(0, (1 << w) - 1), structured)


def sample_bits(rng: random.Random, w: int) -> int:
    """The seeded twin of :func:`float_bits`: mostly structured patterns."""
    e_bits, t, bias = layout(w)
    e_max = (1 << e_bits) - 1
    if rng.random() < 0.25:
        return rng.getrandbits(w)
    exp = rng.choice((
        lambda: rng.randint(0, e_max),
        lambda: rng.choice((0, 1, 2, bias - 1, bias, bias + 1, e_max - 1, e_max)),
        lambda: rng.randint(bias - 8, bias + 8),
        lambda: rng.randint(max(0, bias - t - 4), bias + t + 4),
    ))()
    frac = rng.choice((
        lambda: rng.getrandbits(t),
        lambda: rng.choice((0, 1, 2, (1 << t) - 1, 1 << (t - 1), (1 << (t - 1)) + 1)),
        lambda: rng.randint(0, 15),
        lambda: rng.randint(0, 15) << (t - 4),
    ))()
    return (rng.getrandbits(1) << (w - 1)) | (exp << t) | frac


def corpus(w: int, n: int, arity: int = 1, seed: int = 0) -> list[tuple[int, ...]]:
    rng = random.Random(f"{w}/{n}/{arity}/{seed}")
    return [tuple(sample_bits(rng, w) for _ in range(arity)) for _ in range(n)]


OPS2 = ("add", "sub", "mul", "div")
FN2 = {"add": sf.fadd, "sub": sf.fsub, "mul": sf.fmul, "div": sf.fdiv}
EXACT2 = {"add": sf._add_exact, "mul": sf._mul_exact, "div": sf._div_exact}


def exact_op(w: int, op: str, a: int, b: int = 0) -> int:
    """The module's exact (generic) path, also for the widths that have a fast path."""
    f = sf._FORMATS[w]
    if op == "sub":
        return sf._add_exact(f, a, b ^ f.sign_bit)
    if op == "sqrt":
        return sf._sqrt_exact(f, a)
    return EXACT2[op](f, a, b)


# -- the references check themselves ----------------------------------------------

@given(st.floats(allow_nan=False, allow_infinity=False))
@PROPERTY
def test_references_agree_with_host_f64(x: float) -> None:
    bits = struct.unpack("<Q", struct.pack("<d", x))[0]
    assert ref_value(64, bits) == Fraction(x)
    assert ref_round(64, Fraction(x), bits & sign_bit(64)) == bits
    assert ref_round(32, Fraction(x), bits & sign_bit(64) and sign_bit(32)) == from_host(32, x)
    assert ref_round(16, Fraction(x), bits & sign_bit(64) and sign_bit(16)) == from_host(16, x)


# -- binary arithmetic against the host -------------------------------------------

@pytest.mark.parametrize("w", (16, 32, 64))
@pytest.mark.parametrize("op", OPS2)
def test_binary_ops_match_host(w: int, op: str) -> None:
    # The public function (the fast path for f32/f64) and the exact path.
    for a, b in corpus(w, 3000, 2):
        want = host_op(w, op, a, b)
        assert FN2[op](w, a, b) == want, (hex(a), hex(b))
        assert exact_op(w, op, a, b) == want, (hex(a), hex(b))


@given(a=float_bits(64), b=float_bits(64), op=st.sampled_from(OPS2 + ("sqrt",)))
@PROPERTY
def test_f64_ops_equal_host_floats(a: int, b: int, op: str) -> None:
    x, y = to_host(64, a), to_host(64, b)
    got = sf.fsqrt(64, a) if op == "sqrt" else FN2[op](64, a, b)
    host = {"add": lambda: x + y, "sub": lambda: x - y, "mul": lambda: x * y,
            "div": lambda: x / y, "sqrt": lambda: math.sqrt(x)}
    try:
        r = host[op]()
    except (ZeroDivisionError, ValueError):
        return          # Python raises where IEEE gives inf/NaN: see test_special_values
    if r != r:
        assert got == sf.canonical_nan(64)
    else:
        assert got == struct.unpack("<Q", struct.pack("<d", r))[0]


@pytest.mark.parametrize("w", (16, 32, 64))
def test_sqrt_matches_host(w: int) -> None:
    for (a,) in corpus(w, 3000):
        want = host_op(w, "sqrt", a)
        assert sf.fsqrt(w, a) == want, hex(a)
        assert exact_op(w, "sqrt", a) == want, hex(a)


def test_f16_sqrt_exhaustive() -> None:
    for a in range(1 << 16):
        assert sf.fsqrt(16, a) == host_op(16, "sqrt", a), hex(a)


def check_f128_through_f64(op: str, a: int, b: int) -> None:
    # binary128 has 113 >= 2 * 53 + 2 bits, so f64 -> f128 op -> f64 equals the f64 op.
    a128, b128 = sf.fcvt(64, 128, a), sf.fcvt(64, 128, b)
    r128 = sf.fsqrt(128, a128) if op == "sqrt" else FN2[op](128, a128, b128)
    assert sf.fcvt(128, 64, r128) == host_op(64, op, a, b), (hex(a), hex(b))


@pytest.mark.parametrize("op", OPS2 + ("sqrt",))
def test_f128_through_f64(op: str) -> None:
    for a, b in corpus(64, 1500, 2):
        check_f128_through_f64(op, a, b)


@given(a=float_bits(64), b=float_bits(64), op=st.sampled_from(OPS2 + ("sqrt",)))
@PROPERTY
def test_f128_through_f64_property(a: int, b: int, op: str) -> None:
    check_f128_through_f64(op, a, b)


@pytest.mark.parametrize("op", OPS2)
def test_f128_against_fractions(op: str) -> None:
    for a, b in corpus(128, 300, 2):
        x, y = ref_value(128, a), ref_value(128, b)
        if x is None or y is None or x == 0 or y == 0:
            continue
        exact = {"add": x + y, "sub": x - y, "mul": x * y, "div": x / y}[op]
        assert FN2[op](128, a, b) == (ref_round(128, exact) if exact else 0), (hex(a), hex(b))


@pytest.mark.parametrize("w", WIDTHS)
def test_sqrt_is_correctly_rounded(w: int) -> None:
    # r is the rounded root iff a lies strictly between the squares of the
    # midpoints around r (a root of a float is never exactly a midpoint).
    for (a,) in corpus(w, 400):
        a &= sign_bit(w) - 1
        x = ref_value(w, a)
        if x is None or x == 0:
            continue
        r = sf.fsqrt(w, a)
        rv = ref_value(w, r)
        assert rv is not None
        below = ref_value(w, r - 1) if r & ((1 << (w - 1)) - 1) else Fraction(0)
        above = ref_value(w, r + 1)
        above = 2 * rv - below if above is None else above   # r is the largest finite
        assert ((below + rv) / 2) ** 2 < x < ((rv + above) / 2) ** 2, hex(a)


@given(data=st.data())
@PROPERTY
def test_add_and_mul_commute(data: st.DataObject) -> None:
    w = data.draw(st.sampled_from(WIDTHS))
    a = data.draw(float_bits(w))
    b = data.draw(float_bits(w))
    assert sf.fadd(w, a, b) == sf.fadd(w, b, a)
    assert sf.fmul(w, a, b) == sf.fmul(w, b, a)


# -- special values, all widths ----------------------------------------------------

def one(w: int) -> int:
    _, t, bias = layout(w)
    return bias << t


def max_finite(w: int) -> int:
    return inf(w) - 1


@pytest.mark.parametrize("w", WIDTHS)
def test_special_values(w: int) -> None:
    s, i, n, z, o = sign_bit(w), inf(w), sf.canonical_nan(w), 0, one(w)
    nz = s
    payload_nan = i | 1                    # a signaling NaN with a payload
    neg_qnan = s | n | 5
    assert n == i | (1 << (w - EXP_BITS[w] - 2))
    for fn in (sf.fadd, sf.fsub, sf.fmul, sf.fdiv, sf.fmin, sf.fmax):
        assert fn(w, payload_nan, o) == n
        assert fn(w, o, neg_qnan) == n
    assert sf.fsqrt(w, payload_nan) == n
    assert sf.ffma(w, o, o, payload_nan) == n
    # Signed zeros.
    assert sf.fadd(w, z, nz) == z
    assert sf.fadd(w, nz, nz) == nz
    assert sf.fsub(w, nz, z) == nz
    assert sf.fsub(w, o, o) == z
    assert sf.fmul(w, nz, o) == nz
    assert sf.fmul(w, nz, nz) == z
    assert sf.fdiv(w, o, nz) == s | i
    assert sf.fdiv(w, nz, o) == nz
    assert sf.fsqrt(w, nz) == nz
    assert sf.fsqrt(w, s | o) == n
    assert sf.fsqrt(w, s | i) == n
    assert sf.fsqrt(w, i) == i
    # Infinities.
    assert sf.fadd(w, i, s | i) == n
    assert sf.fsub(w, i, i) == n
    assert sf.fadd(w, i, s | max_finite(w)) == i
    assert sf.fmul(w, i, z) == n
    assert sf.fmul(w, s | i, o) == s | i
    assert sf.fdiv(w, i, i) == n
    assert sf.fdiv(w, z, z) == n
    assert sf.fdiv(w, o, i) == z
    assert sf.fdiv(w, s | o, i) == nz
    # Overflow and the largest values.
    assert sf.fadd(w, max_finite(w), max_finite(w)) == i
    assert sf.fmul(w, s | max_finite(w), max_finite(w)) == s | i
    assert sf.fsub(w, s | max_finite(w), max_finite(w)) == s | i


@pytest.mark.parametrize("w", WIDTHS)
def test_subnormals_and_ties(w: int) -> None:
    _, t, bias = layout(w)
    tiny = 1                                   # least subnormal
    min_normal = 1 << t
    half = (bias - 1) << t                     # 0.5
    two = (bias + 1) << t
    # Subnormal arithmetic is exact where it can be.
    assert sf.fadd(w, tiny, tiny) == 2
    assert sf.fsub(w, min_normal, tiny) == min_normal - 1
    assert sf.fadd(w, min_normal - 1, tiny) == min_normal
    # tiny * 0.5 is a tie between 0 and tiny: to even gives 0; 3 * tiny * 0.5 gives 2 tiny.
    assert sf.fmul(w, tiny, half) == 0
    assert sf.fmul(w, sign_bit(w) | tiny, half) == sign_bit(w)
    assert sf.fmul(w, 3, half) == 2
    assert sf.fdiv(w, tiny, two) == 0
    assert sf.fdiv(w, 3, two) == 2
    # 1 + ulp/2 ties to 1 (even); (1 + ulp) + ulp/2 ties to 1 + 2 ulp.
    o = one(w)
    half_ulp = (bias - t - 1) << t
    assert sf.fadd(w, o, half_ulp) == o
    assert sf.fadd(w, o + 1, half_ulp) == o + 2
    assert sf.fadd(w, o, half_ulp + 1) == o + 1      # just above the tie


# -- fused multiply-add -------------------------------------------------------------

def ref_fma(w: int, a: int, b: int, c: int) -> int | None:
    """Exact-reference fma for finite operands; None when the operands are not all finite."""
    x, y, z = ref_value(w, a), ref_value(w, b), ref_value(w, c)
    if x is None or y is None or z is None:
        return None
    exact = x * y + z
    if exact == 0:
        product_negative = (a ^ b) >> (w - 1)
        if x * y == 0 and z == 0:
            both_negative = product_negative and c >> (w - 1)
            return sign_bit(w) if both_negative else 0
        return 0
    return ref_round(w, exact)


@pytest.mark.parametrize("w", WIDTHS)
def test_fma_against_fractions(w: int) -> None:
    for a, b, c in corpus(w, 500, 3):
        want = ref_fma(w, a, b, c)
        if want is not None:
            assert sf.ffma(w, a, b, c) == want, (hex(a), hex(b), hex(c))


@given(data=st.data())
@PROPERTY
def test_fma_against_fractions_property(data: st.DataObject) -> None:
    w = data.draw(st.sampled_from(WIDTHS))
    a, b, c = (data.draw(float_bits(w)) for _ in range(3))
    want = ref_fma(w, a, b, c)
    if want is not None:
        assert sf.ffma(w, a, b, c) == want


@pytest.mark.parametrize("w", WIDTHS)
def test_fma_cancellation(w: int) -> None:
    # c = -round(a * b): the result is exactly the rounding error of a * b.
    for a, b in corpus(w, 300, 2):
        c = sf.fneg(w, sf.fmul(w, a, b))
        want = ref_fma(w, a, b, c)
        if want is not None:
            assert sf.ffma(w, a, b, c) == want, (hex(a), hex(b))


def test_fma_single_rounding() -> None:
    # f64: (1 + 2^-52)(1 - 2^-52) - 1 == -2^-104, which a separate multiply loses.
    a = sf.from_python_float(64, 1 + 2.0**-52)
    b = sf.from_python_float(64, 1 - 2.0**-52)
    c = sf.from_python_float(64, -1.0)
    assert sf.to_python_float(64, sf.ffma(64, a, b, c)) == -(2.0**-104)
    assert sf.fadd(64, sf.fmul(64, a, b), c) == 0
    # f32: a double product plus c, rounded twice, would be wrong here.
    a32, c32 = 0x3F800001, 0x33800000                # 1 + 2^-23, 2^-24
    want = ref_round(32, Fraction(1 + 2**-23) ** 2 + Fraction(2**-24))
    assert sf.ffma(32, a32, a32, c32) == want == 0x3F800003
    # Signed zeros and infinities.
    s = sign_bit(64)
    one64 = one(64)
    assert sf.ffma(64, s, one64, s) == s                   # -0 * 1 + -0
    assert sf.ffma(64, s, one64, 0) == 0                   # -0 * 1 + +0
    assert sf.ffma(64, one64, one64, s | one64) == 0        # exact cancellation is +0
    assert sf.ffma(64, inf(64), 0, one64) == sf.canonical_nan(64)
    assert sf.ffma(64, inf(64), one64, s | inf(64)) == sf.canonical_nan(64)
    assert sf.ffma(64, inf(64), s | one64, s | inf(64)) == s | inf(64)
    assert sf.ffma(64, one64, one64, inf(64)) == inf(64)
    assert sf.ffma(64, max_finite(64), max_finite(64), s | inf(64)) == s | inf(64)


# -- bit operations ------------------------------------------------------------------

@pytest.mark.parametrize("w", WIDTHS)
def test_bit_operations_keep_payloads(w: int) -> None:
    s = sign_bit(w)
    snan = inf(w) | 3
    assert sf.fneg(w, snan) == s | snan
    assert sf.fabs(w, s | snan) == snan
    assert sf.fcopysign(w, snan, s) == s | snan
    assert sf.fcopysign(w, s | one(w), 0) == one(w)
    assert sf.fneg(w, 0) == s


# -- comparisons, min, max -------------------------------------------------------------

@pytest.mark.parametrize("w", (16, 32, 64))
def test_compares_match_host(w: int) -> None:
    pairs = corpus(w, 3000, 2)
    pairs += [(a, a) for a, _ in pairs[:300]] + [(a, a ^ sign_bit(w)) for a, _ in pairs[:300]]
    for a, b in pairs:
        x, y = to_host(w, a), to_host(w, b)
        assert sf.feq(w, a, b) == (x == y)
        assert sf.flt(w, a, b) == (x < y)
        assert sf.fle(w, a, b) == (x <= y)
        assert sf.funord(w, a, b) == (x != x or y != y)


@pytest.mark.parametrize("w", WIDTHS)
def test_min_max(w: int) -> None:
    for a, b in corpus(w, 1500, 2):
        lo, hi = sf.fmin(w, a, b), sf.fmax(w, a, b)
        if is_nan(w, a) or is_nan(w, b):
            assert lo == hi == sf.canonical_nan(w)
            assert sf.fmin_pseudo(w, a, b) == a
            assert sf.fmax_pseudo(w, a, b) == a
            continue
        assert {lo, hi} <= {a, b}
        assert sf.fle(w, lo, hi)
        assert sf.fmin_pseudo(w, a, b) == (b if sf.flt(w, b, a) else a)
        assert sf.fmax_pseudo(w, a, b) == (b if sf.flt(w, a, b) else a)


@pytest.mark.parametrize("w", WIDTHS)
def test_min_max_zeros(w: int) -> None:
    nz = sign_bit(w)
    assert sf.fmin(w, 0, nz) == sf.fmin(w, nz, 0) == nz
    assert sf.fmax(w, 0, nz) == sf.fmax(w, nz, 0) == 0
    assert sf.feq(w, 0, nz) and sf.fle(w, nz, 0) and not sf.flt(w, nz, 0)
    # pmin/pmax see +0 == -0 and return the first operand.
    assert sf.fmin_pseudo(w, 0, nz) == 0 and sf.fmin_pseudo(w, nz, 0) == nz
    assert sf.fmax_pseudo(w, nz, 0) == nz
    n = sf.canonical_nan(w)
    assert sf.fmin_pseudo(w, one(w), n | 1) == one(w)


# -- rounding to integral ---------------------------------------------------------------

def host_round(x: float, mode: str) -> float:
    if math.isinf(x) or x != x or abs(x) >= 2.0**52:
        return x
    r = {"ceil": math.ceil, "floor": math.floor, "trunc": math.trunc, "nearest": round}[mode](x)
    return math.copysign(float(r), x)


ROUND_FNS = {"ceil": sf.fceil, "floor": sf.ffloor, "trunc": sf.ftrunc, "nearest": sf.fnearest}


@pytest.mark.parametrize("mode", ROUND_FNS)
@pytest.mark.parametrize("w", (32, 64))
def test_round_integral_matches_host(mode: str, w: int) -> None:
    for (a,) in corpus(w, 3000):
        assert ROUND_FNS[mode](w, a) == from_host(w, host_round(to_host(w, a), mode)), hex(a)


@pytest.mark.parametrize("mode", ROUND_FNS)
def test_round_integral_f16_exhaustive(mode: str) -> None:
    fn = ROUND_FNS[mode]
    for a in range(1 << 16):
        assert fn(16, a) == from_host(16, host_round(to_host(16, a), mode)), hex(a)


@pytest.mark.parametrize("mode", ROUND_FNS)
def test_round_integral_f128_through_f64(mode: str) -> None:
    # Rounding to integral is exact, so it commutes with the exact promotion.
    fn = ROUND_FNS[mode]
    for (a,) in corpus(64, 1500):
        assert fn(128, sf.fcvt(64, 128, a)) == sf.fcvt(64, 128, fn(64, a)), hex(a)


@pytest.mark.parametrize("w", WIDTHS)
def test_round_integral_signs_and_ties(w: int) -> None:
    def val(x: float) -> int:
        return sf.from_python_float(w, x)

    assert sf.fceil(w, val(-0.5)) == val(-0.0)
    assert sf.ffloor(w, val(0.5)) == val(0.0)
    assert sf.ffloor(w, val(-0.5)) == val(-1.0)
    assert sf.ftrunc(w, val(-0.9)) == val(-0.0)
    assert sf.fnearest(w, val(0.5)) == val(0.0)
    assert sf.fnearest(w, val(1.5)) == val(2.0)
    assert sf.fnearest(w, val(2.5)) == val(2.0)
    assert sf.fnearest(w, val(-2.5)) == val(-2.0)
    assert sf.fnearest(w, val(-0.25)) == val(-0.0)
    assert sf.fceil(w, 1) == one(w)                      # least subnormal
    assert sf.fceil(w, inf(w) | 7) == sf.canonical_nan(w)
    assert sf.ffloor(w, sign_bit(w) | inf(w)) == sign_bit(w) | inf(w)


# -- float <-> float conversions --------------------------------------------------------

def test_fcvt_demote_matches_struct() -> None:
    for (a,) in corpus(64, 3000):
        x = to_host(64, a)
        assert sf.fcvt(64, 32, a) == from_host(32, x), hex(a)
        assert sf.fcvt(64, 16, a) == from_host(16, x), hex(a)
        # The exact path agrees with the struct fast path.
        assert sf.fcvt(128, 32, sf.fcvt(64, 128, a)) == from_host(32, x), hex(a)


@pytest.mark.parametrize("w", (16, 32, 64))
def test_fcvt_promote_is_exact(w: int) -> None:
    for (a,) in corpus(w, 1000):
        for wide in (x for x in WIDTHS if x > w):
            b = sf.fcvt(w, wide, a)
            if is_nan(w, a):
                assert b == sf.canonical_nan(wide)
            else:
                assert ref_value(wide, b) == ref_value(w, a)
                assert b >> (wide - 1) == a >> (w - 1)
                assert sf.fcvt(wide, w, b) == a


def test_fcvt_f16_exhaustive() -> None:
    for a in range(1 << 16):
        want = from_host(64, to_host(16, a))
        assert sf.fcvt(16, 64, a) == want
        assert sf.fcvt(64, 16, want) == (sf.canonical_nan(16) if is_nan(16, a) else a)


def test_fcvt_f128_rounding() -> None:
    one128 = one(128)
    tie = one128 | (1 << (112 - 53))                      # 1 + 2^-53: halfway in f64
    assert sf.fcvt(128, 64, tie) == one(64)
    assert sf.fcvt(128, 64, tie | 1) == one(64) + 1       # just above the tie
    assert sf.fcvt(128, 64, tie | (1 << (112 - 52))) == one(64) + 2   # odd + half -> even
    assert sf.fcvt(128, 64, max_finite(128)) == inf(64)
    assert sf.fcvt(128, 64, sign_bit(128) | 1) == sign_bit(64)    # underflow keeps the sign
    assert sf.fcvt(128, 16, sf.canonical_nan(128) | 1) == sf.canonical_nan(16)
    assert sf.fcvt(32, 32, 0xFF800001) == sf.canonical_nan(32)
    assert sf.fcvt(32, 32, 0x80000000) == 0x80000000


# -- int <-> float conversions ----------------------------------------------------------

def signed(w: int, x: int) -> int:
    return x - (1 << w) if x >> (w - 1) else x


INT_WIDTHS = (8, 16, 32, 64, 128)


@pytest.mark.parametrize("w_fp", WIDTHS)
@pytest.mark.parametrize("w_int", INT_WIDTHS)
def test_int_to_float_against_fractions(w_int: int, w_fp: int) -> None:
    rng = random.Random(f"{w_int}->{w_fp}")
    mask = (1 << w_int) - 1
    for _ in range(150):
        k = rng.randrange(w_int)
        x = rng.choice((
            rng.getrandbits(w_int),
            1 << k,
            ((1 << k) + rng.randint(0, 3)) & mask,                 # just above a power of two
            ((1 << k) - rng.randint(1, 3)) & mask,                 # just below one
            (rng.getrandbits(w_int) | (1 << k)) >> (w_int - k - 1),  # k + 1 significant bits
        ))
        assert sf.sitofp(w_int, w_fp, x) == ref_round(w_fp, Fraction(signed(w_int, x))), hex(x)
        assert sf.uitofp(w_int, w_fp, x) == ref_round(w_fp, Fraction(x)), hex(x)


def test_int_to_float_double_rounding_trap() -> None:
    # v is just above the midpoint of two f32 neighbours.  Through f64 it
    # rounds down onto the midpoint, and then ties-to-even goes down: wrong.
    v = (1 << 62) + (1 << 38) + 1
    through_double = from_host(32, float(v))
    correct = ((127 + 62) << 23) | 1                       # 2^62 + 2^39
    assert through_double == (127 + 62) << 23              # the trap is real
    assert sf.sitofp(64, 32, v) == correct
    assert sf.uitofp(64, 32, v) == correct
    assert sf.sitofp(64, 32, (-v) & ((1 << 64) - 1)) == sign_bit(32) | correct
    # The same trap from i128 to f32 and to f16.
    big = (1 << 100) + (1 << 76) + 1
    assert sf.uitofp(128, 32, big) == ((127 + 100) << 23) | 1
    assert sf.uitofp(32, 16, (1 << 14) + (1 << 3) + 1) == ((15 + 14) << 10) | 1


def test_int_to_float_boundaries() -> None:
    m64 = (1 << 64) - 1
    assert sf.sitofp(64, 64, 0x7FFFFFFFFFFFFFFF) == 0x43E0000000000000      # 2^63
    assert sf.sitofp(64, 64, 0x8000000000000000) == 0xC3E0000000000000      # -2^63
    assert sf.uitofp(64, 64, m64) == 0x43F0000000000000                     # 2^64
    assert sf.sitofp(64, 64, m64) == 0xBFF0000000000000                     # -1
    assert sf.sitofp(64, 32, 0x7FFFFFFFFFFFFFFF) == 0x5F000000
    assert sf.sitofp(64, 64, (1 << 53) + 1) == 0x4340000000000000          # tie to even
    assert sf.sitofp(64, 64, (1 << 53) + 3) == 0x4340000000000002
    assert sf.uitofp(128, 32, (1 << 128) - 1) == 0x7F800000                 # rounds past f32 max
    assert sf.uitofp(128, 32, (1 << 128) - (1 << 104)) == 0x7F7FFFFF        # f32 max exactly
    assert sf.sitofp(128, 32, 1 << 127) == 0xFF000000                       # -2^127
    assert sf.uitofp(32, 16, 65519) == 0x7BFF                               # below the tie
    assert sf.uitofp(32, 16, 65520) == 0x7C00                               # tie rounds to inf
    assert sf.sitofp(8, 32, 0xFF) == 0xBF800000
    assert sf.sitofp(16, 16, 0) == 0
    assert sf.uitofp(128, 128, (1 << 128) - 1) == ref_round(128, Fraction((1 << 128) - 1))


def f32(x: float) -> int:
    return from_host(32, x)


def f64(x: float) -> int:
    return from_host(64, x)


def test_float_to_int_boundaries() -> None:
    assert sf.fptosi(32, 32, f32(2147483648.0)) is None
    assert sf.fptosi_sat(32, 32, f32(2147483648.0)) == 0x7FFFFFFF
    assert sf.fptosi(32, 32, f32(-2147483648.0)) == 0x80000000
    assert sf.fptosi(64, 32, f64(-2147483648.9)) == 0x80000000
    assert sf.fptosi(64, 32, f64(-2147483649.0)) is None
    assert sf.fptosi(64, 32, f64(2147483647.9)) == 0x7FFFFFFF
    assert sf.fptoui(32, 32, f32(-1.0)) is None
    assert sf.fptoui(32, 32, f32(-0.9)) == 0
    assert sf.fptoui(32, 32, f32(-0.0)) == 0
    assert sf.fptoui_sat(32, 32, f32(-1.0)) == 0
    assert sf.fptoui(64, 32, f64(4294967295.9)) == 0xFFFFFFFF
    assert sf.fptoui(64, 32, f64(4294967296.0)) is None
    assert sf.fptosi(64, 64, f64(2.0**63)) is None
    assert sf.fptosi(64, 64, f64(-(2.0**63))) == 1 << 63
    assert sf.fptosi(64, 64, f64(9223372036854774784.0)) == 9223372036854774784
    assert sf.fptoui(64, 64, f64(2.0**64)) is None
    assert sf.fptoui(64, 64, f64(2.0**64 - 2048)) == (1 << 64) - 2048
    assert sf.fptosi(32, 8, f32(127.9)) == 127
    assert sf.fptosi(32, 8, f32(128.0)) is None
    assert sf.fptosi(32, 8, f32(-128.9)) == 0x80
    assert sf.fptosi_sat(32, 8, f32(-1000.0)) == 0x80
    assert sf.fptosi(16, 16, 0x7BFF) is None                  # 65504
    assert sf.fptoui(16, 16, 0x7BFF) == 65504
    assert sf.fptoui_sat(16, 16, 0x7C00) == 0xFFFF
    assert sf.fptosi(128, 128, sf.uitofp(128, 128, 1 << 127)) is None
    assert sf.fptosi(128, 128, sf.sitofp(128, 128, 1 << 127)) == 1 << 127
    assert sf.fptosi(128, 64, max_finite(128)) is None
    assert sf.fptosi_sat(128, 64, max_finite(128)) == 0x7FFFFFFFFFFFFFFF
    assert sf.fptoui_sat(128, 64, sign_bit(128) | max_finite(128)) == 0
    for w in WIDTHS:
        n, i = sf.canonical_nan(w), inf(w)
        assert sf.fptosi(w, 32, n) is None and sf.fptoui(w, 32, n) is None
        assert sf.fptosi(w, 32, i) is None and sf.fptoui(w, 32, sign_bit(w) | i) is None
        assert sf.fptosi_sat(w, 32, n | 1) == 0 and sf.fptoui_sat(w, 32, n) == 0
        assert sf.fptosi_sat(w, 32, i) == 0x7FFFFFFF
        assert sf.fptosi_sat(w, 32, sign_bit(w) | i) == 0x80000000
        assert sf.fptoui_sat(w, 32, i) == 0xFFFFFFFF
        assert sf.fptoui_sat(w, 32, sign_bit(w) | i) == 0


@pytest.mark.parametrize("w_int", (8, 32, 64, 128))
@pytest.mark.parametrize("w_fp", WIDTHS)
def test_float_to_int_matches_python_trunc(w_fp: int, w_int: int) -> None:
    half, top = 1 << (w_int - 1), 1 << w_int
    mask = top - 1
    for (a,) in corpus(w_fp, 1000):
        q = ref_value(w_fp, a)
        if is_nan(w_fp, a):
            want_s = want_u = None
            sat_s = sat_u = 0
        elif q is None:
            want_s = want_u = None
            sat_s, sat_u = (-half, 0) if a >> (w_fp - 1) else (half - 1, top - 1)
        else:
            v = math.trunc(q)
            want_s = v if -half <= v < half else None
            want_u = v if 0 <= v < top else None
            sat_s, sat_u = max(-half, min(half - 1, v)), max(0, min(top - 1, v))
        assert sf.fptosi(w_fp, w_int, a) == (None if want_s is None else want_s & mask), hex(a)
        assert sf.fptoui(w_fp, w_int, a) == want_u, hex(a)
        assert sf.fptosi_sat(w_fp, w_int, a) == sat_s & mask, hex(a)
        assert sf.fptoui_sat(w_fp, w_int, a) == sat_u, hex(a)


# -- exact values and host floats --------------------------------------------------------

@pytest.mark.parametrize("w", WIDTHS)
def test_fraction_round_trip(w: int) -> None:
    for (a,) in corpus(w, 1000):
        q = sf.to_fraction(w, a)
        assert q == ref_value(w, a)
        if q is not None and q != 0:
            assert sf.from_fraction(w, q) == a


@given(
    w=st.sampled_from(WIDTHS),
    num=st.integers(-(1 << 140), 1 << 140),
    den_exp=st.integers(0, 16500),
    den_odd=st.integers(0, 1000),
)
@PROPERTY
def test_from_fraction_rounds_correctly(w: int, num: int, den_exp: int, den_odd: int) -> None:
    q = Fraction(num, (2 * den_odd + 1) << den_exp)
    assert sf.from_fraction(w, q) == ref_round(w, q)


def test_python_float_helpers() -> None:
    assert sf.from_python_float(64, 1.5) == 0x3FF8000000000000
    assert sf.from_python_float(32, 1.5) == 0x3FC00000
    assert sf.from_python_float(16, -2.0) == 0xC000
    assert sf.from_python_float(128, 1.0) == one(128)
    assert sf.from_python_float(32, 1e300) == 0x7F800000
    assert sf.to_python_float(32, 0x3FC00000) == 1.5
    assert sf.to_python_float(16, 0x0001) == 2.0**-24
    assert sf.to_python_float(128, one(128) | 1) == 1.0
    assert math.copysign(1.0, sf.to_python_float(64, sign_bit(64))) == -1.0
    assert math.isnan(sf.to_python_float(32, 0x7F800001))
    assert sf.is_nan(64, sf.from_python_float(64, math.nan))
    assert sf.from_python_float(32, math.nan) == 0x7FC00000


def test_canonical_nans_and_widths() -> None:
    assert sf.canonical_nan(16) == 0x7E00
    assert sf.canonical_nan(32) == 0x7FC00000
    assert sf.canonical_nan(64) == 0x7FF8000000000000
    assert sf.canonical_nan(128) == 0x7FFF8000000000000000000000000000
    assert sf.is_nan(32, 0xFF800001) and not sf.is_nan(32, 0xFF800000)
    with pytest.raises(ValueError, match="width 80"):
        sf.fadd(80, 0, 0)
    with pytest.raises(ValueError, match="width 8"):
        sf.canonical_nan(8)
