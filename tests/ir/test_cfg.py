"""The control-flow graph: successors, predecessors and reverse post-order."""

from __future__ import annotations

from heron.ir import opcodes as op
from heron.ir.cfg import ControlFlowGraph
from heron.ir.entities import AbiParam, ExtFuncData, Signature
from heron.ir.function import Function
from heron.ir.instructions import BlockCall, InstData
from heron.ir.types import I32


class Graph:
    """A function whose blocks end in the branches a test asks for (no other instructions)."""

    def __init__(self, n: int, insert: tuple[int, ...] | None = None) -> None:
        self.fn = Function("%g", Signature([AbiParam(I32)]))
        dfg = self.fn.dfg
        self.blocks = [dfg.make_block() for _ in range(n)]
        dfg.append_block_param(0, I32)
        for b in insert if insert is not None else range(n):
            self.fn.layout.append_block(b)
        self.cond = dfg.block_params[0][0]

    def add(self, block: int, opcode: int, dests: list[int] | None = None, ctrl=None, args=()) -> int:
        dfg = self.fn.dfg
        calls = [BlockCall(d) for d in dests] if dests is not None else None
        inst = dfg.make_inst(InstData(opcode, ctrl, list(args), dests=calls))
        dfg.make_inst_results(inst, ctrl)
        self.fn.layout.append_inst(inst, block)
        return inst

    def jump(self, b: int, d: int) -> int:
        return self.add(b, op.JUMP, [d])

    def brif(self, b: int, t: int, e: int) -> int:
        return self.add(b, op.BRIF, [t, e], I32, [self.cond])

    def table(self, b: int, default: int, entries: list[int]) -> int:
        return self.add(b, op.BR_TABLE, [default, *entries], I32, [self.cond])

    def ret(self, b: int) -> int:
        return self.add(b, op.RETURN)

    def cfg(self) -> ControlFlowGraph:
        return ControlFlowGraph(self.fn)


def test_diamond() -> None:
    g = Graph(4)
    g.brif(0, 2, 1)
    g.jump(1, 3)
    g.jump(2, 3)
    g.ret(3)
    cfg = g.cfg()
    assert cfg.succs == [[2, 1], [3], [3], []]
    assert cfg.preds == [[], [0], [0], [1, 2]]
    assert cfg.rpo == [0, 2, 1, 3]  # the then-block first
    assert cfg.post_order() == [3, 1, 2, 0]
    assert cfg.entry == 0


def test_loop_and_back_edge() -> None:
    g = Graph(4)
    g.jump(0, 1)
    g.brif(1, 2, 3)
    g.jump(2, 1)
    g.ret(3)
    cfg = g.cfg()
    assert cfg.succs[2] == [1]
    assert cfg.preds[1] == [0, 2]
    assert cfg.rpo == [0, 1, 2, 3]
    assert cfg.branch_of == [0, 1, 2, -1]


def test_duplicate_targets_are_one_edge() -> None:
    g = Graph(4)
    g.table(0, 3, [1, 3, 1, 2])
    g.brif(1, 3, 3)
    g.jump(2, 3)
    g.ret(3)
    cfg = g.cfg()
    assert cfg.succs[0] == [3, 1, 2]
    assert cfg.succs[1] == [3]
    assert cfg.preds[3] == [0, 1, 2]


def test_unreachable_blocks_have_edges_but_no_rpo_position() -> None:
    g = Graph(4)
    g.ret(0)
    g.jump(1, 2)
    g.jump(2, 1)
    g.ret(3)
    cfg = g.cfg()
    assert cfg.rpo == [0]
    assert cfg.preds[1] == [2] and cfg.preds[2] == [1]


def test_only_the_last_instruction_makes_edges() -> None:
    g = Graph(3)
    g.jump(0, 1)  # a misplaced terminator: the verifier's business, not an edge
    g.ret(0)
    g.ret(1)
    g.ret(2)
    cfg = g.cfg()
    assert cfg.succs[0] == [] and cfg.preds[1] == []


def test_blocks_outside_the_layout_are_ignored() -> None:
    g = Graph(3, insert=(0, 1))
    g.brif(0, 1, 2)  # block2 is not in the layout
    g.ret(1)
    cfg = g.cfg()
    assert cfg.succs[0] == [1]
    assert cfg.preds[2] == []
    assert cfg.num_blocks() == 3


def test_layout_order_does_not_change_the_rpo() -> None:
    g = Graph(3, insert=(0, 2, 1))
    g.jump(0, 1)
    g.jump(1, 2)
    g.ret(2)
    assert g.cfg().rpo == [0, 1, 2]


def test_try_call_edges() -> None:
    g = Graph(3)
    sig = g.fn.import_signature(Signature())
    g.fn.import_function(ExtFuncData("%h", sig))
    dfg = g.fn.dfg
    inst = dfg.make_inst(InstData(op.TRY_CALL, None, [], aux=(0, sig), dests=[BlockCall(1), BlockCall(2)]))
    g.fn.layout.append_inst(inst, 0)
    g.ret(1)
    g.ret(2)
    assert g.cfg().succs[0] == [1, 2]


def test_empty_function() -> None:
    cfg = ControlFlowGraph(Function("%e"))
    assert cfg.rpo == [] and cfg.entry is None and cfg.num_blocks() == 0


def test_deep_chain_needs_no_recursion() -> None:
    n = 5000
    g = Graph(n)
    for b in range(n - 1):
        g.jump(b, b + 1)
    g.ret(n - 1)
    assert g.cfg().rpo == list(range(n))
