"""Register allocation: hand-written cases for each constraint kind, on the toy ISA.

Every case is allocated with the checker on and run before and after allocation with
the toy semantics (calls write junk into the registers they clobber).
"""

from __future__ import annotations

import pytest
from toy_isa import (
    ADD,
    ADDI,
    BRNZ,
    CALL,
    DIVREM,
    F,
    FADD,
    FCONST,
    FOUT,
    G,
    ICONST,
    JMP,
    LDX,
    LEA_SP,
    MOV,
    MULE,
    OUT,
    RET,
    SUB,
    XOR2,
    ToyISA,
    copy_vcode,
    execute,
    relayout,
)

from heron.backend.regalloc import (
    REC_COPY,
    REC_INST,
    REC_MOVE,
    Allocation,
    AllocStats,
    RegAllocError,
    allocate,
    check_allocation,
)
from heron.backend.vcode import DEF, NO_REG, USE, MInst, VCode

ISA = ToyISA()  # r0..r3 (r2, r3 callee-saved), scratch r4; f0..f2 (f2 callee-saved), scratch f3
R0, R1, R2, R3, SCRATCH = ISA.R
F0 = ISA.Fr[0]
INPUTS = [(3, 5), (0, 1), (1000, 7)]


class Prog:
    """A little assembler for VCode on the toy ISA."""

    def __init__(self, isa: ToyISA = ISA) -> None:
        self.isa = isa
        self.vc = isa.new_vcode()
        self.cur = self.vc.add_block()

    def g(self, n: int = 1) -> list[int]:
        return [self.vc.new_vreg(G) for _ in range(n)]

    def f(self) -> int:
        return self.vc.new_vreg(F)

    def block(self) -> int:
        return self.vc.add_block()

    def at(self, b: int) -> Prog:
        self.cur = b
        return self

    def __call__(self, op: int, *args: int, extra: list[tuple[int, int, int]] | None = None) -> MInst:
        mi = MInst(op, list(args), extra)
        self.vc.blocks[self.cur].insts.append(mi)
        if op == JMP:
            self.vc.blocks[self.cur].succs.append(args[0])
        elif op == BRNZ:
            self.vc.blocks[self.cur].succs += [args[1], args[2]]
        return mi

    def args(self) -> tuple[int, int]:
        a, b = self.g(2)
        self(MOV, a, R0)
        self(MOV, b, R1)
        return a, b

    def ret(self, v: int) -> None:
        self(RET, extra=[(v, R0, USE)])


def allocate_and_run(vc: VCode, isa: ToyISA = ISA) -> Allocation:
    orig = copy_vcode(vc)
    alloc = allocate(vc, isa.insts, isa.reginfo, isa.templates, check=True)
    for inputs in INPUTS:
        assert execute(isa, vc, inputs) == execute(isa, orig, inputs), isa.format(vc)
    return alloc


def ops(vc: VCode, op: int) -> list[MInst]:
    return [mi for blk in vc.blocks for mi in blk.insts if mi.op == op]


def test_spill_farthest_next_use_and_reload_before_use() -> None:
    isa = ToyISA(2, 2)
    p = Prog(isa)
    a, b = p.args()
    x, y, z = p.g(3)
    p(ICONST, x, 10)  # three values and two registers: someone must go to the stack
    p(ADD, y, a, b)
    p(ADD, z, y, x)
    p(OUT, z)
    p(OUT, a)  # a is used last: it is the one spilled
    p.ret(b)
    alloc = allocate_and_run(p.vc, isa)
    assert alloc.stats.spills >= 1 and alloc.stats.reloads >= 1
    assert alloc.spill_slot_sizes == [8] * alloc.num_spill_slots
    assert p.vc.num_spill_slots == alloc.num_spill_slots
    names = [isa.insts[mi.op].name for mi in p.vc.blocks[0].insts]
    assert names.index("reload_g") < len(names) - 2  # reloaded before its use in `out`


def test_fixed_use_moves_the_value_into_its_register() -> None:
    p = Prog()
    a, b = p.args()
    x, q, r = p.g(3)
    p(ADD, x, a, b)
    p(DIVREM, q, r, b, x)  # dividend fixed to r0, which holds a (dead after add) or x
    p(OUT, r)
    p(OUT, a)
    p.ret(q)
    allocate_and_run(p.vc)
    div = ops(p.vc, DIVREM)[0]
    assert div.args[0] == R0 and div.args[1] == R1 and div.args[2] == R0


def test_fixed_defs_and_clobbers_save_live_values() -> None:
    p = Prog()
    a, b = p.args()
    q, r = p.g(2)
    p(DIVREM, q, r, a, b)  # writes r0 and r1, where a and b arrived; both live on
    p(OUT, a)
    p(OUT, b)
    p(OUT, r)
    p.ret(q)
    allocate_and_run(p.vc)


def test_reuse_def_shares_the_register_of_its_use() -> None:
    p = Prog()
    a, b = p.args()
    x = p.g()[0]
    p(XOR2, x, a, b)  # two-address: x must be where a is, and a lives on
    p(OUT, a)
    p(OUT, b)
    p.ret(x)
    alloc = allocate_and_run(p.vc)
    xor = ops(p.vc, XOR2)[0]
    assert xor.args[0] == xor.args[1]
    assert alloc.stats.moves + alloc.stats.spills >= 1  # a was copied out of the way


def test_early_def_never_shares_a_use_register() -> None:
    p = Prog()
    a, b = p.args()
    x = p.g()[0]
    p(MULE, x, a, b)  # a and b die here, yet x may not take their registers
    p.ret(x)
    allocate_and_run(p.vc)
    mule = ops(p.vc, MULE)[0]
    assert mule.args[0] not in (mule.args[1], mule.args[2])


def test_value_live_across_a_call_goes_to_a_callee_saved_register() -> None:
    p = Prog()
    a, b = p.args()
    x, res = p.g(2)
    p(ADD, x, a, b)
    p(CALL, 7, extra=[(a, R0, USE), (res, R0, DEF)])
    p(ADD, res, res, x)
    p.ret(res)
    alloc = allocate_and_run(p.vc)
    assert alloc.stats.spills == 0
    assert alloc.callee_saved_used and set(alloc.callee_saved_used) <= {R2, R3}
    call = ops(p.vc, CALL)[0]
    assert call.extra == [(R0, R0, USE), (R0, R0, DEF)]


def test_more_values_across_a_call_than_callee_saved_registers_spill() -> None:
    p = Prog()
    a, b = p.args()
    xs = p.g(4)
    for i, x in enumerate(xs):
        p(ADDI, x, a if i % 2 else b, i)
    res = p.g()[0]
    p(CALL, 1, extra=[(res, R0, DEF)])
    for x in xs:
        p(OUT, x)
    p.ret(res)
    alloc = allocate_and_run(p.vc)
    assert alloc.stats.spills >= 2


def test_float_class_and_calls_with_float_operands() -> None:
    p = Prog()
    a, b = p.args()
    f1, f2, f3, fr = p.f(), p.f(), p.f(), p.f()
    res = p.g()[0]
    p(FCONST, f1, 2)
    p(FCONST, f2, 3)
    p(FADD, f3, f1, f2)
    p(CALL, 3, extra=[(a, R0, USE), (f3, F0, USE), (res, R0, DEF), (fr, F0, DEF)])
    p(FADD, f3, f3, fr)
    p(FOUT, f1)
    p(FOUT, f3)
    p(RET, extra=[(res, R0, USE), (f2, F0, USE)])
    allocate_and_run(p.vc)


def test_abi_style_call_with_swapped_arguments() -> None:
    p = Prog()
    a, b = p.args()
    res = p.g()[0]
    p(MOV, R0, b)  # pre-colored defs: the arguments arrive swapped
    p(MOV, R1, a)
    p(CALL, 5, extra=[(R0, R0, USE), (R1, R1, USE), (R0, R0, DEF)])
    p(MOV, res, R0)
    p(OUT, a)
    p.ret(res)
    allocate_and_run(p.vc)


def test_one_value_in_two_fixed_registers() -> None:
    p = Prog()
    a, b = p.args()
    res = p.g()[0]
    p(CALL, 2, extra=[(b, R0, USE), (b, R1, USE), (res, R0, DEF)])
    p(OUT, a)
    p.ret(res)
    allocate_and_run(p.vc)


def test_swap_on_a_back_edge_goes_through_the_scratch_register() -> None:
    p = Prog()
    a, b = p.args()
    cnt, t = p.g(2)
    p(ICONST, cnt, 3)
    header, body, done = p.block(), p.block(), p.block()
    p(JMP, header)
    p.at(header)(BRNZ, cnt, body, done)
    p.at(body)
    p(MOV, t, a)  # a, b = b, a: the moves coalesce, leaving a swap on the back edge
    p(MOV, a, b)
    p(MOV, b, t)
    p(ADDI, cnt, cnt, -1)
    p(JMP, header)
    p.at(done)
    p(OUT, a)
    p(SUB, a, a, b)
    p.ret(a)
    alloc = allocate_and_run(p.vc)
    body_moves = [mi.args for mi in p.vc.blocks[body].insts if mi.op == MOV]
    assert any(SCRATCH in args for args in body_moves), ISA.format(p.vc)
    assert alloc.stats.moves_removed >= 3


def test_values_live_around_a_loop_and_redefined_in_it() -> None:
    p = Prog()
    a, b = p.args()
    cnt, acc, k = p.g(3)
    p(ICONST, cnt, 4)
    p(ICONST, acc, 0)
    header, body, done = p.block(), p.block(), p.block()
    p(JMP, header)
    p.at(header)(BRNZ, cnt, body, done)
    p.at(body)
    p(ADD, acc, acc, a)  # not SSA: acc is defined in two blocks
    p(MULE, k, acc, b)
    p(OUT, k)
    p(CALL, 9, extra=[(k, R0, USE), (k, R0, DEF)])
    p(ADD, acc, acc, k)
    p(ADDI, cnt, cnt, -1)
    p(JMP, header)
    p.at(done)
    p(OUT, b)
    p.ret(acc)
    allocate_and_run(p.vc)


def test_diamond_with_unusual_layout() -> None:
    p = Prog()
    a, b = p.args()
    m, x = p.g(2)
    then, other, join = p.block(), p.block(), p.block()
    p(BRNZ, a, then, other)
    p.at(then)(ADD, x, a, b)
    p(MOV, m, x)
    p(JMP, join)
    p.at(other)(SUB, x, a, b)
    p(MOV, m, b)
    p(JMP, join)
    p.at(join)(OUT, a)
    p.ret(m)
    # The join first, the arms after it: the join starts with no allocated predecessor.
    vc = relayout(p.vc, [0, 3, 1, 2])
    allocate_and_run(vc)


def test_unallocatable_and_absent_registers_are_left_alone() -> None:
    p = Prog()
    a, b = p.args()
    x, y = p.g(2)
    p(LEA_SP, x, ISA.SP, 16)
    p(LDX, y, x, NO_REG, 8)
    p(LDX, y, y, a, 8)
    p(OUT, b)
    p.ret(y)
    allocate_and_run(p.vc)
    assert ops(p.vc, LEA_SP)[0].args[1] == ISA.SP
    assert ops(p.vc, LDX)[0].args[2] == NO_REG


def test_critical_edge_is_rejected() -> None:
    p = Prog()
    a, b = p.args()
    join, other = p.block(), p.block()
    p(BRNZ, a, join, other)  # block0 -> join is critical: join has two predecessors
    p.at(other)(JMP, join)
    p.at(join).ret(b)
    with pytest.raises(RegAllocError, match="critical edge"):
        allocate(p.vc, ISA.insts, ISA.reginfo, ISA.templates)


def test_use_before_definition_is_rejected() -> None:
    p = Prog()
    (x,) = p.g()
    p.ret(x)
    with pytest.raises(RegAllocError, match="before any definition"):
        allocate(p.vc, ISA.insts, ISA.reginfo, ISA.templates)


def test_two_values_fixed_to_one_register_are_reported() -> None:
    p = Prog()
    a, b = p.args()
    (res,) = p.g()
    p(CALL, 1, extra=[(a, R0, USE), (b, R0, USE), (res, R0, DEF)])
    p.ret(res)
    with pytest.raises(RegAllocError, match="two values fixed"):
        allocate(p.vc, ISA.insts, ISA.reginfo, ISA.templates)


# ------------------------------------------------------------------ the checker itself


def _allocated_program() -> tuple[VCode, Allocation]:
    p = Prog(ToyISA(3, 2))
    a, b = p.args()
    xs = p.g(4)
    for i, x in enumerate(xs):
        p(ADDI, x, a, i)
    (res,) = p.g()
    p(CALL, 1, extra=[(b, R0, USE), (res, R0, DEF)])
    for x in xs:
        p(OUT, x)
    p.ret(res)
    alloc = allocate(p.vc, p.isa.insts, p.isa.reginfo, p.isa.templates, keep_records=True)
    check_allocation(p.vc, p.isa.insts, p.isa.reginfo, alloc)
    return p.vc, alloc


def test_checker_rejects_a_use_of_the_wrong_register() -> None:
    vc, alloc = _allocated_program()
    isa = ToyISA(3, 2)
    out = next(mi for mi in vc.blocks[0].insts if mi.op == OUT)
    out.args[0] = R0 if out.args[0] != R0 else R1
    with pytest.raises(RegAllocError, match="use of v"):
        check_allocation(vc, isa.insts, isa.reginfo, alloc)


def test_checker_rejects_a_reload_from_the_wrong_slot() -> None:
    vc, alloc = _allocated_program()
    isa = ToyISA(3, 2)
    recs = alloc.records
    assert recs is not None
    i, rec = next((i, r) for i, r in enumerate(recs[0]) if r[0] == REC_MOVE and r[3] >= 1024)
    recs[0][i] = (REC_MOVE, rec[1], rec[2], rec[3] + 1)
    with pytest.raises(RegAllocError):
        check_allocation(vc, isa.insts, isa.reginfo, alloc)


def test_checker_rejects_a_violated_fixed_register() -> None:
    vc, alloc = _allocated_program()
    isa = ToyISA(3, 2)
    call = next(mi for mi in vc.blocks[0].insts if mi.op == CALL)
    assert call.extra is not None
    r, p, acc = call.extra[0]
    call.extra[0] = (R1, p, acc)
    with pytest.raises(RegAllocError, match="must be in r0"):
        check_allocation(vc, isa.insts, isa.reginfo, alloc)


def _hand_allocated(final: list[MInst], records: list[tuple]) -> tuple[VCode, Allocation]:
    vc = ISA.new_vcode()
    vc.add_block()
    vc.vreg_class = [G] * 4
    vc.blocks[0].insts = final
    return vc, Allocation([], [], AllocStats(), [records])


def test_checker_rejects_a_value_kept_in_a_clobbered_register() -> None:
    v0 = 1024
    k = MInst(ICONST, [R1, 5])
    c = MInst(CALL, [0], [(R0, R0, DEF)])
    o = MInst(OUT, [R1])  # r1 is caller-saved: the call destroyed v0
    r = MInst(RET, [], [(R0, R0, USE)])
    recs = [
        (REC_INST, k, [v0, 5], None),
        (REC_INST, c, [0], [(R0, R0, DEF)]),
        (REC_INST, o, [v0], None),
        (REC_INST, r, [], [(R0, R0, USE)]),
    ]
    vc, alloc = _hand_allocated([k, c, o, r], recs)
    with pytest.raises(RegAllocError, match="use of v0 reads r1"):
        check_allocation(vc, ISA.insts, ISA.reginfo, alloc)
    o.args[0] = R2  # and the same with a callee-saved register but no copy: still wrong
    with pytest.raises(RegAllocError, match="use of v0 reads r2"):
        check_allocation(vc, ISA.insts, ISA.reginfo, alloc)


def test_checker_rejects_early_def_sharing_a_use_and_split_reuse() -> None:
    v0, v1, v2 = 1024, 1025, 1026
    k0 = MInst(ICONST, [R1, 5])
    k1 = MInst(ICONST, [R2, 6])
    m = MInst(MULE, [R1, R1, R2])
    x = MInst(XOR2, [R3, R1, R2])
    r = MInst(RET, [], [(R0, R0, USE)])
    recs = [
        (REC_INST, k0, [v0, 5], None),
        (REC_INST, k1, [v1, 6], None),
        (REC_INST, m, [v2, v0, v1], None),
        (REC_INST, x, [v2, v2, v1], None),
        (REC_INST, r, [], [(R0, R0, USE)]),
    ]
    vc, alloc = _hand_allocated([k0, k1, m, x, r], recs)
    with pytest.raises(RegAllocError, match="early def"):
        check_allocation(vc, ISA.insts, ISA.reginfo, alloc)
    m.args[0] = R3  # no longer early-def trouble, but xor2 writes r3 while its tied use is r1
    with pytest.raises(RegAllocError, match="reuse def"):
        check_allocation(vc, ISA.insts, ISA.reginfo, alloc)


def test_checker_follows_removed_moves() -> None:
    v0, v1 = 1024, 1025
    k0 = MInst(ICONST, [R1, 5])
    o = MInst(OUT, [R1])
    r = MInst(RET, [], [(R0, R0, USE)])
    good = [
        (REC_INST, k0, [v0, 5], None),
        (REC_COPY, None, v1, v0, R1),
        (REC_INST, o, [v1], None),
        (REC_INST, r, [], [(R0, R0, USE)]),
    ]
    vc, alloc = _hand_allocated([k0, o, r], good)
    check_allocation(vc, ISA.insts, ISA.reginfo, alloc)
    assert alloc.records is not None
    alloc.records[0][1] = (REC_COPY, None, v1, v0, R2)
    with pytest.raises(RegAllocError, match="removed move"):
        check_allocation(vc, ISA.insts, ISA.reginfo, alloc)


def test_allocation_reports_unused_defs_and_dead_moves() -> None:
    p = Prog()
    a, b = p.args()
    q, r, dead = p.g(3)
    p(DIVREM, q, r, a, b)  # r is never read
    p(MOV, dead, q)  # nor is dead
    p.ret(q)
    alloc = allocate_and_run(p.vc)
    assert alloc.stats.moves_removed >= 3  # the dead move and both argument moves
    assert not ops(p.vc, MOV)
