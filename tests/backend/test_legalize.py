"""Legalization keeps the semantics: each rewritten function computes what it did before,
checked on the interpreter over edge values and random ones."""

from __future__ import annotations

import copy
import random
import struct

import pytest

from heron.backend.legalize import legalize_function
from heron.ir.interpreter import Interpreter
from heron.ir.parser import parse_functions
from heron.ir.verifier import verify_function

M128 = (1 << 128) - 1
EDGES = [0, 1, 2, 3, (1 << 64) - 1, 1 << 64, (1 << 64) + 1, 1 << 127, M128, M128 - 1, 0x0123456789ABCDEF_FEDCBA9876543210]

CASES = {
    "imul.i128": ("""
        function %f(i128, i128) -> i128 {
        block0(v0: i128, v1: i128):
            v2 = imul v0, v1
            return v2
        }""", 2),
    "imul_imm.i128": ("""
        function %f(i128) -> i128 {
        block0(v0: i128):
            v1 = imul_imm v0, -3
            return v1
        }""", 1),
    "popcnt.i128": ("""
        function %f(i128) -> i128 {
        block0(v0: i128):
            v1 = popcnt v0
            return v1
        }""", 1),
}


F64_EDGES = [0, 1 << 63, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000, 0x7FF4000000000001]
F64_EDGES += [struct.unpack("<Q", struct.pack("<d", v))[0] for v in (1.5, -1.5, 127.9, 128.0, -128.0, -128.9, -129.0, 255.5, 256.0, 32767.0, 32768.0, -32768.5, -32769.0, 65535.9, 65536.0, 1e10, -1e10, 2.0**31, -(2.0**31))]
for _sign in ("sint", "uint"):
    for _ty in ("i8", "i16"):
        for _f in ("f32", "f64"):
            CASES[f"fcvt_to_{_sign}_sat.{_ty}.{_f}"] = (f"""
        function %f({_f}) -> {_ty} {{
        block0(v0: {_f}):
            v1 = fcvt_to_{_sign}_sat.{_ty} v0
            return v1
        }}""", 1)


def _float_args(case: str, rng: random.Random) -> list[list[int]]:
    if case.endswith(".f64"):
        pool = F64_EDGES
    else:
        pool = [struct.unpack("<I", struct.pack("<f", struct.unpack("<d", struct.pack("<Q", b))[0]))[0] for b in F64_EDGES]
    bits = 64 if case.endswith(".f64") else 32
    return [[b] for b in pool] + [[rng.getrandbits(bits)] for _ in range(200)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_rewrites_keep_the_semantics(case: str) -> None:
    text, arity = CASES[case]
    [before] = parse_functions(text)
    after = copy.deepcopy(before)
    assert legalize_function(after) >= 1
    verify_function(after)
    assert str(after) != str(before)
    rng = random.Random(case)
    if case.startswith("fcvt"):
        samples = _float_args(case, rng)
    else:
        samples = [[a, b][:arity] for a in EDGES for b in EDGES[::3]] + [[rng.getrandbits(128) for _ in range(arity)] for _ in range(300)]
    old, new = Interpreter([before]), Interpreter([after])
    for args in samples:
        assert new.call("%f", args) == old.call("%f", args), args


def test_narrow_multiplies_are_left_alone() -> None:
    [fn] = parse_functions("""
        function %f(i64, i64) -> i64 {
        block0(v0: i64, v1: i64):
            v2 = imul v0, v1
            v3 = popcnt v2
            return v3
        }""")
    assert legalize_function(fn) == 0
