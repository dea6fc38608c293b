"""The CLIF parser: every instruction format, the preamble, inference, test files and run commands."""

from __future__ import annotations

import pytest

from heron.generated.ir_opcodes import ATOMICRMWOP, FLOATCC, INTCC
from heron.ir import opcodes as op
from heron.ir.function import Function
from heron.ir.instructions import InstData
from heron.ir.memflags import MemFlags
from heron.ir.parser import parse_functions, parse_test_file
from heron.ir.types import F32, F64, F128, I8, I16, I32, I64, type_by_name

I32X4 = type_by_name("i32x4")


def parse_one(text: str) -> Function:
    [fn] = parse_functions(text)
    return fn


def body(lines: str, sig: str = "(i64, i32, i32, f32, i32x4, i8x16)", preamble: str = "") -> Function:
    """A function whose block0 has v0: i64, v1: i32, v2: i32, v3: f32, v4: i32x4, v5: i8x16."""
    return parse_one(
        f"function %t{sig} {{\n{preamble}\n"
        "block0(v0: i64, v1: i32, v2: i32, v3: f32, v4: i32x4, v5: i8x16):\n"
        f"{lines}\n    return\n"
        "block1:\n    return\n"
        "block2(v90: i32):\n    return\n}\n"
    )


def first(text: str, preamble: str = "") -> tuple[Function, InstData]:
    fn = body("    " + text, preamble=preamble)
    return fn, fn.dfg.insts[0]


def result_types(fn: Function, inst: int = 0) -> list[str]:
    return [fn.dfg.value_type[v].name for v in fn.dfg.results[inst]]


# -- formats ---------------------------------------------------------------------------

def test_nullary_and_unary() -> None:
    fn, d = first("v10 = get_frame_pointer.i64")
    assert (d.opcode, d.ctrl_type, d.args) == (op.GET_FRAME_POINTER, I64, [])
    fn, d = first("v10 = ineg v1")
    assert (d.opcode, d.ctrl_type, d.args, result_types(fn)) == (op.INEG, I32, [1], ["i32"])
    _, d = first("fence")
    assert (d.opcode, d.ctrl_type) == (op.FENCE, None)


@pytest.mark.parametrize(
    ("text", "imm"),
    [("iconst.i8 -1", 0xFF), ("iconst.i8 255", 0xFF), ("iconst.i32 -2", 0xFFFF_FFFE),
     ("iconst.i64 0xffff_ffff_ffff_ffff", (1 << 64) - 1), ("iconst.i64 -9223372036854775808", 1 << 63),
     ("iconst.i128 -1", (1 << 128) - 1), ("iconst.i128 0x7fff_ffff_ffff_ffff", (1 << 63) - 1)],
)
def test_unary_imm(text: str, imm: int) -> None:
    _, d = first("v10 = " + text)
    assert (d.opcode, d.imm) == (op.ICONST, imm)


def test_unary_ieee() -> None:
    fn, d = first("v10 = f32const 0x1.8p1")
    assert (d.opcode, d.ctrl_type, d.imm, result_types(fn)) == (op.F32CONST, F32, 0x40400000, ["f32"])
    _, d = first("v10 = f64const -Inf")
    assert (d.ctrl_type, d.imm) == (F64, 0xFFF0000000000000)
    _, d = first("v10 = f16const +NaN")
    assert d.imm == 0x7E00


def test_unary_const_vconst_forms() -> None:
    lanes = 0x00000004_00000003_00000002_00000001
    _, d = first("v10 = vconst.i32x4 [1 2 3 4]")
    assert (d.opcode, d.ctrl_type, d.imm) == (op.VCONST, I32X4, lanes)
    _, d = first("v10 = vconst.i32x4 0x00000004000000030000000200000001")
    assert d.imm == lanes
    _, d = first("v10 = vconst.i32x4 const0", preamble="    const0 = 0x00000004000000030000000200000001")
    assert d.imm == lanes
    _, d = first("v10 = vconst.i32x4 const3", preamble="    const3 = i32x4 [1 2 3 4]")
    assert d.imm == lanes
    _, d = first("v10 = vconst.f32x4 [0x1.0p0 0.0 0.0 0.0]")
    assert d.imm == 0x3F800000
    fn, d = first("v10 = f128const 0x1.0000000000000000000000000000p0")
    assert (d.opcode, d.ctrl_type, d.imm, result_types(fn)) == (op.F128CONST, F128, 0x3FFF << 112, ["f128"])


def test_unary_global_value() -> None:
    fn, d = first("v10 = global_value.i64 gv1", preamble="    gv0 = vmctx\n    gv1 = iadd_imm.i64 gv0, 16")
    assert (d.opcode, d.ctrl_type, d.aux, result_types(fn)) == (op.GLOBAL_VALUE, I64, 1, ["i64"])


def test_binary_ternary_and_lanes() -> None:
    fn, d = first("v10 = iadd v1, v2")
    assert (d.opcode, d.ctrl_type, d.args, result_types(fn)) == (op.IADD, I32, [1, 2], ["i32"])
    fn, d = first("v10, v11 = uadd_overflow v1, v2")
    assert result_types(fn) == ["i32", "i8"]
    fn, d = first("v10 = select v1, v0, v0")
    assert (d.ctrl_type, d.args, result_types(fn)) == (I64, [1, 0, 0], ["i64"])
    fn, d = first("v10 = extractlane v4, 3")
    assert (d.opcode, d.args, d.imm, result_types(fn)) == (op.EXTRACTLANE, [4], 3, ["i32"])
    fn, d = first("v10 = insertlane v4, v1, 0x2")
    assert (d.args, d.imm, result_types(fn)) == ([4, 1], 2, ["i32x4"])


def test_shuffle_mask_forms() -> None:
    mask = bytes(range(16)[::-1])
    _, d = first("v10 = shuffle v5, v5, [15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0]")
    assert (d.opcode, d.imm) == (op.SHUFFLE, int.from_bytes(mask, "little"))
    _, d = first("v10 = shuffle v5, v5, 0x000102030405060708090a0b0c0d0e0f")
    assert d.imm == int.from_bytes(mask, "little")


def test_compares() -> None:
    fn, d = first("v10 = icmp ult v1, v2")
    assert (d.opcode, d.imm, d.ctrl_type, result_types(fn)) == (op.ICMP, INTCC.index("ult"), I32, ["i8"])
    fn, d = first("v10 = fcmp uno v3, v3")
    assert (d.opcode, d.imm, result_types(fn)) == (op.FCMP, FLOATCC.index("uno"), ["i8"])
    fn, d = first("v10 = icmp eq v4, v4")
    assert result_types(fn) == ["i32x4"]


def test_branches() -> None:
    fn, d = first("jump block2(v1)")
    assert (d.opcode, [(bc.block, bc.args) for bc in d.dests]) == (op.JUMP, [(2, [1])])
    fn, d = first("brif v1, block2(v2), block1")
    assert (d.opcode, d.ctrl_type, d.args) == (op.BRIF, I32, [1])
    assert [(bc.block, bc.args) for bc in d.dests] == [(2, [2]), (1, [])]
    fn, d = first("br_table v1, block1, [block2(v1), block2(v2), block1]")
    assert [(bc.block, bc.args) for bc in d.dests] == [(1, []), (2, [1]), (2, [2]), (1, [])]
    fn, d = first("br_table v1, block1, []")
    assert len(d.dests) == 1


def test_calls() -> None:
    pre = "    sig0 = (i32) -> i32, i64 system_v\n    fn0 = colocated %g(i32) -> f32\n    fn1 = u2:7 sig0"
    fn, d = first("v10 = call fn0(v1)", preamble=pre)
    assert (d.opcode, d.aux, d.args, result_types(fn)) == (op.CALL, 0, [1], ["f32"])
    fn, d = first("v10, v11 = call_indirect sig0, v0(v2)", preamble=pre)
    assert (d.opcode, d.aux, d.args, d.ctrl_type, result_types(fn)) == (op.CALL_INDIRECT, 0, [0, 2], I64, ["i32", "i64"])
    fn, d = first("v10 = func_addr.i64 fn1", preamble=pre)
    assert (d.opcode, d.aux) == (op.FUNC_ADDR, 1)
    assert (fn.func_refs[1].name, fn.func_refs[1].signature, fn.func_refs[0].colocated) == ("u2:7", 0, True)
    # The inline signature of fn0 becomes sig1, the next free signature.
    assert str(fn.sig_refs[1]) == "(i32) -> f32 fast" and fn.func_refs[0].signature == 1


def test_try_call() -> None:
    pre = "    sig0 = (i32) -> i64 tail\n    fn0 = %g sig0"
    fn, d = first("try_call fn0(v1), sig0, block1(), [ tag1: block2(exn0), default: block1 ]", preamble=pre)
    assert (d.opcode, d.aux, d.args, d.imm) == (op.TRY_CALL, (0, 0), [1], (1, None))
    assert [(bc.block, bc.args) for bc in d.dests] == [(1, []), (2, [-1]), (1, [])]
    assert fn.dfg.results[0] == []  # the callee's results go to the normal-return block


def test_memory_formats() -> None:
    fn, d = first("v10 = load.i64 notrap aligned v0+8")
    assert (d.opcode, d.ctrl_type, d.args, d.imm, d.aux) == (op.LOAD, I64, [0], 8, MemFlags.parse_words(["notrap", "aligned"]))
    _, d = first("store little heap v1, v0-0x10")
    assert (d.opcode, d.ctrl_type, d.args, d.imm, str(d.aux)) == (op.STORE, I32, [1, 0], -16, "little heap")
    _, d = first("v10 = uload8.i32 user3 v0")
    assert (d.imm, d.aux.trap_code, d.aux.notrap) == (0, "user3", False)
    _, d = first("v10 = load.i32 heap_oob v0")
    assert d.aux == MemFlags()  # heap_oob is the default trap code
    fn, d = first("v10 = bitcast.f32 v1")
    assert (d.opcode, d.ctrl_type, d.args, result_types(fn)) == (op.BITCAST, F32, [1], ["f32"])
    _, d = first("atomic_store big v1, v0")
    assert (d.opcode, d.ctrl_type, str(d.aux)) == (op.ATOMIC_STORE, I32, "big")
    fn, d = first("v10 = atomic_rmw.i32 little xchg v0, v1")
    assert (d.imm, d.args, result_types(fn)) == (ATOMICRMWOP.index("xchg"), [0, 1], ["i32"])
    fn, d = first("v10 = atomic_rmw little umax v0, v1")  # the type follows x
    assert d.ctrl_type is I32
    fn, d = first("v10 = atomic_cas v0, v1, v2")
    assert (d.opcode, d.ctrl_type, d.args) == (op.ATOMIC_CAS, I32, [0, 1, 2])


def test_stack_formats() -> None:
    pre = "    ss0 = explicit_slot 8\n    ss3 = explicit_slot 16, align = 16"
    fn, d = first("v10 = stack_load.i64 ss3+4", preamble=pre)
    assert (d.opcode, d.aux, d.imm, result_types(fn)) == (op.STACK_LOAD, 3, 4, ["i64"])
    _, d = first("stack_store v1, ss0", preamble=pre)
    assert (d.opcode, d.args, d.aux, d.imm, d.ctrl_type) == (op.STACK_STORE, [1], 0, 0, I32)
    _, d = first("v10 = stack_addr.i64 ss0-4", preamble=pre)
    assert (d.opcode, d.imm) == (op.STACK_ADDR, -4)


def test_traps() -> None:
    _, d = first("trapnz v1, user250")
    assert (d.opcode, d.aux, d.args) == (op.TRAPNZ, "user250", [1])
    _, d = first("trap int_divz")
    assert (d.opcode, d.aux) == (op.TRAP, "int_divz")


# -- preamble ------------------------------------------------------------------------

def test_preamble_entities_keep_their_numbers() -> None:
    fn = parse_one("""
function %p(i64 vmctx) -> i64 system_v {
    ss2 = explicit_slot 16, align = 8, key = 77
    ss0 = explicit_slot 4
    gv0 = vmctx
    gv1 = load.i64 notrap aligned readonly gv0+8
    gv3 = symbol colocated tls %sym+16
    gv4 = iadd_imm.i64 gv1, -32
    gv5 = dyn_scale_target_const.i32x4
    dt2 = i32x4*gv5
    sig1 = (i64 sext, i8 uext vmctx) -> i32 sret windows_fastcall
    fn4 = %callee sig1
    stack_limit = gv1
block0(v0: i64):
    return v0
}""")
    assert [s is None for s in fn.stack_slots] == [False, True, False]
    ss = fn.stack_slots[2]
    assert (ss.size, ss.align_shift, ss.key) == (16, 3, 77)
    assert fn.stack_slots[0].align_shift is None
    gv = fn.global_values
    assert (gv[1].kind, gv[1].type, gv[1].base, gv[1].offset, str(gv[1].flags)) == ("load", I64, 0, 8, "notrap aligned readonly")
    assert gv[2] is None
    assert (gv[3].kind, gv[3].name, gv[3].offset, gv[3].colocated, gv[3].tls) == ("symbol", "%sym", 16, True, True)
    assert (gv[4].kind, gv[4].base, gv[4].offset) == ("iadd_imm", 1, -32)
    assert (gv[5].kind, gv[5].type) == ("dyn_scale_target_const", I32X4)
    assert (fn.dynamic_types[2].base, fn.dynamic_types[2].scale, fn.dynamic_types[2].type.name) == (I32X4, 5, "i32x4xN")
    assert str(fn.sig_refs[1]) == "(i64 sext, i8 uext vmctx) -> i32 sret windows_fastcall"
    assert (fn.func_refs[4].name, fn.func_refs[4].signature) == ("%callee", 1)
    assert fn.stack_limit == 1
    assert str(fn.signature) == "(i64 vmctx) -> i64 system_v"


def test_abi_param_words_are_canonical() -> None:
    fn = parse_one("function %f(i8 vmctx uext, i16 normal sext) cold {\nblock0(v0: i8, v1: i16):\n    return\n}")
    assert [p.words for p in fn.signature.params] == [("uext", "vmctx"), ("sext",)]
    assert fn.signature.call_conv == "cold"


def test_user_function_names() -> None:
    fn = parse_one("function u1:2(i64) -> i64 {\nblock0(v0: i64):\n    return v0\n}")
    assert fn.name == "u1:2"


# -- values, blocks, inference -------------------------------------------------------------

def test_numbers_of_values_and_blocks_are_kept() -> None:
    fn = parse_one("""
function %n(i32) -> i32 {
block5(v7: i32):
    v20 = iadd v7, v7
    jump block2(v20)
block2(v3: i32) cold:
    return v3
}""")
    assert fn.layout.blocks == [5, 2]
    assert fn.dfg.block_params[5] == [7] and fn.dfg.block_params[2] == [3]
    assert fn.dfg.results[0] == [20]
    assert fn.layout.is_cold(2) and not fn.layout.is_cold(5)


def test_forward_references_are_typed_after_the_function() -> None:
    fn = parse_one("""
function %fwd(i64) -> i64 {
block0(v0: i64):
    jump block2
block1:
    v3 = iadd v2, v2
    v4 = icmp eq v3, v2
    return v3
block2:
    v2 = iadd v1, v0
    v1 = iconst.i64 7
    jump block1
}""")
    types = fn.dfg.value_type
    assert (types[1], types[2], types[3], types[4]) == (I64, I64, I64, I8)


def test_explicit_suffix_on_an_inferable_opcode() -> None:
    fn = body("    v10 = iadd.i32 v1, v2")
    assert fn.dfg.insts[0].ctrl_type is I32


def test_dynamic_type_suffix() -> None:
    fn = parse_one("""
function %d(i16) -> i8x16 {
    gv0 = dyn_scale_target_const.i16x8
    dt0 = i16x8*gv0
block0(v0: i16):
    v1 = splat.dt0 v0
    v2 = snarrow.dt0 v1, v1
    v3 = extract_vector v2, 0
    return v3
}""")
    dyn = type_by_name("i16x8xN")
    assert fn.dfg.value_type[1] is dyn and fn.dfg.insts[1].ctrl_type is dyn
    assert fn.dfg.value_type[2] is type_by_name("i8x16xN")
    assert fn.dfg.value_type[3] is type_by_name("i8x16")


def test_aliases() -> None:
    fn = parse_one("""
function %a(i8) -> i8 {
block0(v0: i8):
    v1 -> v0
    v2 -> v1
    v3 = iadd v2, v1
    v4 -> v3
    v4 -> v3
    return v4
}""")
    dfg = fn.dfg
    assert [dfg.value_def(v)[0] for v in (1, 2, 4)] == ["alias"] * 3
    assert dfg.resolve_alias(2) == 0 and dfg.resolve_alias(4) == 3
    assert dfg.value_type[2] is I8 and dfg.value_type[4] is I8


def test_comments_and_source_locations_are_dropped() -> None:
    fn = parse_one("""
; leading
function %c() -> i32 { ; after the brace
block0: ; header
    @0012 v0 = iconst.i32 1 ; trailing
    ; alone
    return v0
}""")
    assert fn.num_insts() == 2


def test_several_functions() -> None:
    fns = parse_functions("function %a() {\nblock0:\n    return\n}\nfunction %b() {\nblock0:\n    return\n}\n")
    assert [f.name for f in fns] == ["%a", "%b"]


# -- test files and run commands ------------------------------------------------------

TEST_FILE = """\
; a comment before the header
test interpret
test run
set opt_level=speed
set enable_llvm_abi_extensions
target x86_64 has_avx
target riscv64 has_zba

function %add(i32, i32) -> i32 {
block0(v0: i32, v1: i32):
    v2 = iadd v0, v1
    return v2
}
; run: %add(1, 2) == 3
; run: %add(-1, 0x1) != 1
; print: %add(0, 0)

function %t() -> i8 {
block0:
    v0 = iconst.i8 1
    return v0
}
; run
"""


def test_header_lines() -> None:
    tf = parse_test_file(TEST_FILE, "t.clif")
    assert [str(h) for h in tf.header] == [
        "test interpret", "test run", "set opt_level=speed", "set enable_llvm_abi_extensions",
        "target x86_64 has_avx", "target riscv64 has_zba",
    ]
    assert tf.tests == ["interpret", "run"]
    assert tf.targets == [("x86_64", ["has_avx"]), ("riscv64", ["has_zba"])]
    assert tf.settings == {"opt_level": "speed", "enable_llvm_abi_extensions": "true"}
    assert [(i.function.name, i.line) for i in tf.items] == [("%add", 9), ("%t", 18)]
    assert tf.function("%t") is tf.items[1].function


def test_run_commands() -> None:
    tf = parse_test_file(TEST_FILE, "t.clif")
    run1, run2, pr = tf.items[0].commands
    assert (run1.kind, run1.function, run1.args, run1.comparison, run1.expected, run1.line) == ("run", "%add", [1, 2], "==", [3], 14)
    assert (run2.args, run2.comparison, run2.expected) == ([0xFFFFFFFF, 1], "!=", [1])
    assert (run1.arg_types, run1.return_types) == ([I32, I32], [I32])
    assert (pr.kind, pr.comparison, pr.args, pr.line) == ("print", None, [0, 0], 16)
    [bare] = tf.items[1].commands
    assert (bare.kind, bare.function, bare.args, bare.comparison, bare.is_bare) == ("run", "%t", [], None, True)


def test_parse_functions_ignores_run_commands() -> None:
    assert len(parse_functions(TEST_FILE + "; run: %t(1, 2, 3) == garbage\n")) == 2


def typed_run(sig: str, call: str) -> list:
    tf = parse_test_file(f"function %f{sig} {{\nblock0:\n    trap user1\n}}\n; run: %f{call}\n")
    [cmd] = tf.items[0].commands
    return [cmd.args, cmd.expected]


@pytest.mark.parametrize(
    ("sig", "call", "args", "expected"),
    [
        ("(i8) -> i8", "(-128) == 255", [0x80], [0xFF]),
        ("(i16) -> i16", "(0x8000) == -1", [0x8000], [0xFFFF]),
        ("(i32) -> i32", "(true) == false", [1], [0]),
        ("(i64) -> i64", "(-1) == 0xffffffff_ffffffff", [(1 << 64) - 1], [(1 << 64) - 1]),
        ("(i128) -> i128", "(0x1_00000000_00000000) == -2", [1 << 64], [(1 << 128) - 2]),
        ("(f16) -> f16", "(0x1.000p0) == -Inf", [0x3C00], [0xFC00]),
        ("(f32) -> f32", "(+NaN:0x1) == -sNaN:0x1", [0x7FC00001], [0xFF800001]),
        ("(f64) -> f64", "(0x1.5p3) == 0.0", [0x4025000000000000], [0]),
        ("(f128) -> f128", "(-0.0) == 0x1.0p-1", [1 << 127], [0x3FFE << 112]),
        ("(i32x4) -> i32x4", "([1 2 3 -1]) == 0x00000000000000000000000000000005",
         [0xFFFFFFFF_00000003_00000002_00000001], [5]),
        ("(f32x4) -> i8x16", "([0x1.0p0 0.0 -0.0 +Inf]) == [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 -1]",
         [(0x7F800000 << 96) | (0x80000000 << 64) | 0x3F800000], [int.from_bytes(bytes([*range(15), 255]), "little")]),
        ("(i64x2) -> i16x4", "([-1 1]) == [1 2 3 4]", [((1 << 64) - 1) | (1 << 64)], [0x0004_0003_0002_0001]),
        ("() -> i8, f32", "() == [1, 0x1.0p1]", [], [1, 0x40000000]),
        ("(i32)", "(7) == []", [7], []),
    ],
)
def test_run_values_of_every_type(sig: str, call: str, args: list[int], expected: list[int]) -> None:
    assert typed_run(sig, call) == [args, expected]


def test_a_run_command_calls_the_function_it_follows() -> None:
    # As Cranelift's runner: the written name is informational (the corpus relies on it).
    tf = parse_test_file("function %real(f64) -> f64 {\nblock0(v0: f64):\n    return v0\n}\n"
                         "; run: %misspelled(0x1.0p0) == 0x1.0p0\n")
    [cmd] = tf.items[0].commands
    assert (cmd.function, cmd.arg_types) == ("%real", [F64])


def test_run_commands_inside_a_function_belong_to_it() -> None:
    tf = parse_test_file("function %f() -> i16 {\n; run: %f() == 3\nblock0:\n    v0 = iconst.i16 3\n    return v0\n}\n")
    assert [str(c) for c in tf.items[0].commands] == ["run: %f() == 3"]
    assert tf.items[0].commands[0].return_types == [I16]


def test_other_comments_are_not_commands() -> None:
    tf = parse_test_file("function %f() {\nblock0:\n    return\n}\n; running later\n; printing\n;; note: run\n")
    assert tf.items[0].commands == []

