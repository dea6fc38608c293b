"""FunctionBuilder: one function per instruction format, built through the checked
``ins.<opcode>`` builders; each verifies and survives print -> parse -> print."""

from __future__ import annotations

import pytest
from support.builder_support import entry, new

from heron.errors import BuilderError
from heron.ir import opcodes as op
from heron.ir.entities import AbiParam, ExtFuncData, GlobalValueData, Signature, StackSlotData
from heron.ir.function import Function
from heron.ir.instructions import BlockCall, opcode_info
from heron.ir.types import F32, F64, I8, I32, I64, I128, type_by_name
from heron.ir.verifier import verify_function_errors

I32X4 = type_by_name("i32x4")
F32X4 = type_by_name("f32x4")
I8X16 = type_by_name("i8x16")


# ---------------------------------------------------------------------------- one function per format


def _fmt_nullary(fn, fb):
    fb.ins.nop()
    fb.ins.fence()
    fb.ins.get_stack_pointer(I64)


def _fmt_unary(fn, fb):
    fb.ins.ineg(fb.ins.iconst(I32, 3))
    fb.ins.sextend(I64, fb.ins.iconst(I8, -1))
    fb.ins.fcvt_from_sint(F32X4, fb.ins.splat(I32X4, fb.ins.iconst(I32, 2)))


def _fmt_imm(fn, fb):
    fb.ins.iconst(I128, -5)
    fb.ins.f16const(0x3C00)
    fb.ins.f32const(0.5)
    fb.ins.f64const(0x3FF0000000000000)
    fb.ins.vconst(I32X4, 1 << 96)
    fb.ins.f128const(0)


def _fmt_global_value(fn, fb):
    gv = fn.create_global_value(GlobalValueData("symbol", name="%data"))
    fb.ins.global_value(I64, gv)


def _fmt_binary_ternary(fn, fb):
    x = fb.ins.iconst(I32, 1)
    fb.ins.ishl(x, fb.ins.iconst(I8, 3))
    fb.ins.select(fb.ins.icmp("eq", x, x), x, x)
    v = fb.ins.splat(I32X4, x)
    fb.ins.insertlane(v, fb.ins.extractlane(v, 3), 0)
    b = fb.ins.splat(I8X16, fb.ins.iconst(I8, 1))
    fb.ins.shuffle(b, b, list(range(31, 15, -1)))
    f = fb.ins.f64const(1.0)
    fb.ins.fcmp("uno", f, f)
    fb.ins.fma(f, f, f)
    lo, hi = fb.ins.isplit(fb.ins.iconst(I64, 7))
    fb.ins.iconcat(lo, hi)
    fb.ins.sadd_overflow(x, x)
    fb.ins.iadd_imm(x, -5)


def _fmt_memory(fn, fb):
    slot = fn.create_stack_slot(StackSlotData(16))
    p = fb.ins.stack_addr(I64, slot, 0)
    x = fb.ins.load(I32, "notrap aligned", p, 4)
    fb.ins.store("notrap", x, p, 8)
    fb.ins.istore8("", x, p)
    fb.ins.atomic_store("", fb.ins.atomic_load(I64, "", p), p)
    fb.ins.atomic_rmw("", "xchg", p, x)
    fb.ins.atomic_cas("", p, x, x)
    fb.ins.stack_store(fb.ins.stack_load(I64, slot, 8), slot, 0)
    fb.ins.bitcast(F32, "", x)
    fb.ins.trapz(x, "user1")


def _fmt_calls(fn, fb):
    sig = fn.import_signature(Signature([AbiParam(I32)], [AbiParam(I32), AbiParam(F64)]))
    g = fn.import_function(ExtFuncData("%g", sig))
    a, b = fb.ins.call(g, [fb.ins.iconst(I32, 1)])
    addr = fb.ins.func_addr(I64, g)
    fb.ins.call_indirect(sig, addr, [a])


FORMAT_BUILDERS = [_fmt_nullary, _fmt_unary, _fmt_imm, _fmt_global_value, _fmt_binary_ternary, _fmt_memory, _fmt_calls]


@pytest.mark.parametrize("body", FORMAT_BUILDERS, ids=lambda f: f.__name__[5:])
def test_straight_line_formats_build_and_verify(body) -> None:
    fn, fb = new()
    entry(fb)
    body(fn, fb)
    fb.ins.return_()
    fb.finalize()


def _control_flow_function() -> Function:
    fn, fb = new((I32,), (I32,))
    b0 = entry(fb)
    (x,) = fb.block_params(b0)
    sig = fn.import_signature(Signature([AbiParam(I32)], [AbiParam(I32)], "tail"))
    g = fn.import_function(ExtFuncData("%g", sig))
    bj, bt, bret, btrap, bcall, bexn, btail = (fb.create_block() for _ in range(7))
    fb.append_block_param(bt, I32)
    fb.append_block_param(bexn, I64)
    fb.ins.brif(x, bj, [], bt, [x])
    fb.switch_to_block(bj)
    fb.ins.jump(bt, [x])
    fb.switch_to_block(bt)
    y = fb.block_params(bt)[0]
    fb.ins.br_table(y, bret, [btrap, (bret, []), bcall])
    fb.switch_to_block(btrap)
    fb.ins.trap("user7")
    fb.switch_to_block(bcall)
    with pytest.raises(BuilderError, match="^try_call: needs one tag"):
        fb.ins.try_call(g, [y], sig, [BlockCall(btail), BlockCall(bexn, [-1])])
    fb.ins.try_call(g, [y], sig, [BlockCall(btail), BlockCall(bexn, [-1])], [None])
    fb.switch_to_block(bexn)
    fb.ins.return_(fb.ins.ireduce(I32, fb.block_params(bexn)[0]))
    fb.switch_to_block(btail)
    fb.ins.return_call(g, [y])
    fb.switch_to_block(bret)
    fb.ins.return_(y)
    fb.seal_all_blocks()
    fn.signature.call_conv = "tail"
    fb.finalize()
    return fn


def test_control_flow_formats_build_and_verify() -> None:
    fn = _control_flow_function()
    used = {opcode_info(fn.dfg.insts[i].opcode).format for _b, i in fn.layout.insts()}
    assert {"Jump", "Brif", "BranchTable", "Trap", "TryCall", "Call", "MultiAry"} <= used


def _straight_line_function(body) -> Function:
    fn, fb = new()
    entry(fb)
    body(fn, fb)
    fb.ins.return_()
    fb.finalize()
    return fn


@pytest.mark.parametrize("make", [*FORMAT_BUILDERS, None], ids=lambda f: f.__name__[5:] if f else "control_flow")
def test_built_functions_print_parse_and_verify(make) -> None:
    parser = pytest.importorskip("heron.ir.parser")
    printer = pytest.importorskip("heron.ir.printer")
    fn = _control_flow_function() if make is None else _straight_line_function(make)
    text = printer.function_to_text(fn)
    (again,) = parser.parse_functions(text, "built.clif")
    assert verify_function_errors(again) == []
    assert printer.function_to_text(again) == text


def test_every_format_is_covered() -> None:
    fn, fb = new()
    entry(fb)
    for body in FORMAT_BUILDERS:
        body(fn, fb)
    fb.ins.return_()
    fb.finalize()
    used = {opcode_info(fn.dfg.insts[i].opcode).format for _b, i in fn.layout.insts()}
    control = {"Jump", "Brif", "BranchTable", "Trap", "TryCall", "CallIndirect"}
    missing = set(op.FORMATS) - used - control
    assert missing == set(), missing
