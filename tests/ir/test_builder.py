"""FunctionBuilder: SSA construction (Braun et al.), checked instruction builders, cursor rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.builder_support import entry, new

from heron.errors import BuilderError, VerifierError
from heron.ir import opcodes as op
from heron.ir.builder import FunctionBuilder
from heron.ir.dfg import VALUE_ALIAS
from heron.ir.entities import AbiParam, ExtFuncData, Signature
from heron.ir.function import Function
from heron.ir.instructions import opcode_info
from heron.ir.types import F16, F32, F64, F128, I8, I16, I32, I64, I128, type_by_name
from heron.ir.verifier import verify_function_errors

I32X4 = type_by_name("i32x4")
F32X4 = type_by_name("f32x4")
I8X16 = type_by_name("i8x16")


def opcode_of(fn: Function, inst: int) -> str:
    return opcode_info(fn.dfg.insts[inst].opcode).name


def dest_args(fn: Function, inst: int) -> list[tuple[int, list[int]]]:
    return [(bc.block, list(bc.args)) for bc in fn.dfg.insts[inst].dests]


def no_alias_operands(fn: Function) -> bool:
    kinds = fn.dfg.value_kind
    for _b, inst in fn.layout.insts():
        if any(kinds[v] == VALUE_ALIAS for v in fn.dfg.inst_values(inst)):
            return False
    return True


# ---------------------------------------------------------------------------- SSA construction


def test_straight_line_def_use() -> None:
    fn, fb = new((I32,), (I32,))
    b0 = entry(fb)
    x, y = fb.declare_var(I32), fb.declare_var(I32)
    fb.def_var(x, fb.block_params(b0)[0])
    fb.def_var(y, fb.ins.iconst(I32, 2))
    z = fb.ins.iadd(fb.use_var(x), fb.use_var(y))
    fb.def_var(x, z)
    assert fb.use_var(x) == z
    fb.ins.return_(fb.use_var(x))
    fb.finalize()
    assert fn.dfg.block_params[b0] == [0]


def test_diamond_defined_in_both_branches_gets_a_join_parameter() -> None:
    fn, fb = new((I32,), (I32,))
    b0 = entry(fb)
    then_b, else_b, join = fb.create_block(), fb.create_block(), fb.create_block()
    x = fb.declare_var(I32)
    c = fb.block_params(b0)[0]
    br = fb.ins.brif(c, then_b, [], else_b, [])
    fb.switch_to_block(then_b)
    fb.seal_block(then_b)
    one = fb.ins.iconst(I32, 1)
    fb.def_var(x, one)
    j1 = fb.ins.jump(join)
    fb.switch_to_block(else_b)
    fb.seal_block(else_b)
    two = fb.ins.iconst(I32, 2)
    fb.def_var(x, two)
    j2 = fb.ins.jump(join)
    fb.switch_to_block(join)
    fb.seal_block(join)
    v = fb.use_var(x)
    fb.ins.return_(v)
    fb.finalize()
    assert fn.dfg.block_params[join] == [v]
    assert dest_args(fn, j1) == [(join, [one])] and dest_args(fn, j2) == [(join, [two])]
    assert dest_args(fn, br) == [(then_b, []), (else_b, [])]


def test_variable_unchanged_across_a_diamond_needs_no_parameter() -> None:
    fn, fb = new((I32,), (I32,))
    b0 = entry(fb)
    x = fb.declare_var(I32)
    fb.def_var(x, fb.block_params(b0)[0])
    t, e, j = fb.create_block(), fb.create_block(), fb.create_block()
    fb.ins.brif(fb.use_var(x), t, [], e, [])
    for b in (t, e):
        fb.switch_to_block(b)
        fb.ins.jump(j)
    fb.seal_all_blocks()
    fb.switch_to_block(j)
    fb.ins.return_(fb.use_var(x))
    fb.finalize()
    assert fn.dfg.block_params[j] == []


def test_variable_defined_in_one_branch_only_reads_zero_on_the_other_path() -> None:
    fn, fb = new((I32,), (I32,))
    b0 = entry(fb)
    x = fb.declare_var(I32)
    t, j = fb.create_block(), fb.create_block()
    br = fb.ins.brif(fb.block_params(b0)[0], t, [], j, [])
    fb.switch_to_block(t)
    fb.seal_block(t)
    seven = fb.ins.iconst(I32, 7)
    fb.def_var(x, seven)
    fb.ins.jump(j)
    fb.switch_to_block(j)
    fb.seal_block(j)
    v = fb.use_var(x)
    fb.ins.return_(v)
    fb.finalize()
    # The path from the entry never defined x: cranelift-frontend reads zero there.
    zero_inst = fn.layout.block_insts(b0)[0]
    assert opcode_of(fn, zero_inst) == "iconst" and fn.dfg.insts[zero_inst].imm == 0
    zero = fn.dfg.results[zero_inst][0]
    assert dest_args(fn, br) == [(t, []), (j, [zero])]
    assert fn.dfg.block_params[j] == [v]


def test_loop_counter_becomes_a_header_parameter() -> None:
    fn, fb = new((I32,), (I32,))
    b0 = entry(fb)
    n = fb.block_params(b0)[0]
    i, acc = fb.declare_var(I32), fb.declare_var(I32)
    fb.def_var(i, fb.ins.iconst(I32, 0))
    fb.def_var(acc, fb.ins.iconst(I32, 0))
    head, body, done = fb.create_block(), fb.create_block(), fb.create_block()
    fb.ins.jump(head)
    fb.switch_to_block(head)
    br = fb.ins.brif(fb.ins.icmp("slt", fb.use_var(i), n), body, [], done, [])
    fb.switch_to_block(body)
    fb.seal_block(body)
    fb.def_var(acc, fb.ins.iadd(fb.use_var(acc), fb.use_var(i)))
    fb.def_var(i, fb.ins.iadd(fb.use_var(i), fb.ins.iconst(I32, 1)))
    fb.ins.jump(head)
    fb.seal_block(head)
    fb.switch_to_block(done)
    fb.seal_block(done)
    fb.ins.return_(fb.use_var(acc))
    fb.finalize()
    assert len(fn.dfg.block_params[head]) == 2  # i and acc
    assert dest_args(fn, br) == [(body, []), (done, [])]
    assert no_alias_operands(fn)


def test_loop_invariant_variable_has_no_header_parameter() -> None:
    fn, fb = new((I32,), (I32,))
    b0 = entry(fb)
    x = fb.declare_var(I32)
    fb.def_var(x, fb.block_params(b0)[0])
    head, body, done = fb.create_block(), fb.create_block(), fb.create_block()
    fb.ins.jump(head)
    fb.switch_to_block(head)  # not sealed: the use below makes an incomplete parameter
    fb.ins.brif(fb.use_var(x), body, [], done, [])
    fb.switch_to_block(body)
    fb.seal_block(body)
    fb.ins.jump(head)
    fb.seal_block(head)
    fb.switch_to_block(done)
    fb.seal_block(done)
    v = fb.use_var(x)
    fb.ins.return_(v)
    fb.finalize()
    assert fn.dfg.block_params[head] == []
    assert v == fn.dfg.block_params[b0][0]
    assert no_alias_operands(fn)


def test_nested_loops() -> None:
    # i = 0; while i < n: { j = 0; while j < i: { s += j; j += 1 }; i += 1 }; return s
    fn, fb = new((I32,), (I32,))
    b0 = entry(fb)
    n = fb.block_params(b0)[0]
    i, j, s = (fb.declare_var(I32) for _ in range(3))
    one = fb.ins.iconst(I32, 1)
    fb.def_var(i, fb.ins.iconst(I32, 0))
    fb.def_var(s, fb.ins.iconst(I32, 0))
    oh, ob, ih, ib, ix, done = (fb.create_block() for _ in range(6))
    fb.ins.jump(oh)
    fb.switch_to_block(oh)
    fb.ins.brif(fb.ins.icmp("slt", fb.use_var(i), n), ob, [], done, [])
    fb.switch_to_block(ob)
    fb.seal_block(ob)
    fb.def_var(j, fb.ins.iconst(I32, 0))
    fb.ins.jump(ih)
    fb.switch_to_block(ih)
    fb.ins.brif(fb.ins.icmp("slt", fb.use_var(j), fb.use_var(i)), ib, [], ix, [])
    fb.switch_to_block(ib)
    fb.seal_block(ib)
    fb.def_var(s, fb.ins.iadd(fb.use_var(s), fb.use_var(j)))
    fb.def_var(j, fb.ins.iadd(fb.use_var(j), one))
    fb.ins.jump(ih)
    fb.seal_block(ih)
    fb.switch_to_block(ix)
    fb.seal_block(ix)
    fb.def_var(i, fb.ins.iadd(fb.use_var(i), one))
    fb.ins.jump(oh)
    fb.seal_block(oh)
    fb.switch_to_block(done)
    fb.seal_block(done)
    fb.ins.return_(fb.use_var(s))
    fb.finalize()
    assert len(fn.dfg.block_params[oh]) == 2  # i, s
    assert len(fn.dfg.block_params[ih]) == 2  # j, s (i is invariant in the inner loop)
    assert run(fn, [5]) == [0 + 0 + 1 + 0 + 1 + 2 + 0 + 1 + 2 + 3]


def test_sealing_everything_at_the_end_gives_the_same_result() -> None:
    fn, fb = new((I32,), (I32,))
    entry_b = fb.create_block()
    fb.append_block_params_for_function_params(entry_b)
    fb.switch_to_block(entry_b)
    n = fb.block_params(entry_b)[0]
    x = fb.declare_var(I32)
    fb.def_var(x, n)
    head, body, done = fb.create_block(), fb.create_block(), fb.create_block()
    fb.ins.jump(head)
    fb.switch_to_block(head)
    fb.ins.brif(fb.use_var(x), body, [], done, [])
    fb.switch_to_block(body)
    fb.def_var(x, fb.ins.isub(fb.use_var(x), fb.ins.iconst(I32, 1)))
    fb.ins.jump(head)
    fb.switch_to_block(done)
    fb.ins.return_(fb.use_var(x))
    fb.seal_all_blocks()
    fb.finalize()
    assert run(fn, [3]) == [0]
    assert len(fn.dfg.block_params[head]) == 1 and fn.dfg.block_params[body] == []


def test_use_in_unreachable_block_reads_zero() -> None:
    fn, fb = new((), (I64,))
    entry(fb)
    x = fb.declare_var(I64)
    fb.def_var(x, fb.ins.iconst(I64, 5))
    fb.ins.return_(fb.use_var(x))
    dead = fb.create_block()
    fb.switch_to_block(dead)
    fb.seal_block(dead)
    v = fb.use_var(x)
    fb.ins.return_(v)
    fb.finalize()
    first = fn.layout.block_insts(dead)[0]
    assert opcode_of(fn, first) == "iconst" and fn.dfg.results[first] == [v]


def test_unreachable_single_predecessor_cycle_terminates() -> None:
    # block1 and block2 are each other's only predecessor (dead code): the search for x
    # from block3 walks into that cycle and must stop there.
    fn, fb = new((), (I32,))
    entry(fb)
    fb.ins.return_(fb.ins.iconst(I32, 0))
    x = fb.declare_var(I32)
    b1, b2, b3 = fb.create_block(), fb.create_block(), fb.create_block()
    fb.switch_to_block(b1)
    fb.ins.brif(fb.ins.iconst(I8, 1), b3, [], b2, [])
    fb.switch_to_block(b2)
    fb.ins.jump(b1)
    fb.seal_all_blocks()
    fb.switch_to_block(b3)
    v = fb.use_var(x)
    fb.ins.return_(v)
    fb.finalize()
    zero = fn.layout.block_insts(b1)[0]
    assert opcode_of(fn, zero) == "iconst" and fn.dfg.results[zero] == [v]


def test_use_var_zero_for_every_type() -> None:
    types = [I8, I16, I32, I64, I128, F16, F32, F64, F128, I32X4, F32X4, I8X16]
    fn, fb = new()
    entry(fb)
    got = []
    for ty in types:
        got.append(fb.use_var(fb.declare_var(ty)))
    fb.ins.return_()
    fb.finalize()
    assert [fn.dfg.value_type[v] for v in got] == types


def test_br_table_entries_receive_variable_arguments_without_edge_splitting() -> None:
    fn, fb = new((I32,), (I32,))
    b0 = entry(fb)
    x = fb.declare_var(I32)
    fb.def_var(x, fb.ins.iconst(I32, 10))
    b1, b2 = fb.create_block(), fb.create_block()
    bt = fb.ins.br_table(fb.block_params(b0)[0], b2, [b2, b1, b2])
    fb.switch_to_block(b1)
    fb.seal_block(b1)
    twenty = fb.ins.iconst(I32, 20)
    fb.def_var(x, twenty)
    fb.ins.jump(b2)
    fb.switch_to_block(b2)
    fb.seal_block(b2)
    fb.ins.return_(fb.use_var(x))
    fb.finalize()
    ten = fn.dfg.results[fn.layout.block_insts(b0)[0]][0]
    assert dest_args(fn, bt) == [(b2, [ten]), (b2, [ten]), (b1, []), (b2, [ten])]
    assert fn.dfg.num_blocks == 3  # no split blocks
    assert run(fn, [1]) == [20] and run(fn, [0]) == [10] and run(fn, [9]) == [10]


def test_cascading_trivial_parameters_are_removed_by_finalize() -> None:
    # Two loop headers sealed late: x is never changed, yet incomplete parameters appear in
    # both headers; the outer one becomes trivial only once the inner one is gone.
    fn, fb = new((I32,), (I32,))
    b0 = entry(fb)
    x = fb.declare_var(I32)
    fb.def_var(x, fb.block_params(b0)[0])
    h1, h2, body, exit2, done = (fb.create_block() for _ in range(5))
    fb.ins.jump(h1)
    fb.switch_to_block(h1)
    fb.ins.jump(h2)
    fb.switch_to_block(h2)
    fb.ins.brif(fb.use_var(x), body, [], exit2, [])
    fb.switch_to_block(body)
    fb.ins.jump(h2)
    fb.switch_to_block(exit2)
    fb.ins.brif(fb.use_var(x), h1, [], done, [])
    fb.switch_to_block(done)
    fb.ins.return_(fb.use_var(x))
    fb.seal_all_blocks()
    assert len(fn.dfg.block_params[h1]) + len(fn.dfg.block_params[h2]) == 2  # before the cleanup
    fb.finalize()
    assert all(fn.dfg.block_params[b] == [] for b in (h1, h2, body, exit2, done))
    assert no_alias_operands(fn)


def test_undeclared_variable_is_an_error() -> None:
    fn, fb = new()
    entry(fb)
    with pytest.raises(BuilderError, match="use_var: variable 3 was never declared"):
        fb.use_var(3)
    with pytest.raises(BuilderError, match="def_var: variable 0 was never declared"):
        fb.def_var(0, fb.ins.iconst(I32, 1))


def test_def_var_type_mismatch() -> None:
    fn, fb = new()
    entry(fb)
    x = fb.declare_var(I32)
    v = fb.ins.iconst(I64, 1)
    with pytest.raises(BuilderError, match=f"def_var: variable {x} is i32, value v{v} is i64"):
        fb.def_var(x, v)


# ---------------------------------------------------------------------------- checked instruction builders


def test_operand_type_mismatch_names_opcode_operand_and_types() -> None:
    fn, fb = new((I32, I64))
    b0 = entry(fb)
    x, y = fb.block_params(b0)
    with pytest.raises(BuilderError, match="^iadd: operand y is i64 but x is i32$"):
        fb.ins.iadd(x, y)


def test_controlling_type_outside_its_set() -> None:
    fn, fb = new()
    entry(fb)
    with pytest.raises(BuilderError, match=r"^iconst: type f32 is not in the type set of T \(i8, i16, i32, i64, i128\)$"):
        fb.ins.iconst(F32, 0)


def test_inferred_controlling_type_outside_its_set() -> None:
    fn, fb = new((F32,))
    b0 = entry(fb)
    b1 = fb.create_block()
    with pytest.raises(BuilderError, match=r"^brif: operand c has type f32, which is not in the type set of T \(i8, i16, i32, i64, i128\)$"):
        fb.ins.brif(fb.block_params(b0)[0], b1, [], b1, [])


def test_derived_operand_type() -> None:
    fn, fb = new((I64,))
    b0 = entry(fb)
    with pytest.raises(BuilderError, match=r"^splat: operand x is i64, expected i32 \(T.lane with T = i32x4\)$"):
        fb.ins.splat(I32X4, fb.block_params(b0)[0])


def test_constraint_violation() -> None:
    fn, fb = new((I64,))
    b0 = entry(fb)
    with pytest.raises(BuilderError, match="^uextend: X = i64 must be narrower than T = i32$"):
        fb.ins.uextend(I32, fb.block_params(b0)[0])


def test_unknown_condition_code_and_atomic_op() -> None:
    fn, fb = new((I32, I64))
    b0 = entry(fb)
    x, p = fb.block_params(b0)
    with pytest.raises(BuilderError, match="^icmp: unknown condition code 'less' \\(one of eq, ne, slt"):
        fb.ins.icmp("less", x, x)
    with pytest.raises(BuilderError, match="^fcmp: unknown condition code 'slt'"):
        f = fb.ins.f32const(1.0)
        fb.ins.fcmp("slt", f, f)
    with pytest.raises(BuilderError, match="^atomic_rmw: unknown atomic operation 'mul'"):
        fb.ins.atomic_rmw("", "mul", p, x)


def test_wrong_immediates() -> None:
    fn, fb = new((I32X4,))
    b0 = entry(fb)
    (v,) = fb.block_params(b0)
    with pytest.raises(BuilderError, match="^iconst: immediate must be an int, got float$"):
        fb.ins.iconst(I32, 1.5)
    with pytest.raises(BuilderError, match="^iconst: immediate 256 does not fit in i8$"):
        fb.ins.iconst(I8, 256)
    with pytest.raises(BuilderError, match="^extractlane: lane 4 is out of range for i32x4$"):
        fb.ins.extractlane(v, 4)
    with pytest.raises(BuilderError, match="^f32const: immediate must be a float or a 32-bit pattern"):
        fb.ins.f32const(1 << 40)
    with pytest.raises(BuilderError, match="^load: unknown memory flag 'fast'$"):
        fb.ins.load(I32, "notrap fast", fb.ins.iconst(I64, 0))
    with pytest.raises(BuilderError, match=r"^trap: unknown trap code 'unreachable' \(stk_ovf, heap_oob"):
        fb.ins.trap("unreachable")
    with pytest.raises(BuilderError, match="^trapz: unknown trap code 'user251'"):
        fb.ins.trapz(fb.ins.iconst(I32, 0), "user251")
    with pytest.raises(BuilderError, match="^iconst: 'i32' is not a type$"):
        fb.ins.iconst("i32", 1)  # type: ignore[arg-type]
    with pytest.raises(BuilderError, match="^iadd: operand y is not a value: 99$"):
        fb.ins.iadd(fb.ins.iconst(I32, 0), 99)


def test_float_constants_accept_python_floats() -> None:
    fn, fb = new()
    entry(fb)
    a = fb.ins.f32const(1.5)
    b = fb.ins.f64const(-2.0)
    c = fb.ins.f16const(1.0)
    fb.ins.return_()
    fb.finalize()
    imms = [fn.dfg.insts[fn.dfg.value_owner[v]].imm for v in (a, b, c)]
    assert imms == [0x3FC00000, 0xC000000000000000, 0x3C00]


def test_insert_without_block_or_after_terminator() -> None:
    fn, fb = new()
    with pytest.raises(BuilderError, match=r"^nop: no current block \(call switch_to_block first\)$"):
        fb.ins.nop()
    b0 = entry(fb)
    fb.ins.return_()
    with pytest.raises(BuilderError, match=rf"^iconst: block{b0} is already filled \(it ends with a terminator\)$"):
        fb.ins.iconst(I32, 1)


def test_branch_argument_checks() -> None:
    fn, fb = new((I32,))
    b0 = entry(fb)
    (x,) = fb.block_params(b0)
    b1 = fb.create_block()
    fb.append_block_param(b1, I64)
    with pytest.raises(BuilderError, match=rf"^jump: block{b1} takes 1 argument\(s\) \(i64\), 0 given$"):
        fb.ins.jump(b1)
    with pytest.raises(BuilderError, match=rf"^jump: argument 0 to block{b1} is i32, expected i64$"):
        fb.ins.jump(b1, [x])
    with pytest.raises(BuilderError, match=rf"^jump: cannot branch to the entry block block{b0}$"):
        fb.ins.jump(b0)
    b2 = fb.create_block()
    fb.seal_block(b2)
    with pytest.raises(BuilderError, match=rf"^brif: block{b2} is sealed; no new predecessors can be added$"):
        fb.ins.brif(x, b2, [], b2, [])
    with pytest.raises(BuilderError, match="^jump: block77 does not exist$"):
        fb.ins.jump(77)


def test_call_and_return_checks() -> None:
    fn, fb = new((I64,), (I32,))
    sig = fn.import_signature(Signature([AbiParam(I32)], [AbiParam(I32)]))
    g = fn.import_function(ExtFuncData("%g", sig))
    b0 = entry(fb)
    (p,) = fb.block_params(b0)
    with pytest.raises(BuilderError, match=r"^call: fn0 %g takes 1 argument\(s\), 0 given$"):
        fb.ins.call(g, [])
    with pytest.raises(BuilderError, match="^call: argument 0 is i64, fn0 %g expects i32$"):
        fb.ins.call(g, [p])
    with pytest.raises(BuilderError, match=r"^return: the function returns \(i32\), got \(i64\)$"):
        fb.ins.return_(p)
    with pytest.raises(BuilderError, match="^call: function reference fn5 is not declared$"):
        fb.ins.call(5, [])


def test_block_params_come_before_branches_and_variable_parameters() -> None:
    fn, fb = new((I32,))
    b0 = entry(fb)
    b1 = fb.create_block()
    fb.ins.jump(b1)
    with pytest.raises(BuilderError, match=f"append_block_param: block{b1} already has predecessors"):
        fb.append_block_param(b1, I32)


def test_switching_away_from_an_unfilled_block() -> None:
    fn, fb = new()
    entry(fb)
    fb.ins.nop()
    b1 = fb.create_block()
    with pytest.raises(BuilderError, match=rf"^switch_to_block\(block{b1}\): block0 is not filled"):
        fb.switch_to_block(b1)


def test_finalize_requires_sealed_and_filled_blocks() -> None:
    fn, fb = new((I32,))
    b0 = entry(fb)
    b1, b2 = fb.create_block(), fb.create_block()
    fb.ins.brif(fb.block_params(b0)[0], b1, [], b2, [])
    fb.switch_to_block(b1)
    fb.ins.return_()
    with pytest.raises(BuilderError) as info:
        fb.finalize()
    msg = str(info.value)
    assert f"block{b1} is not sealed" in msg
    assert f"block{b2} is the target of a branch but has no instructions" in msg


def test_finalize_verifies() -> None:
    fn, fb = new((), (I32,))
    entry(fb)
    fb.ins.return_(fb.ins.iconst(I32, 1))
    fn.dfg.insts[0].imm = 1 << 40  # corrupt behind the builder's back
    with pytest.raises(VerifierError, match="constant immediate is out of bounds"):
        fb.finalize()


def test_position_before_inserts_in_order() -> None:
    fn, fb = new((I32,), (I32,))
    b0 = entry(fb)
    (x,) = fb.block_params(b0)
    ret = fb.ins.return_(x)
    fb.position_before(ret)
    a = fb.ins.iadd(x, x)
    b = fb.ins.imul(a, a)
    fn.dfg.insts[ret].args[0] = b
    with pytest.raises(BuilderError, match=f"^jump: cannot insert a terminator before inst{ret}$"):
        fb.ins.jump(b0)
    with pytest.raises(BuilderError, match="^use_var: variables need the cursor at the end of a block"):
        fb.use_var(fb.declare_var(I32))
    fb.finalize()
    assert [opcode_of(fn, i) for i in fn.layout.block_insts(b0)] == ["iadd", "imul", "return"]


def test_builder_on_an_existing_function() -> None:
    fn, fb = new((I32,), (I32,))
    b0 = entry(fb)
    ret = fb.ins.return_(fb.block_params(b0)[0])
    fb.finalize()
    fb2 = FunctionBuilder(fn)  # e.g. a pass
    assert fb2.is_sealed(b0) and fb2.is_filled(b0)
    fb2.position_before(ret)
    v = fb2.ins.ineg(fb.block_params(b0)[0])
    fn.dfg.insts[ret].args[0] = v
    fb2.finalize()
    assert verify_function_errors(fn) == []


# ---------------------------------------------------------------------------- property: random programs

NUM_VARS = 3


def _expr():
    var = st.integers(0, NUM_VARS - 1)
    return st.one_of(
        st.tuples(st.just("const"), st.integers(-5, 5)),
        st.tuples(st.sampled_from(["add", "sub", "mul"]), var, var),
        st.tuples(st.just("var"), var),
    )


def _program():
    var = st.integers(0, NUM_VARS - 1)
    assign = st.tuples(st.just("set"), var, _expr())

    def compound(children):
        body = st.lists(children, max_size=3)
        return st.one_of(
            st.tuples(st.just("if"), var, body, body),
            st.tuples(st.just("loop"), st.integers(0, 3), body),
            st.tuples(st.just("switch"), var, st.lists(body, min_size=1, max_size=3), body),
        )

    return st.lists(st.recursive(assign, compound, max_leaves=10), max_size=6)


def _wrap32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >> 31 else x


def _eval_expr(e, env):
    if e[0] == "const":
        return e[1]
    if e[0] == "var":
        return env[e[1]]
    a, b = env[e[1]], env[e[2]]
    return _wrap32({"add": a + b, "sub": a - b, "mul": a * b}[e[0]])


def _eval(stmts, env) -> None:
    for s in stmts:
        if s[0] == "set":
            env[s[1]] = _eval_expr(s[2], env)
        elif s[0] == "if":
            _eval(s[2] if env[s[1]] else s[3], env)
        elif s[0] == "loop":
            for _ in range(s[1]):
                _eval(s[2], env)
        else:
            idx = env[s[1]] & 0xFFFFFFFF
            _eval(s[2][idx] if idx < len(s[2]) else s[3], env)


class _Gen:
    """Translate a random program with def_var/use_var, sealing early or all at the end."""

    def __init__(self, fb: FunctionBuilder, seal_early: bool) -> None:
        self.fb = fb
        self.seal_early = seal_early
        self.vars = [fb.declare_var(I32) for _ in range(NUM_VARS)]

    def seal(self, b: int) -> None:
        if self.seal_early:
            self.fb.seal_block(b)

    def expr(self, e) -> int:
        ins = self.fb.ins
        if e[0] == "const":
            return ins.iconst(I32, e[1])
        if e[0] == "var":
            return self.fb.use_var(self.vars[e[1]])
        a, b = self.fb.use_var(self.vars[e[1]]), self.fb.use_var(self.vars[e[2]])
        return {"add": ins.iadd, "sub": ins.isub, "mul": ins.imul}[e[0]](a, b)

    def stmts(self, stmts) -> None:
        fb = self.fb
        for s in stmts:
            if s[0] == "set":
                fb.def_var(self.vars[s[1]], self.expr(s[2]))
            elif s[0] == "if":
                t, e, j = fb.create_block(), fb.create_block(), fb.create_block()
                fb.ins.brif(fb.use_var(self.vars[s[1]]), t, [], e, [])
                for b, body in ((t, s[2]), (e, s[3])):
                    fb.switch_to_block(b)
                    self.seal(b)
                    self.stmts(body)
                    fb.ins.jump(j)
                fb.switch_to_block(j)
                self.seal(j)
            elif s[0] == "loop":
                i = fb.declare_var(I32)
                fb.def_var(i, fb.ins.iconst(I32, 0))
                head, body, done = fb.create_block(), fb.create_block(), fb.create_block()
                fb.ins.jump(head)
                fb.switch_to_block(head)
                n = fb.ins.iconst(I32, s[1])
                fb.ins.brif(fb.ins.icmp("slt", fb.use_var(i), n), body, [], done, [])
                fb.switch_to_block(body)
                self.seal(body)
                self.stmts(s[2])
                fb.def_var(i, fb.ins.iadd(fb.use_var(i), fb.ins.iconst(I32, 1)))
                fb.ins.jump(head)
                self.seal(head)
                fb.switch_to_block(done)
                self.seal(done)
            else:
                cases = [fb.create_block() for _ in s[2]]
                default, join = fb.create_block(), fb.create_block()
                fb.ins.br_table(fb.use_var(self.vars[s[1]]), default, cases)
                for b, body in (*zip(cases, s[2]), (default, s[3])):
                    fb.switch_to_block(b)
                    self.seal(b)
                    self.stmts(body)
                    fb.ins.jump(join)
                fb.switch_to_block(join)
                self.seal(join)


def _incoming(fn: Function) -> dict[int, list[list[int]]]:
    """For each block, the resolved arguments each incoming edge passes."""
    out: dict[int, list[list[int]]] = {b: [] for b in fn.layout.blocks}
    for _b, inst in fn.layout.insts():
        for bc in fn.dfg.insts[inst].dests or ():
            out[bc.block].append([fn.dfg.resolve_alias(a) for a in bc.args])
    return out


@settings(max_examples=150, deadline=None)
@given(program=_program(), seal_early=st.booleans(), a=st.integers(-3, 3), b=st.integers(-3, 3))
def test_random_programs_verify_and_compute_what_they_say(program, seal_early, a, b) -> None:
    fn, fb = new((I32, I32), (I32,) * NUM_VARS)
    b0 = entry(fb)
    gen = _Gen(fb, seal_early)
    fb.def_var(gen.vars[0], fb.block_params(b0)[0])
    fb.def_var(gen.vars[1], fb.block_params(b0)[1])  # vars[2] starts undefined: it reads zero
    gen.stmts(program)
    fb.ins.return_(*(fb.use_var(v) for v in gen.vars))
    if not seal_early:
        fb.seal_all_blocks()
    fb.finalize()  # raises unless the function verifies
    env = {0: a, 1: b, 2: 0}
    _eval(program, env)
    assert run(fn, [a, b]) == [env[0], env[1], env[2]]
    # Minimal SSA for these structured (reducible) programs: no trivial parameter is left.
    incoming = _incoming(fn)
    for blk in fn.layout.blocks[1:]:
        for i, p in enumerate(fn.dfg.block_params[blk]):
            values = {args[i] for args in incoming[blk]} - {p}
            assert len(values) >= 2, (blk, p, values)
    assert no_alias_operands(fn)


# ---------------------------------------------------------------------------- a tiny evaluator


def run(fn: Function, args: list[int], fuel: int = 100_000) -> list[int]:
    """Evaluate the integer subset the SSA tests use (iconst, iadd, isub, imul, icmp, branches)."""
    from heron.ir.types import Type

    dfg = fn.dfg
    env: dict[int, int] = {}

    def val(v: int) -> int:
        return env[dfg.resolve_alias(v)]

    def wrap(x: int, ty: Type) -> int:
        x &= ty.mask
        return x - (1 << ty.bits) if x >> (ty.bits - 1) else x

    block = fn.layout.entry_block()
    incoming = args
    while True:
        for p, a in zip(dfg.block_params[block], incoming, strict=True):
            env[p] = a
        for inst in fn.layout.block_insts(block):
            fuel -= 1
            assert fuel > 0, "does not terminate"
            d = dfg.insts[inst]
            name = opcode_info(d.opcode).name
            a = [val(x) for x in d.args]
            res = dfg.results[inst]
            if name == "iconst":
                env[res[0]] = wrap(d.imm, d.ctrl_type)
            elif name in ("iadd", "isub", "imul"):
                f = {"iadd": lambda p, q: p + q, "isub": lambda p, q: p - q, "imul": lambda p, q: p * q}[name]
                env[res[0]] = wrap(f(a[0], a[1]), d.ctrl_type)
            elif name == "icmp":
                cc = op.INTCC[d.imm]
                env[res[0]] = int({"eq": a[0] == a[1], "ne": a[0] != a[1], "slt": a[0] < a[1], "sgt": a[0] > a[1]}[cc])
            elif name == "return":
                return a
            elif name == "jump":
                dest = d.dests[0]
                break
            elif name == "brif":
                dest = d.dests[0] if a[0] else d.dests[1]
                break
            elif name == "br_table":
                idx = a[0] & 0xFFFFFFFF
                dest = d.dests[idx + 1] if idx + 1 < len(d.dests) else d.dests[0]
                break
            else:
                raise AssertionError(f"the test evaluator does not know {name}")
        block, incoming = dest.block, [val(x) for x in dest.args]
