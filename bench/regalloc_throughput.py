"""Register allocator throughput: machine instructions allocated per second.

Generates a random structured function of about 20,000 machine instructions on the toy
ISA of the allocator's tests (loops, diamonds, calls, fixed-register and two-address
ops; see tests/backend/toy_isa.py), allocates it with ``heron.backend.regalloc.allocate``
and prints the rate, for a target with many registers (14 gpr + 14 fpr, like x86-64)
and for the tests' tiny one (4 gpr + 3 fpr, heavy spilling).  ``--profile`` prints the
top of a cProfile run.  Not part of the test suite; the figure is recorded in
bench/README.md.

    python bench/regalloc_throughput.py [--insts N] [--repeat K] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from pathlib import Path

# The toy ISA lives with the tests (it is test scaffolding, not part of heron).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "backend"))

from toy_isa import ToyISA, copy_vcode, generate  # noqa: E402

from heron.backend.regalloc import allocate  # noqa: E402


def count(vc) -> int:
    return sum(len(b.insts) for b in vc.blocks)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--insts", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--check", action="store_true", help="also run the checker (not timed)")
    opts = ap.parse_args()
    for ngpr, nfpr in ((14, 14), (4, 3)):
        isa = ToyISA(ngpr, nfpr)
        rng = random.Random(opts.seed)
        vc0 = generate(isa, rng.randrange, budget=opts.insts, max_depth=3, window=16, straight=40)
        n = count(vc0)
        best = best_cpu = float("inf")
        alloc = None
        for _ in range(opts.repeat):
            vc = copy_vcode(vc0)
            t0 = time.perf_counter()
            c0 = time.process_time()
            alloc = allocate(vc, isa.insts, isa.reginfo, isa.templates)
            best_cpu = min(best_cpu, time.process_time() - c0)
            best = min(best, time.perf_counter() - t0)
        assert alloc is not None
        print(
            f"{ngpr:2} gpr + {nfpr:2} fpr: {n} insts, {len(vc0.blocks)} blocks, {vc0.num_vregs} vregs: "
            f"best of {opts.repeat}: {best * 1000:.0f} ms wall, {best_cpu * 1000:.0f} ms CPU = {n / best_cpu:,.0f} insts/s\n"
            f"    {alloc.stats}, {alloc.num_spill_slots} spill slots"
        )
        if opts.check:
            vc = copy_vcode(vc0)
            allocate(vc, isa.insts, isa.reginfo, isa.templates, check=True)
            print("    checker: ok")
        if opts.profile:
            vc = copy_vcode(vc0)
            prof = cProfile.Profile()
            prof.enable()
            allocate(vc, isa.insts, isa.reginfo, isa.templates)
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
