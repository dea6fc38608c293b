"""Parallel-move sequencing: the sequential result equals the parallel semantics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heron.backend.regalloc.moves import sequence_moves

SCRATCH = 99


def run_sequential(seq: list[tuple[int, int]], regs: dict[int, str]) -> dict[int, str]:
    regs = dict(regs)
    for dst, src in seq:
        regs[dst] = regs[src]
    return regs


def run_parallel(moves: list[tuple[int, int]], regs: dict[int, str]) -> dict[int, str]:
    out = dict(regs)
    for dst, src in moves:
        out[dst] = regs[src]
    return out


def test_swap_goes_through_scratch() -> None:
    seq = sequence_moves([(0, 1), (1, 0)], SCRATCH)
    assert len(seq) == 3
    assert any(dst == SCRATCH for dst, _ in seq)
    regs = {0: "a", 1: "b"}
    assert run_sequential(seq, regs)[0] == "b"
    assert run_sequential(seq, regs)[1] == "a"


def test_chain_needs_no_scratch() -> None:
    seq = sequence_moves([(1, 0), (2, 1), (3, 2)], SCRATCH)
    assert seq == [(3, 2), (2, 1), (1, 0)]


def test_three_cycle_and_fan_out() -> None:
    moves = [(0, 1), (1, 2), (2, 0), (5, 0), (6, 0)]
    seq = sequence_moves(moves, SCRATCH)
    regs = {r: f"v{r}" for r in range(7)}
    got = run_sequential(seq, regs)
    want = run_parallel(moves, regs)
    assert all(got[r] == want[r] for r in range(7))
    assert sum(1 for dst, _ in seq if dst == SCRATCH) == 1


def test_self_moves_vanish_and_double_writes_are_rejected() -> None:
    assert sequence_moves([(3, 3)], SCRATCH) == []
    with pytest.raises(ValueError):
        sequence_moves([(1, 2), (1, 3)], SCRATCH)


@st.composite
def parallel_moves(draw: st.DrawFn) -> list[tuple[int, int]]:
    n = draw(st.integers(1, 8))
    dsts = draw(st.lists(st.integers(0, n + 2), min_size=1, max_size=n, unique=True))
    return [(d, draw(st.integers(0, n + 2))) for d in dsts]


@given(parallel_moves())
@settings(max_examples=300, deadline=None)
def test_sequence_matches_parallel_semantics(moves: list[tuple[int, int]]) -> None:
    seq = sequence_moves(moves, SCRATCH)
    regs = {r: f"v{r}" for r in range(12)}
    got = run_sequential(seq, regs)
    want = run_parallel(moves, regs)
    assert {r: got[r] for r in range(12)} == {r: want[r] for r in range(12)}
    # At most one scratch save per cycle, and never more copies than moves plus cycles.
    assert len(seq) <= 2 * len(moves)
