"""The CLIF printer: canonical text for every format, normal forms, and round trips."""

from __future__ import annotations

import pytest

from heron.ir import opcodes as op
from heron.ir.entities import AbiParam, Signature
from heron.ir.function import Function
from heron.ir.instructions import BlockCall, InstData
from heron.ir.parser import parse_functions, parse_test_file
from heron.ir.printer import block_call_to_text, function_to_text, inst_to_text, value_to_text
from heron.ir.printer import test_file_to_text as file_to_text
from heron.ir.testfile import format_data_value, format_data_values
from heron.ir.types import F16, F32, F64, F128, I8, I16, I32, I64, I128, type_by_name

# Canonical text: printing what it parses to gives it back unchanged.  One line per format.
CANONICAL = """\
function %all(i64 vmctx, i32, f32 sext, i32x4, i8x16) -> i32 system_v {
    ss0 = explicit_slot 16
    ss2 = explicit_slot 8, align = 16, key = 5
    gv0 = vmctx
    gv1 = load.i64 notrap aligned readonly gv0+8
    gv2 = iadd_imm.i64 gv1, -32
    gv3 = symbol colocated %data+0x0001_0000
    gv4 = symbol u1:9 -16
    gv5 = dyn_scale_target_const.i32x4
    dt0 = i32x4*gv5
    sig0 = (i32, i64) -> i32 tail
    sig1 = (i32) -> i64 fast
    fn0 = colocated %callee sig0
    fn1 = u2:3 sig1
    stack_limit = gv1

block0(v0: i64, v1: i32, v2: f32, v3: i32x4, v4: i8x16):
    v5 -> v1
    v6 = iconst.i32 0xffff_ffff
    v7 = iconst.i8 200
    v8 = f16const -0x1.800p-1
    v9 = f32const +NaN:0x1
    v10 = f64const -Inf
    v11 = f128const 0x1.0000000000000000000000000000p0
    v12 = vconst.i32x4 0x00000004000000030000000200000001
    v13 = global_value.i64 gv2
    v14 = iadd v1, v5
    v36 -> v14
    v15 = extractlane v3, 3
    v16 = select v1, v14, v15
    v17 = insertlane v3, v16, 0
    v18 = shuffle v4, v4, 0x000102030405060708090a0b0c0d0e0f
    v19 = icmp uge v14, v5
    v20 = fcmp uno v2, v2
    v21, v22 = sadd_overflow v14, v14
    v23 = get_frame_pointer.i64
    v24 = call fn0(v1, v0)
    v25 = call_indirect sig1, v0(v1)
    v26 = func_addr.i64 fn1
    v27 = load.i32 notrap aligned v0+16
    store little heap v1, v0-4
    v28 = sload16.i64 user7 v0
    v29 = bitcast.i32x4 little v4
    atomic_store v1, v0
    v30 = atomic_rmw xchg v0, v1
    v31 = atomic_cas v0, v1, v1
    v32 = stack_load.i32 ss2+4
    stack_store v1, ss0
    v33 = stack_addr.i64 ss0
    trapz v19, int_divz
    v34 = splat.dt0 v1
    v35 = extract_vector v34, 0
    nop
    brif v14, block1(v14), block2

block1(v37: i32) cold:
    br_table v37, block2, [block1(v37), block2]

block2:
    jump block3

block3:
    try_call fn0(v1, v0), sig0, block4, [ tag1: block5(exn0), default: block4 ]

block4:
    return v1

block5(v38: i64):
    trap user1
}
"""


def test_canonical_text_is_a_fixed_point() -> None:
    [fn] = parse_functions(CANONICAL)
    assert function_to_text(fn) == CANONICAL


def test_str_of_a_function_is_its_text() -> None:
    [fn] = parse_functions(CANONICAL)
    assert str(fn) == CANONICAL


@pytest.mark.parametrize(
    ("written", "printed"),
    [
        ("v10 = iadd.i32 v1, v2", "v10 = iadd v1, v2"),              # inferable: no suffix
        ("v10 = iconst.i8 -1", "v10 = iconst.i8 255"),                # immediates are bit patterns
        ("v10 = iconst.i64 -10000", "v10 = iconst.i64 0xffff_ffff_ffff_d8f0"),
        ("v10 = iconst.i16 9999", "v10 = iconst.i16 9999"),
        ("v10 = iconst.i128 -1", "v10 = iconst.i128 -1"),
        ("v10 = f32const.f32 0x3.0", "v10 = f32const 0x1.800000p1"),
        ("v10 = vconst.i32x4 [1 2 3 4]", "v10 = vconst.i32x4 0x00000004000000030000000200000001"),
        ("v10 = vconst.i16x4 [1 2 3 -1]", "v10 = vconst.i16x4 0xffff000300020001"),
        ("v10 = shuffle v5, v5, [0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23]",
         "v10 = shuffle v5, v5, 0x17071606150514041303120211011000"),
        ("v10 = load.i32 aligned notrap v0+0", "v10 = load.i32 notrap aligned v0"),
        ("v10 = load.i32 heap_oob v0", "v10 = load.i32 v0"),
        ("store.i32 v1, v0+0x10", "store v1, v0+16"),
        ("v10 = stack_load.i32 ss0+0", "v10 = stack_load.i32 ss0"),
        ("jump block1()", "jump block1"),
        ("brif.i32 v1, block2(v2), block1()", "brif v1, block2(v2), block1"),
        ("trapnz v1, user01", "trapnz v1, user1"),
        ("v10 = atomic_rmw.i32 little add v0, v1", "v10 = atomic_rmw little add v0, v1"),
    ],
)
def test_normal_forms(written: str, printed: str) -> None:
    text = ("function %t(i64, i32, i32) {\n    ss0 = explicit_slot 8\n"
            "block0(v0: i64, v1: i32, v2: i32, v3: f32, v4: i32x4, v5: i8x16):\n"
            f"    {written}\n    return\nblock1:\n    return\nblock2(v90: i32):\n    return\n}}\n")
    [fn] = parse_functions(text)
    assert inst_to_text(fn, 0) == printed
    # And the printed text parses back to the same line.
    [again] = parse_functions(function_to_text(fn))
    assert inst_to_text(again, 0) == printed


def test_implicit_signature_of_an_inline_function_declaration() -> None:
    [fn] = parse_functions("function %f() {\n    sig0 = () fast\n    fn3 = %g(i32) -> i32 tail\n"
                           "block0:\n    return\n}\n")
    assert function_to_text(fn) == (
        "function %f() fast {\n    sig0 = () fast\n    sig1 = (i32) -> i32 tail\n    fn3 = %g sig1\n"
        "\nblock0:\n    return\n}\n"
    )


def test_constants_are_inlined() -> None:
    [fn] = parse_functions("function %f() -> i8x16 {\n    const0 = 0x0102\nblock0:\n"
                           "    v0 = vconst.i8x16 const0\n    return v0\n}\n")
    assert "const0" not in function_to_text(fn)
    assert inst_to_text(fn, 0) == "v0 = vconst.i8x16 0x00000000000000000000000000000102"


def test_alias_chains_print_after_their_target() -> None:
    text = ("function %a(i8) -> i8 fast {\nblock0(v0: i8):\n    v1 -> v0\n    v3 -> v1\n"
            "    v2 = iadd v3, v0\n    v4 -> v2\n    return v4\n}\n")
    [fn] = parse_functions(text)
    assert function_to_text(fn) == text


def test_empty_function_and_no_preamble() -> None:
    [fn] = parse_functions("function %e() {}")
    assert function_to_text(fn) == "function %e() fast {\n}\n"


def test_value_and_block_call_text() -> None:
    assert (value_to_text(3), value_to_text(-1), value_to_text(-3)) == ("v3", "exn0", "exn2")
    assert block_call_to_text(BlockCall(4, [1, -2])) == "block4(v1, exn1)"
    assert block_call_to_text(BlockCall(0)) == "block0"


def test_printing_a_function_built_without_the_parser() -> None:
    fn = Function("%built", Signature([AbiParam(I32)], [AbiParam(I32)]))
    dfg = fn.dfg
    b0 = dfg.make_block()
    fn.layout.append_block(b0)
    x = dfg.append_block_param(b0, I32)
    k = dfg.make_inst(InstData(op.ICONST, I32, [], 42))
    [c] = dfg.make_inst_results(k, I32)
    add = dfg.make_inst(InstData(op.IADD, I32, [x, c]))
    [s] = dfg.make_inst_results(add, I32)
    ret = dfg.make_inst(InstData(op.RETURN, None, [s]))
    for inst in (k, add, ret):
        fn.layout.append_inst(inst, b0)
    assert function_to_text(fn) == (
        "function %built(i32) -> i32 fast {\nblock0(v0: i32):\n    v1 = iconst.i32 42\n"
        "    v2 = iadd v0, v1\n    return v2\n}\n"
    )


TEST_FILE = """\
test interpret
set opt_level=speed
target x86_64 has_avx

function %f(i32, f32) -> i32, f32x4 fast {
block0(v0: i32, v1: f32):
    v2 = splat.f32x4 v1
    return v0, v2
}
; run: %f(-1, 0x1.000000p0) == [-1, [0x1.000000p0 0x1.000000p0 0x1.000000p0 0x1.000000p0]]
; run: %f(0, -0.0) != [1, [+NaN +NaN +NaN +NaN]]
; print: %f(2, +Inf)

function %g() -> i8 fast {
block0:
    v0 = iconst.i8 1
    return v0
}
; run
"""


def test_test_file_text_is_a_fixed_point() -> None:
    assert file_to_text(parse_test_file(TEST_FILE)) == TEST_FILE


def test_test_file_run_commands_are_canonical() -> None:
    tf = parse_test_file("function %f(i8, i64) -> i8 {\nblock0(v0: i8, v1: i64):\n    return v0\n}\n"
                         ";run: %f(0xff, 0x10)==255\n")
    text = file_to_text(tf)
    assert text.endswith("}\n; run: %f(-1, 16) == -1\n")
    tf = parse_test_file("function %p() -> f64 {\nblock0:\n    v0 = f64const 0x1.0p0\n    return v0\n}\n; print\n")
    assert file_to_text(tf).endswith("; print: %p()\n")


@pytest.mark.parametrize(
    ("ty", "bits", "text"),
    [
        (I8, 0xFF, "-1"), (I16, 0x7FFF, "32767"), (I32, 0x80000000, "-2147483648"),
        (I64, 5, "5"), (I128, 1 << 127, str(-(1 << 127))),
        (F16, 0x3C00, "0x1.000p0"), (F32, 0x7FC00001, "+NaN:0x1"), (F64, 1 << 63, "-0.0"),
        (F128, 0x7FFF << 112, "+Inf"),
        (type_by_name("i8x4"), 0x80FF0201, "[1 2 -1 -128]"),
        (type_by_name("f64x2"), 0x3FF0000000000000, "[0x1.0000000000000p0 0.0]"),
    ],
)
def test_format_data_value(ty, bits: int, text: str) -> None:
    assert format_data_value(ty, bits) == text


def test_format_data_values() -> None:
    assert format_data_values([I8, F32], [0xFE, 0x40000000]) == "-2, 0x1.000000p1"
