"""End to end on this CPU: IR -> compile_function -> JITModule -> a call, compared with
the interpreter on the same inputs.  Programs use only opcodes with rules; one whose
rule is still missing skips, naming it.  Traps go through the hand-made entry
trampoline of tests/jit (the lead's generated trampoline replaces it)."""

from __future__ import annotations

import ctypes
import importlib.util
import platform
import random
import sys
from pathlib import Path

import pytest

from heron.backend.compile import CompileOptions, CompiledFunction, compile_function
from heron.backend.isa import lookup_isa
from heron.errors import CompileError, Trap, VerifierError
from heron.ir.entities import AbiParam, Signature
from heron.ir.function import Function
from heron.ir.interpreter import Interpreter
from heron.ir.parser import parse_functions
from heron.ir.types import I64
from heron.jit import JITModule
from heron.jit.trap import STACK_LIMIT

ISA = lookup_isa("x86_64")
ON_X86_64 = sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64")
needs_cpu = pytest.mark.skipif(not ON_X86_64, reason="runs x86-64 code on this CPU")
ROOT = Path(__file__).resolve().parent.parent.parent
MASK64 = (1 << 64) - 1


def compile_module(fns: list[Function], **options: object) -> tuple[JITModule, dict[str, CompiledFunction]]:
    """Compile every function (skip the test when a rule is missing) and link them."""
    m = JITModule(ISA.RELOCS, ISA.HOST_CALL_CONV)
    for fn in fns:
        m.declare_function(fn.name, fn.signature)
    out = {}
    for fn in fns:
        try:
            cf = compile_function(fn, ISA, options=CompileOptions(**options))  # type: ignore[arg-type]
        except CompileError as err:
            if "no lowering rule" in str(err):
                m.free()
                pytest.skip(f"rule missing: {err}")
            raise
        m.define_function(fn.name, cf.code)
        out[fn.name] = cf
    m.finalize()
    return m, out


def check_against_interpreter(text: str, calls: list[tuple[str, list[int]]]) -> None:
    interp = Interpreter(parse_functions(text))
    m, _ = compile_module(parse_functions(text))
    try:
        for name, args in calls:
            want = interp.call(name, args)
            got = m.get_function(name).call_bits(*args)
            assert got == want, f"{name}{tuple(args)}: compiled {got}, interpreter {want}"
    finally:
        m.free()


EDGE = [0, 1, 2, 7, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 40, MASK64, MASK64 - 1, 1 << 63]

PROGRAMS = {
    "arithmetic": (
        """
        function %arith(i64, i64) -> i64 {
        block0(v0: i64, v1: i64):
            v2 = iadd v0, v1
            v3 = isub v2, v1
            v4 = imul v3, v1
            v5 = bxor v4, v0
            v6 = band_imm v5, 0xff00ff
            v7 = bor v6, v1
            v8 = ishl_imm v7, 3
            v9 = ushr_imm v8, 1
            v10 = sshr_imm v9, 2
            v11 = ineg v10
            v12 = bnot v11
            return v12
        }
        function %narrow(i32, i8, i16) -> i32 {
        block0(v0: i32, v1: i8, v2: i16):
            v3 = uextend.i32 v1
            v4 = sextend.i32 v2
            v5 = iadd v0, v3
            v6 = imul v5, v4
            v7 = ireduce.i8 v6
            v8 = sextend.i32 v7
            v9 = iadd v8, v0
            return v9
        }
        """,
        [("%arith", [a, b]) for a in EDGE[:8] for b in EDGE[8:]] + [("%narrow", [a, b & 0xFF, b & 0xFFFF]) for a in EDGE for b in EDGE[:6]],
    ),
    "branches with block params": (
        """
        function %max3(i64, i64, i64) -> i64 {
        block0(v0: i64, v1: i64, v2: i64):
            v3 = icmp sgt v0, v1
            brif v3, block1(v0), block1(v1)
        block1(v4: i64):
            v5 = icmp ugt v4, v2
            brif v5, block2(v4, v2), block2(v2, v4)
        block2(v6: i64, v7: i64):
            v8 = isub v6, v7
            return v8
        }
        """,
        [("%max3", [a, b, c]) for a in EDGE[::3] for b in EDGE[1::3] for c in EDGE[2::4]],
    ),
    "loops": (
        """
        function %sum(i64) -> i64 {
        block0(v0: i64):
            v1 = iconst.i64 0
            v2 = iconst.i64 0
            jump block1(v1, v2)
        block1(v3: i64, v4: i64):
            v5 = icmp ult v3, v0
            brif v5, block2, block3
        block2:
            v6 = imul v3, v3
            v7 = iadd v4, v6
            v8 = iadd_imm v3, 1
            jump block1(v8, v7)
        block3:
            return v4
        }
        function %swap_loop(i64, i64, i64) -> i64 {
        block0(v0: i64, v1: i64, v2: i64):
            jump block1(v0, v1, v2)
        block1(v3: i64, v4: i64, v5: i64):
            v6 = iconst.i64 0
            v7 = icmp eq v5, v6
            brif v7, block3, block2
        block2:
            v8 = iadd_imm v5, -1
            v9 = iadd v3, v4
            jump block1(v4, v9, v8)
        block3:
            return v3
        }
        """,
        [("%sum", [n]) for n in (0, 1, 2, 10, 100)] + [("%swap_loop", [0, 1, n]) for n in (0, 1, 5, 50, 90)],
    ),
    "stack slots": (
        """
        function %slots(i64, i32) -> i64 {
            ss0 = explicit_slot 24
            ss1 = explicit_slot 2, align = 2
        block0(v0: i64, v1: i32):
            stack_store v0, ss0
            v2 = iadd_imm v0, 99
            stack_store v2, ss0+16
            stack_store v1, ss0+8
            v3 = ireduce.i16 v1
            stack_store v3, ss1
            v4 = stack_load.i64 ss0+16
            v5 = stack_load.i32 ss0+8
            v6 = stack_load.i16 ss1
            v7 = uextend.i64 v5
            v8 = sextend.i64 v6
            v9 = stack_addr.i64 ss0
            v10 = load.i64 v9
            v11 = iadd v4, v7
            v12 = iadd v11, v8
            v13 = bxor v12, v10
            return v13
        }
        """,
        [("%slots", [a, b & 0xFFFFFFFF]) for a in EDGE[::2] for b in EDGE[1::3]],
    ),
    "calls with relocations and stack arguments": (
        """
        function %many(i64, i64, i64, i64, i64, i64, i64, i32, i64) -> i64 {
        block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i32, v8: i64):
            v9 = isub v0, v1
            v10 = imul v9, v2
            v11 = iadd v10, v3
            v12 = bxor v11, v4
            v13 = isub v12, v5
            v14 = imul v13, v6
            v15 = sextend.i64 v7
            v16 = iadd v14, v15
            v17 = isub v16, v8
            return v17
        }
        function %caller(i64, i64) -> i64 {
            fn0 = %many(i64, i64, i64, i64, i64, i64, i64, i32, i64) -> i64
        block0(v0: i64, v1: i64):
            v2 = iconst.i64 3
            v3 = iconst.i32 -5
            v4 = call fn0(v0, v1, v2, v0, v1, v2, v0, v3, v1)
            v5 = call fn0(v4, v0, v1, v2, v4, v0, v1, v3, v2)
            v6 = iadd v4, v5
            v7 = iadd v6, v0
            return v7
        }
        """,
        [("%caller", [a, b]) for a in EDGE[::3] for b in EDGE[1::4]] + [("%many", [1, 2, 3, 4, 5, 6, 7, 8, 9])],
    ),
    "i128 parameters and results": (
        """
        function %add128(i128, i128) -> i128 {
        block0(v0: i128, v1: i128):
            v2 = iadd v0, v1
            return v2
        }
        function %widen(i64, i64) -> i128 {
            fn0 = %add128(i128, i128) -> i128
        block0(v0: i64, v1: i64):
            v2 = uextend.i128 v0
            v3 = uextend.i128 v1
            v4 = call fn0(v2, v3)
            v5 = call fn0(v4, v4)
            return v5
        }
        function %lo(i128) -> i64 {
        block0(v0: i128):
            v1 = ireduce.i64 v0
            return v1
        }
        """,
        [("%add128", [a << 64 | b, c]) for a, b, c in ((1, MASK64, 1), (MASK64, MASK64, 1 << 127), (5, 7, 9))]
        + [("%widen", [a, b]) for a in EDGE[::4] for b in EDGE[2::4]]
        + [("%lo", [(a << 64) | b]) for a, b in ((1, 2), (MASK64, 0))],
    ),
    "float parameters and results": (
        """
        function %fid(f64, i64, f32) -> f32, f64 {
        block0(v0: f64, v1: i64, v2: f32):
            return v2, v0
        }
        function %fcall(f64, f32) -> f64 {
            fn0 = %fid(f64, i64, f32) -> f32, f64
        block0(v0: f64, v1: f32):
            v2 = iconst.i64 1
            v3, v4 = call fn0(v0, v2, v1)
            return v4
        }
        function %fmany(f64, f64, f64, f64, f64, f64, f64, f64, f64, f32) -> f32 {
        block0(v0: f64, v1: f64, v2: f64, v3: f64, v4: f64, v5: f64, v6: f64, v7: f64, v8: f64, v9: f32):
            return v9
        }
        """,
        [("%fid", [0x3FF8000000000000, 7, 0x40100000]), ("%fcall", [0x7FF8000000000001, 0x7FC00001]),
         ("%fmany", [0x3FF0000000000000] * 9 + [0x40F00000])],
    ),
    "i128 compares": (
        """
        function %cmp128(i128, i128) -> i8, i8 {
        block0(v0: i128, v1: i128):
            v2 = icmp slt v0, v1
            v3 = icmp ugt v0, v1
            return v2, v3
        }
        function %eq128(i128, i128) -> i64 {
        block0(v0: i128, v1: i128):
            v2 = icmp eq v0, v1
            brif v2, block1, block2
        block1:
            v3 = iconst.i64 1
            return v3
        block2:
            v4 = iconst.i64 2
            return v4
        }
        """,
        [(f, [a, b]) for f in ("%cmp128", "%eq128") for a in (0, 1, 1 << 64, (1 << 127), MASK64, (1 << 128) - 1) for b in (0, 1 << 64, (1 << 128) - 1, MASK64)],
    ),
    "results in the return area": (
        """
        function %four(i64, i64) -> i64, i64, i64, i64 {
        block0(v0: i64, v1: i64):
            v2 = iadd v0, v1
            v3 = isub v0, v1
            v4 = imul v0, v1
            v5 = bxor v0, v1
            return v2, v3, v4, v5
        }
        function %use(i64, i64) -> i64 {
            fn0 = %four(i64, i64) -> i64, i64, i64, i64
        block0(v0: i64, v1: i64):
            v2, v3, v4, v5 = call fn0(v0, v1)
            v6 = iadd v2, v3
            v7 = iadd v6, v4
            v8 = bxor v7, v5
            return v8
        }
        function %wide(i64) -> i128, i64, i128 {
        block0(v0: i64):
            v1 = uextend.i128 v0
            v2 = iadd v1, v1
            v3 = iadd_imm v0, 1
            return v2, v3, v1
        }
        """,
        [("%four", [a, b]) for a in EDGE[::4] for b in EDGE[3::4]] + [("%use", [a, b]) for a in EDGE[::5] for b in EDGE[1::5]]
        + [("%wide", [a]) for a in EDGE[::3]],
    ),
}


@needs_cpu
@pytest.mark.parametrize("kind", sorted(PROGRAMS))
def test_compiled_code_agrees_with_the_interpreter(kind: str) -> None:
    text, calls = PROGRAMS[kind]
    check_against_interpreter(text, calls)


def _pressure_program(n: int) -> str:
    lines = ["function %pressure(i64, i64) -> i64 {", "block0(v0: i64, v1: i64):"]
    for i in range(2, n + 2):
        lines.append(f"    v{i} = imul_imm v0, {i * 7 + 1}")
    acc, k = "v1", n + 2
    for i in range(2, n + 2):
        lines.append(f"    v{k} = bxor {acc}, v{i}")
        lines.append(f"    v{k + 1} = iadd v{k}, v{2 + (i * 5) % n}")
        acc, k = f"v{k + 1}", k + 2
    lines += [f"    return {acc}", "}"]
    return "\n".join(lines)


@needs_cpu
def test_register_pressure_spills_and_reloads() -> None:
    text = _pressure_program(40)
    [fn] = parse_functions(text)
    cf = compile_function(fn, ISA)
    assert cf.stats["spills"] > 0 and cf.stats["reloads"] > 0 and cf.frame["spill_slots"] > 0
    assert cf.frame["saves"], "callee-saved registers are used and saved"
    check_against_interpreter(text, [("%pressure", [a, b]) for a in EDGE[::3] for b in EDGE[1::5]])


@needs_cpu
def test_values_live_across_calls_survive() -> None:
    text = """
    function %g(i64) -> i64 {
    block0(v0: i64):
        v1 = imul v0, v0
        return v1
    }
    function %f(i64, i64, i64) -> i64 {
        fn0 = %g(i64) -> i64
    block0(v0: i64, v1: i64, v2: i64):
        v3 = iadd v0, v1
        v4 = isub v1, v2
        v5 = call fn0(v0)
        v6 = call fn0(v5)
        v7 = iadd v5, v6
        v8 = iadd v7, v3
        v9 = iadd v8, v4
        v10 = iadd v9, v2
        return v10
    }
    """
    check_against_interpreter(text, [("%f", [a, b, c]) for a in EDGE[::4] for b in EDGE[1::4] for c in EDGE[2::5]])


@needs_cpu
def test_the_generated_benchmark_module_agrees_with_the_interpreter() -> None:
    """Functions of bench/gen_module.py (integer code, no traps) that compile today run
    on random edge-biased inputs; the rest wait for their rules."""
    spec = importlib.util.spec_from_file_location("heron_bench_gen_module", ROOT / "bench" / "gen_module.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    text = gen.generate(60, 25, 7)
    from support.irgen import random_args

    interp = Interpreter(parse_functions(text))
    fns = parse_functions(text)
    m = JITModule(ISA.RELOCS, ISA.HOST_CALL_CONV)
    compiled = []
    for fn in fns:
        m.declare_function(fn.name, fn.signature)
    for fn in fns:
        try:
            cf = compile_function(fn, ISA)
        except CompileError as err:
            assert "no lowering rule" in str(err), str(err)
            cf = compile_function(parse_functions("function %stub() {\nblock0:\n    return\n}")[0], ISA)
            m.define_function(fn.name, cf.code)
            continue
        m.define_function(fn.name, cf.code)
        compiled.append(fn)
    m.finalize()
    rng = random.Random(3)
    checked = 0
    try:
        for fn in compiled:
            if len(fn.signature.returns) > 2 or any(p.type.bits > 64 for p in fn.signature.params):
                continue
            f = m.get_function(fn.name)
            for _ in range(4):
                args = random_args(rng, fn.signature)
                assert f.call_bits(*args) == interp.call(fn.name, args), f"{fn.name}{tuple(args)}\n{fn}"
                checked += 1
    finally:
        m.free()
    if not compiled:
        pytest.skip("no function of the benchmark module compiles yet")
    assert checked > 0


# ---------------------------------------------------------------------------- traps
def _entry_i_i(m: JITModule) -> None:
    """The hand-assembled (i64) -> i64 entry trampoline of tests/jit, as function "entry"."""
    from jit.jit_support import ENTRY_PROLOGUE, compiled

    m.declare_function("entry", Signature([AbiParam(I64)], [AbiParam(I64)]))
    m.define_function("entry", compiled(ENTRY_PROLOGUE + " ffd0 4883c408 5e 488906 c3"))


TRAPPING = """
function %div(i64) -> i64 {
block0(v0: i64):
    v1 = iconst.i64 1000
    v2 = udiv v1, v0
    return v2
}
function %guard(i64) -> i64 {
block0(v0: i64):
    v1 = iconst.i64 13
    v2 = icmp eq v0, v1
    trapnz v2, user7
    return v0
}
function %outer(i64) -> i64 {
    fn0 = %div(i64) -> i64
    fn1 = %guard(i64) -> i64
block0(v0: i64):
    v1 = call fn1(v0)
    v2 = call fn0(v1)
    v3 = iadd_imm v2, 1
    return v3
}
function %rec(i64) -> i64 {
    fn0 = %rec(i64) -> i64
block0(v0: i64):
    v1 = iconst.i64 0
    v2 = icmp eq v0, v1
    brif v2, block1, block2
block1:
    return v0
block2:
    v3 = iadd_imm v0, -1
    v4 = call fn0(v3)
    v5 = iadd_imm v4, 1
    return v5
}
function %sp() -> i64 {
block0:
    v0 = get_stack_pointer.i64
    return v0
}
"""


@needs_cpu
def test_traps_return_through_the_entry_trampoline_and_name_the_function() -> None:
    fns = parse_functions(TRAPPING)
    m = JITModule(ISA.RELOCS, ISA.HOST_CALL_CONV)
    for fn in fns:
        m.declare_function(fn.name, fn.signature)
        m.define_function(fn.name, compile_function(fn, ISA).code)
    _entry_i_i(m)
    m.finalize()
    try:
        outer = m.get_function("%outer", entry="entry")
        assert outer(7) == 1000 // 7 + 1
        with pytest.raises(Trap) as info:
            outer(0)
        assert (info.value.code, info.value.function) == ("int_divz", "%div")
        with pytest.raises(Trap) as info:
            outer(13)
        assert (info.value.code, info.value.function) == ("user7", "%guard")
        for i in range(50):  # the process and the trampoline's registers survive
            assert outer(i + 14) == 1000 // (i + 14) + 1
    finally:
        m.free()


@needs_cpu
def test_the_stack_check_traps_with_stk_ovf() -> None:
    fns = parse_functions(TRAPPING)
    m = JITModule(ISA.RELOCS, ISA.HOST_CALL_CONV)
    codes = {}
    for fn in fns:
        m.declare_function(fn.name, fn.signature)
        codes[fn.name] = compile_function(fn, ISA)
        m.define_function(fn.name, codes[fn.name].code)
    _entry_i_i(m)
    m.finalize()
    try:
        assert codes["%rec"].frame["stack_check"] and not codes["%sp"].frame["stack_check"]
        rec = m.get_function("%rec", entry="entry")
        assert rec(1000) == 1000
        sp = m.get_function("%sp").call_bits()[0]
        limit = ctypes.c_uint64.from_address(m.trap_context_address + STACK_LIMIT)
        limit.value = sp - 64 * 1024  # about 4000 frames of 16 bytes
        try:
            assert rec(100) == 100
            with pytest.raises(Trap) as info:
                rec(100_000)
            assert (info.value.code, info.value.function) == ("stk_ovf", "%rec")
        finally:
            limit.value = 0
        assert rec(2000) == 2000
    finally:
        m.free()


# ---------------------------------------------------------------------------- the API
def test_unknown_targets_and_bad_ir_are_reported() -> None:
    [fn] = parse_functions("function %f(i64) -> i64 {\nblock0(v0: i64):\n    return v0\n}")
    with pytest.raises(CompileError) as info:
        compile_function(fn, "pdp11")
    assert info.value.target == "pdp11" and "x86_64" in str(info.value)
    bad = Function("%bad", Signature([], [AbiParam(I64)]))
    b = bad.dfg.make_block()
    bad.layout.append_block(b)
    with pytest.raises(VerifierError):
        compile_function(bad, ISA)


def test_disasm_text_and_frame_facts() -> None:
    [fn] = parse_functions(
        "function %f(i64) -> i64 {\n    ss0 = explicit_slot 8\nblock0(v0: i64):\n    stack_store v0, ss0\n"
        "    v1 = stack_load.i64 ss0\n    return v1\n}"
    )
    cf = compile_function(fn, ISA, options=CompileOptions(disasm=True, timings=True))
    assert cf.text is not None and cf.text.splitlines()[:3] == ["block0:", "    push rbp", "    mov rbp, rsp"]
    assert "lea rax, [rsp]" in cf.text and "SlotRef" not in cf.text
    assert cf.frame["locals_size"] == 16 and cf.frame["frame_size"] % 16 == 0
    assert set(cf.timings) == {"verify", "legalize", "lower", "regalloc", "frame", "emit"}
    assert cf.code.code_size == len(cf.code.code) and cf.code.alignment == 16
