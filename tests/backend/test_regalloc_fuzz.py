"""Register allocation on generated programs: the checker passes and the output matches.

Programs come from ``toy_isa.generate`` with every decision drawn by hypothesis
(straight-line code, diamonds, counted loops with values live around back edges,
non-SSA redefinitions, calls clobbering the caller-saved registers with fixed argument
and result registers in ``extra`` or through pre-colored moves, reuse ops, early defs,
fixed uses and defs, optional registers).  Few registers per class force spilling.
Each program is allocated with the checker on, then run before and after allocation
on the same inputs.  ``--full`` runs ten times as many examples.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from toy_isa import ExecutionLimit, ToyISA, copy_vcode, execute, generate, relayout

from heron.backend.regalloc import allocate

ISAS = {(g, f): ToyISA(g, f) for g in (3, 4, 5, 8) for f in (2, 3)}
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _chooser(data: st.DataObject) -> Callable[[int], int]:
    def choose(n: int) -> int:
        return data.draw(st.integers(0, n - 1)) if n > 1 else 0

    return choose


def _allocate_and_compare(isa: ToyISA, vc, inputs: list[tuple[int, int]]) -> None:  # noqa: ANN001
    orig = copy_vcode(vc)
    try:
        wants = [execute(isa, orig, i) for i in inputs]
    except ExecutionLimit:
        return
    alloc = allocate(vc, isa.insts, isa.reginfo, isa.templates, check=True)
    for i, want in zip(inputs, wants):
        assert execute(isa, vc, i) == want, f"{alloc}\n{isa.format(orig)}\n----\n{isa.format(vc)}"
    assert vc.num_spill_slots == alloc.num_spill_slots
    assert set(alloc.callee_saved_used) <= isa.reginfo.callee_saved


def _run(data: st.DataObject, max_depth: int, budget: int, scramble: bool) -> None:
    isa = ISAS[(data.draw(st.sampled_from([3, 4, 5, 8])), data.draw(st.sampled_from([2, 3])))]
    vc = generate(isa, _chooser(data), budget=data.draw(st.integers(1, budget)), max_depth=max_depth)
    if scramble and len(vc.blocks) > 2:
        rest = data.draw(st.permutations(list(range(1, len(vc.blocks)))))
        vc = relayout(vc, [0, *rest])
    inputs = [(data.draw(st.integers(0, 1 << 64)), data.draw(st.integers(0, 50))) for _ in range(2)]
    _allocate_and_compare(isa, vc, inputs)


@given(st.data())
@settings(max_examples=150, **SETTINGS)
def test_generated_programs(data: st.DataObject) -> None:
    _run(data, max_depth=3, budget=120, scramble=False)


@given(st.data())
@settings(max_examples=60, **SETTINGS)
def test_generated_programs_in_scrambled_layout(data: st.DataObject) -> None:
    _run(data, max_depth=2, budget=80, scramble=True)


@given(st.data())
@settings(max_examples=60, **SETTINGS)
def test_straight_line_pressure(data: st.DataObject) -> None:
    _run(data, max_depth=0, budget=150, scramble=False)


def test_many_seeded_programs(full: bool) -> None:
    """A deterministic sweep (cheap per program) on top of the hypothesis searches."""
    import random

    for seed in range(2000 if full else 200):
        rng = random.Random(seed)
        isa = ISAS[(rng.choice([3, 4, 5, 8]), rng.choice([2, 3]))]
        vc = generate(isa, rng.randrange, budget=rng.randrange(5, 150), max_depth=3)
        if rng.randrange(3) == 0:
            vc = relayout(vc, [0, *rng.sample(range(1, len(vc.blocks)), len(vc.blocks) - 1)])
        _allocate_and_compare(isa, vc, [(rng.randrange(1 << 64), rng.randrange(50)) for _ in range(2)])
