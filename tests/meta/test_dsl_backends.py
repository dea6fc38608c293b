"""The two back ends agree: generated Python and Z3 terms give the same bits.

For expressions covering every builtin, random and edge-case inputs are evaluated by
the Python function the back end writes and by Z3 (``heron.meta.smt.evaluate``,
simplifying the terms of concrete inputs).  Integers at 8, 16, 32, 64 and 128 bits;
floats at 16, 32 and 64 bits (and a few operations at 128).  Float results agree bit for bit, NaNs included (both
back ends produce the canonical NaN).
"""

from __future__ import annotations

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heron.errors import Trap
from heron.meta import smt
from heron.meta.dsl import BV, EnumImm, FlagsImm, instantiate, parse_expression, parse_semantics

from dsl_support import DictMemory, compile_program

INT_WIDTHS = (8, 16, 32, 64, 128)
FLOAT_WIDTHS = (16, 32, 64)
SETTINGS = settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

# Each case: semantics over x, y (w bits) and n (8 bits); the output `a` has w bits.
INT_CASES = [
    "a = x + y",
    "a = x - y",
    "a = x * y",
    "a = x & y | ~x ^ y",
    "a = -x",
    "a = udiv(x, y)",
    "a = sdiv(x, y)",
    "a = urem(x, y)",
    "a = srem(x, y)",
    "a = umulhi(x, y)",
    "a = smulhi(x, y)",
    "a = umin(x, y) ^ umax(x, y) << 1",
    "a = smin(x, y) ^ smax(x, y) << 1",
    "a = x << n",
    "a = x << y",
    "a = lshr(x, n)",
    "a = lshr(x, y)",
    "a = ashr(x, n)",
    "a = ashr(x, y)",
    "a = rotl(x, n)",
    "a = rotr(x, y)",
    "a = rotl(x, 3) ^ rotr(x, width(x) + 1)",
    "a = zext(concat(x == y, x != y, ult(x, y), ule(x, y), ugt(x, y), uge(x, y)), width(x))",
    "a = zext(concat(slt(x, y), sle(x, y), sgt(x, y), sge(x, y), x[0] && !y[1] || x[2]), width(x))",
    "a = clz(x)",
    "a = ctz(x)",
    "a = cls(x)",
    "a = popcnt(x)",
    "a = bswap(x)",
    "a = bitrev(x)",
    "a = bool(x) ? y : x + 1",
    "a = ite(x[0], x, y)",
    "a = concat(x[width(x) - 1:4], y[3:0])",
    "a = sext(trunc(x, 5), width(x)) ^ zext(trunc(y, 3), width(x))",
    "a = x + const(3, width(x)) - lanes(x) * lane_bits(x)",
    "a = vec(i: udiv(width(x), 8), lane(x, udiv(width(x), 8) - 1 - i, 8))",
    "a = zext(lane(x, n, 8), width(x)) ^ zext(lane(y, x, 4), width(x))",
    "a = zext(concat(all(i: 4, lane(x, i, 2) != 0), any(i: 4, lane(y, i, 2) == 3)), width(x))",
    "trap y == 0 : int_divz; a = udiv(x, y)",
    "trap y == 0 : int_divz; trap x == (1 << (width(x) - 1)) && y == -1 : int_ovf; a = sdiv(x, y)",
    "store(n, x); store(n + 3, y[7:0]); a = load(n, width(x)) + zext(load(n + 1, 8), width(x))",
    "a = cmp(x, y) ? x : y",
]

_CMP_VALUES = tuple((name, *parse_expression(text)) for name, text in (("eq", "x == y"), ("slt", "slt(x, y)"), ("ugt", "ugt(x, y)")))
CMP = EnumImm("Cmp", _CMP_VALUES)


def _int(w: int) -> st.SearchStrategy[int]:
    edges = [0, 1, 2, 3, (1 << w) - 1, (1 << (w - 1)), (1 << (w - 1)) - 1, (1 << w) - 2, 0x55 % (1 << w)]
    return st.one_of(st.sampled_from(edges), st.integers(0, (1 << w) - 1))


def _run_both(prog, values: dict, flags: str | None = None) -> None:
    py_args = []
    mem = DictMemory()
    for name, _ in prog.inputs:
        py_args.append(values[name])
    if prog.uses_memory:
        py_args.append(mem)
    try:
        py = compile_program(prog)(*py_args)
        py_trap = None
    except Trap as trap:
        py, py_trap = (), trap.code
    z3_inputs = dict(values)
    if flags is not None:
        z3_inputs["flags"] = flags
    ev = smt.smt_eval(prog, z3_inputs, memory=z3.K(z3.BitVecSort(64), z3.BitVecVal(0, 8)) if prog.uses_memory else None)
    z_trap = None
    for cond, code in ev.traps:
        c = z3.simplify(cond)
        assert z3.is_true(c) or z3.is_false(c), c
        if z3.is_true(c):
            z_trap = code
            break
    assert py_trap == z_trap, (values, py_trap, z_trap)
    if py_trap is not None:
        return
    z = [z3.simplify(ev.outputs[n]) for n, _ in prog.outputs]
    for (name, _), pv, zv in zip(prog.outputs, py, z):
        assert z3.is_bv_value(zv), (name, zv)
        assert int(pv) == zv.as_long(), (prog.label, name, {k: hex(v) for k, v in values.items()}, hex(pv), hex(zv.as_long()))


@pytest.mark.parametrize("w", INT_WIDTHS)
@pytest.mark.parametrize("text", INT_CASES)
def test_integer_builtins_agree(text: str, w: int) -> None:
    prog = instantiate(
        parse_semantics(text), {"x": BV(w), "y": BV(w), "n": BV(8), "cmp": CMP}, {"a": BV(w)}, label=f"{text} @ {w}"
    )

    @SETTINGS
    @given(x=_int(w), y=_int(w), n=_int(8), cmp=st.integers(0, 2))
    def check(x: int, y: int, n: int, cmp: int) -> None:
        _run_both(prog, {"x": x, "y": y, "n": n, "cmp": cmp})

    check()


# -- floats -----------------------------------------------------------------------------------

# Each case: semantics over floats x, y, z of w bits; the output `a` has w bits.
FLOAT_CASES = [
    "a = fadd(x, y)",
    "a = fsub(x, y)",
    "a = fmul(x, y)",
    "a = fdiv(x, y)",
    "a = fsqrt(x)",
    "a = ffma(x, y, z)",
    "a = fneg(x) ^ fabs(y)",
    "a = fcopysign(x, y)",
    "a = fmin(x, y)",
    "a = fmax(x, y)",
    "a = fceil(x)",
    "a = ffloor(x)",
    "a = ftrunc(x)",
    "a = fnearest(x)",
    "a = zext(concat(feq(x, y), flt(x, y), fle(x, y), funord(x, y), fisnan(x)), width(x))",
    "a = fcvt(fcvt(x, 64), width(x)) ^ zext(fcvt(x, 16), width(x))",
    "a = fcvt(fcvt(x, 32), width(x))",
    "a = sitofp(y, width(x)) ^ uitofp(y, width(x))",
    "a = sitofp(trunc(y, 8), width(x)) ^ uitofp(zext(y, 128), width(x))",
    "trap !fptosi_ok(x, 32) : bad_toint; a = zext(fptosi(x, 32), 64)[width(x) - 1:0]",
    "trap !fptoui_ok(x, 16) : bad_toint; a = zext(fptoui(x, 16), 128)[width(x) - 1:0]",
    "trap !fptosi_ok(x, 128) : bad_toint; a = fptosi(x, 128)[width(x) - 1:0]",
    "a = zext(fptosi_sat(x, 8), 128)[width(x) - 1:0] ^ zext(fptoui_sat(y, 32), 128)[width(x) - 1:0]",
    "a = fptosi_sat(x, 64)[width(x) - 1:0] ^ fptoui_sat(y, 128)[width(x) - 1:0]",
]


def _float(w: int) -> st.SearchStrategy[int]:
    ebits, sbits = {16: (5, 11), 32: (8, 24), 64: (11, 53), 128: (15, 113)}[w]
    exp_all = ((1 << ebits) - 1) << (sbits - 1)
    sign = 1 << (w - 1)
    one = ((1 << (ebits - 1)) - 1) << (sbits - 1)
    specials = [0, sign, exp_all, exp_all | sign, exp_all | 1, exp_all | (1 << (sbits - 2)), 1, sign | 1, one, one | sign,
                one | (1 << (sbits - 2)), exp_all - 1, (one + (1 << (sbits - 1))) | 1]
    # the third strategy draws magnitudes between 1/16 and 2**40: rounding and conversions
    return st.one_of(st.sampled_from(specials), st.integers(0, (1 << w) - 1),
                     st.integers(one - (4 << (sbits - 1)), one + (40 << (sbits - 1))).map(lambda v: v ^ (sign * (v & 1))))


@pytest.mark.parametrize("w", FLOAT_WIDTHS)
@pytest.mark.parametrize("text", FLOAT_CASES)
def test_float_builtins_agree(text: str, w: int) -> None:
    prog = instantiate(parse_semantics(text), {"x": BV(w), "y": BV(w), "z": BV(w)}, {"a": BV(w)}, label=f"{text} @ {w}")

    @SETTINGS
    @given(x=_float(w), y=_float(w), z=_float(w))
    def check(x: int, y: int, z: int) -> None:
        _run_both(prog, {"x": x, "y": y, "z": z})

    check()


F128_CASES = [
    "a = fadd(x, y)",
    "a = fmul(x, y)",
    "a = fdiv(x, y)",
    "a = fsqrt(x)",
    "a = fnearest(x) ^ fmin(x, y)",
    "a = zext(fcvt(x, 64), 128) ^ fcvt(fcvt(y, 32), 128)",
    "a = zext(concat(feq(x, y), flt(x, y), fisnan(x)), 128) ^ sitofp(fptosi_sat(y, 64), 128)",
]


@pytest.mark.parametrize("text", F128_CASES)
def test_f128_builtins_agree(text: str) -> None:
    prog = instantiate(parse_semantics(text), {"x": BV(128), "y": BV(128)}, {"a": BV(128)}, label=f"{text} @ 128")

    @settings(SETTINGS, max_examples=6)
    @given(x=_float(128), y=_float(128))
    def check(x: int, y: int) -> None:
        _run_both(prog, {"x": x, "y": y})

    check()


def test_lanewise_programs_agree() -> None:
    """A lanewise vector instance: Python loops over lanes, Z3 builds each lane."""
    prog = instantiate(
        parse_semantics("a = cmp(x, y) ? (is_vector ? -1 : 1) : 0; b = x << n"),
        {"x": BV(16), "y": BV(16), "n": BV(8), "cmp": CMP},
        {"a": BV(16), "b": BV(16)},
        {"is_vector": 1},
        lanes=8,
        split=frozenset({"x", "y", "a", "b"}),
    )

    @SETTINGS
    @given(x=_int(128), y=_int(128), n=_int(8), cmp=st.integers(0, 2))
    def check(x: int, y: int, n: int, cmp: int) -> None:
        _run_both(prog, {"x": x, "y": y, "n": n, "cmp": cmp})

    check()


@pytest.mark.parametrize("flags", ["big", "little"])
def test_memory_flags(flags: str) -> None:
    prog = instantiate(parse_semantics("a = big_endian(flags) ? bswap(x) : x"), {"x": BV(32), "flags": FlagsImm()}, {"a": BV(32)})

    class Flags:
        endianness = flags

    py = compile_program(prog)(0x11223344, Flags())
    out, trap = smt.evaluate(prog, {"x": 0x11223344, "flags": flags})
    assert trap is None and py == (out["a"],) == ((0x44332211 if flags == "big" else 0x11223344),)
