"""The allocation pass: linear scan in layout order with per-edge resolution.

This is linear scan in the form of *second-chance binpacking* (Traub, Holloway and
Smith, "Quality and Speed in Linear-scan Register Allocation", PLDI 1998), the shape Go's
compiler also uses: one forward walk over the instructions in layout order keeps the
current location of every live value (a register, and/or its spill slot), so a value's
lifetime is split wherever that location changes, and only where needed:

- eviction follows Belady: when a register is needed and none is free, the value whose
  next use is farthest is spilled (stored once: a slot that still holds the value is
  remembered, so a value spilled twice is stored once); a value with no further use in
  layout order but live around a loop counts as used at the loop's end, so values live
  through a loop leave registers before values used in it;
- a spilled value is reloaded right before its next use ("reload before uses");
- constraints are local to one instruction, so they are met at that instruction: fixed
  uses move (or reload) the value into the named register, evicting whoever is there;
  fixed defs, clobbers and reuse defs first move surviving values out of the registers
  they write (to a free register, preferring callee-saved ones for values live across
  a call, else to the stack); early defs are given registers while the uses still hold
  theirs; pre-colored physical registers are reserved from their def to their last use;
- a block starts from the end state of an already-allocated predecessor (the layout
  predecessor when it is one), filtered to its live-in values; every other edge gets
  resolution code (:func:`.moves.resolve_edges`): stores for values the successor expects in their slot, a parallel
  move (sequenced by :mod:`.moves`, cycles through the scratch register) for values in
  another register, reloads for values only in their slot.  Critical edges are split,
  so the code goes at the end of a single-successor predecessor or at the top of a
  single-predecessor successor;
- moves coalesce: a move whose source dies gives the source's register to the
  destination and disappears; defs prefer a hinted register (a later fixed use, the
  other side of a move).

Why this and not interval-based linear scan (Wimmer and Franz 2010): here every
constraint is handled where it occurs, against the exact register state, instead of
as intersections of fixed intervals with lifetime holes; the work is one pass over the
instructions with flat lists indexed by value and bit masks of registers, which is what
pure Python can do fast; and it does not need SSA (our VCode is not SSA once block
parameters became edge moves).  The price is that split points are chosen greedily
(at the instruction that needs the register) rather than optimized over an interval;
spill stores are placed at the eviction point, not hoisted to the definition.

Example: two allocatable registers r0, r1 and three values live at once.  The walk
gives v0 and v1 the free registers; at v2's def none is free, so the value whose next
use is farthest (v0, used last) is stored to its slot; before its use it is reloaded
into the register ``add`` just freed::

    before                      after
    v0 = iconst 1               r0 = iconst 1
    v1 = iconst 2               r1 = iconst 2
                                spill [slot0], r0
    v2 = iconst 3               r0 = iconst 3
    v3 = add v1, v2             r0 = add r1, r0
                                reload r1, [slot0]
    v4 = add v3, v0             r0 = add r0, r1
    ret v4                      ret r0

(the example of :mod:`heron.backend.regalloc` runs this very function.)
"""

from __future__ import annotations

from typing import Any

from heron.backend.regalloc.allocation import REC_COPY, REC_INST, REC_MOVE, SLOT_LOC_BASE, AllocStats, RegAllocError
from heron.backend.regalloc.liveness import FAR, Liveness, OpPlan
from heron.backend.regalloc.moves import resolve_edges
from heron.backend.regs import RegInfo
from heron.backend.vcode import DEF, USE, VREG_BASE, MInst, SlotRef, VCode

__all__ = ["LinearScan"]


class LinearScan:
    """One run of the allocator over one function (see the module docstring).

    State during the walk, over dense value indexes ``d`` (see :mod:`.liveness`) and
    physical registers ``r``: ``owner[r]`` (the value in ``r`` or -1; a pre-colored
    register owns itself), ``reg_ok[r]`` (the owner's spill slot also holds it),
    ``reg_of[d]`` (-1: only in its slot), ``slot_of[d]`` (-1: no slot yet).  Per block:
    the register state at entry and exit, where its trailing branch starts in the new
    code, and which predecessor's exit state it started from.
    """

    __slots__ = (
        "vcode",
        "ri",
        "templates",
        "plans",
        "lv",
        "npr",
        "off",
        "tracked",
        "regs",
        "owner",
        "reg_ok",
        "reg_of",
        "slot_of",
        "cls_of",
        "slot_sizes",
        "order",
        "xorder",
        "written",
        "out",
        "rec",
        "far",
        "stats",
        "record",
        "entry_owner",
        "entry_ok",
        "exit_owner",
        "exit_ok",
        "term_out",
        "term_rec",
        "term_regs",
        "entry_src",
        "new_insts",
        "new_recs",
    )

    def __init__(
        self,
        vcode: VCode,
        reginfo: RegInfo,
        templates: Any,
        plans: dict[int, OpPlan],
        lv: Liveness,
        record: bool,
    ) -> None:
        self.vcode = vcode
        self.ri = reginfo
        self.templates = templates
        self.plans = plans
        self.lv = lv
        npr = reginfo.num_regs
        self.npr = npr
        self.off = VREG_BASE - npr
        self.tracked = reginfo.allocatable_mask
        self.regs = sorted(r for regs in reginfo.allocatable for r in regs)
        self.owner = [-1] * npr  # dense value in each register, -1 free
        self.reg_ok = [False] * npr  # the owner's spill slot holds its current value too
        self.reg_of = [-1] * lv.num_dense
        self.slot_of = [-1] * lv.num_dense
        self.cls_of = reginfo.reg_class + vcode.vreg_class
        self.slot_sizes: list[int] = []
        self.order = reginfo.allocatable
        self.xorder = reginfo.cross_call_order
        self.written = 0
        self.out: list[MInst] = []
        self.rec: list[tuple[Any, ...]] | None = None
        self.far = FAR
        self.stats = AllocStats()
        self.record = record
        nb = len(vcode.blocks)
        self.entry_owner: list[list[int]] = [[]] * nb
        self.entry_ok: list[list[bool]] = [[]] * nb
        self.exit_owner: list[list[int] | None] = [None] * nb
        self.exit_ok: list[list[bool]] = [[]] * nb
        self.term_out = [0] * nb
        self.term_rec = [0] * nb
        self.term_regs = [False] * nb
        self.entry_src = [-1] * nb  # the predecessor whose end state a block starts from
        self.new_insts: list[list[MInst]] = [[]] * nb
        self.new_recs: list[list[tuple[Any, ...]]] = [[]] * nb

    # ---------------------------------------------------------------- emission

    def _value_reg(self, d: int) -> int:
        """The input register number of dense value ``d``."""
        return d + self.off if d >= self.npr else d

    def emit_move(self, cls: int, dst: int, src: int) -> None:
        """Append a register copy (through the ISA template) to the current code."""
        mi = self.templates.move(cls, dst, src)
        self.out.append(mi)
        if self.rec is not None:
            self.rec.append((REC_MOVE, mi, dst, src))
        self.stats.moves += 1
        self.written |= 1 << dst

    def _slot(self, d: int) -> int:
        k = self.slot_of[d]
        if k < 0:
            k = self.slot_of[d] = len(self.slot_sizes)
            self.slot_sizes.append(self.ri.class_bits[self.cls_of[d]] // 8)
        return k

    def emit_spill(self, d: int, src: int) -> None:
        """Append a store of value ``d``, held in ``src``, to its spill slot."""
        k = self._slot(d)
        mi = self.templates.spill(self.cls_of[d], SlotRef("spill", k), src)
        self.out.append(mi)
        if self.rec is not None:
            self.rec.append((REC_MOVE, mi, SLOT_LOC_BASE + k, src))
        self.stats.spills += 1

    def emit_reload(self, d: int, dst: int) -> None:
        """Append a load of value ``d`` from its spill slot into ``dst``."""
        k = self._slot(d)  # (a value live into a block entered with no state is stored on its edges)
        mi = self.templates.reload(self.cls_of[d], dst, SlotRef("spill", k))
        self.out.append(mi)
        if self.rec is not None:
            self.rec.append((REC_MOVE, mi, dst, SLOT_LOC_BASE + k))
        self.stats.reloads += 1
        self.written |= 1 << dst

    # ------------------------------------------------------- register choice

    def _next_use(self, d: int, pos: int) -> int:
        u = self.lv.use_pos[d]
        while u and u[-1] < pos:
            u.pop()
        return u[-1] if u else self.far

    def _spill_reg(self, r: int) -> None:
        """The owner of ``r`` leaves it for its spill slot (stored unless already there)."""
        w = self.owner[r]
        if not self.reg_ok[r]:
            self.emit_spill(w, r)
        self.owner[r] = -1
        self.reg_of[w] = -1

    def _save(self, r: int, avoid: int) -> None:
        """The owner of ``r`` is live but must leave ``r``: to a free register, else the stack."""
        owner = self.owner
        w = owner[r]
        cls = self.cls_of[w]
        order = self.xorder[cls] if self.lv.crosses_call[w] else self.order[cls]
        for r2 in order:
            if owner[r2] < 0 and not avoid >> r2 & 1:
                self.emit_move(cls, r2, r)
                owner[r2] = w
                self.reg_ok[r2] = self.reg_ok[r]
                self.reg_of[w] = r2
                owner[r] = -1
                return
        self._spill_reg(r)

    def _choose(self, cls: int, d: int, avoid: int, pos: int) -> int:
        """A register of ``cls`` for ``d``, not in ``avoid``: free if possible, else evicted."""
        owner = self.owner
        h = self.lv.hint[d]
        if h >= 0 and owner[h] < 0 and not avoid >> h & 1:
            return h
        order = self.xorder[cls] if self.lv.crosses_call[d] else self.order[cls]
        for r in order:
            if owner[r] < 0 and not avoid >> r & 1:
                return r
        # Belady: evict the value used farthest in the future (prefer one already in its slot).
        best = -1
        best_key = -1
        npr = self.npr
        reg_ok = self.reg_ok
        for r in order:
            if avoid >> r & 1:
                continue
            w = owner[r]
            if w < npr:
                continue  # a pre-colored register in use
            key = self._next_use(w, pos + 1) * 2 + reg_ok[r]
            if key > best_key:
                best = r
                best_key = key
        if best < 0:
            raise RegAllocError(
                f"no {self.ri.class_names[cls]} register left for {self.ri.name(self._value_reg(d))} "
                f"at instruction {pos}: too many operands constrained at once"
            )
        self._spill_reg(best)
        return best

    # ------------------------------------------------------------- the walk

    def run(self) -> None:
        blocks = self.vcode.blocks
        for b in range(len(blocks)):
            self._block(b)
        resolve_edges(self)
        for b, blk in enumerate(blocks):
            blk.insts = self.new_insts[b]

    def _enter(self, b: int) -> None:
        """Set the register state at the top of block ``b``."""
        owner = self.owner
        reg_of = self.reg_of
        reg_ok = self.reg_ok
        for r in self.regs:
            w = owner[r]
            if w >= 0:
                reg_of[w] = -1
                owner[r] = -1
        preds = self.vcode.blocks[b].preds
        src = -1
        if b > 0 and (b - 1) in preds and self.exit_owner[b - 1] is not None:
            src = b - 1
        else:
            for p in preds:
                if self.exit_owner[p] is not None:
                    src = p
                    break
        lin = self.lv.live_in[b]
        gidx = self.lv.gidx
        self.entry_src[b] = src
        if src >= 0:
            eo = self.exit_owner[src]
            assert eo is not None
            eok = self.exit_ok[src]
            # A single-successor predecessor's live-out set is this block's live-in set.
            only = len(self.vcode.blocks[src].succs) == 1
            for r in self.regs:
                w = eo[r]
                if w >= 0:
                    if not only:
                        g = gidx[w]
                        if g < 0 or not lin >> g & 1:
                            continue
                    owner[r] = w
                    reg_ok[r] = eok[r]
                    reg_of[w] = r
        else:
            # No allocated predecessor: live-in values start in their slots (every edge
            # into this block stores them); pre-colored registers are where they are.
            for r in self.regs:
                g = gidx[r]
                if g >= 0 and lin >> g & 1:
                    owner[r] = r
                    reg_of[r] = r
        self.entry_owner[b] = owner[:]
        self.entry_ok[b] = reg_ok[:]

    def _block(self, b: int) -> None:
        blk = self.vcode.blocks[b]
        insts = blk.insts
        plans = self.plans
        self._enter(b)
        out: list[MInst] = []
        self.out = out
        rec: list[tuple[Any, ...]] | None = [] if self.record else None
        self.rec = rec
        self.far = self.lv.loop_end[b]
        lo = self.lv.live_out[b]
        jt = len(insts)
        while jt > 0 and plans[insts[jt - 1].op].is_branch:
            jt -= 1
            if plans[insts[jt].op].has_regs or insts[jt].extra:
                self.term_regs[b] = True
        base = self.lv.block_start[b]
        for j, inst in enumerate(insts):
            if j == jt:
                self.term_out[b] = len(out)
                self.term_rec[b] = len(rec) if rec is not None else 0
            plan = plans[inst.op]
            if inst.extra is None:
                if plan.simple:
                    if plan.is_move:
                        if self._move_inst(base + j, inst, lo):
                            continue
                    elif self._simple(base + j, inst, plan, lo):
                        continue
            self._inst(base + j, inst, plan, lo)
        if jt == len(insts):
            self.term_out[b] = len(out)
            self.term_rec[b] = len(rec) if rec is not None else 0
        self.exit_owner[b] = self.owner[:]
        self.exit_ok[b] = self.reg_ok[:]
        self.new_insts[b] = out
        if rec is not None:
            self.new_recs[b] = rec

    def _dies(self, x: int, lo: int) -> int:
        """Resolve a last-use candidate of the liveness pass: the dense value, or -1."""
        if x >= 0:
            return x
        d = ~x
        g = self.lv.gidx[d]
        if g >= 0 and lo >> g & 1:
            return -1
        return d

    def _move_inst(self, pos: int, inst: MInst, lo: int) -> bool:
        """A plain copy ``dst = src``: coalesce when the source dies. False: not handled."""
        args = inst.args
        dst = args[0]
        src = args[1]
        off = self.off
        tracked = self.tracked
        if dst >= VREG_BASE:
            dd = dst - off
        elif dst >= 0 and tracked >> dst & 1:
            dd = dst
        else:
            return False
        if src >= VREG_BASE:
            ds = src - off
        elif src >= 0 and tracked >> src & 1:
            ds = src
        else:
            return False
        npr = self.npr
        if (dd < npr and ds < npr) or dd == ds:
            return False
        kl = self.lv.kills[pos]
        src_dies = bool(kl) and self._dies(kl[0], lo) >= 0
        dl = self.lv.dead_defs[pos]
        dst_dead = bool(dl) and self._dies(dl[0], lo) >= 0
        owner = self.owner
        reg_of = self.reg_of
        reg_ok = self.reg_ok
        rec = self.rec
        if dd >= npr:
            if dst_dead:
                if src_dies:
                    r = reg_of[ds]
                    if r >= 0:
                        owner[r] = -1
                        reg_of[ds] = -1
                self.stats.moves_removed += 1
                return True
            cls = self.cls_of[dd]
            r = reg_of[ds]
            if r >= 0 and src_dies and (ds >= npr or self.cls_of[ds] == cls):
                # Coalesce: the destination takes over the source's register.
                owner[r] = dd
                reg_of[dd] = r
                reg_of[ds] = -1
                reg_ok[r] = False
                if rec is not None:
                    rec.append((REC_COPY, None, dst, src, r))
                self.stats.moves_removed += 1
                return True
            if r >= 0:
                try:
                    rd = self._choose(cls, dd, 1 << r, pos)
                except RegAllocError:
                    # No second register: the source goes to its slot, the copy takes its register.
                    self._spill_reg(r)
                    owner[r] = dd
                    reg_of[dd] = r
                    reg_ok[r] = False
                    if rec is not None:
                        rec.append((REC_COPY, None, dst, src, r))
                    self.stats.moves_removed += 1
                    return True
                orig = list(args) if rec is not None else None
                args[0] = rd
                args[1] = r
                self.out.append(inst)
                if rec is not None:
                    rec.append((REC_INST, inst, orig, None))
                if src_dies:
                    owner[r] = -1
                    reg_of[ds] = -1
            else:
                # The source is only in its slot: reload straight into the destination.
                rd = self._choose(cls, dd, 0, pos)
                self.emit_reload(ds, rd)
                if rec is not None:
                    rec.append((REC_COPY, None, dst, src, rd))
                self.stats.moves_removed += 1
            owner[rd] = dd
            reg_of[dd] = rd
            reg_ok[rd] = False
            self.written |= 1 << rd
            return True
        # dst is a pre-colored register (e.g. an outgoing argument), src a value.
        if dst_dead:
            return False
        r = reg_of[ds]
        w = owner[dd]
        if w >= 0 and r != dd:
            if w < npr:
                return False  # the general path reports the conflict
            self._save(dd, (1 << dd) | (1 << r if r >= 0 else 0))
        if r == dd:
            if src_dies:
                if rec is not None:
                    rec.append((REC_COPY, None, dst, src, dd))
                reg_of[ds] = -1
                owner[dd] = dd
                reg_of[dd] = dd
                self.stats.moves_removed += 1
                return True
            self._save(dd, 1 << dd)
            r = reg_of[ds]
        if r >= 0:
            orig = list(args) if rec is not None else None
            args[1] = r
            self.out.append(inst)
            if rec is not None:
                rec.append((REC_INST, inst, orig, None))
            if src_dies:
                owner[r] = -1
                reg_of[ds] = -1
        else:
            self.emit_reload(ds, dd)
            if rec is not None:
                rec.append((REC_COPY, None, dst, src, dd))
            self.stats.moves_removed += 1
        owner[dd] = dd
        reg_of[dd] = dd
        self.written |= 1 << dd
        return True

    def _simple(self, pos: int, inst: MInst, plan: OpPlan, lo: int) -> bool:
        """The fast path of :meth:`_inst` for an instruction without constraints.

        Returns False (having changed nothing) when an operand is pre-colored.
        """
        if self.lv.precolored[pos]:
            return False
        args = inst.args
        off = self.off
        owner = self.owner
        reg_of = self.reg_of
        reg_ok = self.reg_ok
        rec = self.rec
        if rec is not None:
            entry = (REC_INST, inst, list(args), None)
        locked = 0
        pend = None
        for k, cls, _f in plan.uses:
            r = args[k]
            if r < VREG_BASE:
                continue
            d = r - off
            r = reg_of[d]
            if r >= 0:
                locked |= 1 << r
                args[k] = r
            elif pend is None:
                pend = [(k, d, cls)]
            else:
                pend.append((k, d, cls))
        if pend is not None:
            for k, d, cls in pend:
                r = reg_of[d]
                if r < 0:
                    r = self._choose(cls, d, locked, pos)
                    self.emit_reload(d, r)
                    owner[r] = d
                    reg_of[d] = r
                    reg_ok[r] = True
                locked |= 1 << r
                args[k] = r
        kl = self.lv.kills[pos]
        if kl:
            gidx = self.lv.gidx
            for d in kl:
                if d < 0:
                    d = ~d
                    g = gidx[d]
                    if g >= 0 and lo >> g & 1:
                        continue
                r = reg_of[d]
                if r >= 0:
                    owner[r] = -1
                    reg_of[d] = -1
        taken = 0
        hint = self.lv.hint
        for k, cls, _f, _reuse, _early in plan.defs:
            r = args[k]
            if r < VREG_BASE:
                continue
            d = r - off
            r = hint[d]
            if r < 0 or owner[r] >= 0 or taken >> r & 1:
                r = self._choose(cls, d, taken, pos)
            taken |= 1 << r
            old = reg_of[d]
            if old >= 0 and owner[old] == d:
                owner[old] = -1
            owner[r] = d
            reg_of[d] = r
            reg_ok[r] = False
            args[k] = r
        self.written |= taken
        self.out.append(inst)
        if rec is not None:
            rec.append(entry)
        dl = self.lv.dead_defs[pos]
        if dl:
            gidx = self.lv.gidx
            for d in dl:
                if d < 0:
                    d = ~d
                    g = gidx[d]
                    if g >= 0 and lo >> g & 1:
                        continue
                r = reg_of[d]
                if r >= 0:
                    owner[r] = -1
                    reg_of[d] = -1
        return True

    def _inst(self, pos: int, inst: MInst, plan: OpPlan, lo: int) -> None:
        """Allocate one instruction (any constraints)."""
        args = inst.args
        extra = inst.extra
        off = self.off
        tracked = self.tracked
        npr = self.npr
        owner = self.owner
        reg_of = self.reg_of
        reg_ok = self.reg_ok
        rec = self.rec
        if rec is not None:
            entry = (REC_INST, inst, list(args), list(extra) if extra else None)

        # Decode: (arg index or ~extra index, dense value, class, fixed register[, reuse]).
        fuses: list[tuple[int, int, int, int]] = []
        nuses: list[tuple[int, int, int]] = []
        ldefs: list[tuple[int, int, int, int, int]] = []
        edefs: list[tuple[int, int, int, int, int]] = []
        fixed_mask = 0
        for k, cls, fixed in plan.uses:
            r = args[k]
            if r >= VREG_BASE:
                d = r - off
            elif r >= 0 and tracked >> r & 1:
                d = fixed = r
            else:
                continue
            if fixed >= 0:
                fuses.append((k, d, cls, fixed))
                fixed_mask |= 1 << fixed
            else:
                nuses.append((k, d, cls))
        for k, cls, fixed, reuse, early in plan.defs:
            r = args[k]
            if r >= VREG_BASE:
                d = r - off
            elif r >= 0 and tracked >> r & 1:
                d = fixed = r
            else:
                continue
            (edefs if early else ldefs).append((k, d, cls, fixed, reuse))
        if extra:
            reg_class = self.ri.reg_class
            for j, (r, preg, acc) in enumerate(extra):
                if r >= VREG_BASE:
                    d = r - off
                elif r >= 0 and tracked >> r & 1:
                    d = r
                else:
                    continue
                if not tracked >> preg & 1:
                    raise RegAllocError(f"{self.ri.name(r)} is fixed to the unallocatable register {self.ri.name(preg)}")
                cls = reg_class[preg]
                if acc == USE:
                    fuses.append((~j, d, cls, preg))
                    fixed_mask |= 1 << preg
                elif acc == DEF:
                    ldefs.append((~j, d, cls, preg, -1))
                else:
                    edefs.append((~j, d, cls, preg, -1))
        fdef_mask = 0
        for _k, _d, _cls, f, _reuse in ldefs:
            if f >= 0:
                fdef_mask |= 1 << f
        edef_mask = 0
        for _k, _d, _cls, f, _reuse in edefs:
            if f >= 0:
                edef_mask |= 1 << f
        clob = plan.clobbers & ~fdef_mask & ~edef_mask

        # A. Registers of fixed early defs must be empty before the uses are placed.
        if edef_mask:
            for _k, d, _cls, f, _reuse in edefs:
                if f >= 0 and owner[f] >= 0:
                    if owner[f] < npr:
                        raise RegAllocError(f"early def of {self.ri.name(f)} while it is in use")
                    self._save(f, edef_mask | fixed_mask | clob | fdef_mask)

        # B. Fixed uses: move or reload each value into its register.
        locked = 0
        for k, d, cls, f in fuses:
            if d < npr:
                locked |= 1 << f  # a pre-colored register: already where it must be
                continue
            r = reg_of[d]
            if r != f:
                if locked >> f & 1:
                    raise RegAllocError(f"two values fixed to {self.ri.name(f)} in one instruction")
                w = owner[f]
                if w >= 0:
                    if w < npr:
                        raise RegAllocError(f"{self.ri.name(f)} is needed while it holds a pre-colored value")
                    self._save(f, locked | edef_mask | fixed_mask | (1 << r if r >= 0 else 0))
                if r >= 0:
                    self.emit_move(cls, f, r)
                    if not locked >> r & 1:
                        owner[r] = -1
                        owner[f] = d
                        reg_of[d] = f
                        reg_ok[f] = reg_ok[r]
                    # else: d is also fixed in r for this instruction; f holds a copy.
                else:
                    self.emit_reload(d, f)
                    owner[f] = d
                    reg_of[d] = f
                    reg_ok[f] = True
            locked |= 1 << f
            if k >= 0:
                args[k] = f
            else:
                t = extra[~k]  # type: ignore[index]
                extra[~k] = (f, t[1], t[2])  # type: ignore[index]

        # C. Other uses: lock those in registers first, then reload the rest.
        pend = None
        for k, d, cls in nuses:
            r = reg_of[d]
            if r >= 0:
                locked |= 1 << r
                args[k] = r
            elif pend is None:
                pend = [(k, d, cls)]
            else:
                pend.append((k, d, cls))
        if pend is not None:
            for k, d, cls in pend:
                r = reg_of[d]
                if r < 0:
                    r = self._choose(cls, d, locked | edef_mask | fixed_mask, pos)
                    self.emit_reload(d, r)
                    owner[r] = d
                    reg_of[d] = r
                    reg_ok[r] = True
                locked |= 1 << r
                args[k] = r

        # D. Early defs: written before the uses are read, so clear of all of them.
        eregs = []
        for k, d, cls, f, _reuse in edefs:
            if f >= 0:
                r = f
            else:
                r = self._choose(cls, d, locked | edef_mask | clob | fdef_mask, pos)
                edef_mask |= 1 << r
            eregs.append(r)

        # E. Values whose last use this is free their registers for the late defs.
        kl = self.lv.kills[pos]
        if kl:
            for x in kl:
                d = self._dies(x, lo)
                if d >= 0:
                    r = reg_of[d]
                    if r >= 0:
                        owner[r] = -1
                        reg_of[d] = -1
        for (k, d, _cls, _f, _reuse), r in zip(edefs, eregs):
            old = reg_of[d]
            if old >= 0 and owner[old] == d:
                owner[old] = -1
            owner[r] = d
            reg_of[d] = r
            reg_ok[r] = False
            self.written |= 1 << r
            if k >= 0:
                args[k] = r
            else:
                t = extra[~k]  # type: ignore[index]
                extra[~k] = (r, t[1], t[2])  # type: ignore[index]

        # F. Values living on leave the registers this instruction writes.
        reuse_mask = 0
        for _k, _d, _cls, _f, reuse in ldefs:
            if reuse >= 0:
                reuse_mask |= 1 << args[reuse]
        wmask = clob | fdef_mask | reuse_mask
        if wmask:
            avoid = locked | edef_mask | wmask
            m = wmask
            while m:
                low = m & -m
                r = low.bit_length() - 1
                m ^= low
                w = owner[r] if r < npr else -1
                if w >= 0:
                    if w < npr:
                        raise RegAllocError(f"pre-colored {self.ri.name(r)} is live across an instruction that writes it")
                    self._save(r, avoid)

        # G. Late defs.
        taken = edef_mask | wmask
        for k, d, cls, f, reuse in ldefs:
            if f >= 0:
                r = f
            elif reuse >= 0:
                r = args[reuse]
            else:
                r = self._choose(cls, d, taken, pos)
                taken |= 1 << r
            old = reg_of[d]
            if old >= 0 and owner[old] == d:
                owner[old] = -1
            owner[r] = d
            reg_of[d] = r
            reg_ok[r] = False
            self.written |= 1 << r
            if k >= 0:
                args[k] = r
            else:
                t = extra[~k]  # type: ignore[index]
                extra[~k] = (r, t[1], t[2])  # type: ignore[index]

        self.out.append(inst)
        if rec is not None:
            rec.append(entry)

        # H. Defs nobody reads free their registers at once.
        dl = self.lv.dead_defs[pos]
        if dl:
            for x in dl:
                d = self._dies(x, lo)
                if d >= 0:
                    r = reg_of[d]
                    if r >= 0:
                        owner[r] = -1
                        reg_of[d] = -1

    def callee_saved_used(self) -> list[int]:
        w = self.written
        return sorted(r for r in self.ri.callee_saved if w >> r & 1)

