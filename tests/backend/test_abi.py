"""The ABI of the x86-64 backend: argument and result locations (System V, Heron's
return area shared with heron.jit), calling-convention names, the frame layout and its
invariants, and the prologue and epilogue built from the templates."""

from __future__ import annotations

import random

import pytest

from heron.backend.frame import epilogue, insert_prologue_epilogue, layout_frame, prologue
from heron.backend.isa import lookup_isa
from heron.backend.regalloc import Allocation, AllocStats
from heron.backend.vcode import SlotRef, VCode
from heron.errors import CompileError
from heron.ir.entities import AbiParam, Signature, StackSlotData
from heron.ir.function import Function
from heron.ir.types import F32, F64, I8, I32, I64, I128
from heron.jit.callable import ReturnPlan

ISA = lookup_isa("x86_64")
ABI = ISA.abi
SYSV = ISA.CALL_CONVS["system_v"]


def _names(locs: list) -> list:
    return [(k, [ISA.REG_NAMES[r] for r in v]) if k == "reg" else (k, v) for k, v in locs]


# ---------------------------------------------------------------------------- arguments
def test_integer_and_float_arguments_take_their_own_registers() -> None:
    locs, size = ABI.assign_args([I64, F64, I32, F32, I8], SYSV, hidden=False)
    assert _names(locs) == [("reg", ["rdi"]), ("reg", ["xmm0"]), ("reg", ["rsi"]), ("reg", ["xmm1"]), ("reg", ["rdx"])]
    assert size == 0


def test_arguments_beyond_the_registers_go_to_the_stack_in_order() -> None:
    locs, size = ABI.assign_args([I64] * 8 + [I32, F64], SYSV, hidden=False)
    assert _names(locs)[6:] == [("stack", 0), ("stack", 8), ("stack", 16), ("reg", ["xmm0"])]
    assert size == 24
    locs, size = ABI.assign_args([F64] * 10, SYSV, hidden=False)
    assert _names(locs)[8:] == [("stack", 0), ("stack", 8)] and size == 16


def test_an_i128_takes_a_register_pair_or_an_aligned_stack_slot() -> None:
    locs, size = ABI.assign_args([I128, I64, I64, I64, I128, I64], SYSV, hidden=False)
    # rdi:rsi, rdx, rcx, r8, then the pair does not fit in r9 alone: stack (16-aligned);
    # the i64 after it still takes r9 (System V).
    assert _names(locs) == [("reg", ["rdi", "rsi"]), ("reg", ["rdx"]), ("reg", ["rcx"]), ("reg", ["r8"]), ("stack", 0), ("reg", ["r9"])]
    assert size == 16
    locs, size = ABI.assign_args([I64] * 7 + [I128], SYSV, hidden=False)
    assert _names(locs)[6:] == [("stack", 0), ("stack", 16)] and size == 32


def test_the_hidden_return_area_pointer_comes_first() -> None:
    locs, _ = ABI.assign_args([I64, I64], SYSV, hidden=True)
    assert _names(locs) == [("reg", ["rsi"]), ("reg", ["rdx"])]


# ---------------------------------------------------------------------------- results
@pytest.mark.parametrize(
    "types, expected",
    [
        ([I64], [("reg", ["rax"])]),
        ([I64, I64], [("reg", ["rax"]), ("reg", ["rdx"])]),
        ([I64, I64, I64], [("reg", ["rax"]), ("reg", ["rdx"]), ("area", 0)]),
        ([I128], [("reg", ["rax", "rdx"])]),
        ([I64, I128, I32], [("reg", ["rax"]), ("area", 0), ("reg", ["rdx"])]),
        ([F64, I64, F32, F64], [("reg", ["xmm0"]), ("reg", ["rax"]), ("reg", ["xmm1"]), ("area", 0)]),
        ([I64, I64, I8, I128, I32], [("reg", ["rax"]), ("reg", ["rdx"]), ("area", 0), ("area", 16), ("area", 32)]),
    ],
)
def test_results_follow_the_jit_return_plan(types: list, expected: list) -> None:
    sig = Signature([], [AbiParam(t) for t in types])
    plan = ReturnPlan(sig, SYSV.counts)
    locs = ABI.assign_results(types, SYSV, plan)
    assert [(k, [ISA.REG_NAMES[r] for r in v]) if k == "reg" else (k, v) for k, v in locs] == expected
    assert [i for i, (k, _) in enumerate(locs) if k == "reg"] == plan.in_registers


def test_calling_convention_names() -> None:
    for name in ("fast", "cold", "tail", "system_v"):
        assert ABI.conv(name) is SYSV
    with pytest.raises(CompileError, match="windows_fastcall is not supported"):
        ABI.conv("windows_fastcall")


# ---------------------------------------------------------------------------- frames
def _frame(slots: list[tuple[int, int | None]], spills: list[int], saves: list[int], outgoing: int = 0, retarea: int = 0, calls: int = 0):
    fn = Function("%f")
    for size, shift in slots:
        fn.create_stack_slot(StackSlotData(size, align_shift=shift))
    vc = VCode(list(ISA.CLASS_NAMES))
    vc.meta.update({"outgoing": outgoing, "retarea": retarea, "calls": calls})
    return fn, vc, layout_frame(fn, vc, Allocation(spills, saves, AllocStats()), ISA)


def test_frame_areas_are_disjoint_aligned_and_keep_sp_aligned() -> None:
    rng = random.Random(1)
    callee = [r for r in SYSV.callee_saved if r != SYSV.frame_pointer]
    for _ in range(300):
        slots = [(rng.choice([1, 2, 4, 8, 12, 16, 24, 100]), rng.choice([None, 0, 1, 2, 3, 4])) for _ in range(rng.randint(0, 4))]
        spills = [rng.choice([8, 16]) for _ in range(rng.randint(0, 6))]
        saves = sorted(rng.sample(callee, rng.randint(0, len(callee))))
        outgoing = rng.choice([0, 8, 24, 48])
        retarea = rng.choice([0, 16, 32])
        fn, vc, f = _frame(slots, spills, saves, outgoing, retarea)
        assert (f.header + f.save_size + f.locals_size) % 16 == 0
        spans = [(0, outgoing)] if outgoing else []
        if retarea:
            spans.append((f.resolve(SlotRef("retarea", 0, 0)), retarea))
            assert spans[-1][0] % 16 == 0
        for k, size in enumerate(spills):
            at = f.resolve(SlotRef("spill", k, 0))
            assert at % min(size, 16) == 0
            spans.append((at, size))
        for k, (size, shift) in enumerate(slots):
            at = f.resolve(SlotRef("explicit", k, 0))
            if shift is not None:
                assert at % (1 << shift) == 0
            spans.append((at, size))
        spans.sort()
        for (a, n), (b, _m) in zip(spans, spans[1:]):
            assert a + n <= b, (spans, slots, spills)
        assert all(a + n <= f.locals_size for a, n in spans)
        assert f.resolve(SlotRef("incoming", 0, 8)) == f.frame_size + 8
        assert [r for _c, r in f.saves] == saves


def test_too_aligned_stack_slots_are_a_compile_error() -> None:
    with pytest.raises(CompileError, match="32-byte alignment"):
        _frame([(64, 5)], [], [])


def test_prologue_and_epilogue_use_the_templates() -> None:
    _fn, vc, f = _frame([(8, None)], [8], [ISA.RBX, ISA.R12], calls=1)
    assert f.stack_check and f.locals_size == 16 and f.frame_size == 48  # header 16 + 2 saves + 16 of locals
    names = [ISA.INSTS[mi.op].name for mi in prologue(f, ISA)]
    assert names == ["mov_ri64", "mov_load.64", "lea.64", "cmp_rr.64", "trap_if", "push", "mov_rr.64", "push", "push", "sub_ri.64"]
    names = [ISA.INSTS[mi.op].name for mi in epilogue(f, ISA)]
    assert names == ["add_ri.64", "pop", "pop", "pop", "ret"]
    pops = [ISA.REG_NAMES[mi.args[0]] for mi in epilogue(f, ISA) if ISA.INSTS[mi.op].name == "pop"]
    assert pops == ["r12", "rbx", "rbp"]
    check = prologue(f, ISA)[2]
    assert check.args[4] == -f.frame_size


def test_a_leaf_without_locals_has_the_smallest_frame() -> None:
    _fn, vc, f = _frame([], [], [])
    assert not f.stack_check and f.locals_size == 0 and f.frame_size == 16
    assert [ISA.INSTS[mi.op].name for mi in prologue(f, ISA)] == ["push", "mov_rr.64"]


def test_every_return_gets_an_epilogue() -> None:
    from heron.backend.vcode import MInst

    _fn, vc, f = _frame([], [], [ISA.RBX])
    for _ in range(3):
        b = vc.add_block()
        vc.blocks[b].insts = [MInst(ISA.OP_ABI_RETURN, [], [])]
    insert_prologue_epilogue(vc, f, ISA)
    assert [ISA.INSTS[mi.op].name for mi in vc.blocks[0].insts][:3] == ["push", "mov_rr.64", "push"]
    for blk in vc.blocks:
        assert [ISA.INSTS[mi.op].name for mi in blk.insts][-3:] == ["pop", "pop", "ret"]
