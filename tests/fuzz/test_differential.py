"""Differential fuzzing: generated IR functions run on two executors, outcomes compared.

Each function of each generated module (``tests/support/irgen.py``) runs on a
few edge-biased argument vectors on a *reference* (the interpreter) and on a
*subject*:

- ``test_interpreter_vs_round_trip`` (today): the subject is the interpreter
  on the module printed to CLIF and parsed back.  The printed text must also be
  a fixed point and the parsed functions must verify, so this checks the
  printer and parser on every opcode and immediate the generator emits
  (``iconst.i128``, hex floats, NaN payloads, offsets, memory flags, jump
  tables with arguments, ...).
- ``test_interpreter_vs_native``: the subject is the module compiled for this
  machine by ``heron.jit.compile_functions`` (:func:`compile_and_run`).

Comparison rule (:func:`same_outcome`):

- Results compare bit-exactly: integers by their bits, floats by their IEEE
  bits, so ``-0.0`` differs from ``+0.0`` and ``1.0`` from ``1.0000001``.
- Except that two NaNs of the same float type are equal, whatever their sign
  and payload: the IR, as Cranelift and Wasm, leaves the NaN an arithmetic
  instruction produces unspecified.  (The generator never lets float bits reach
  an integer except through ``fcmp`` and ``fcvt_to_sint_sat``, so integers are
  always exact.)
- A trap compares by its trap code (``int_divz``, ``int_ovf``, ...): a call that
  traps on the reference must trap with the same code on the subject, and a
  call that returns on one must return on the other.

Sizes: CI checks ``QUICK_FUNCTIONS`` functions, ``pytest --full``
``FULL_FUNCTIONS``.  Module *k* is ``generate_module(random.Random(seed + k))``
with ``seed`` = 0 or the environment's ``HERON_FUZZ_SEED``; a failure prints
the seed, the module as a filetest with the reference's ``; run:`` line, and
both outcomes, so it reproduces with ``heron test`` or by seed.
"""

from __future__ import annotations

import collections
import difflib
import os
import platform
import random
import sys
from collections.abc import Callable, Sequence

import pytest
from support.irgen import GROUPS, GenConfig, generate_module, module_to_text, random_args

from heron.errors import Trap
from heron.jit import CompiledModule, compile_functions
from heron.ir.function import Function
from heron.ir.interpreter import Interpreter
from heron.ir.parser import parse_functions, parse_test_file
from heron.ir.testfile import format_data_value, format_data_values
from heron.ir.types import F32, F64, I32, Type
from heron.ir.verifier import verify_function

Outcome = list[int] | Trap
Executor = Callable[[list[Function], str, list[int]], Outcome]

QUICK_FUNCTIONS = 400
FULL_FUNCTIONS = 10_000
ARGS_PER_FUNCTION = 4
SEED = int(os.environ.get("HERON_FUZZ_SEED", "0"))

ON_X86_64 = sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64")
# What the native comparison generates; widen it as the backend grows.
NATIVE_CONFIG = GenConfig(functions=4, insts=30)
# The round trip also covers i128 (every fourth module).
_EVERYTHING = GenConfig(functions=4, insts=30)
ROUND_TRIP_CONFIGS = (_EVERYTHING, _EVERYTHING, _EVERYTHING, GenConfig(functions=4, insts=30, i128=True))


# ---------------------------------------------------------------------------- the hook
_compiled: tuple[list[Function], CompiledModule] | None = None


def compile_and_run(functions: list[Function], name: str, args: list[int]) -> Outcome:
    """Run ``name`` of ``functions`` as native code (heron.jit); its results (bit
    patterns) or the Trap.  ``functions`` is the same list object for every call on one
    module: it is compiled once (a copy the backend may legalize in place)."""
    global _compiled
    if not ON_X86_64:
        pytest.skip("runs x86-64 code on this CPU")
    if _compiled is None or _compiled[0] is not functions:
        if _compiled is not None:
            _compiled[1].free()
            _compiled = None
        _compiled = (functions, compile_functions(functions))
    try:
        return _compiled[1].get_function(name).call_bits(*args)
    except Trap as trap:
        return trap


# ---------------------------------------------------------------------------- comparison
def _is_nan(ty: Type, bits: int) -> bool:
    mantissa_bits = {32: 23, 64: 52, 16: 10, 128: 112}[ty.bits]
    exponent = (bits >> mantissa_bits) & ((1 << (ty.bits - mantissa_bits - 1)) - 1)
    return exponent == (1 << (ty.bits - mantissa_bits - 1)) - 1 and bits & ((1 << mantissa_bits) - 1) != 0


def same_outcome(types: Sequence[Type], expected: Outcome, got: Outcome) -> bool:
    """The comparison rule of the module docstring; ``types`` are the function's return types."""
    if isinstance(expected, Trap) or isinstance(got, Trap):
        return isinstance(expected, Trap) and isinstance(got, Trap) and expected.code == got.code
    if len(expected) != len(types) or len(got) != len(types):
        return False
    for ty, a, b in zip(types, expected, got):
        if a == b:
            continue
        if not (ty.is_float and ty.is_scalar and _is_nan(ty, a) and _is_nan(ty, b)):
            return False
    return True


def _show(types: Sequence[Type], outcome: Outcome) -> str:
    if isinstance(outcome, Trap):
        return f"trap {outcome.code}"
    return "[" + format_data_values(list(types), outcome) + "]"


def _filetest(functions: list[Function], fn: Function, args: list[int], expected: Outcome) -> str:
    """The module as a filetest whose run line holds the reference outcome."""
    invocation = f"{fn.name}({format_data_values([p.type for p in fn.signature.params], args)})"
    types = [r.type for r in fn.signature.returns]
    if isinstance(expected, Trap):
        line = f"; {invocation} traps with {expected.code}"
    elif len(types) == 1:
        line = f"; run: {invocation} == {format_data_value(types[0], expected[0])}"
    else:
        line = f"; run: {invocation} == [{format_data_values(types, expected)}]"
    return "test interpret\ntest run\ntarget x86_64\n\n" + module_to_text(functions) + line + "\n"


# ---------------------------------------------------------------------------- the driver
class Tally:
    """What a differential run checked."""

    def __init__(self) -> None:
        self.modules = 0
        self.functions = 0
        self.runs = 0
        self.traps: collections.Counter[str] = collections.Counter()
        self.failures: list[str] = []

    def summary(self, what: str) -> str:
        traps = ", ".join(f"{code} {n}" for code, n in sorted(self.traps.items())) or "none"
        return (f"differential ({what}), seed {SEED}: {self.modules} modules, {self.functions} functions, "
                f"{self.runs} runs, traps: {traps}; {len(self.failures)} mismatches")


def interpreter_of(functions: list[Function]) -> Executor:
    """An executor running ``functions`` on one interpreter (the reference, and today's subject)."""
    interp = Interpreter(functions)

    def run(fns: list[Function], name: str, args: list[int]) -> Outcome:
        assert fns is functions
        try:
            return interp.call(name, args)
        except Trap as trap:
            return trap

    return run


def compare_module(tally: Tally, label: str, reference: list[Function], subject: list[Function], run_subject: Executor) -> None:
    """Run every function of a module on both executors, recording mismatches in ``tally``.

    ``label`` names the module in reports: ``seed N`` (with the config when not the default).
    Arguments are drawn from ``random.Random(label)``, so they reproduce too.
    """
    tally.modules += 1
    rng = random.Random(label)
    run_reference = interpreter_of(reference)
    for fn, sub_fn in zip(reference, subject):
        tally.functions += 1
        types = [r.type for r in fn.signature.returns]
        for _ in range(ARGS_PER_FUNCTION):
            args = random_args(rng, fn.signature)
            expected = run_reference(reference, fn.name, args)
            if isinstance(expected, Trap):
                tally.traps[expected.code] += 1
            got = run_subject(subject, sub_fn.name, args)
            tally.runs += 1
            if not same_outcome(types, expected, got):
                tally.failures.append(
                    f"{label}, {fn.name}: expected {_show(types, expected)}, got {_show(types, got)}\n"
                    + _filetest(reference, fn, args, expected)
                )


def _report(tally: Tally, what: str, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print("\n" + tally.summary(what))
    assert not tally.failures, f"{len(tally.failures)} mismatches; the first ones:\n\n" + "\n\n".join(tally.failures[:3])


def _module_count(full: bool, config: GenConfig) -> int:
    return (FULL_FUNCTIONS if full else QUICK_FUNCTIONS) // config.functions


# ---------------------------------------------------------------------------- tests
def test_interpreter_vs_round_trip(full: bool, capsys: pytest.CaptureFixture[str]) -> None:
    """The interpreter on each module and on its print -> parse round trip agree everywhere."""
    tally = Tally()
    for k in range(_module_count(full, NATIVE_CONFIG)):
        seed = SEED + k
        config = ROUND_TRIP_CONFIGS[k % len(ROUND_TRIP_CONFIGS)]  # every group, i128 too
        functions = generate_module(random.Random(seed), config)
        text = module_to_text(functions)
        parsed = parse_functions(text, f"<module of seed {seed}>")
        again = module_to_text(parsed)
        if again != text:
            diff = "".join(difflib.unified_diff(text.splitlines(True), again.splitlines(True), n=2))
            tally.failures.append(f"seed {seed}: print -> parse -> print changes the module:\n{diff}")
            continue
        for fn in parsed:
            verify_function(fn)
        label = f"seed {seed}" + (" (i128=True)" if config.i128 else "")
        compare_module(tally, label, functions, parsed, interpreter_of(parsed))
    _report(tally, "interpreter vs print/parse round trip", capsys)


def test_interpreter_vs_native(full: bool, capsys: pytest.CaptureFixture[str]) -> None:
    """The interpreter and compiled code agree on every generated function."""
    tally = Tally()
    for k in range(_module_count(full, NATIVE_CONFIG)):
        seed = SEED + k
        functions = generate_module(random.Random(seed), NATIVE_CONFIG)
        # The backend gets its own copy: it may legalize or optimize the IR in place.
        subject = parse_functions(module_to_text(functions))
        compare_module(tally, f"seed {seed}", functions, subject, compile_and_run)
    _report(tally, "interpreter vs native", capsys)


# -- the comparison rule itself
F32_NAN, F32_NEG_NAN, F32_NAN_PAYLOAD, F32_ONE = 0x7FC0_0000, 0xFFC0_0000, 0x7FC0_0001, 0x3F80_0000


def test_same_outcome_is_bit_exact_but_for_nans() -> None:
    assert same_outcome([I32, F32], [7, F32_ONE], [7, F32_ONE])
    assert not same_outcome([I32], [7], [8])
    assert not same_outcome([F32], [0x0000_0000], [0x8000_0000])  # +0.0 and -0.0 differ
    assert same_outcome([F32], [F32_NAN], [F32_NEG_NAN])
    assert same_outcome([F32], [F32_NAN], [F32_NAN_PAYLOAD])
    assert same_outcome([F64], [0x7FF8_0000_0000_0000], [0xFFF0_0000_0000_0001])  # a quiet and a signalling NaN
    assert not same_outcome([F32], [F32_NAN], [0x7F80_0000])  # NaN is not infinity
    assert not same_outcome([I32], [F32_NAN], [F32_NEG_NAN])  # an int is exact whatever its bits look like
    assert not same_outcome([I32, I32], [1, 2], [1])


def test_same_outcome_compares_traps_by_code() -> None:
    assert same_outcome([I32], Trap("int_divz", "%f0"), Trap("int_divz"))
    assert not same_outcome([I32], Trap("int_divz"), Trap("int_ovf"))
    assert not same_outcome([I32], Trap("int_divz"), [0])
    assert not same_outcome([I32], [0], Trap("int_divz"))


def test_a_mismatch_reports_a_reproducible_filetest() -> None:
    functions = generate_module(random.Random(3), GenConfig(functions=1, insts=10, trapping_div=0.0))
    tally = Tally()

    def always_traps(fns: list[Function], name: str, args: list[int]) -> Outcome:
        return Trap("user1", name)

    compare_module(tally, "seed 3", functions, functions, always_traps)  # the module cannot trap (trapping_div=0)
    assert tally.runs == ARGS_PER_FUNCTION and len(tally.failures) == ARGS_PER_FUNCTION
    report = tally.failures[0]
    assert report.startswith("seed 3, %f0: expected [") and ", got trap user1\n" in report
    text = report.split("\n", 1)[1]
    [item] = parse_test_file(text).items
    assert [str(c) for c in item.commands][0].startswith("run: %f0(")
