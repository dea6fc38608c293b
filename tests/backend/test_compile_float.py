"""Floating point end to end on this CPU: IR -> compile_functions (the backend, the entry
trampolines, the JIT) -> a call, compared with the interpreter on the same inputs.

Results are compared bit for bit, except where the IR leaves a NaN's payload open (the
opcodes ir.yaml flags ``nan_any``: arithmetic, fmin/fmax, rounding, promotion and
demotion): there a NaN from the interpreter (always the canonical one) only asks for a
NaN.  The sign-bit operations, bitcasts, loads, stores and selects keep payloads, so they
are compared bit for bit with NaN inputs too.  Traps (fcvt_to_sint/uint: NaN is
``bad_toint``, out of range ``int_ovf``) come back through the entry trampoline as
:class:`heron.Trap` and must name the interpreter's code.
"""

from __future__ import annotations

import itertools
import platform
import struct
import sys

import pytest

from heron.errors import Trap
from heron.ir.interpreter import Interpreter
from heron.ir.parser import parse_functions
from heron.jit import compile_functions

ON_X86_64 = sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64")
pytestmark = pytest.mark.skipif(not ON_X86_64, reason="runs x86-64 code on this CPU")

BITS = {"f32": 32, "f64": 64}


def f32(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def is_nan(bits: int, w: int) -> bool:
    e, m = (8, 23) if w == 32 else (11, 52)
    return (bits >> m) & ((1 << e) - 1) == (1 << e) - 1 and bits & ((1 << m) - 1) != 0


# Edge values: zeros, ones, the extremes of each range, subnormals, infinities and NaNs
# (quiet and signalling, both signs, with payloads).
F32 = [
    0x00000000, 0x80000000, f32(1.0), f32(-1.0), f32(1.5), f32(-2.5), f32(0.5), f32(3.0),
    0x00000001, 0x80000001, 0x007FFFFF, 0x00800000, 0x7F7FFFFF, 0xFF7FFFFF,
    0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7FC00001, 0x7F800001, 0xFFA00005,
    f32(2.0**31), f32(-(2.0**31)), f32(2.0**63), f32(-(2.0**63)), f32(2.0**64), f32(2.0**32), f32(-0.75),
]
F64 = [
    0, 1 << 63, f64(1.0), f64(-1.0), f64(1.5), f64(-2.5), f64(0.5), f64(3.0),
    1, (1 << 63) | 1, 0x000FFFFFFFFFFFFF, 0x0010000000000000, 0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFF,
    0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000, 0xFFF8000000000000,
    0x7FF8000000000001, 0x7FF0000000000001, 0xFFF4000000000005,
    f64(2.0**31), f64(-(2.0**31) - 0.5), f64(-(2.0**31) - 1.0), f64(2.0**63), f64(-(2.0**63)), f64(2.0**64),
    f64(2.0**63 - 1024), f64(2.0**64 - 2048), f64(2.0**32 - 0.5), f64(-0.75), f64(0.9999999999999999),
]
EDGES = {"f32": F32, "f64": F64}
INTS = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
        (1 << 24) + 1, (1 << 53) + 1, (1 << 63) - 1, 1 << 63, (1 << 63) + 1, (1 << 64) - 1, (1 << 64) - 1025,
        0x123456789ABCDEF, 0xFEDCBA9876543210]
MASK = {8: 0xFF, 16: 0xFFFF, 32: 0xFFFFFFFF, 64: (1 << 64) - 1}


class Checker:
    """Compile ``text``, then compare calls with the interpreter."""

    def __init__(self, text: str) -> None:
        self.fns = parse_functions(text)
        self.interp = Interpreter(self.fns)
        self.module = compile_functions(self.fns)
        self.calls = 0

    def __enter__(self) -> Checker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.module.free()

    def check(self, name: str, args: list[int], nan_any: bool = False) -> None:
        fn = next(f for f in self.fns if f.name == name)
        try:
            want: list[int] | Trap = self.interp.call(name, args)
        except Trap as trap:
            want = trap
        try:
            got: list[int] | Trap = self.module.get_function(name).call_bits(*args)
        except Trap as trap:
            got = trap
        self.calls += 1
        where = f"{name}({', '.join(hex(a) for a in args)})"
        if isinstance(want, Trap) or isinstance(got, Trap):
            assert isinstance(want, Trap) and isinstance(got, Trap), f"{where}: compiled {got!r}, interpreter {want!r}"
            assert got.code == want.code, f"{where}: compiled traps {got.code}, interpreter {want.code}"
            return
        for k, (g, w) in enumerate(zip(got, want)):
            ty = str(fn.signature.returns[k].type)
            if nan_any and ty in BITS and is_nan(w, BITS[ty]):
                assert is_nan(g, BITS[ty]), f"{where}: compiled {g:#x}, interpreter a NaN ({w:#x})"
            else:
                assert g == w, f"{where}: result {k}: compiled {g:#x}, interpreter {w:#x}"


def unary(op: str, ty: str, rty: str | None = None, name: str | None = None) -> str:
    rty = rty or ty
    suffix = f".{rty}" if op.startswith("fcvt") or op in ("fpromote", "fdemote", "bitcast") else ""
    return f"""
function %{name or op + '_' + ty}({ty}) -> {rty} {{
block0(v0: {ty}):
    v1 = {op}{suffix} v0
    return v1
}}"""


def binary(op: str, ty: str) -> str:
    return f"""
function %{op}_{ty}({ty}, {ty}) -> {ty} {{
block0(v0: {ty}, v1: {ty}):
    v2 = {op} v0, v1
    return v2
}}"""


# ---------------------------------------------------------------------------- arithmetic
NAN_ANY_BINARY = ["fadd", "fsub", "fmul", "fdiv", "fmin", "fmax"]
EXACT_BINARY = ["fcopysign", "band", "bor", "bxor"]
NAN_ANY_UNARY = ["sqrt", "ceil", "floor", "trunc", "nearest"]
EXACT_UNARY = ["fneg", "fabs", "bnot"]


@pytest.mark.parametrize("ty", ["f32", "f64"])
def test_binary_operations_on_edge_values(ty: str) -> None:
    text = "".join(binary(op, ty) for op in NAN_ANY_BINARY + EXACT_BINARY)
    with Checker(text) as c:
        for op in NAN_ANY_BINARY + EXACT_BINARY:
            for a, b in itertools.product(EDGES[ty], repeat=2):
                c.check(f"%{op}_{ty}", [a, b], nan_any=op in NAN_ANY_BINARY)
    assert c.calls == len(EDGES[ty]) ** 2 * 10


@pytest.mark.parametrize("ty", ["f32", "f64"])
def test_unary_operations_on_edge_values(ty: str) -> None:
    text = "".join(unary(op, ty) for op in NAN_ANY_UNARY + EXACT_UNARY)
    text += f"""
function %fneg_fneg_{ty}({ty}) -> {ty} {{
block0(v0: {ty}):
    v1 = fneg v0
    v2 = fabs v1
    v3 = fcopysign v2, v0
    return v3
}}"""
    extra = [f32(x) if ty == "f32" else f64(x) for x in (2.5, -2.5, 3.5, -0.5, 0.49999997, 1e30, -7.25, 4503599627370497.0)]
    with Checker(text) as c:
        for op in NAN_ANY_UNARY + EXACT_UNARY:
            for a in EDGES[ty] + extra:
                c.check(f"%{op}_{ty}", [a], nan_any=op in NAN_ANY_UNARY)
        for a in EDGES[ty]:
            c.check(f"%fneg_fneg_{ty}", [a])


def test_bitselect_and_band_not_keep_every_bit() -> None:
    text = ""
    for ty in ("f32", "f64"):
        text += f"""
function %bitselect_{ty}({ty}, {ty}, {ty}) -> {ty} {{
block0(v0: {ty}, v1: {ty}, v2: {ty}):
    v3 = bitselect v0, v1, v2
    return v3
}}
function %band_not_{ty}({ty}, {ty}) -> {ty} {{
block0(v0: {ty}, v1: {ty}):
    v2 = band_not v0, v1
    return v2
}}"""
    with Checker(text) as c:
        for ty in ("f32", "f64"):
            vals = EDGES[ty][::3]
            for a, b, m in itertools.product(vals, vals, vals[:4]):
                c.check(f"%bitselect_{ty}", [m, a, b])
                c.check(f"%band_not_{ty}", [a, b])


def test_arithmetic_with_merged_loads_and_constants() -> None:
    text = """
function %mem(i64, f64, f32) -> f64, f32 {
    ss0 = explicit_slot 32
block0(v0: i64, v1: f64, v2: f32):
    v3 = stack_addr.i64 ss0
    v4 = f64const 0x1.8p1
    store v4, v3
    v5 = f32const -0x1.4p-1
    store v5, v3+8
    v6 = load.f64 v3
    v7 = fadd v1, v6
    v8 = load.f64 v3
    v9 = fmul v8, v7
    v10 = load.f64 v3
    v11 = fdiv v9, v10
    v12 = load.f64 v3
    v13 = fsub v11, v12
    v14 = load.f32 v3+8
    v15 = fadd v14, v2
    v16 = load.f32 v3+8
    v17 = fmul v15, v16
    return v13, v17
}
function %consts() -> f32, f64, f64, f32 {
block0:
    v0 = f32const +Inf
    v1 = f64const -0x0.0
    v2 = f64const +NaN:0x42
    v3 = f32const 0x1.fffffep127
    return v0, v1, v2, v3
}
"""
    with Checker(text) as c:
        for a, b in zip(F64, F32):
            c.check("%mem", [0, a, b], nan_any=True)
        c.check("%consts", [])


def _has_fma3() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            return " fma " in f.read()
    except OSError:
        return False


@pytest.mark.skipif(not _has_fma3(), reason="fma lowers to FMA3 vfmadd213ss/sd (beyond the SSE4.1 baseline)")
@pytest.mark.parametrize("ty", ["f32", "f64"])
def test_fma_rounds_once(ty: str) -> None:
    text = f"""
function %fma_{ty}({ty}, {ty}, {ty}) -> {ty} {{
block0(v0: {ty}, v1: {ty}, v2: {ty}):
    v3 = fma v0, v1, v2
    return v3
}}"""
    conv = f32 if ty == "f32" else f64
    one_ulp = [conv(1.0 + 2.0**-23), conv(1.0 - 2.0**-23), conv(-1.0)] if ty == "f32" else [conv(1.0 + 2.0**-52), conv(1.0 - 2.0**-52), conv(-1.0)]
    vals = EDGES[ty][::3] + one_ulp
    with Checker(text) as c:
        for a, b, z in itertools.product(vals, repeat=3):
            c.check(f"%fma_{ty}", [a, b, z], nan_any=True)
        c.check(f"%fma_{ty}", [one_ulp[0], one_ulp[1], one_ulp[2]], nan_any=True)  # x*y - 1: only exact without the middle rounding


# ---------------------------------------------------------------------------- compares
CONDS = ["ord", "uno", "eq", "ne", "one", "ueq", "lt", "le", "gt", "ge", "ult", "ule", "ugt", "uge"]


def compare_program(ty: str) -> str:
    out = []
    for cc in CONDS:
        out.append(f"""
function %fcmp_{cc}_{ty}({ty}, {ty}) -> i8 {{
block0(v0: {ty}, v1: {ty}):
    v2 = fcmp {cc} v0, v1
    return v2
}}
function %brif_{cc}_{ty}({ty}, {ty}) -> i32 {{
block0(v0: {ty}, v1: {ty}):
    v2 = fcmp {cc} v0, v1
    brif v2, block1, block2
block1:
    v3 = iconst.i32 7
    return v3
block2:
    v4 = iconst.i32 9
    return v4
}}
function %selint_{cc}_{ty}({ty}, {ty}, i64, i64) -> i64 {{
block0(v0: {ty}, v1: {ty}, v2: i64, v3: i64):
    v4 = fcmp {cc} v0, v1
    v5 = select v4, v2, v3
    return v5
}}
function %selflt_{cc}_{ty}({ty}, {ty}) -> {ty} {{
block0(v0: {ty}, v1: {ty}):
    v2 = fcmp {cc} v0, v1
    v3 = select v2, v0, v1
    return v3
}}
function %trap_{cc}_{ty}({ty}, {ty}) -> i32 {{
block0(v0: {ty}, v1: {ty}):
    v2 = fcmp {cc} v0, v1
    trapnz v2, user3
    v3 = iconst.i32 1
    return v3
}}""")
    return "".join(out)


@pytest.mark.parametrize("ty", ["f32", "f64"])
def test_every_condition_as_value_branch_select_and_trap(ty: str) -> None:
    vals = [EDGES[ty][i] for i in (0, 1, 2, 3, 4, 8, 14, 15, 16, 19)]
    with Checker(compare_program(ty)) as c:
        for cc in CONDS:
            for a, b in itertools.product(vals, repeat=2):
                c.check(f"%fcmp_{cc}_{ty}", [a, b])
                c.check(f"%brif_{cc}_{ty}", [a, b])
                c.check(f"%selint_{cc}_{ty}", [a, b, 0x1111, 0x2222])
                c.check(f"%selflt_{cc}_{ty}", [a, b])
                c.check(f"%trap_{cc}_{ty}", [a, b])


def test_selects_of_floats_on_integers() -> None:
    text = """
function %sel32(i8, f32, f32) -> f32 {
block0(v0: i8, v1: f32, v2: f32):
    v3 = select v0, v1, v2
    return v3
}
function %sel64(i64, f64, f64) -> f64 {
block0(v0: i64, v1: f64, v2: f64):
    v3 = select v0, v1, v2
    return v3
}
function %selicmp(i32, i32, f64, f64) -> f64 {
block0(v0: i32, v1: i32, v2: f64, v3: f64):
    v4 = icmp slt v0, v1
    v5 = select v4, v2, v3
    return v5
}
"""
    with Checker(text) as c:
        for k in (0, 1, 0x100, 0x80):
            c.check("%sel32", [k, 0x7FC00001, 0xFF800000])
            c.check("%sel64", [k << 40, 0x7FF4000000000001, 1 << 63])
            c.check("%selicmp", [k, 0x80, 0x7FF4000000000001, 0])


# ---------------------------------------------------------------------------- conversions
def test_promotion_demotion_and_bitcasts() -> None:
    text = unary("fpromote", "f32", "f64") + unary("fdemote", "f64", "f32")
    text += unary("bitcast", "f32", "i32", "bc_f32") + unary("bitcast", "i32", "f32", "bc_i32")
    text += unary("bitcast", "f64", "i64", "bc_f64") + unary("bitcast", "i64", "f64", "bc_i64")
    demote = F64 + [f64(1.0000000596046448), f64(1.0000001788139343), f64(3.4028235677973366e38), f64(1e-46), f64(7e-46)]
    with Checker(text) as c:
        for a in F32:
            c.check("%fpromote_f32", [a], nan_any=True)
            c.check("%bc_f32", [a])
            c.check("%bc_i32", [a])
        for a in demote:
            c.check("%fdemote_f64", [a], nan_any=True)
            c.check("%bc_f64", [a])
            c.check("%bc_i64", [a])


@pytest.mark.parametrize("op", ["fcvt_from_sint", "fcvt_from_uint"])
def test_integer_to_float(op: str) -> None:
    text = "".join(unary(op, it, ft, f"{op}_{it}_{ft}") for it in ("i8", "i16", "i32", "i64") for ft in ("f32", "f64"))
    with Checker(text) as c:
        for it, bits in (("i8", 8), ("i16", 16), ("i32", 32), ("i64", 64)):
            for ft in ("f32", "f64"):
                for x in INTS:
                    c.check(f"%{op}_{it}_{ft}", [x & MASK[bits]])


TO_INT = ["fcvt_to_sint", "fcvt_to_uint", "fcvt_to_sint_sat", "fcvt_to_uint_sat"]


@pytest.mark.parametrize("op", TO_INT)
def test_float_to_integer_traps_and_saturation(op: str) -> None:
    text = "".join(unary(op, ft, it, f"{op}_{ft}_{it}") for ft in ("f32", "f64") for it in ("i32", "i64"))
    near32 = [f32(x) for x in (2147483520.0, -2147483648.0, 4294967040.0, 9.2233715e18, 1.8446743e19, -0.99999994, 0.99999994)]
    near64 = [f64(x) for x in (2147483647.9, -2147483648.9, 4294967295.9, 4294967296.0, 9223372036854774784.0,
                               -9223372036854775808.0, 18446744073709549568.0, -0.9999999999999999, -1.0, 0.5)]
    with Checker(text) as c:
        for ft, vals in (("f32", F32 + near32), ("f64", F64 + near64)):
            for it in ("i32", "i64"):
                for x in vals:
                    c.check(f"%{op}_{ft}_{it}", [x])


# ---------------------------------------------------------------------------- memory
def test_loads_and_stores_with_every_addressing_mode() -> None:
    text = """
function %mem_f64(f64, i64) -> f64, f64, f64, f64 {
    ss0 = explicit_slot 128
block0(v0: f64, v1: i64):
    v2 = stack_addr.i64 ss0
    v3 = ishl_imm v1, 3
    v4 = iadd v2, v3
    store v0, v4+8
    v5 = iadd_imm v2, 16
    v6 = load.f64 v5
    v7 = iadd v2, v3
    v8 = load.f64 v7+8
    v9 = iconst.i64 3
    v10 = ishl v1, v9
    v11 = iadd v2, v10
    v12 = load.f64 v11+8
    v13 = iadd_imm v11, 8
    v14 = load.f64 v13
    return v6, v8, v12, v14
}
function %mem_f32(f32, i64) -> f32, f32, f32 {
    ss0 = explicit_slot 64
block0(v0: f32, v1: i64):
    v2 = stack_addr.i64 ss0
    v3 = iconst.i64 2
    v4 = ishl v1, v3
    v5 = iadd v2, v4
    store v0, v5
    v6 = iadd v2, v1
    store v0, v6+40
    v7 = load.f32 v5
    v8 = iadd_imm v2, 40
    v9 = iadd v8, v1
    v10 = load.f32 v9
    v11 = iadd_imm v5, 4
    store v0, v11
    v12 = load.f32 v2+4
    return v7, v10, v12
}
"""
    with Checker(text) as c:
        for x in F64[::2]:
            c.check("%mem_f64", [x, 1])
        for x in F32[::2]:
            c.check("%mem_f32", [x, 0])
