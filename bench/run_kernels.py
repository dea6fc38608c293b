"""Run time of four kernels compiled by Heron against the same kernels in C (gcc -O2, -O0).

The kernels (bench/kernels/*.clif and kernels.c, the same algorithms):

- ``fib``: recursive fib(30)
- ``sieve``: the sieve of Eratosthenes up to 1,000,000 (a caller-provided zeroed array)
- ``matmul``: 200 x 200 f64 matrix multiplication
- ``collatz``: the total Collatz step count of 1..300,000

Everything runs in one process and one run: gcc builds kernels.c twice as shared
libraries, Heron JIT-compiles the .clif files, and each kernel is timed (best of
``--repeat`` runs, wall clock, ``time.perf_counter``) through ctypes / Heron's JIT
callables, which cost about a microsecond per call against milliseconds of work.
The results of all three are checked against each other before timing.

Usage::

    python bench/run_kernels.py [--repeat 5] [--markdown]
"""

from __future__ import annotations

import argparse
import ctypes
import math
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KERNELS = HERE / "kernels"

N_FIB = 30
N_SIEVE = 1_000_000
N_MATMUL = 200
N_COLLATZ = 300_000


def build_c(opt: str, out_dir: Path) -> ctypes.CDLL:
    lib = out_dir / f"kernels{opt.replace('-', '_')}.so"
    subprocess.run(["gcc", opt, "-shared", "-fPIC", "-o", str(lib), str(KERNELS / "kernels.c")], check=True)
    dll = ctypes.CDLL(str(lib))
    dll.fib.restype = ctypes.c_int32
    dll.fib.argtypes = [ctypes.c_int32]
    dll.sieve.restype = ctypes.c_int64
    dll.sieve.argtypes = [ctypes.c_void_p, ctypes.c_int64]
    dll.matmul.restype = None
    dll.matmul.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    dll.collatz.restype = ctypes.c_int64
    dll.collatz.argtypes = [ctypes.c_int64]
    return dll


class Workload:
    """The inputs of the kernels: buffers are allocated once and reset before each run."""

    def __init__(self) -> None:
        self.marks = (ctypes.c_uint8 * (N_SIEVE + 1))()
        n2 = N_MATMUL * N_MATMUL
        self.a = (ctypes.c_double * n2)(*[(i % 7) * 0.5 + 1.0 for i in range(n2)])
        self.b = (ctypes.c_double * n2)(*[(i % 5) * 0.25 - 0.5 for i in range(n2)])
        self.c = (ctypes.c_double * n2)()

    def reset_sieve(self) -> None:
        ctypes.memset(self.marks, 0, N_SIEVE + 1)

    def addr(self, buf: ctypes.Array) -> int:  # type: ignore[type-arg]
        return ctypes.addressof(buf)


def runners(impl: object, w: Workload) -> dict[str, tuple[object, object]]:
    """Per kernel: (setup, call) closures over an implementation with fib/sieve/matmul/collatz."""
    return {
        "fib": (lambda: None, lambda: impl.fib(N_FIB)),  # type: ignore[attr-defined]
        "sieve": (w.reset_sieve, lambda: impl.sieve(w.addr(w.marks), N_SIEVE)),  # type: ignore[attr-defined]
        "matmul": (lambda: None, lambda: (impl.matmul(w.addr(w.a), w.addr(w.b), w.addr(w.c), N_MATMUL), sum(w.c[:50]))[1]),  # type: ignore[attr-defined]
        "collatz": (lambda: None, lambda: impl.collatz(N_COLLATZ)),  # type: ignore[attr-defined]
    }


def time_best(setup: object, call: object, repeat: int) -> tuple[float, object]:
    best = math.inf
    result = None
    for _ in range(repeat):
        setup()  # type: ignore[operator]
        t0 = time.perf_counter()
        result = call()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best, result


class HeronKernels:
    """The .clif kernels JIT-compiled by Heron, with the same call shape as the C library."""

    def __init__(self) -> None:
        from heron.ir.parser import parse_functions
        from heron.jit import compile_functions

        functions = []
        for name in ("fib", "sieve", "matmul", "collatz"):
            functions += parse_functions((KERNELS / f"{name}.clif").read_text(), f"{name}.clif")
        t0 = time.perf_counter()
        self.module = compile_functions(functions)
        self.compile_seconds = time.perf_counter() - t0
        self.fib = self.module.get_function("%fib")
        self.sieve = self.module.get_function("%sieve")
        self.matmul = self.module.get_function("%matmul")
        self.collatz = self.module.get_function("%collatz")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--markdown", action="store_true", help="print a table row for bench/README.md")
    args = ap.parse_args(argv)
    w = Workload()
    with tempfile.TemporaryDirectory() as tmp:
        impls: dict[str, object] = {"gcc -O2": build_c("-O2", Path(tmp)), "gcc -O0": build_c("-O0", Path(tmp))}
        try:
            heron = HeronKernels()
            impls["heron"] = heron
        except Exception as err:  # noqa: BLE001 - report and still time the C versions
            print(f"heron: cannot compile the kernels: {type(err).__name__}: {err}", file=sys.stderr)
        times: dict[str, dict[str, float]] = {}
        results: dict[str, dict[str, object]] = {}
        for label, impl in impls.items():
            times[label] = {}
            results[label] = {}
            for kernel, (setup, call) in runners(impl, w).items():
                t, r = time_best(setup, call, args.repeat)
                times[label][kernel] = t
                results[label][kernel] = r
    ok = True
    for kernel in ("fib", "sieve", "matmul", "collatz"):
        values = {label: results[label][kernel] for label in results}
        if len({repr(v) for v in values.values()}) != 1:
            ok = False
            print(f"MISMATCH {kernel}: {values}", file=sys.stderr)
    print(f"# {platform.node()} {platform.machine()} {platform.python_version()} {time.strftime('%Y-%m-%d')}")
    print(f"{'kernel':10} " + " ".join(f"{label:>12}" for label in impls) + "   heron/-O2  heron/-O0")
    ratios = []
    for kernel in ("fib", "sieve", "matmul", "collatz"):
        row = f"{kernel:10} " + " ".join(f"{times[label][kernel] * 1000:10.2f}ms" for label in impls)
        if "heron" in times:
            r2 = times["heron"][kernel] / times["gcc -O2"][kernel]
            r0 = times["heron"][kernel] / times["gcc -O0"][kernel]
            ratios.append(r2)
            row += f"   {r2:8.2f}x  {r0:8.2f}x"
        print(row)
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"geometric mean heron / gcc -O2: {geo:.2f}x   (compile: {impls['heron'].compile_seconds * 1000:.0f} ms)")  # type: ignore[attr-defined]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
