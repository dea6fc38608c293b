"""The allocation checker: abstract interpretation proving that allocated code reads right.

It replays the allocator's records (see :mod:`.allocation`) block by block, tracking for
every location (physical register or spill slot) the set of input values it holds for
sure.  At block entry the state is the intersection over the predecessors, iterated to
a fixed point; the entry block starts with every allocatable register holding its own
pre-colored value (incoming arguments).  Then, instruction by instruction:

- every use of a value (virtual register, or pre-colored physical register) must read a
  location holding it; every operand is a physical register of the right class, in its
  fixed register if it has one; a pre-colored operand stays as it was;
- a reuse def is in the register of its use; an early def shares no register with a
  use; the defs of one instruction are in distinct registers;
- non-register args are unchanged, the input instructions appear in order, nothing else
  is added but what the records announce;
- transfer: clobbered registers hold nothing; a def of ``v`` in ``r`` removes ``v``
  everywhere and leaves ``r`` holding just ``v``; an inserted copy makes its destination
  hold what its source held; a removed input move ``d = s`` adds ``d`` to the location
  they share.

Sets shrink monotonically under the intersection, so a check passing at the fixed
point passes on every path.  Failures raise :class:`RegAllocError` naming the block,
the instruction and the offending location.

Example::

    >>> _meet({0: frozenset({1, 2}), 1: frozenset({3})}, {0: frozenset({2}), 2: frozenset({4})})
    {0: frozenset({2})}
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from heron.backend.regalloc.allocation import REC_COPY, REC_INST, REC_MOVE, SLOT_LOC_BASE, Allocation, RegAllocError
from heron.backend.regs import RegInfo
from heron.backend.vcode import EARLY_DEF, NO_REG, USE, VREG_BASE, InstInfo, VCode

__all__ = ["check_allocation"]

State = dict[int, frozenset[int]]
_EMPTY: frozenset[int] = frozenset()


def check_allocation(
    vcode: VCode,
    insts: Sequence[InstInfo] | dict[int, InstInfo],
    reginfo: RegInfo,
    alloc: Allocation,
) -> None:
    """Raise :class:`RegAllocError` unless the allocated ``vcode`` is correct (see above)."""
    records = alloc.records
    if records is None:
        raise ValueError("check_allocation needs an Allocation made with keep_records=True")
    _Checker(vcode, insts, reginfo, records).run()


class _Locs:
    """A block's working state: location -> values, plus value -> locations for kills."""

    __slots__ = ("vals", "where")

    def __init__(self, st: State) -> None:
        self.vals = dict(st)
        where: dict[int, set[int]] = {}
        for loc, vs in st.items():
            for v in vs:
                where.setdefault(v, set()).add(loc)
        self.where = where

    def get(self, loc: int) -> frozenset[int]:
        return self.vals.get(loc, _EMPTY)

    def set(self, loc: int, vs: frozenset[int]) -> None:
        old = self.vals.get(loc, _EMPTY)
        if old is vs:
            return
        where = self.where
        for v in old - vs:
            where[v].discard(loc)
        for v in vs - old:
            where.setdefault(v, set()).add(loc)
        if vs:
            self.vals[loc] = vs
        else:
            self.vals.pop(loc, None)

    def kill(self, v: int) -> None:
        """Forget every copy of ``v`` (it is being redefined)."""
        locs = self.where.get(v)
        if locs:
            for loc in list(locs):
                self.set(loc, self.vals[loc] - {v})


def _meet(a: State, b: State) -> State:
    out = {}
    for loc, vals in a.items():
        other = b.get(loc)
        if other is not None:
            both = vals & other
            if both:
                out[loc] = both
    return out


class _Checker:
    __slots__ = ("vcode", "insts", "ri", "records", "tracked")

    def __init__(
        self,
        vcode: VCode,
        insts: Sequence[InstInfo] | dict[int, InstInfo],
        reginfo: RegInfo,
        records: list[list[tuple[Any, ...]]],
    ) -> None:
        self.vcode = vcode
        self.insts = insts
        self.ri = reginfo
        self.records = records
        self.tracked = reginfo.allocatable_mask

    def run(self) -> None:
        blocks = self.vcode.blocks
        if len(self.records) != len(blocks):
            raise RegAllocError("regalloc check: records do not cover every block")
        for b, blk in enumerate(blocks):
            real = [r[1] for r in self.records[b] if r[0] != REC_COPY]
            if len(real) != len(blk.insts) or any(x is not y for x, y in zip(real, blk.insts)):
                raise RegAllocError(f"regalloc check: block{b}: the final instructions differ from the records")
        entry: State = {}
        for r in range(self.ri.num_regs):
            if self.tracked >> r & 1:
                entry[r] = frozenset((r,))
        states: list[State | None] = [None] * len(blocks)
        states[self.vcode.entry] = entry
        # Worklist in layout order (close to reverse post-order: few revisits).
        work = [self.vcode.entry]
        queued = [False] * len(blocks)
        queued[self.vcode.entry] = True
        while work:
            b = heapq.heappop(work)
            queued[b] = False
            locs = _Locs(states[b])  # type: ignore[arg-type]
            self._block(b, locs, check=False)
            st = locs.vals
            for s in blocks[b].succs:
                old = states[s]
                new = st if old is None else _meet(old, st)
                if old is None or new != old:
                    states[s] = new
                    if not queued[s]:
                        queued[s] = True
                        heapq.heappush(work, s)
        for b, st0 in enumerate(states):
            if st0 is not None:
                self._block(b, _Locs(st0), check=True)

    # ------------------------------------------------------------------

    def _name(self, x: int) -> str:
        return self.ri.name(x)

    def _loc(self, loc: int) -> str:
        return f"slot{loc - SLOT_LOC_BASE}" if loc >= SLOT_LOC_BASE else self.ri.name(loc)

    def _fail(self, b: int, i: int, what: str, msg: str) -> None:
        raise RegAllocError(f"regalloc check: block{b} inst {i} ({what}): {msg}")

    def _holds(self, st: _Locs, loc: int) -> str:
        return "{" + ", ".join(sorted(self._name(v) for v in st.get(loc))) + "}"

    def _value(self, r: int) -> int:
        """The tracked value an operand of the input names, or -1 (untracked register)."""
        if r >= VREG_BASE:
            return r
        if r >= 0 and self.tracked >> r & 1:
            return r
        return -1

    def _block(self, b: int, st: _Locs, check: bool) -> None:
        i = 0
        for rec in self.records[b]:
            kind = rec[0]
            if kind == REC_MOVE:
                st.set(rec[2], st.get(rec[3]))
                i += 1
            elif kind == REC_COPY:
                _, _, dst, src, loc = rec
                if check and src not in st.get(loc):
                    self._fail(b, i, "removed move", f"{self._name(dst)} = {self._name(src)} in {self._loc(loc)}, which holds {self._holds(st, loc)}")
                st.kill(dst)
                st.set(loc, st.get(loc) | {dst})
            else:
                assert kind == REC_INST
                self._inst(b, i, rec, st, check)
                i += 1

    def _inst(self, b: int, i: int, rec: tuple[Any, ...], st: _Locs, check: bool) -> None:
        _, mi, orig_args, orig_extra = rec
        info = self.insts[mi.op]
        ri = self.ri
        # (orig, final, access, class, fixed, reuse)
        ops: list[tuple[int, int, int, int, int, int]] = []
        reg_pos = set()
        for o in info.operands:
            reg_pos.add(o.index)
            ops.append((orig_args[o.index], mi.args[o.index], o.access, o.regclass, o.fixed, o.reuse))
        if orig_extra:
            if not mi.extra or len(mi.extra) != len(orig_extra):
                self._fail(b, i, info.name, "extra operands lost")
            for (r, preg, acc), (fr, fpreg, facc) in zip(orig_extra, mi.extra):
                if fpreg != preg or facc != acc:
                    self._fail(b, i, info.name, "extra operand changed its register or access")
                ops.append((r, fr, acc, ri.reg_class[preg], preg, -1))
        if check:
            if len(mi.args) != len(orig_args):
                self._fail(b, i, info.name, "argument count changed")
            for k, (a, f) in enumerate(zip(orig_args, mi.args)):
                if k not in reg_pos and a is not f and a != f:
                    self._fail(b, i, info.name, f"non-register arg {k} changed from {a!r} to {f!r}")
            use_regs = set()
            def_regs: list[int] = []
            for orig, final, acc, cls, fixed, reuse in ops:
                if orig == NO_REG:
                    if final != NO_REG:
                        self._fail(b, i, info.name, "an absent register became present")
                    continue
                if not 0 <= final < VREG_BASE:
                    self._fail(b, i, info.name, f"operand {self._name(orig)} left as {self._name(final)}")
                if orig < VREG_BASE and final != orig:
                    self._fail(b, i, info.name, f"pre-colored {self._name(orig)} rewritten to {self._name(final)}")
                if orig >= VREG_BASE:
                    vcls = self.vcode.vreg_class[orig - VREG_BASE]
                    if ri.reg_class[final] != vcls or vcls != cls:
                        self._fail(b, i, info.name, f"{self._name(orig)} (class {vcls}) in {self._name(final)} for a class {cls} operand")
                if fixed >= 0 and final != fixed:
                    self._fail(b, i, info.name, f"{self._name(orig)} must be in {self._name(fixed)}, got {self._name(final)}")
                if acc == USE:
                    use_regs.add(final)
                    v = self._value(orig)
                    if v >= 0 and v not in st.get(final):
                        self._fail(b, i, info.name, f"use of {self._name(v)} reads {self._name(final)}, which holds {self._holds(st, final)}")
                else:
                    if final in def_regs:
                        self._fail(b, i, info.name, f"two defs in {self._name(final)}")
                    def_regs.append(final)
                    if reuse >= 0 and final != mi.args[reuse]:
                        self._fail(b, i, info.name, f"reuse def in {self._name(final)}, its use in {self._name(mi.args[reuse])}")
            for orig, final, acc, *_ in ops:
                if acc == EARLY_DEF and orig != NO_REG and final in use_regs:
                    self._fail(b, i, info.name, f"early def {self._name(orig)} shares {self._name(final)} with a use")
        # Transfer.
        defs = [(orig, final) for orig, final, acc, *_ in ops if acc != USE and orig != NO_REG]
        def_finals = {f for _, f in defs}
        for c in info.clobbers:
            if c not in def_finals:
                st.set(c, _EMPTY)
        for orig, final in defs:
            v = self._value(orig)
            if v >= 0:
                st.kill(v)
                st.set(final, frozenset((v,)))
            else:
                st.set(final, _EMPTY)

