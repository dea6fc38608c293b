"""Liveness for the register allocator: operand plans, last uses, next uses, live sets.

Registers are renumbered densely so every per-register fact is a flat list: an
allocatable physical register ``r`` keeps index ``r``; virtual register ``v`` gets
``v - VREG_BASE + num_regs``.  Physical registers that are not allocatable (a stack
pointer, RISC-V's x0) are invisible to the allocator and left as they are.

One backward pass over each block (blocks in reverse layout order) computes, per
instruction, which used values might die there and which defined values might be dead,
the use positions of every value (so that the forward pass can ask for the next use in
O(1) amortized), register hints (a fixed register the value is later used in, or the
register of the other side of a move), and which values are live across a call.  Whether
a candidate really dies depends only on the block's live-out set, which the data-flow
step supplies afterwards: that step runs only over the *global* values (those used in a
block other than their definition's), as Python-int bit sets, so the common
block-local value costs nothing there.

Example (one block: ``v0 = iconst; v1 = add v0, v0; ret v1``)::

    >>> from heron.backend.regs import RegInfo
    >>> from heron.backend.vcode import VCode, MInst, InstInfo, OperandInfo, ARG_REG, ARG_IMM
    >>> ri = RegInfo(["gpr"], [64], [[0, 1]], [2], [], [0, 0, 0], ["r0", "r1", "r2"])
    >>> insts = [InstInfo("iconst", (ARG_REG, ARG_IMM), (OperandInfo(0, DEF, 0),)),
    ...          InstInfo("add", (ARG_REG,) * 3, (OperandInfo(0, DEF, 0), OperandInfo(1, USE, 0), OperandInfo(2, USE, 0))),
    ...          InstInfo("ret", (ARG_REG,), (OperandInfo(0, USE, 0),), is_terminator=True, is_return=True)]
    >>> vc = VCode(["gpr"]); b = vc.add_block(); v0, v1 = vc.new_vreg(0), vc.new_vreg(0)
    >>> vc.blocks[b].insts += [MInst(0, [v0, 5]), MInst(1, [v1, v0, v0]), MInst(2, [v1])]
    >>> lv = compute_liveness(vc, insts, ri)
    >>> lv.kills   # v0 (dense 3) dies at inst 1, v1 (dense 4) at 2, unless live out (~d)
    [None, [-4], [-5]]
    >>> lv.use_pos[3], lv.live_in
    ([1, 1], [0])
"""

from __future__ import annotations

from collections.abc import Sequence

from heron.backend.regs import RegInfo
from heron.backend.vcode import DEF, EARLY_DEF, NO_REG, USE, VREG_BASE, InstInfo, VCode

__all__ = ["OpPlan", "Liveness", "build_plans", "compute_liveness", "bits_to_dense", "FAR"]

FAR = 1 << 60  # "no further use": farther than any position


class OpPlan:
    """The register operands of one op, pre-digested for the allocator's inner loops.

    ``uses``: ``(arg, class, fixed)``; ``defs``: ``(arg, class, fixed, reuse, early)``;
    ``use_args``/``def_args``/``reg_args``: arg indexes of the use/def/all register
    operands; ``clobbers``: bit
    mask of clobbered registers; ``simple``: no fixed register, reuse, early def or
    clobber, so the fast path applies (when the MInst has no ``extra`` either).
    """

    __slots__ = (
        "info",
        "uses",
        "defs",
        "use_args",
        "def_args",
        "reg_args",
        "clobbers",
        "is_move",
        "is_branch",
        "simple",
        "has_regs",
    )

    def __init__(self, info: InstInfo) -> None:
        self.info = info
        uses = []
        defs = []
        simple = not info.clobbers
        for o in info.operands:
            if o.access == USE:
                uses.append((o.index, o.regclass, o.fixed))
            else:
                defs.append((o.index, o.regclass, o.fixed, o.reuse, o.access == EARLY_DEF))
            if o.fixed >= 0 or o.reuse >= 0 or o.access == EARLY_DEF:
                simple = False
        self.uses = tuple(uses)
        self.defs = tuple(defs)
        self.use_args = tuple(u[0] for u in uses)
        self.def_args = tuple(d[0] for d in defs)
        self.reg_args = tuple(o.index for o in info.operands)
        mask = 0
        for r in info.clobbers:
            mask |= 1 << r
        self.clobbers = mask
        self.is_move = info.is_move and len(uses) == 1 and len(defs) == 1 and simple
        self.is_branch = info.is_branch or info.is_terminator
        self.simple = simple
        self.has_regs = bool(info.operands) or bool(info.clobbers)


def build_plans(insts: Sequence[InstInfo] | dict[int, InstInfo], vcode: VCode) -> dict[int, OpPlan]:
    """One OpPlan per op used in ``vcode``."""
    plans: dict[int, OpPlan] = {}
    for blk in vcode.blocks:
        for inst in blk.insts:
            if inst.op not in plans:
                plans[inst.op] = OpPlan(insts[inst.op])
    return plans


class Liveness:
    """What the forward allocation pass needs to know about values (dense indices).

    - ``block_start[b]``: position (global instruction index) of block ``b``'s first inst;
    - ``kills[pos]``: values whose use at ``pos`` is their last (``d``), or would be if
      they are not live out of the block (``~d``); ``None`` when empty;
      ``dead_defs[pos]`` the same for values defined at ``pos`` and never read;
    - ``use_pos[d]``: positions of the uses of ``d``, descending (pop to advance);
    - ``hint[d]``: preferred physical register or -1; ``crosses_call[d]``: 1 if the value
      is live across an instruction with clobbers;
    - ``gidx[d]``: bit of a global value in ``live_in``/``live_out`` (-1: block-local);
    - ``live_in[b]``, ``live_out[b]``: Python-int bit sets over global values;
    - ``precolored[pos]``: 1 if a constraint-free instruction names an allocatable
      physical register (so the allocator's fast path does not apply);
    - ``loop_end[b]``: position just after the last block of the outermost loop (by
      back edges in layout order) containing ``b``, or ``FAR``.
    """

    __slots__ = (
        "num_dense",
        "block_start",
        "kills",
        "dead_defs",
        "use_pos",
        "hint",
        "crosses_call",
        "gidx",
        "glist",
        "live_in",
        "live_out",
        "loop_end",
        "precolored",
    )


def compute_liveness(
    vcode: VCode,
    insts: Sequence[InstInfo] | dict[int, InstInfo],
    reginfo: RegInfo,
    plans: dict[int, OpPlan] | None = None,
) -> Liveness:
    """Compute :class:`Liveness` for ``vcode`` (see the module docstring)."""
    if plans is None:
        plans = build_plans(insts, vcode)
    blocks = vcode.blocks
    nb = len(blocks)
    npr = reginfo.num_regs
    off = VREG_BASE - npr
    tracked = reginfo.allocatable_mask
    nd = npr + vcode.num_vregs
    reg_class = reginfo.reg_class

    block_start = [0] * (nb + 1)
    n = 0
    for b, blk in enumerate(blocks):
        block_start[b] = n
        n += len(blk.insts)
    block_start[nb] = n

    kills: list[list[int] | None] = [None] * n
    dead_defs: list[list[int] | None] = [None] * n
    use_pos: list[list[int]] = [[] for _ in range(nd)]
    hint = [-1] * nd
    crosses = bytearray(nd)
    precolored = bytearray(n)
    dense_class = reginfo.reg_class + vcode.vreg_class
    gens: list[set[int]] = [set()] * nb
    defined: list[set[int]] = [set()] * nb
    call_blocks = []

    for b in range(nb - 1, -1, -1):
        binsts = blocks[b].insts
        base = block_start[b]
        live: set[int] = set()
        defd: set[int] = set()
        has_call = False
        for j in range(len(binsts) - 1, -1, -1):
            inst = binsts[j]
            plan = plans[inst.op]
            pos = base + j
            args = inst.args
            extra = inst.extra
            if plan.simple and extra is None and not plan.is_move:
                # Fast path: no constraint, no hint; a pre-colored operand is flagged.
                for k in plan.def_args:
                    r = args[k]
                    if r >= VREG_BASE:
                        d = r - off
                    elif r >= 0 and tracked >> r & 1:
                        d = r
                        precolored[pos] = 1
                    else:
                        continue
                    if d in live:
                        live.discard(d)
                    else:
                        dl = dead_defs[pos]
                        x = d if d in defd else ~d
                        if dl is None:
                            dead_defs[pos] = [x]
                        else:
                            dl.append(x)
                    defd.add(d)
                for k in plan.use_args:
                    r = args[k]
                    if r >= VREG_BASE:
                        d = r - off
                    elif r >= 0 and tracked >> r & 1:
                        d = r
                        precolored[pos] = 1
                    else:
                        continue
                    if d not in live:
                        live.add(d)
                        kl = kills[pos]
                        x = d if d in defd else ~d
                        if kl is None:
                            kills[pos] = [x]
                        else:
                            kl.append(x)
                    use_pos[d].append(pos)
                continue
            # Defs (late and early alike: nothing is live between them and the uses here).
            for k, _cls, fixed, _reuse, _early in plan.defs:
                r = args[k]
                if r >= VREG_BASE:
                    d = r - off
                elif r >= 0 and tracked >> r & 1:
                    d = r
                else:
                    continue
                if d not in live:
                    dl = dead_defs[pos]
                    x = d if d in defd else ~d
                    if dl is None:
                        dead_defs[pos] = [x]
                    else:
                        dl.append(x)
                else:
                    live.discard(d)
                defd.add(d)
                if fixed >= 0 and hint[d] < 0 and tracked >> fixed & 1:
                    hint[d] = fixed
            if extra:
                for r, preg, acc in extra:
                    if acc == USE:
                        continue
                    if r >= VREG_BASE:
                        d = r - off
                    elif r >= 0 and tracked >> r & 1:
                        d = r
                    else:
                        continue
                    if d not in live:
                        dl = dead_defs[pos]
                        x = d if d in defd else ~d
                        if dl is None:
                            dead_defs[pos] = [x]
                        else:
                            dl.append(x)
                    else:
                        live.discard(d)
                    defd.add(d)
                    if hint[d] < 0 and tracked >> preg & 1:
                        hint[d] = preg
            if plan.clobbers:
                has_call = True
                for d in live:
                    crosses[d] = 1
            # Uses.
            for k, _cls, fixed in plan.uses:
                r = args[k]
                if r >= VREG_BASE:
                    d = r - off
                elif r >= 0 and tracked >> r & 1:
                    d = r
                else:
                    continue
                if d not in live:
                    live.add(d)
                    kl = kills[pos]
                    x = d if d in defd else ~d
                    if kl is None:
                        kills[pos] = [x]
                    else:
                        kl.append(x)
                use_pos[d].append(pos)
                if fixed >= 0 and tracked >> fixed & 1:
                    hint[d] = fixed
            if extra:
                for r, preg, acc in extra:
                    if acc != USE:
                        continue
                    if r >= VREG_BASE:
                        d = r - off
                    elif r >= 0 and tracked >> r & 1:
                        d = r
                    else:
                        continue
                    if d not in live:
                        live.add(d)
                        kl = kills[pos]
                        x = d if d in defd else ~d
                        if kl is None:
                            kills[pos] = [x]
                        else:
                            kl.append(x)
                    use_pos[d].append(pos)
                    if tracked >> preg & 1:
                        hint[d] = preg
            if plan.is_move:
                dst = args[0]
                src = args[1]
                if dst >= VREG_BASE:
                    if src >= VREG_BASE:
                        hs = src - off
                        if hint[hs] < 0:
                            hint[hs] = hint[dst - off]
                    elif src >= 0 and tracked >> src & 1 and hint[dst - off] < 0:
                        hint[dst - off] = src
                elif dst >= 0 and tracked >> dst & 1 and src >= VREG_BASE:
                    hint[src - off] = dst
        gens[b] = live
        defined[b] = defd
        if has_call:
            call_blocks.append(b)

    # Hints must name a register of the value's own class.
    for d in range(npr, nd):
        h = hint[d]
        if h >= 0 and reg_class[h] != dense_class[d]:
            hint[d] = -1

    # Data flow over the global values only.
    gidx = [-1] * nd
    glist: list[int] = []
    gen_bits = [0] * nb
    for b in range(nb):
        x = 0
        for d in gens[b]:
            g = gidx[d]
            if g < 0:
                g = gidx[d] = len(glist)
                glist.append(d)
            x |= 1 << g
        gen_bits[b] = x
    notkill = [0] * nb
    for b in range(nb):
        x = 0
        for d in defined[b]:
            g = gidx[d]
            if g >= 0:
                x |= 1 << g
        notkill[b] = ~x
    succs = [blk.succs for blk in blocks]
    live_in = gen_bits[:]
    live_out = [0] * nb
    changed = True
    while changed:
        changed = False
        for b in range(nb - 1, -1, -1):
            o = 0
            for s in succs[b]:
                o |= live_in[s]
            if o != live_out[b]:
                live_out[b] = o
                i = gen_bits[b] | (o & notkill[b])
                if i != live_in[b]:
                    live_in[b] = i
                    changed = True

    across = 0
    for b in call_blocks:
        across |= live_out[b]
    for d in bits_to_dense(across, glist):
        crosses[d] = 1

    # Loops by back edges in layout order: a value live around a loop but with no
    # further use in layout order is next needed before the loop's end.
    loop_end = [FAR] * nb
    for p in range(nb):
        for h in succs[p]:
            if h <= p:
                end = block_start[p + 1]
                for b in range(h, p + 1):
                    if loop_end[b] == FAR or loop_end[b] < end:
                        loop_end[b] = end

    lv = Liveness()
    lv.num_dense = nd
    lv.block_start = block_start
    lv.kills = kills
    lv.dead_defs = dead_defs
    lv.use_pos = use_pos
    lv.hint = hint
    lv.crosses_call = crosses
    lv.gidx = gidx
    lv.glist = glist
    lv.live_in = live_in
    lv.live_out = live_out
    lv.loop_end = loop_end
    lv.precolored = precolored
    return lv


def bits_to_dense(bits: int, glist: list[int]) -> list[int]:
    """The dense values whose global bits are set in ``bits`` (a live set)."""
    out = []
    s = bin(bits)[:1:-1]  # least significant bit first
    i = s.find("1")
    while i >= 0:
        out.append(glist[i])
        i = s.find("1", i + 1)
    return out

