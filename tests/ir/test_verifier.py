"""The verifier: one test per check, each asserting the message and its location."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heron.errors import VerifierError
from heron.ir import opcodes as op
from heron.ir.builder import FunctionBuilder
from heron.ir.entities import AbiParam, DynamicTypeData, ExtFuncData, GlobalValueData, Signature, StackSlotData
from heron.ir.function import Function
from heron.ir.instructions import BlockCall, InstData
from heron.ir.memflags import MemFlags
from heron.ir.types import F32, I8, I32, I64, I128, type_by_name
from heron.ir.verifier import verify_function, verify_function_errors

I32X4 = type_by_name("i32x4")
F32X4 = type_by_name("f32x4")
I8X16 = type_by_name("i8x16")


class Raw:
    """Build IR straight through the DFG and layout, so it can be as broken as a test needs."""

    def __init__(self, params: tuple = (), returns: tuple = (), call_conv: str = "fast") -> None:
        sig = Signature([AbiParam(t) for t in params], [AbiParam(t) for t in returns], call_conv)
        self.fn = Function("%t", sig)
        self.dfg = self.fn.dfg
        self.layout = self.fn.layout

    def block(self, *types, insert: bool = True) -> int:
        b = self.dfg.make_block()
        for t in types:
            self.dfg.append_block_param(b, t)
        if insert:
            self.layout.append_block(b)
        return b

    def params(self, b: int) -> list[int]:
        return self.dfg.block_params[b]

    def inst(self, block: int, opcode: int, ctrl=None, args=(), imm=None, aux=None, dests=None) -> tuple[int, list[int]]:
        inst = self.dfg.make_inst(InstData(opcode, ctrl, list(args), imm, aux, dests))
        res = self.dfg.make_inst_results(inst, ctrl)
        self.layout.append_inst(inst, block)
        return inst, res

    def value(self, block: int, opcode: int, ctrl=None, args=(), imm=None, aux=None) -> int:
        return self.inst(block, opcode, ctrl, args, imm, aux)[1][0]

    def ret(self, block: int, *vals: int) -> int:
        return self.inst(block, op.RETURN, None, vals)[0]

    def jump(self, block: int, dest: int, *args: int) -> int:
        return self.inst(block, op.JUMP, dests=[BlockCall(dest, list(args))])[0]


def errors(fn: Function) -> list[tuple[str, str]]:
    return verify_function_errors(fn)


def assert_error(fn: Function, location: str, message: str) -> None:
    """Some error is at ``location`` (an entity name: ``inst3``, ``block1``, ``gv0``) and says ``message``."""
    errs = errors(fn)
    for loc, msg in errs:
        if loc.split(" ")[0] == location and message in msg:
            return
    pytest.fail(f"no error {location}: {message!r} among {errs}")


# ---------------------------------------------------------------------------- valid


def test_valid_raw_function_has_no_errors() -> None:
    r = Raw((I32, I32), (I32,))
    b0 = r.block(I32, I32)
    x, y = r.params(b0)
    s = r.value(b0, op.IADD, I32, [x, y])
    r.ret(b0, s)
    assert errors(r.fn) == []
    verify_function(r.fn)


def test_empty_function_is_valid() -> None:
    assert errors(Function("%empty")) == []


def test_verify_function_raises_with_every_error_and_the_name() -> None:
    r = Raw()
    b0 = r.block()
    r.value(b0, op.ICONST, I32, imm=1)
    with pytest.raises(VerifierError) as info:
        verify_function(r.fn)
    assert info.value.function_name == "%t"
    assert info.value.errors == [("block0", "block does not end in a terminator instruction")]
    assert "verifier errors in %t (1):" in str(info.value)


# ---------------------------------------------------------------------------- entity references


def test_undefined_value() -> None:
    r = Raw()
    b0 = r.block()
    i = r.ret(b0)
    r.dfg.insts[i].args.append(99)
    assert_error(r.fn, f"inst{i}", "invalid value reference v99")


def test_unused_value_number_hole() -> None:
    r = Raw((), (I32,))
    b0 = r.block()
    r.dfg.reserve_values(5)  # v0..v4 are holes
    i = r.ret(b0, 3)
    assert_error(r.fn, f"inst{i}", "invalid value reference v3")


def test_alias_is_resolved() -> None:
    r = Raw((I32,), (I32,))
    b0 = r.block(I32)
    (x,) = r.params(b0)
    r.dfg.reserve_values(10)
    r.dfg.make_alias(7, x)
    r.ret(b0, 7)
    assert errors(r.fn) == []


def test_alias_to_a_value_defined_later_is_a_dominance_error() -> None:
    r = Raw((), (I32,))
    b0 = r.block()
    r.dfg.reserve_values(3)
    r.dfg.make_alias(0, 2)  # v0 -> v2 before v2 exists...
    use = r.inst(b0, op.IADD, I32, [0, 0])[0]
    late = r.dfg.make_inst(InstData(op.ICONST, I32, imm=1))
    r.dfg.make_inst_results(late, I32, numbers=[2])
    r.layout.append_inst(late, b0)
    r.dfg.value_type[0] = I32
    r.ret(b0, 2)
    assert_error(r.fn, f"inst{use}", f"uses value v0 from non-dominating inst{late}")


def test_branch_to_block_not_in_layout() -> None:
    r = Raw()
    b0 = r.block()
    b1 = r.block(insert=False)
    i = r.jump(b0, b1)
    assert_error(r.fn, f"inst{i}", f"invalid block reference block{b1}")


def test_branch_to_entry_block() -> None:
    r = Raw()
    b0 = r.block()
    i = r.jump(b0, b0)
    assert_error(r.fn, f"inst{i}", "invalid reference to entry block block0")


def test_undeclared_stack_slot_global_value_func_ref_sig_ref() -> None:
    r = Raw()
    b0 = r.block()
    i1 = r.inst(b0, op.STACK_LOAD, I32, imm=0, aux=0)[0]
    i2 = r.inst(b0, op.GLOBAL_VALUE, I64, aux=2)[0]
    i3 = r.inst(b0, op.CALL, aux=0)[0]
    p = r.value(b0, op.ICONST, I64, imm=0)
    i4 = r.inst(b0, op.CALL_INDIRECT, I64, [p], aux=1)[0]
    r.ret(b0)
    assert_error(r.fn, f"inst{i1}", "invalid stack slot ss0")
    assert_error(r.fn, f"inst{i2}", "invalid global value gv2")
    assert_error(r.fn, f"inst{i3}", "invalid function reference fn0")
    assert_error(r.fn, f"inst{i4}", "invalid signature reference sig1")


def test_declared_stack_slot_is_fine() -> None:
    r = Raw((), (I32,))
    r.fn.create_stack_slot(StackSlotData(8))
    b0 = r.block()
    v = r.value(b0, op.STACK_LOAD, I32, imm=4, aux=0)
    r.ret(b0, v)
    assert errors(r.fn) == []


def test_func_ref_with_undeclared_signature() -> None:
    r = Raw()
    r.fn.import_function(ExtFuncData("%g", 4))
    b0 = r.block()
    r.ret(b0)
    assert_error(r.fn, "fn0", "invalid signature reference sig4")


def test_undeclared_dynamic_type() -> None:
    r = Raw()
    b0 = r.block()
    dyn = type_by_name("i32x4xN")
    x = r.value(b0, op.ICONST, I32, imm=1)
    i = r.inst(b0, op.SPLAT, dyn, [x])[0]
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", "dynamic type i32x4xN is not declared")
    r.fn.create_global_value(GlobalValueData("dyn_scale_target_const", I32X4))
    r.fn.create_dynamic_type(DynamicTypeData(I32X4, 0))
    assert errors(r.fn) == []


def test_dynamic_type_with_undeclared_scale() -> None:
    r = Raw()
    r.fn.create_dynamic_type(DynamicTypeData(I32X4, 3))
    r.ret(r.block())
    assert_error(r.fn, "dt0", "invalid global value gv3")


def test_instruction_twice_in_layout() -> None:
    r = Raw()
    b0 = r.block()
    i = r.inst(b0, op.NOP)[0]
    r.layout.block_insts(b0).append(i)  # bypass the layout's bookkeeping
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", "instruction appears twice in the layout (again in block0)")


def test_result_of_another_instruction() -> None:
    r = Raw()
    b0 = r.block()
    i1, (a,) = r.inst(b0, op.ICONST, I32, imm=1)
    i2, (b,) = r.inst(b0, op.ICONST, I32, imm=2)
    r.dfg.results[i2][0] = a
    r.ret(b0)
    assert_error(r.fn, f"inst{i2}", f"instruction result v{a} is not defined by the instruction")


def test_global_value_base_cycle_and_vmctx() -> None:
    r = Raw()
    r.fn.create_global_value(GlobalValueData("load", I64, base=1, flags=MemFlags()))
    r.fn.create_global_value(GlobalValueData("iadd_imm", I64, base=0, offset=8))
    r.fn.create_global_value(GlobalValueData("vmctx"))
    r.ret(r.block())
    assert_error(r.fn, "gv0", "global value cycle: gv0, gv1")
    assert_error(r.fn, "gv2", "undeclared vmctx reference gv2")
    assert sum("cycle" in m for _, m in errors(r.fn)) == 1


# ---------------------------------------------------------------------------- blocks and terminators


def test_block_without_terminator() -> None:
    r = Raw()
    b0 = r.block()
    r.inst(b0, op.NOP)
    assert_error(r.fn, "block0", "block does not end in a terminator instruction")


def test_terminator_before_end_of_block() -> None:
    r = Raw()
    b0 = r.block()
    i = r.ret(b0)
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", "a terminator instruction was encountered before the end of block0")


def test_empty_block() -> None:
    r = Raw()
    b0 = r.block()
    b1 = r.block()
    r.ret(b0)
    assert_error(r.fn, f"block{b1}", f"block{b1} cannot be empty")


def test_entry_block_parameters_must_match_signature() -> None:
    r = Raw((I32, I64))
    b0 = r.block(I32)
    r.ret(b0)
    assert_error(r.fn, "block0", "entry block parameters (1) must match function signature (2)")
    r2 = Raw((I32, I64))
    b0 = r2.block(I32, I32)
    r2.ret(b0)
    assert_error(r2.fn, "block0", "entry block parameter 1 expected to have type i64, got i32")


def test_cold_entry_block() -> None:
    r = Raw()
    b0 = r.block()
    r.ret(b0)
    r.layout.set_cold(b0)
    assert_error(r.fn, "block0", "entry block cannot be marked as cold")


def test_return_arity_and_types() -> None:
    r = Raw((I32,), (I32, I64))
    b0 = r.block(I32)
    (x,) = r.params(b0)
    b1 = r.block()
    b2 = r.block()
    i0 = r.inst(b0, op.BRIF, I32, [x], dests=[BlockCall(b1), BlockCall(b2)])[0]
    i1 = r.ret(b1, x)
    i2 = r.ret(b2, x, x)
    assert_error(r.fn, f"inst{i1}", "arguments of return must match function signature (got 1 values, expected 2)")
    assert_error(r.fn, f"inst{i2}", "result 1 has type i32, must match function signature of i64")
    assert not any(loc.startswith(f"inst{i0} ") for loc, _ in errors(r.fn))


def test_return_call_results_and_call_conv() -> None:
    r = Raw((), (I32,), call_conv="tail")
    sig = r.fn.import_signature(Signature([], [AbiParam(I64)], "tail"))
    r.fn.import_function(ExtFuncData("%g", sig))
    sig2 = r.fn.import_signature(Signature([], [AbiParam(I32)], "system_v"))
    r.fn.import_function(ExtFuncData("%h", sig2))
    sig3 = r.fn.import_signature(Signature([], [AbiParam(I32)], "tail"))
    r.fn.import_function(ExtFuncData("%k", sig3))
    b0, b1, b2 = r.block(), r.block(), r.block()
    c = r.value(b0, op.ICONST, I8, imm=0)
    r.inst(b0, op.BRIF, I8, [c], dests=[BlockCall(b1), BlockCall(b2)])
    i1 = r.inst(b1, op.RETURN_CALL, aux=0)[0]
    i2 = r.inst(b2, op.RETURN_CALL, aux=1)[0]
    assert_error(r.fn, f"inst{i1}", "result 0 has type i64, must match function signature of i32")
    assert_error(r.fn, f"inst{i2}", "callee's calling convention must match caller")
    r.fn.dfg.insts[i1].aux = 2
    r.fn.dfg.insts[i2].aux = 2
    assert errors(r.fn) == []


# ---------------------------------------------------------------------------- block calls


def test_block_call_argument_count_and_types() -> None:
    r = Raw((I32,))
    b0 = r.block(I32)
    (x,) = r.params(b0)
    b1 = r.block(I32, I64)
    b2 = r.block(I64)
    i0 = r.inst(b0, op.BRIF, I32, [x], dests=[BlockCall(b1, [x]), BlockCall(b2, [x])])[0]
    r.ret(b1)
    r.ret(b2)
    assert_error(r.fn, f"inst{i0}", "mismatched argument count for block1: got 1, expected 2")
    assert_error(r.fn, f"inst{i0}", "arg 0 (v0) to block2 has type i32, expected i64")


def test_br_table_entries_are_checked_like_block_calls() -> None:
    r = Raw((I32,))
    b0 = r.block(I32)
    (x,) = r.params(b0)
    b1 = r.block()
    b2 = r.block(I32)
    table = [BlockCall(b1), BlockCall(b2, [x]), BlockCall(b1)]
    i = r.inst(b0, op.BR_TABLE, I32, [x], dests=table)[0]
    r.ret(b1)
    r.ret(b2)
    assert errors(r.fn) == []  # jump-table entries may pass arguments (current Cranelift)
    r.dfg.insts[i].dests[2] = BlockCall(b2)
    assert_error(r.fn, f"inst{i}", "mismatched argument count for block2: got 0, expected 1")


# ---------------------------------------------------------------------------- types


def test_controlling_type_not_in_type_set() -> None:
    r = Raw()
    b0 = r.block()
    x = r.value(b0, op.F32CONST, F32, imm=0)
    i = r.inst(b0, op.IADD, F32, [x, x])[0]
    j = r.inst(b0, op.ICONST, F32, imm=0)[0]
    r.ret(b0)
    int_types = "i8, i16, i32, i64, i128, i8x2, i8x4, i8x8, i8x16, i16x2, i16x4, i16x8, i32x2, i32x4, i64x2"
    assert_error(r.fn, f"inst{i}", f"operand x (v{x}) has type f32, which is not in the type set of T ({int_types})")
    assert_error(r.fn, f"inst{j}", "type f32 is not in the type set of T (i8, i16, i32, i64, i128)")


def test_free_typevar_bound_from_operand_not_in_type_set() -> None:
    r = Raw()
    b0 = r.block()
    x = r.value(b0, op.F32CONST, F32, imm=0)
    i = r.inst(b0, op.UEXTEND, I64, [x])[0]
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", f"operand x (v{x}) has type f32, which is not in the type set of X (i8, i16, i32, i64, i128)")


def test_operand_type_mismatch() -> None:
    r = Raw((I32, I64))
    b0 = r.block(I32, I64)
    x, y = r.params(b0)
    i = r.inst(b0, op.IADD, I32, [x, y])[0]
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", f"operand y (v{y}) is i64 but x (v{x}) is i32")


def test_operand_against_derived_type() -> None:
    r = Raw((I64,))
    b0 = r.block(I64)
    (x,) = r.params(b0)
    i = r.inst(b0, op.SPLAT, I32X4, [x])[0]
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", f"operand x (v{x}) is i64, expected i32 (T.lane with T = i32x4)")


def test_result_type_and_count() -> None:
    r = Raw((I32,))
    b0 = r.block(I32)
    (x,) = r.params(b0)
    i, (s,) = r.inst(b0, op.IADD, I32, [x, x])
    r.dfg.value_type[s] = I64
    j, (c, of) = r.inst(b0, op.SADD_OVERFLOW, I32, [x, x])
    r.dfg.results[j].pop()
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", f"expected result 0 (v{s}) to have type i32, found i64")
    assert_error(r.fn, f"inst{j}", "expected 2 result values, found 1")


def test_constraint_narrower() -> None:
    r = Raw((I64,))
    b0 = r.block(I64)
    (x,) = r.params(b0)
    i = r.inst(b0, op.UEXTEND, I32, [x])[0]
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", "X = i64 must be narrower than T = i32")


def test_constraint_same_bits() -> None:
    r = Raw((I64,))
    b0 = r.block(I64)
    (x,) = r.params(b0)
    i = r.inst(b0, op.BITCAST, I32, [x], aux=MemFlags())[0]
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", "X = i64 and T = i32 must have the same number of bits")


def test_constraint_same_lanes() -> None:
    r = Raw((I32,))
    b0 = r.block(I32)
    (x,) = r.params(b0)
    i = r.inst(b0, op.FCVT_FROM_SINT, F32X4, [x])[0]
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", "X = i32 and T = f32x4 must have the same number of lanes")


def test_call_arguments_against_signature() -> None:
    r = Raw((I64,))
    sig = r.fn.import_signature(Signature([AbiParam(I32), AbiParam(I32)], [AbiParam(I32)]))
    r.fn.import_function(ExtFuncData("%g", sig))
    b0 = r.block(I64)
    (x,) = r.params(b0)
    i1 = r.inst(b0, op.CALL, aux=0, args=[x])[0]
    i2 = r.inst(b0, op.CALL, aux=0, args=[x, x])[0]
    i3 = r.inst(b0, op.CALL_INDIRECT, I64, [x, x], aux=sig)[0]
    r.ret(b0)
    assert_error(r.fn, f"inst{i1}", "mismatched argument count for call: got 1, expected 2")
    assert_error(r.fn, f"inst{i2}", f"arg 0 (v{x}) has type i64, expected i32")
    assert_error(r.fn, f"inst{i3}", "mismatched argument count for call_indirect: got 1, expected 2")
    assert len(r.dfg.results[i1]) == 1 and r.dfg.value_type[r.dfg.results[i1][0]] is I32


def test_missing_controlling_type() -> None:
    r = Raw()
    b0 = r.block()
    i = r.dfg.make_inst(InstData(op.ICONST, None, imm=0))
    r.layout.append_inst(i, b0)
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", "has no controlling type (type variable T)")


# ---------------------------------------------------------------------------- immediates


def test_iconst_bounds() -> None:
    r = Raw()
    b0 = r.block()
    ok = [r.value(b0, op.ICONST, I8, imm=v) for v in (0, 255)]
    ok.append(r.value(b0, op.ICONST, I128, imm=(1 << 128) - 1))  # -1: sign-extended from 64 bits
    i = r.inst(b0, op.ICONST, I8, imm=256)[0]
    j = r.inst(b0, op.ICONST, I8, imm=-1)[0]  # immediates are stored as unsigned bit patterns
    k = r.inst(b0, op.ICONST, I128, imm=1 << 64)[0]
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", "constant immediate is out of bounds")
    assert_error(r.fn, f"inst{j}", "constant immediate is out of bounds")
    assert_error(r.fn, f"inst{k}", "constant immediate is out of bounds")
    assert len(errors(r.fn)) == 3 and ok


def test_lane_immediates() -> None:
    r = Raw((I32X4,))
    b0 = r.block(I32X4)
    (v,) = r.params(b0)
    ok = r.inst(b0, op.EXTRACTLANE, I32X4, [v], imm=3)[0]
    i = r.inst(b0, op.EXTRACTLANE, I32X4, [v], imm=4)[0]
    s = r.value(b0, op.ICONST, I32, imm=0)
    j = r.inst(b0, op.INSERTLANE, I32X4, [v, s], imm=9)[0]
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", "The lane 4 does not index into the type i32x4")
    assert_error(r.fn, f"inst{j}", "The lane 9 does not index into the type i32x4")
    assert not any(loc.split(" ")[0] == f"inst{ok}" for loc, _ in errors(r.fn))


def test_shuffle_mask_bytes() -> None:
    r = Raw((I8X16,))
    b0 = r.block(I8X16)
    (v,) = r.params(b0)
    r.inst(b0, op.SHUFFLE, I8X16, [v, v], imm=int.from_bytes(bytes(range(16, 32)), "little"))
    i = r.inst(b0, op.SHUFFLE, I8X16, [v, v], imm=40 << 16)[0]
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", "shuffle immediate index 40 is larger than the maximum 31")
    assert len(errors(r.fn)) == 1


def test_condition_code_index() -> None:
    r = Raw((I32,))
    b0 = r.block(I32)
    (x,) = r.params(b0)
    i = r.inst(b0, op.ICMP, I32, [x, x], imm=10)[0]
    j = r.inst(b0, op.FCMP, F32, [r.value(b0, op.F32CONST, F32, imm=0)] * 2, imm=14)[0]
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", "invalid condition code index 10")
    assert_error(r.fn, f"inst{j}", "invalid condition code index 14")


def test_offsets_readonly_store_and_bitcast_flags() -> None:
    r = Raw((I64,))
    b0 = r.block(I64)
    (p,) = r.params(b0)
    i = r.inst(b0, op.LOAD, I32, [p], imm=1 << 31, aux=MemFlags())[0]
    x = r.value(b0, op.ICONST, I32, imm=0)
    j = r.inst(b0, op.STORE, I32, [x, p], imm=0, aux=MemFlags.parse_words(["readonly"]))[0]
    k = r.inst(b0, op.BITCAST, F32, [x], aux=MemFlags.parse_words(["notrap"]))[0]
    v = r.value(b0, op.ICONST, I64, imm=0)
    m = r.inst(b0, op.BITCAST, type_by_name("i32x2"), [v], aux=MemFlags())[0]
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", "offset 2147483648 is not a 32-bit signed offset")
    assert_error(r.fn, f"inst{j}", "A store instruction cannot have the `readonly` MemFlag")
    assert_error(r.fn, f"inst{k}", "The bitcast instruction only accepts the `big` or `little` memory flags")
    assert_error(r.fn, f"inst{m}", "Byte order specifier required for bitcast instruction changing lane count")


def test_trap_codes_and_try_call_tags() -> None:
    r = Raw((I32,))
    sig = r.fn.import_signature(Signature())
    r.fn.import_function(ExtFuncData("%g", sig))
    b0 = r.block(I32)
    (x,) = r.params(b0)
    b1, b2 = r.block(), r.block()
    i = r.inst(b0, op.TRAPZ, I32, [x], aux="unreachable")[0]
    j = r.inst(b0, op.TRY_CALL, None, [], imm=(), aux=(0, sig), dests=[BlockCall(b1), BlockCall(b2)])[0]
    r.inst(b1, op.TRAP, aux="user250")
    r.inst(b2, op.TRAP, aux="int_divz")
    assert_error(r.fn, f"inst{i}", "invalid trap code 'unreachable'")
    assert_error(r.fn, f"inst{j}", "try_call needs one handler tag per exception handler block (1), found ()")
    assert len(errors(r.fn)) == 2
    r.dfg.insts[j].imm = (None,)
    r.dfg.insts[i].aux = "user1"
    assert errors(r.fn) == []


# ---------------------------------------------------------------------------- SSA dominance


def test_use_before_def_in_one_block() -> None:
    r = Raw()
    b0 = r.block()
    r.dfg.reserve_values(1)
    use = r.dfg.make_inst(InstData(op.INEG, I32, [0]))
    r.dfg.make_inst_results(use, I32)
    r.layout.append_inst(use, b0)
    d = r.dfg.make_inst(InstData(op.ICONST, I32, imm=1))
    r.dfg.make_inst_results(d, I32, numbers=[0])
    r.layout.append_inst(d, b0)
    r.ret(b0)
    assert_error(r.fn, f"inst{use}", f"uses value v0 from non-dominating inst{d}")


def test_use_from_itself() -> None:
    r = Raw()
    b0 = r.block()
    r.dfg.reserve_values(1)
    i = r.dfg.make_inst(InstData(op.INEG, I32, [0]))
    r.dfg.make_inst_results(i, I32, numbers=[0])
    r.layout.append_inst(i, b0)
    r.ret(b0)
    assert_error(r.fn, f"inst{i}", "uses value v0 from itself")


def test_use_from_other_side_of_diamond() -> None:
    r = Raw((I32,), (I32,))
    b0 = r.block(I32)
    (x,) = r.params(b0)
    b1, b2, b3 = r.block(), r.block(I32), r.block()
    r.inst(b0, op.BRIF, I32, [x], dests=[BlockCall(b1), BlockCall(b2, [x])])
    v = r.value(b1, op.IADD, I32, [x, x])
    r.jump(b1, b3)
    (p,) = r.params(b2)
    r.jump(b2, b3)
    i = r.ret(b3, v)
    j = r.inst(b3, op.RETURN, None, [p])[0]
    r.layout.remove_inst(i)
    r.layout.append_inst(i, b3)  # the first return is the terminator now; j is misplaced
    errs = errors(r.fn)
    assert_error(r.fn, f"inst{i}", f"uses value v{v} from non-dominating inst")
    assert_error(r.fn, f"inst{j}", f"uses value v{p} from non-dominating block{b2}")
    assert_error(r.fn, f"inst{j}", "a terminator instruction was encountered before the end of block3")
    assert len(errs) == 3


def test_uses_in_unreachable_blocks_are_not_checked_for_dominance() -> None:
    r = Raw((), (I32,))
    b0, b1, b2 = r.block(), r.block(), r.block()  # block1 and block2 are unreachable
    v = r.value(b0, op.ICONST, I32, imm=1)
    r.ret(b0, v)
    w = r.value(b2, op.ICONST, I32, imm=2)
    r.jump(b2, b1)
    r.value(b1, op.IADD, I32, [v, w])  # neither definition dominates block1 in the tree
    r.ret(b1, w)
    assert errors(r.fn) == []


def test_several_errors_are_all_reported() -> None:
    r = Raw((I32,), (I32,))
    b0 = r.block(I64)  # 1: entry parameter type
    (x,) = r.params(b0)
    i1 = r.inst(b0, op.IADD, I64, [x, 77])[0]  # 2: undefined value
    i2 = r.inst(b0, op.ICONST, I8, imm=1000)[0]  # 3: immediate out of bounds
    b1 = r.block()  # 4: empty block
    i3 = r.ret(b0, x)  # 5: return type
    errs = errors(r.fn)
    assert ("block0", "entry block parameter 0 expected to have type i32, got i64") in errs
    assert_error(r.fn, f"inst{i1}", "invalid value reference v77")
    assert_error(r.fn, f"inst{i2}", "constant immediate is out of bounds")
    assert_error(r.fn, f"block{b1}", f"block{b1} cannot be empty")
    assert_error(r.fn, f"inst{i3}", "result 0 has type i64, must match function signature of i32")
    assert len(errs) == 5
    with pytest.raises(VerifierError) as info:
        verify_function(r.fn)
    assert len(info.value.errors) == 5


# ---------------------------------------------------------------------------- locations


def test_location_names_the_instruction(monkeypatch: pytest.MonkeyPatch) -> None:
    import heron.ir.verifier as verifier

    r = Raw((I32, I64))
    b0 = r.block(I32, I64)
    x, y = r.params(b0)
    r.inst(b0, op.IADD, I32, [x, y])
    r.ret(b0)
    monkeypatch.setattr(verifier, "_inst_text", lambda fn, inst: None)
    assert errors(r.fn)[0][0] == "inst0 iadd"
    monkeypatch.setattr(verifier, "_inst_text", lambda fn, inst: "v2 = iadd v0, v1")
    assert errors(r.fn)[0][0] == "inst0 (v2 = iadd v0, v1)"


def test_location_uses_the_printer_when_there_is_one() -> None:
    printer = pytest.importorskip("heron.ir.printer")
    r = Raw((I32, I64))
    b0 = r.block(I32, I64)
    x, y = r.params(b0)
    r.inst(b0, op.IADD, I32, [x, y])
    r.ret(b0)
    assert errors(r.fn)[0][0] == f"inst0 ({printer.inst_to_text(r.fn, 0)})"


def test_builder_output_verifies() -> None:
    fn = Function("%f", Signature([AbiParam(I32)], [AbiParam(I32)]))
    fb = FunctionBuilder(fn)
    b0 = fb.create_block()
    fb.append_block_params_for_function_params(b0)
    fb.switch_to_block(b0)
    fb.seal_block(b0)
    (x,) = fb.block_params(b0)
    fb.ins.return_(fb.ins.imul(x, x))
    fb.finalize()
    assert errors(fn) == []


# ---------------------------------------------------------------------------- data-driven cases

CASES = Path(__file__).parent / "verifier_cases"


def render_verifier_output(text: str, file: str) -> str:
    """Every function of a CLIF file with its verifier errors, or ``ok``."""
    from heron.ir.parser import parse_functions

    out = []
    for fn in parse_functions(text, file):
        errs = verify_function_errors(fn)
        if not errs:
            out.append(f"function {fn.name}: ok")
            continue
        out.append(f"function {fn.name}:")
        out += [f"  {loc}: {msg}" for loc, msg in errs]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("case", sorted(CASES.glob("*.clif")), ids=lambda p: p.stem)
def test_verifier_case(case: Path, bless: bool) -> None:
    """``NAME.clif`` verifies to ``NAME.err``; ``pytest --bless`` rewrites the .err files."""
    pytest.importorskip("heron.ir.parser")
    got = render_verifier_output(case.read_text(), case.name)
    expected_file = case.with_suffix(".err")
    if bless:
        expected_file.write_text(got)
        return
    assert expected_file.exists(), f"{expected_file.name} is missing: run pytest --bless and review it"
    assert got == expected_file.read_text()


def test_every_corpus_function_verifies(clif_corpus: Path) -> None:
    parser = pytest.importorskip("heron.ir.parser")
    failures = []
    for path in sorted(clif_corpus.glob("*.clif")):
        for fn in parser.parse_functions(path.read_text(), path.name):
            failures += [f"{path.name} {fn.name} {loc}: {msg}" for loc, msg in verify_function_errors(fn)]
    assert failures == []


# ---------------------------------------------------------------------------- robustness


def _sample_function() -> Function:
    fn = Function("%s", Signature([AbiParam(I32), AbiParam(I64)], [AbiParam(I32)]))
    fn.create_stack_slot(StackSlotData(8))
    sig = fn.import_signature(Signature([AbiParam(I32)], [AbiParam(I32)]))
    fn.import_function(ExtFuncData("%g", sig))
    fb = FunctionBuilder(fn)
    b0, b1, b2, b3 = (fb.create_block() for _ in range(4))
    fb.append_block_params_for_function_params(b0)
    fb.append_block_param(b3, I32)
    fb.switch_to_block(b0)
    x, p = fb.block_params(b0)
    (y,) = fb.ins.call(0, [x])
    v = fb.ins.splat(I32X4, y)
    e = fb.ins.extractlane(v, 1)
    fb.ins.br_table(e, b1, [b2, (b3, [e])])
    fb.switch_to_block(b1)
    fb.ins.store("notrap", fb.ins.load(I32, "", p, 4), p)
    fb.ins.jump(b3, [fb.ins.stack_load(I32, 0)])
    fb.switch_to_block(b2)
    c = fb.ins.icmp("ult", x, y)
    fb.ins.brif(c, b3, [x], b3, [y])
    fb.switch_to_block(b3)
    fb.ins.return_(fb.ins.iadd(fb.block_params(b3)[0], x))
    fb.seal_all_blocks()
    fb.finalize()
    return fn


_TYPES = [None, I8, I32, I64, F32, I32X4, I8X16, type_by_name("i32x4xN")]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 40), st.integers(-3, 40)), min_size=1, max_size=4))
def test_no_mutation_crashes_the_verifier(mutations) -> None:
    fn = _sample_function()
    dfg, layout = fn.dfg, fn.layout
    for kind, a, b in mutations:
        inst = a % dfg.num_insts
        data = dfg.insts[inst]
        if kind == 0 and data.args:
            data.args[b % len(data.args)] = b
        elif kind == 1:
            data.ctrl_type = _TYPES[b % len(_TYPES)]
        elif kind == 2 and layout.is_inst_inserted(inst):
            layout.remove_inst(inst)
        elif kind == 3 and data.dests:
            data.dests[b % len(data.dests)].block = b % (dfg.num_blocks + 1)
        elif kind == 4 and data.dests:
            data.dests[a % len(data.dests)].args.append(b)
        elif kind == 5:
            data.imm = b if b % 3 else None
            data.aux = b if b % 2 else data.aux
        elif kind == 6:
            data.opcode = b % len(op.OPCODES)
        elif kind == 7 and dfg.results[inst]:
            dfg.value_type[dfg.results[inst][0]] = _TYPES[b % len(_TYPES)]
        elif kind == 8 and layout.blocks:
            layout.block_insts(layout.blocks[b % len(layout.blocks)]).append(inst)
        elif kind == 9 and dfg.num_values:
            dfg.make_alias(dfg.num_values, b % dfg.num_values) if b % 2 else dfg.reserve_values(dfg.num_values + 2)
    errs = verify_function_errors(fn)  # must report, never raise
    assert all(isinstance(loc, str) and isinstance(msg, str) for loc, msg in errs)
