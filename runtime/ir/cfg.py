"""The control-flow graph of a function: successors, predecessors, block orders.

Edges come from the branch destinations (``InstData.dests``) of the last
instruction of each block in the layout, as Cranelift's ``flowgraph.rs`` does:
a block whose last instruction is not a branch (``return``, ``trap``) has no
successors.  Tables are flat lists indexed by block number; a block that is not
in the layout has no edges.

- ``succs[b]``: the distinct successors of block b, in the order the terminator
  names them (``brif c, block2, block1`` gives ``[2, 1]``).
- ``preds[b]``: the distinct predecessor blocks of b, in layout order.
- ``rpo``: the blocks reachable from the entry block in reverse post-order
  (every block comes before its successors, back edges aside; a branch's
  first destination comes before its second).

Example::

    >>> from heron.ir.builder import FunctionBuilder
    >>> from heron.ir.entities import AbiParam, Signature
    >>> from heron.ir.function import Function
    >>> from heron.ir.types import I32
    >>> fn = Function("%f", Signature([AbiParam(I32)]))
    >>> fb = FunctionBuilder(fn)
    >>> b0, b1, b2 = fb.create_block(), fb.create_block(), fb.create_block()
    >>> fb.append_block_params_for_function_params(b0)
    >>> fb.switch_to_block(b0)
    >>> _ = fb.ins.brif(fb.block_params(b0)[0], b2, [], b1, [])
    >>> fb.switch_to_block(b1); _ = fb.ins.jump(b2)
    >>> fb.switch_to_block(b2); _ = fb.ins.return_()
    >>> cfg = ControlFlowGraph(fn)
    >>> cfg.succs[b0], cfg.preds[b2], cfg.rpo
    ([2, 1], [0, 1], [0, 1, 2])
    >>> cfg.post_order()
    [2, 1, 0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from heron.ir.function import Function

__all__ = ["ControlFlowGraph"]


class ControlFlowGraph:
    """Successor and predecessor lists of every block, and the reverse post-order.

    Computed once from the function; recompute after changing branches.
    """

    __slots__ = ("succs", "preds", "entry", "rpo", "branch_of")

    def __init__(self, fn: Function) -> None:
        n = fn.dfg.num_blocks
        succs: list[list[int]] = [[] for _ in range(n)]
        preds: list[list[int]] = [[] for _ in range(n)]
        branch_of: list[int] = [-1] * n
        insts = fn.dfg.insts
        layout = fn.layout
        num_insts = len(insts)
        for b in layout.blocks:
            if not 0 <= b < n:
                continue
            body = layout.block_insts(b)
            if not body:
                continue
            last = body[-1]
            if not 0 <= last < num_insts:
                continue
            dests = insts[last].dests
            if not dests:
                continue
            branch_of[b] = last
            out = succs[b]
            for bc in dests:
                d = bc.block
                # Only blocks in the layout are nodes; the verifier reports other targets.
                if type(d) is int and 0 <= d < n and d not in out and layout.is_block_inserted(d):
                    out.append(d)
                    preds[d].append(b)
        self.succs = succs
        self.preds = preds
        # The branch instruction ending each block, or -1.
        self.branch_of = branch_of
        self.entry: int | None = layout.blocks[0] if layout.blocks and 0 <= layout.blocks[0] < n else None
        self.rpo = self._reverse_post_order()

    def _reverse_post_order(self) -> list[int]:
        """Iterative depth-first search from the entry block; post-order reversed."""
        if self.entry is None:
            return []
        succs = self.succs
        seen = [False] * len(succs)
        post: list[int] = []
        # Stack of (block, index of the next successor to visit).  Successors are visited
        # last to first, so the first successor (a brif's then-block) comes first in the RPO.
        entry = self.entry
        stack: list[list[int]] = [[entry, len(succs[entry]) - 1]]
        seen[entry] = True
        while stack:
            top = stack[-1]
            block, i = top
            if i >= 0:
                top[1] = i - 1
                s = succs[block][i]
                if not seen[s]:
                    seen[s] = True
                    stack.append([s, len(succs[s]) - 1])
            else:
                post.append(block)
                stack.pop()
        post.reverse()
        return post

    def post_order(self) -> list[int]:
        """The reachable blocks in post-order (successors before their predecessors)."""
        return self.rpo[::-1]

    def num_blocks(self) -> int:
        return len(self.succs)
