"""The dominator tree of a function's CFG (Cooper, Harvey and Kennedy's iterative algorithm).

Block A dominates block B when every path from the entry block to B passes
through A; every block dominates itself.  The immediate dominator ``idom[B]``
is the closest strict dominator of B.  The tree is computed with "A Simple,
Fast Dominance Algorithm" (Cooper, Harvey, Kennedy 2001): iterate over the
reverse post-order, intersecting the dominators of processed predecessors by
walking up the tree with RPO numbers, until nothing changes (one or two passes
for reducible CFGs).  A pre-order numbering of the tree then answers
``dominates(a, b)`` in constant time.

Unreachable blocks (in the layout but not reachable from the entry) have no
immediate dominator, RPO number -1, and are dominated only by themselves.

Instruction dominance uses the layout: instruction A dominates instruction B
when A's block strictly dominates B's block, or both are in one block and A
comes first (an instruction dominates itself).  Positions are taken from the
layout when the tree is built; rebuild after moving instructions.

Example (a diamond: block0 branches to block1 and block2, both jump to block3)::

    >>> from heron.ir.builder import FunctionBuilder
    >>> from heron.ir.entities import AbiParam, Signature
    >>> from heron.ir.function import Function
    >>> from heron.ir.types import I32
    >>> fn = Function("%f", Signature([AbiParam(I32)]))
    >>> fb = FunctionBuilder(fn)
    >>> b0, b1, b2, b3 = (fb.create_block() for _ in range(4))
    >>> fb.append_block_params_for_function_params(b0)
    >>> fb.switch_to_block(b0)
    >>> _ = fb.ins.brif(fb.block_params(b0)[0], b1, [], b2, [])
    >>> for b in (b1, b2):
    ...     fb.switch_to_block(b); _ = fb.ins.jump(b3)
    >>> fb.switch_to_block(b3); _ = fb.ins.return_()
    >>> dt = DominatorTree(fn)
    >>> dt.idom[b3], dt.dominates(b0, b3), dt.dominates(b1, b3)
    (0, True, False)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron.ir.cfg import ControlFlowGraph

if TYPE_CHECKING:
    from heron.ir.function import Function

__all__ = ["DominatorTree"]


class DominatorTree:
    """Immediate dominators, RPO numbers and dominance queries for one function."""

    __slots__ = (
        "cfg",
        "rpo",
        "rpo_number",
        "idom",
        "children",
        "_pre",
        "_last",
        "_inst_pos",
        "_inst_block",
    )

    def __init__(self, fn: Function, cfg: ControlFlowGraph | None = None) -> None:
        if cfg is None:
            cfg = ControlFlowGraph(fn)
        self.cfg = cfg
        n = cfg.num_blocks()
        rpo = cfg.rpo
        self.rpo = rpo
        # Position of each block in the RPO (entry = 0); -1 for unreachable blocks.
        rpo_number = [-1] * n
        for i, b in enumerate(rpo):
            rpo_number[b] = i
        self.rpo_number = rpo_number
        self.idom = self._compute_idoms(cfg, rpo, rpo_number, n)
        children: list[list[int]] = [[] for _ in range(n)]
        for b in rpo[1:]:
            children[self.idom[b]].append(b)
        self.children = children
        self._number_tree(n)
        self._number_insts(fn)

    # -- construction -----------------------------------------------------
    @staticmethod
    def _compute_idoms(cfg: ControlFlowGraph, rpo: list[int], rpo_number: list[int], n: int) -> list[int]:
        idom = [-1] * n
        if not rpo:
            return idom
        entry = rpo[0]
        idom[entry] = entry
        preds = cfg.preds
        changed = True
        while changed:
            changed = False
            for b in rpo[1:]:
                new_idom = -1
                for p in preds[b]:
                    if idom[p] == -1:
                        continue  # unreachable, or not processed yet in this pass
                    if new_idom == -1:
                        new_idom = p
                        continue
                    # intersect(p, new_idom): walk both fingers up to their common ancestor.
                    f1, f2 = p, new_idom
                    while f1 != f2:
                        while rpo_number[f1] > rpo_number[f2]:
                            f1 = idom[f1]
                        while rpo_number[f2] > rpo_number[f1]:
                            f2 = idom[f2]
                    new_idom = f1
                if idom[b] != new_idom:
                    idom[b] = new_idom
                    changed = True
        idom[entry] = -1
        return idom

    def _number_tree(self, n: int) -> None:
        """Pre-order numbers and subtree extents: a dominates b iff pre[a] <= pre[b] <= last[a]."""
        pre = [-1] * n
        last = [-1] * n
        if self.rpo:
            counter = 0
            stack = [(self.rpo[0], False)]
            children = self.children
            while stack:
                b, done = stack.pop()
                if done:
                    last[b] = counter - 1
                    continue
                pre[b] = counter
                counter += 1
                stack.append((b, True))
                for c in reversed(children[b]):
                    stack.append((c, False))
        self._pre = pre
        self._last = last

    def _number_insts(self, fn: Function) -> None:
        num = fn.dfg.num_insts
        pos = [-1] * num
        where = [-1] * num
        layout = fn.layout
        for b in layout.blocks:
            for i, inst in enumerate(layout.block_insts(b)):
                if 0 <= inst < num:
                    pos[inst] = i
                    where[inst] = b
        self._inst_pos = pos
        self._inst_block = where

    # -- queries -----------------------------------------------------------
    def is_reachable(self, block: int) -> bool:
        return 0 <= block < len(self.rpo_number) and self.rpo_number[block] >= 0

    def unreachable_blocks(self, fn: Function) -> list[int]:
        """Blocks of the layout that the entry block cannot reach, in layout order."""
        return [b for b in fn.layout.blocks if not self.is_reachable(b)]

    def dominates(self, a: int, b: int) -> bool:
        """Whether block ``a`` dominates block ``b`` (a block dominates itself)."""
        if a == b:
            return True
        pa = self._pre[a]
        pb = self._pre[b]
        return pa >= 0 and pb >= 0 and pa <= pb <= self._last[a]

    def strictly_dominates(self, a: int, b: int) -> bool:
        return a != b and self.dominates(a, b)

    def inst_dominates(self, a: int, b: int) -> bool:
        """Whether instruction ``a`` dominates instruction ``b`` (both in the layout)."""
        ba = self._inst_block[a]
        bb = self._inst_block[b]
        if ba == bb:
            return self._inst_pos[a] <= self._inst_pos[b]
        return self.dominates(ba, bb)

    def block_dominates_inst(self, block: int, inst: int) -> bool:
        """Whether ``block`` (its parameters) dominates instruction ``inst``."""
        return self.dominates(block, self._inst_block[inst])

    def inst_position(self, inst: int) -> int:
        """The index of ``inst`` in its block when the tree was built (-1: not in the layout)."""
        return self._inst_pos[inst]

    def common_dominator(self, a: int, b: int) -> int:
        """The nearest block dominating both reachable blocks ``a`` and ``b``."""
        rpo_number = self.rpo_number
        idom = self.idom
        while a != b:
            while rpo_number[a] > rpo_number[b]:
                a = idom[a]
            while rpo_number[b] > rpo_number[a]:
                b = idom[b]
        return a
