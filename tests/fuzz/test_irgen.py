"""The IR generator of the differential fuzzer (tests/support/irgen.py) and bench/gen_module.py.

Generated modules verify, print and parse back to the same text, run on the
interpreter without an interpreter error (traps only from unguarded
divisions), are deterministic by seed, and follow their config: types,
signature bounds, opcode groups, size and nesting.
"""

from __future__ import annotations

import collections
import importlib.util
import random
import statistics
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from support.irgen import GROUPS, GenConfig, generate_module, module_to_text, modules, random_args

from heron.errors import Trap
from heron.ir.function import Function
from heron.ir.instructions import opcode_info
from heron.ir.interpreter import Interpreter
from heron.ir.parser import parse_functions
from heron.ir.types import F32, F64, I128
from heron.ir.verifier import verify_function

ROOT = Path(__file__).resolve().parents[2]

# The opcodes each group stands for (the generator's own list is its docstring).
GROUP_OPCODES = {
    "arith": {"iadd", "isub", "imul", "ineg"},
    "bitwise": {"band", "bor", "bxor", "bnot"},
    "shift": {"ishl", "ushr", "sshr", "rotl", "rotr"},
    "bitcount": {"clz", "ctz", "popcnt"},
    "minmax": {"smin", "smax", "umin", "umax"},
    "imm": {"iadd_imm", "imul_imm", "irsub_imm", "band_imm", "bor_imm", "bxor_imm",
            "ishl_imm", "ushr_imm", "sshr_imm", "rotl_imm", "rotr_imm"},
    "extend": {"uextend", "sextend", "ireduce"},
    "div": {"udiv", "sdiv", "urem", "srem", "udiv_imm", "sdiv_imm", "urem_imm", "srem_imm"},  # _imm ones with "imm"
    "compare": {"icmp", "select"},
    "float": {"f32const", "f64const", "fadd", "fsub", "fmul", "fdiv", "fneg", "fabs", "sqrt", "fmin", "fmax",
              "fcmp", "fcvt_from_sint", "fcvt_to_sint_sat", "fpromote", "fdemote"},
    "diamond": {"brif", "jump"},
    "loop": {"brif", "jump"},
    "br_table": {"br_table", "jump"},
    "early_return": {"brif"},
    "stack": {"stack_store", "stack_load", "stack_addr", "load", "store", "uload8", "sload8", "uload16",
              "sload16", "uload32", "sload32", "istore8", "istore16", "istore32"},
    "call": {"call"},
}  # fmt: skip
ALWAYS = {"iconst", "return"}  # constants and returns need no group
# Opcodes a structure brings along whatever the groups: op -> the groups that bring it.
BROUGHT_BY = {
    "icmp": {"loop", "div"},
    "iadd": {"loop"},
    "iadd_imm": {"loop"},
    "select": {"div"},
    "band": {"div"},
    "bor": {"div"},
    "ishl": {"div"},
}
ALLOWED_TRAPS = {"int_divz", "int_ovf"}


def opcodes(functions: list[Function]) -> collections.Counter[str]:
    return collections.Counter(opcode_info(fn.dfg.insts[i].opcode).name for fn in functions for _b, i in fn.layout.insts())


def check_module(functions: list[Function]) -> None:
    """Verifies, and print -> parse -> print is the identity."""
    for fn in functions:
        verify_function(fn)
    text = module_to_text(functions)
    parsed = parse_functions(text)
    assert [fn.name for fn in parsed] == [fn.name for fn in functions]
    assert module_to_text(parsed) == text


def run_all(functions: list[Function], seed: int, per_function: int = 3) -> list[object]:
    """Every function on a few argument vectors; results or traps (an InterpreterError propagates)."""
    rng = random.Random(seed)
    interp = Interpreter(functions)
    outcomes: list[object] = []
    for fn in functions:
        for _ in range(per_function):
            args = random_args(rng, fn.signature)
            try:
                out = interp.call(fn.name, args)
            except Trap as trap:
                assert trap.code in ALLOWED_TRAPS, f"{fn.name}({args}): {trap}"
                outcomes.append(trap.code)
                continue
            assert len(out) == len(fn.signature.returns)
            assert all(0 <= x <= r.type.mask for x, r in zip(out, fn.signature.returns))
            outcomes.append(out)
    return outcomes


# ---------------------------------------------------------------------------- validity
@pytest.mark.parametrize("config", [GenConfig(), GenConfig(i128=True), GenConfig(functions=2, insts=80, max_depth=5)],
                         ids=["default", "i128", "deep"])
def test_modules_verify_round_trip_and_run(config: GenConfig) -> None:
    traps = 0
    for seed in range(60):
        functions = generate_module(random.Random(seed), config)
        check_module(functions)
        traps += sum(isinstance(o, str) for o in run_all(functions, seed))
    assert traps < 60 * config.functions * 3 // 4  # most runs return


def test_guarded_divisions_never_trap() -> None:
    config = GenConfig(trapping_div=0.0, i128=True)
    for seed in range(40):
        functions = generate_module(random.Random(seed), config)
        assert not any(isinstance(o, str) for o in run_all(functions, seed, per_function=4))


def test_unguarded_divisions_trap_with_divz_and_ovf() -> None:
    config = GenConfig(functions=1, insts=12, trapping_div=1.0, groups=frozenset({"arith", "div"}))
    seen: set[str] = set()
    for seed in range(200):
        seen.update(o for o in run_all(generate_module(random.Random(seed), config), seed) if isinstance(o, str))
        if seen == ALLOWED_TRAPS:
            break
    assert seen == ALLOWED_TRAPS


def test_deterministic_by_seed() -> None:
    config = GenConfig(i128=True)
    first = [module_to_text(generate_module(random.Random(seed), config)) for seed in range(5)]
    again = [module_to_text(generate_module(random.Random(seed), config)) for seed in range(5)]
    assert first == again
    assert len(set(first)) == 5
    assert random_args(random.Random(9), generate_module(random.Random(1))[0].signature) == random_args(
        random.Random(9), generate_module(random.Random(1))[0].signature
    )


# ---------------------------------------------------------------------------- config
def test_every_enabled_opcode_is_generated() -> None:
    seen: collections.Counter[str] = collections.Counter()
    for seed in range(100):
        seen += opcodes(generate_module(random.Random(seed), GenConfig(i128=True, insts=60)))
    wanted = set().union(*GROUP_OPCODES.values()) | ALWAYS
    assert wanted - set(seen) == set()
    assert set(seen) - wanted == set()  # nothing outside the documented groups


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_a_disabled_group_is_absent(group: str) -> None:
    config = GenConfig(groups=GROUPS - {group})
    seen: collections.Counter[str] = collections.Counter()
    for seed in range(12):
        functions = generate_module(random.Random(seed), config)
        check_module(functions)
        seen += opcodes(functions)
    # Control-flow opcodes are shared by several structures; check those that only this group emits.
    others = set().union(*(ops for g, ops in GROUP_OPCODES.items() if g != group)) | ALWAYS
    brought = {op for op, groups in BROUGHT_BY.items() if groups & config.groups}
    assert not (GROUP_OPCODES[group] - others - brought) & set(seen)
    if group == "loop":
        assert not any(_has_back_edge(fn) for seed in range(12) for fn in generate_module(random.Random(seed), config))


def _has_back_edge(fn: Function) -> bool:
    order = {b: k for k, b in enumerate(fn.layout.blocks)}
    for b, inst in fn.layout.insts():
        for bc in fn.dfg.insts[inst].dests or ():
            if order[bc.block] <= order[b]:
                return True
    return False


def test_minimal_groups_give_straight_line_code() -> None:
    config = GenConfig(functions=2, groups=frozenset({"arith"}))
    for seed in range(10):
        functions = generate_module(random.Random(seed), config)
        check_module(functions)
        assert all(len(fn.layout.blocks) == 1 for fn in functions)
        assert set(opcodes(functions)) <= GROUP_OPCODES["arith"] | ALWAYS


def test_signatures_and_types_follow_the_config() -> None:
    params, results = set(), set()
    for seed in range(40):
        for fn in generate_module(random.Random(seed), GenConfig(groups=GROUPS - {"float"})):
            sig = fn.signature
            params.add(len(sig.params))
            results.add(len(sig.returns))
            types = {fn.dfg.value_type[v] for v in range(fn.dfg.num_values) if fn.dfg.value_exists(v)}
            assert not types & {F32, F64, I128}
    assert params == set(range(7)) and results == {1, 2, 3}
    i128_types = set()
    for seed in range(10):
        for fn in generate_module(random.Random(seed), GenConfig(i128=True)):
            i128_types |= {fn.dfg.value_type[v] for v in range(fn.dfg.num_values) if fn.dfg.value_exists(v)}
    assert {I128, F32, F64} <= i128_types


@pytest.mark.parametrize("insts", [10, 30, 80])
def test_size_tracks_the_instruction_target(insts: int) -> None:
    sizes = [fn.num_insts() for seed in range(30) for fn in generate_module(random.Random(seed), GenConfig(insts=insts))]
    assert 0.8 * insts <= statistics.mean(sizes) <= 1.3 * insts + 4


def test_depth_zero_has_no_nested_structures() -> None:
    config = GenConfig(max_depth=0)
    for seed in range(20):
        seen = opcodes(generate_module(random.Random(seed), config))
        assert seen["br_table"] == 0 and seen["jump"] == 0  # early returns only: brif to a return


def test_calls_go_down_the_dag() -> None:
    for seed in range(20):
        functions = generate_module(random.Random(seed), GenConfig(functions=5))
        for i, fn in enumerate(functions):
            for ext in fn.func_refs:
                assert ext is not None and int(ext.name[2:]) > i


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="unknown generator groups: vectors"):
        GenConfig(groups=frozenset({"arith", "vectors"}))
    with pytest.raises(ValueError, match="max_trips"):
        GenConfig(max_trips=500)


# ---------------------------------------------------------------------------- hypothesis
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modules(GenConfig(functions=3, insts=25, i128=True)))
def test_hypothesis_modules_are_valid(functions: list[Function]) -> None:
    check_module(functions)
    run_all(functions, 0, per_function=1)


# ---------------------------------------------------------------------------- bench/gen_module.py
def test_bench_gen_module_writes_a_deterministic_module(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("gen_module", ROOT / "bench" / "gen_module.py")
    assert spec is not None and spec.loader is not None
    gen_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_module)
    out = tmp_path / "out.clif"
    gen_module.main(["--functions", "12", "--insts", "33", "--seed", "1", "-o", str(out)])
    text = out.read_text()
    functions = parse_functions(text)
    assert len(functions) == 12
    for fn in functions:
        verify_function(fn)
    mean = statistics.mean(fn.num_insts() for fn in functions)
    assert 28 <= mean <= 40
    assert set(opcodes(functions)) <= (
        set().union(*(GROUP_OPCODES[g] for g in GROUPS - {"float", "call"})) | ALWAYS
    )
    gen_module.main(["--functions", "12", "--insts", "33", "--seed", "1", "-o", str(tmp_path / "again.clif")])
    assert (tmp_path / "again.clif").read_text() == text
