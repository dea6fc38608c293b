"""heron.jit.compile_functions: IR -> a linked module of Python callables, through the
generated entry trampolines (heron.jit.entry): results of every width, traps that come
back as heron.Trap while the process goes on, the stack limit, host symbols and Python
callbacks (re-entering the JIT), and functions that do not compile."""

from __future__ import annotations

import ctypes
import platform
import sys

import pytest

from heron.errors import CompileError, HeronError, Trap
from heron.ir.parser import parse_functions
from heron.jit import compile_functions
from heron.jit.entry import STACK_BUDGET, entry_function

pytestmark = pytest.mark.skipif(
    not (sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64")), reason="runs x86-64 code on this CPU"
)

MASK64 = (1 << 64) - 1

PROGRAM = """
function %sq(i64) -> i64 {
block0(v0: i64):
    v1 = imul v0, v0
    return v1
}
function %div(i32, i32) -> i32 {
block0(v0: i32, v1: i32):
    v2 = sdiv v0, v1
    return v2
}
function %three(i128, i8, i16) -> i128, i16, i8, i64 {
block0(v0: i128, v1: i8, v2: i16):
    v3 = iconst.i64 -1
    return v0, v2, v1, v3
}
function %guard(i64) -> i64 {
block0(v0: i64):
    trapz v0, user7
    v1 = iconst.i64 10
    v2 = icmp ugt v0, v1
    trapnz v2, int_ovf
    return v0
}
function %recurse(i64) -> i64 {
    fn0 = %recurse(i64) -> i64
block0(v0: i64):
    v1 = iadd_imm v0, 1
    v2 = call fn0(v1)
    return v2
}
function %depth(i64) -> i64 {
    fn0 = %depth(i64) -> i64
block0(v0: i64):
    brif v0, block1, block2
block1:
    v1 = iadd_imm v0, -1
    v2 = call fn0(v1)
    v3 = iadd_imm v2, 1
    return v3
block2:
    return v0
}
"""


@pytest.fixture(scope="module")
def module():  # type: ignore[no-untyped-def]
    m = compile_functions(parse_functions(PROGRAM))
    yield m
    m.free()


def test_results_of_every_width(module) -> None:  # type: ignore[no-untyped-def]
    assert module.get_function("%sq")(12) == 144
    assert module.get_function("sq")(-3) == 9  # the % is optional
    assert module.get_function("%div")(-7, 2) == -3
    big = (1 << 127) | 5
    assert module.get_function("%three").call_bits(big, 0xAB, 0xBEEF) == [big, 0xBEEF, 0xAB, MASK64]
    assert module.entry_errors == {}
    assert len(module.entries) == 3  # one trampoline per distinct signature


@pytest.mark.parametrize(
    ("name", "args", "code"),
    [("%div", (1, 0), "int_divz"), ("%div", (-(1 << 31), -1), "int_ovf"), ("%guard", (0,), "user7"), ("%guard", (11,), "int_ovf")],
)
def test_traps_come_back_and_the_process_goes_on(module, name: str, args: tuple[int, ...], code: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):  # the entry state is restored after each trap
        with pytest.raises(Trap) as info:
            module.get_function(name)(*args)
        assert info.value.code == code
        assert name in str(info.value)
    assert module.get_function("%guard")(5) == 5
    assert module.get_function("%sq")(7) == 49


def test_runaway_recursion_is_a_stack_overflow_trap(module) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Trap) as info:
        module.get_function("%recurse")(0)
    assert info.value.code == "stk_ovf"
    # Deep but bounded recursion runs: each frame is small against the budget.
    assert module.get_function("%depth")(10_000) == 10_000
    assert STACK_BUDGET >= 1 << 20


def test_host_symbols_and_libcall_names() -> None:
    fns = parse_functions("""
    function %mag(i64) -> i64 {
        fn0 = %labs(i64) -> i64 system_v
    block0(v0: i64):
        v1 = call fn0(v0)
        return v1
    }""")
    with compile_functions(fns) as m:
        assert m.get_function("%mag")(-42) == 42


def test_python_callbacks_reenter_the_jit() -> None:
    fns = parse_functions("""
    function %outer(i64) -> i64 {
        fn0 = %py(i64) -> i64 system_v
    block0(v0: i64):
        v1 = call fn0(v0)
        v2 = iadd_imm v1, 1
        return v2
    }
    function %inner(i64) -> i64 {
    block0(v0: i64):
        v1 = imul_imm v0, 10
        return v1
    }
    function %div(i64, i64) -> i64 {
    block0(v0: i64, v1: i64):
        v2 = udiv v0, v1
        return v2
    }""")
    seen = []
    holder: dict[str, object] = {}

    @ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64)
    def py(x: int) -> int:
        seen.append(x)
        return holder["inner"](x + 1)  # type: ignore[operator]

    with compile_functions(fns, imports={"py": py}) as m:
        holder["inner"] = m.get_function("%inner")
        assert m.get_function("%outer")(4) == 51
        assert seen == [4]
        # The nested entry restored the outer one's state: a trap still comes back.
        with pytest.raises(Trap):
            m.get_function("%div")(1, 0)
        assert m.get_function("%outer")(0) == 11


def test_what_does_not_compile() -> None:
    text = """
    function %ok(i64) -> i64 {
    block0(v0: i64):
        return v0
    }
    function %bad(i64) -> i64 {
        fn0 = %no_such_symbol_anywhere(i64) -> i64
    block0(v0: i64):
        v1 = call fn0(v0)
        return v1
    }
    function %caller(i64) -> i64 {
        fn0 = %bad(i64) -> i64
    block0(v0: i64):
        v1 = call fn0(v0)
        return v1
    }"""
    with pytest.raises(CompileError, match="%bad: calls %no_such_symbol_anywhere"):
        compile_functions(parse_functions(text))
    errors: dict[str, HeronError] = {}
    with compile_functions(parse_functions(text), errors=errors) as m:
        assert m.get_function("%ok")(3) == 3
        assert sorted(errors) == ["%bad", "%caller"]
        assert "which did not compile" in str(errors["%caller"])
        with pytest.raises(HeronError, match="no function"):
            m.get_function("%caller")


def test_the_trampoline_is_ir() -> None:
    from heron.ir.entities import AbiParam, Signature
    from heron.ir.types import I8, I64, I128
    from heron.ir.verifier import verify_function

    sig = Signature([AbiParam(I128), AbiParam(I8)], [AbiParam(I64)] * 3, "fast")
    fn = entry_function(sig, "%e", call_pushes=8)
    verify_function(fn)
    text = str(fn)
    assert "call_indirect sig0, v0(v9, v10)" in text
    assert "load.i128 notrap v1" in text and "load.i8 notrap v1+16" in text
    assert "store notrap v13, v14+32" in text
