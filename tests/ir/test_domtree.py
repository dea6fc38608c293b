"""The dominator tree, checked on known shapes and against a naive fixpoint on random CFGs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from heron.ir.builder import FunctionBuilder
from heron.ir.cfg import ControlFlowGraph
from heron.ir.domtree import DominatorTree
from heron.ir.entities import Signature
from heron.ir.function import Function
from heron.ir.types import I8, I32


def build(edges: list[list[int]]) -> tuple[Function, list[list[int]]]:
    """Block i ends with a jump (one target), brif (two) or br_table (more) to ``edges[i]``.

    Returns the function and, per block, its instructions (a constant, then the branch).
    """
    fn = Function("%d", Signature())
    fb = FunctionBuilder(fn)
    blocks = [fb.create_block() for _ in edges]
    insts = []
    for b, out in zip(blocks, edges):
        fb.switch_to_block(b)
        c = fb.ins.iconst(I8 if len(out) == 2 else I32, 1)
        if not out:
            last = fb.ins.return_()
        elif len(out) == 1:
            last = fb.ins.jump(out[0])
        elif len(out) == 2:
            last = fb.ins.brif(c, out[0], [], out[1], [])
        else:
            last = fb.ins.br_table(c, out[0], out[1:])
        insts.append([fn.dfg.value_owner[c], last])
    fb.seal_all_blocks()
    fb.finalize()
    return fn, insts


def naive_dominators(edges: list[list[int]]) -> list[set[int] | None]:
    """dom(b) by the textbook fixpoint; None for unreachable blocks."""
    n = len(edges)
    reach = {0}
    work = [0]
    while work:
        b = work.pop()
        for s in edges[b]:
            if s not in reach:
                reach.add(s)
                work.append(s)
    preds = [[p for p in range(n) if b in edges[p] and p in reach] for b in range(n)]
    dom: list[set[int] | None] = [set(reach) if b in reach else None for b in range(n)]
    dom[0] = {0}
    changed = True
    while changed:
        changed = False
        for b in sorted(reach - {0}):
            new = set.intersection(*(dom[p] for p in preds[b])) | {b}  # type: ignore[misc]
            if new != dom[b]:
                dom[b] = new
                changed = True
    return dom


def test_diamond() -> None:
    fn, _ = build([[1, 2], [3], [3], []])
    dt = DominatorTree(fn)
    assert dt.idom == [-1, 0, 0, 0]
    assert dt.rpo == [0, 1, 2, 3] and dt.rpo_number == [0, 1, 2, 3]
    assert dt.dominates(0, 3) and not dt.dominates(1, 3) and not dt.dominates(2, 3)
    assert dt.dominates(3, 3) and not dt.strictly_dominates(3, 3)
    assert dt.children[0] == [1, 2, 3]
    assert dt.common_dominator(1, 2) == 0


def test_loop() -> None:
    # 0 -> 1 (header) -> 2 (body) -> 1; 1 -> 3 (exit)
    fn, _ = build([[1], [2, 3], [1], []])
    dt = DominatorTree(fn)
    assert dt.idom == [-1, 0, 1, 1]
    assert dt.dominates(1, 2) and not dt.dominates(2, 1)


def test_irreducible_loop() -> None:
    # Two entries into the cycle 1 <-> 2: neither dominates the other.
    fn, _ = build([[1, 2], [2], [1, 3], []])
    dt = DominatorTree(fn)
    assert dt.idom == [-1, 0, 0, 2]
    assert not dt.dominates(1, 2) and not dt.dominates(2, 1)


def test_unreachable_blocks() -> None:
    fn, _ = build([[1], [], [1], [2]])
    dt = DominatorTree(fn)
    assert dt.unreachable_blocks(fn) == [2, 3]
    assert not dt.is_reachable(2) and dt.rpo_number[3] == -1 and dt.idom[2] == -1
    assert dt.dominates(2, 2)  # only by itself
    assert not dt.dominates(0, 2) and not dt.dominates(3, 2)


def test_instruction_dominance_uses_layout_positions() -> None:
    fn, insts = build([[1, 2], [3], [3], []])
    dt = DominatorTree(fn)
    const0, br0 = insts[0]
    const1, _ = insts[1]
    const3, _ = insts[3]
    assert dt.inst_dominates(const0, br0) and not dt.inst_dominates(br0, const0)
    assert dt.inst_dominates(const0, const0)
    assert dt.inst_dominates(br0, const3)  # block0 strictly dominates block3
    assert not dt.inst_dominates(const1, const3)
    assert dt.block_dominates_inst(0, const1) and not dt.block_dominates_inst(1, const3)
    assert dt.inst_position(br0) == 1


def test_empty_function() -> None:
    dt = DominatorTree(Function("%e"))
    assert dt.rpo == [] and dt.idom == []


def test_reuses_a_given_cfg() -> None:
    fn, _ = build([[1], []])
    cfg = ControlFlowGraph(fn)
    assert DominatorTree(fn, cfg).cfg is cfg


def test_long_chain_is_iterative() -> None:
    n = 3000
    fn, _ = build([[i + 1] for i in range(n - 1)] + [[]])
    dt = DominatorTree(fn)
    assert dt.dominates(0, n - 1) and dt.idom[n - 1] == n - 2


@st.composite
def cfgs(draw) -> list[list[int]]:
    n = draw(st.integers(1, 12))
    edges = []
    for _ in range(n):
        k = draw(st.sampled_from([0, 1, 1, 2, 2, 3]))
        targets = [draw(st.integers(1, n - 1)) for _ in range(k)] if n > 1 else []
        edges.append(targets)
    return edges


@settings(max_examples=300, deadline=None)
@given(cfgs())
def test_matches_the_naive_fixpoint(edges: list[list[int]]) -> None:
    fn, _ = build(edges)
    dt = DominatorTree(fn)
    dom = naive_dominators(edges)
    n = len(edges)
    for b in range(n):
        assert dt.is_reachable(b) == (dom[b] is not None)
        for a in range(n):
            expected = a == b or (dom[b] is not None and a in dom[b])
            assert dt.dominates(a, b) == expected, (a, b)
        if dom[b] is not None and b != 0:
            strict = dom[b] - {b}
            # idom: the strict dominator dominated by all the others.
            (idom,) = [d for d in strict if strict <= dom[d]]
            assert dt.idom[b] == idom
