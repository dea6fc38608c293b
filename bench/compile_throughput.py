"""Compile throughput: IR instructions compiled per second, per phase and end to end.

Generates the benchmark module (``bench/gen_module.py``: by default 200 functions of
about 33 integer instructions, seed 1), compiles every function with
``heron.backend.compile.compile_function`` for a target (default: x86_64) and prints
the rate of each phase (verify, legalize, lower, regalloc, frame, emit) and of the
whole pipeline, in IR instructions per CPU second.  Functions that do not compile (a
lowering rule still missing) are listed by reason and left out of the figures; the
parse is not timed.  ``--corpus DIR`` compiles every function of a folder of .clif
files instead (Cranelift's run-tests: many tiny functions, so per-function costs
dominate).  ``--profile`` prints the top of a cProfile run.  Not part of the
test suite; results are recorded in bench/README.md.

    python bench/compile_throughput.py [--functions N] [--insts K] [--seed S] [--target T]
                                       [--repeat R] [--profile] [--file module.clif | --corpus DIR]
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import importlib.util
import pstats
import sys
import time
from pathlib import Path

from heron.backend.compile import PHASES, CompileOptions, compile_function
from heron.backend.isa import lookup_isa
from heron.errors import HeronError
from heron.ir.parser import parse_functions

HERE = Path(__file__).resolve().parent


def _module_texts(args: argparse.Namespace) -> list[str]:
    """The modules to compile: one file, every .clif file of a corpus folder (its test
    file headers and run lines are comments to the function parser), or a generated one."""
    if args.file:
        return [Path(args.file).read_text()]
    if args.corpus:
        from heron.ir.parser import parse_test_file

        texts = []
        for f in sorted(Path(args.corpus).glob("*.clif")):
            try:
                tf = parse_test_file(f.read_text(), str(f))
            except HeronError:
                continue
            texts.append("\n".join(str(fn) for fn in tf.functions))
        return texts
    spec = importlib.util.spec_from_file_location("heron_bench_gen_module", HERE / "gen_module.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return [gen.generate(args.functions, args.insts, args.seed)]


def compilable(texts: list[str], isa: object) -> tuple[set[tuple[int, str]], collections.Counter[str]]:
    """(module, name) of the functions that compile, and why the others do not."""
    ok = set()
    why: collections.Counter[str] = collections.Counter()
    for k, text in enumerate(texts):
        for fn in parse_functions(text):
            try:
                compile_function(fn, isa)
                ok.add((k, fn.name))
            except HeronError as err:
                why[str(err).split(" (in ")[0].split(": ", 1)[-1]] += 1
    return ok, why


def run_once(texts: list[str], names: set[tuple[int, str]], isa: object, opts: CompileOptions, profile: cProfile.Profile | None = None) -> tuple[int, dict[str, float], float]:
    """Compile the named functions of a fresh parse (not timed): (IR instructions, CPU
    seconds per phase, end-to-end CPU seconds)."""
    fns = [fn for k, text in enumerate(texts) for fn in parse_functions(text) if (k, fn.name) in names]
    n = sum(fn.num_insts() for fn in fns)
    if profile is not None:
        profile.enable()
    phases = dict.fromkeys(PHASES, 0.0)
    start = time.process_time()
    for fn in fns:
        cf = compile_function(fn, isa, options=opts)
        for k, v in cf.timings.items():
            phases[k] += v
    elapsed = time.process_time() - start
    if profile is not None:
        profile.disable()
    return n, phases, elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--functions", type=int, default=200)
    ap.add_argument("--insts", type=int, default=33)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target", default="x86_64")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--file", help="compile this CLIF module instead of generating one")
    ap.add_argument("--corpus", help="compile every function of the .clif files in this folder that compiles")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    isa = lookup_isa(args.target)
    texts = _module_texts(args)
    total = [fn for text in texts for fn in parse_functions(text)]
    ok, why = compilable(texts, isa)
    n_all = sum(fn.num_insts() for fn in total)
    print(f"{args.target}: {len(ok)} of {len(total)} functions compile ({n_all} IR instructions in all)")
    for reason, count in why.most_common(12):
        print(f"    {count:4} x {reason}")
    if not ok:
        return
    names = ok
    n = 0
    e2e = float("inf")
    phases = dict.fromkeys(PHASES, float("inf"))
    for _ in range(args.repeat):
        # Per phase (CPU time around each phase) and, separately, the untimed pipeline.
        n, timed, _total = run_once(texts, names, isa, CompileOptions(timings=True))
        phases = {k: min(phases[k], timed[k]) for k in PHASES}
        e2e = min(e2e, run_once(texts, names, isa, CompileOptions())[2])
    print(f"{n} IR instructions, best of {args.repeat}: {e2e * 1000:.0f} ms CPU end to end = {n / e2e:,.0f} IR insts/s")
    whole = sum(phases.values())
    for k in PHASES:
        t = phases[k]
        rate = f"{n / t:,.0f} insts/s" if t else "-"
        print(f"    {k:9} {t * 1000:7.1f} ms  {100 * t / whole:5.1f}%  {rate}")
    if args.profile:
        prof = cProfile.Profile()
        run_once(texts, names, isa, CompileOptions(), prof)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    sys.exit(main())
