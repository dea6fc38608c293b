"""heron.backend.regalloc: register allocation of VCode (ISA-independent).

``allocate(vcode, insts, reginfo, templates)`` rewrites every register operand of
``vcode`` to a physical register in place, inserts the moves, spills and reloads it
needs (built by the ISA's ``templates``), deletes input moves whose two sides share a
register, and returns an :class:`Allocation` (spill slots, callee-saved registers
written, statistics).  Steps, one module each:

1. :mod:`.liveness`: operand plans per op, last uses, next uses, hints, live sets;
2. :mod:`.linear_scan`: the forward walk that assigns registers, splits and spills,
   honours fixed/reuse/early-def/clobber constraints, then resolves control-flow edges
   with parallel moves (:mod:`.moves`);
3. :mod:`.checker` (``check=True``, tests and debugging): replays the allocated code
   abstractly and proves every use reads its value.

Input contract: blocks in final layout order, the entry first; ``succs`` are labels;
block parameters already turned into edge moves; no critical edge (an edge from a block
with several successors to a block with several predecessors); every virtual register
defined on every path before its uses.  ``templates`` provides::

    move(cls, dst, src) -> MInst          # register copy
    spill(cls, slot: SlotRef, src) -> MInst   # store to SlotRef('spill', k)
    reload(cls, dst, slot: SlotRef) -> MInst  # load from it

Example (two allocatable registers, the return value fixed to r0)::

    >>> from heron.backend.vcode import *
    >>> from heron.backend.regs import RegInfo
    >>> ri = RegInfo(["gpr"], [64], [[0, 1]], [2], [], [0, 0, 0], ["r0", "r1", "r2"])
    >>> R, I = ARG_REG, ARG_IMM
    >>> insts = [InstInfo("iconst", (R, I), (OperandInfo(0, DEF, 0),)),
    ...     InstInfo("add", (R, R, R), (OperandInfo(0, DEF, 0), OperandInfo(1, USE, 0), OperandInfo(2, USE, 0))),
    ...     InstInfo("ret", (R,), (OperandInfo(0, USE, 0, fixed=0),), is_terminator=True),
    ...     InstInfo("mov", (R, R), (OperandInfo(0, DEF, 0), OperandInfo(1, USE, 0)), is_move=True),
    ...     InstInfo("spill", (ARG_SLOT, R), (OperandInfo(1, USE, 0),)),
    ...     InstInfo("reload", (R, ARG_SLOT), (OperandInfo(0, DEF, 0),))]
    >>> class Templates:
    ...     def move(self, cls, dst, src): return MInst(3, [dst, src])
    ...     def spill(self, cls, slot, src): return MInst(4, [slot, src])
    ...     def reload(self, cls, dst, slot): return MInst(5, [dst, slot])
    >>> vc = VCode(["gpr"]); b = vc.add_block(); v = [vc.new_vreg(0) for _ in range(5)]
    >>> vc.blocks[b].insts = [MInst(0, [v[0], 1]), MInst(0, [v[1], 2]), MInst(0, [v[2], 3]),
    ...     MInst(1, [v[3], v[1], v[2]]), MInst(1, [v[4], v[3], v[0]]), MInst(2, [v[4]])]
    >>> alloc = allocate(vc, insts, ri, Templates(), check=True)
    >>> for mi in vc.blocks[b].insts:
    ...     print(insts[mi.op].name, *[ri.name(a) if k == R else a for a, k in zip(mi.args, insts[mi.op].arg_kinds)])
    iconst r0 1
    iconst r1 2
    spill SlotRef(spill0+0) r0
    iconst r0 3
    add r0 r1 r0
    reload r1 SlotRef(spill0+0)
    add r0 r0 r1
    ret r0
    >>> alloc.spill_slot_sizes, alloc.stats.spills, alloc.stats.reloads
    ([8], 1, 1)
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from typing import Protocol

from heron.backend.regalloc.allocation import (
    REC_COPY,
    REC_INST,
    REC_MOVE,
    SLOT_LOC_BASE,
    AllocStats,
    Allocation,
    RegAllocError,
)
from heron.backend.regalloc.checker import check_allocation
from heron.backend.regalloc.linear_scan import LinearScan
from heron.backend.regalloc.liveness import bits_to_dense, build_plans, compute_liveness
from heron.backend.regs import RegInfo
from heron.backend.vcode import VREG_BASE, InstInfo, MInst, SlotRef, VCode

__all__ = [
    "allocate",
    "Allocation",
    "AllocStats",
    "RegAllocError",
    "RegAllocTemplates",
    "check_allocation",
    "REC_INST",
    "REC_MOVE",
    "REC_COPY",
    "SLOT_LOC_BASE",
]


class RegAllocTemplates(Protocol):
    """What the ISA supplies to build the instructions the allocator inserts."""

    def move(self, cls: int, dst: int, src: int) -> MInst: ...

    def spill(self, cls: int, slot: SlotRef, src: int) -> MInst: ...

    def reload(self, cls: int, dst: int, slot: SlotRef) -> MInst: ...


def allocate(
    vcode: VCode,
    insts: Sequence[InstInfo] | dict[int, InstInfo],
    reginfo: RegInfo,
    templates: RegAllocTemplates,
    *,
    check: bool = False,
    keep_records: bool = False,
) -> Allocation:
    """Allocate registers for ``vcode`` in place (see the module docstring).

    ``check=True`` runs the checker afterwards (and keeps the records it reads);
    ``keep_records=True`` only keeps them, for a later :func:`check_allocation`.
    """
    # The allocator builds many small containers and no reference cycles: the cyclic
    # collector would only rescan them (it cost about a third of the time).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        alloc = _allocate(vcode, insts, reginfo, templates, check or keep_records)
    finally:
        if gc_was_enabled:
            gc.enable()
    if check:
        check_allocation(vcode, insts, reginfo, alloc)
    return alloc


def _allocate(
    vcode: VCode,
    insts: Sequence[InstInfo] | dict[int, InstInfo],
    reginfo: RegInfo,
    templates: RegAllocTemplates,
    record: bool,
) -> Allocation:
    _check_shape(vcode)
    plans = build_plans(insts, vcode)
    lv = compute_liveness(vcode, insts, reginfo, plans)
    npr = reginfo.num_regs
    undefined = [d for d in bits_to_dense(lv.live_in[vcode.entry], lv.glist) if d >= npr]
    if undefined:
        names = ", ".join(reginfo.name(d - npr + VREG_BASE) for d in undefined[:5])
        raise RegAllocError(f"virtual registers used before any definition: {names}")
    scan = LinearScan(vcode, reginfo, templates, plans, lv, record)
    scan.run()
    vcode.num_spill_slots = len(scan.slot_sizes)
    return Allocation(scan.slot_sizes, scan.callee_saved_used(), scan.stats, scan.new_recs if record else None)


def _check_shape(vcode: VCode) -> None:
    if vcode.entry != 0:
        raise RegAllocError("the entry block must come first in the layout")
    vcode.compute_preds()
    blocks = vcode.blocks
    for blk in blocks:
        if len(blk.succs) > 1:
            for s in blk.succs:
                if len(blocks[s].preds) > 1:
                    raise RegAllocError(f"critical edge block{blk.label} -> block{s}: split it before allocation")
