"""Edge resolution and the sequencing of parallel moves.

:func:`resolve_edges` runs after the allocation walk: for every control-flow edge whose
successor did not start from the predecessor's end state, it builds the code that
carries one to the other: stores for values the successor expects in their spill slot,
then one parallel move per class for values in another register, then reloads for
values the predecessor left only in their slot.  The code goes at the end of the
predecessor when it has one successor (before its branch), else at the top of the
successor (which then has one predecessor: critical edges are split).

:func:`sequence_moves` orders a parallel move: copies that happen "at once".

At a control-flow edge the allocator may need to permute registers: every destination
must receive the value its source held *before* any of the copies.  Destinations are
distinct; a source may feed several destinations and may itself be a destination.
A copy can run once no pending copy still reads its destination; when none can, the
pending copies form disjoint cycles (each register has one writer, and every writer's
register is still to be read), and one cycle is broken by saving one of its registers
in the class's reserved scratch register.

Example (a swap and a chain)::

    >>> sequence_moves([(1, 2), (2, 1), (3, 1)], scratch=9)
    [(3, 1), (9, 1), (1, 2), (2, 9)]
    >>> sequence_moves([(4, 4), (5, 6), (6, 7)], scratch=9)
    [(5, 6), (6, 7)]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from heron.backend.regalloc.allocation import RegAllocError
from heron.backend.vcode import MInst

if TYPE_CHECKING:
    from heron.backend.regalloc.linear_scan import LinearScan

__all__ = ["sequence_moves", "resolve_edges"]


def sequence_moves(moves: Iterable[tuple[int, int]], scratch: int) -> list[tuple[int, int]]:
    """Order parallel ``(dst, src)`` register copies; cycles go through ``scratch``.

    ``scratch`` must not appear among the moves.  Self-moves are dropped.
    """
    pending: dict[int, int] = {}
    readers: dict[int, int] = {}
    for dst, src in moves:
        if dst == src:
            continue
        if dst in pending:
            raise ValueError(f"parallel move writes register {dst} twice")
        pending[dst] = src
        readers[src] = readers.get(src, 0) + 1
    out: list[tuple[int, int]] = []
    while pending:
        ready = [dst for dst in pending if not readers.get(dst)]
        if ready:
            # Emit a copy, then whatever it unblocked, depth first (keeps chains in order).
            stack = ready
            while stack:
                dst = stack.pop()
                src = pending.pop(dst)
                out.append((dst, src))
                left = readers[src] - 1
                readers[src] = left
                if left == 0 and src in pending:
                    stack.append(src)
            continue
        # Only cycles are left: save one register of a cycle to the scratch register and
        # let its readers read the copy instead.
        victim = next(iter(pending))
        out.append((scratch, victim))
        for dst, src in pending.items():
            if src == victim:
                pending[dst] = scratch
        readers[scratch] = readers.pop(victim)
    return out


def resolve_edges(scan: LinearScan) -> None:
    """Insert the code that carries each edge's end state to the successor's entry."""
    blocks = scan.vcode.blocks
    ends = []
    tops = []
    for p, blk in enumerate(blocks):
        for s in blk.succs:
            if scan.entry_src[s] == p:
                continue  # s starts from p's end state: nothing to carry
            code = _edge_code(scan, p, s)
            if code is None:
                continue
            if len(blk.succs) == 1 and not scan.term_regs[p]:
                ends.append((p, code))
            elif len(blocks[s].preds) == 1:
                tops.append((s, code))
            else:
                raise RegAllocError(f"edge block{p} -> block{s} needs moves but is critical (split it)")
    for p, (insts, recs) in ends:
        i = scan.term_out[p]
        scan.new_insts[p][i:i] = insts
        if scan.record:
            i = scan.term_rec[p]
            scan.new_recs[p][i:i] = recs
    for s, (insts, recs) in tops:
        scan.new_insts[s][0:0] = insts
        if scan.record:
            scan.new_recs[s][0:0] = recs


def _edge_code(scan: LinearScan, p: int, s: int) -> tuple[list[MInst], list[tuple[Any, ...]]] | None:
    eo = scan.exit_owner[p]
    assert eo is not None
    eok = scan.exit_ok[p]
    so = scan.entry_owner[s]
    sok = scan.entry_ok[s]
    npr = scan.npr
    cls_of = scan.cls_of
    where: dict[int, int] = {}
    for r in scan.regs:
        w = eo[r]
        if w >= npr:
            where[w] = r
    stores = []
    moves: dict[int, list[tuple[int, int]]] = {}
    loads = []
    in_s = set()
    for rd in scan.regs:
        w = so[rd]
        if w < npr:
            continue
        in_s.add(w)
        rs = where.get(w, -1)
        if rs >= 0:
            if sok[rd] and not eok[rs]:
                stores.append((w, rs))
            if rs != rd:
                moves.setdefault(cls_of[w], []).append((rd, rs))
        else:
            loads.append((w, rd))
    lin = scan.lv.live_in[s]
    gidx = scan.lv.gidx
    for w, rs in where.items():
        if w in in_s or eok[rs]:
            continue
        g = gidx[w]
        if g >= 0 and lin >> g & 1:
            stores.append((w, rs))
    if not (stores or moves or loads):
        return None
    scan.out = []
    scan.rec = [] if scan.record else None
    n0 = scan.stats.moves + scan.stats.spills + scan.stats.reloads
    for w, rs in stores:
        scan.emit_spill(w, rs)
    for cls, pm in moves.items():
        for dst, src in sequence_moves(pm, scan.ri.scratch[cls]):
            scan.emit_move(cls, dst, src)
    for w, rd in loads:
        scan.emit_reload(w, rd)
    scan.stats.edge_moves += scan.stats.moves + scan.stats.spills + scan.stats.reloads - n0
    return scan.out, scan.rec if scan.rec is not None else []
