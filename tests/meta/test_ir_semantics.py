"""The semantics of ir.yaml's opcodes: every one instantiates at every type it allows,
and concrete examples (tests/meta/ir_semantics_examples.yaml) hold in both back ends and
through the rendered evaluator module, called the way the interpreter calls it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
import z3

from heron.errors import Trap
from heron.ir.types import type_by_name
from heron.meta import smt
from heron.meta.dsl import BV, EnumImm, FlagsImm, TrapCodeImm
from heron.meta.dsl.irsem import IRSemantics
from heron.meta.dsl.pyback import render_evaluators
from heron.meta.irspec import load_ir_spec
from heron.meta.irtypes import ir_type, resolve_type_expr

from dsl_support import DictMemory, compile_program

SPEC = load_ir_spec()
IR = IRSemantics(SPEC)
EXAMPLES: dict[str, list[dict]] = yaml.safe_load((Path(__file__).parent / "ir_semantics_examples.yaml").read_text())

# Opcodes without semantics, and why (isa_specs/README.md gives the same list).
WITHOUT_SEMANTICS = {
    "jump": "control flow: the destination is a block, not a value",
    "br_table": "control flow through a jump table",
    "return": "control flow",
    "call": "calls run another function",
    "call_indirect": "calls run another function",
    "return_call": "calls run another function",
    "return_call_indirect": "calls run another function",
    "try_call": "calls run another function",
    "func_addr": "the address is chosen by the linker or JIT",
    "nop": "does nothing",
    "stack_addr": "stack slot addresses are chosen by the frame layout",
    "stack_load": "stack slot addresses are chosen by the frame layout",
    "stack_store": "stack slot addresses are chosen by the frame layout",
    "global_value": "global values are defined in the function preamble",
    "get_frame_pointer": "a property of the running machine",
    "get_stack_pointer": "a property of the running machine",
    "get_return_address": "a property of the running machine",
    "fence": "ordering only; no value changes",
    "extract_vector": "dynamic vectors cannot be run",
}

# Types of a typevar's set that no valid binding can use (the constraints exclude them).
UNUSABLE = {
    ("uextend", "T"): {"i8"}, ("uextend", "X"): {"i128"},
    ("sextend", "T"): {"i8"}, ("sextend", "X"): {"i128"},
    ("ireduce", "T"): {"i128"}, ("ireduce", "X"): {"i8"},
    ("fpromote", "T"): {"f16"}, ("fpromote", "X"): {"f128"},
    ("fdemote", "T"): {"f128"}, ("fdemote", "X"): {"f16"},
    # no float type has 8-bit lanes
    ("fcvt_to_sint_sat", "T"): {"i8x16"}, ("fcvt_to_uint_sat", "T"): {"i8x16"},
    ("fcvt_from_sint", "X"): {"i8x16"}, ("fcvt_from_uint", "X"): {"i8x16"},
    # T.merge_lanes of 64-bit lanes, T.split_lanes of 8-bit lanes do not exist
    ("swiden_low", "T"): {"i64x2xN", "f64x2xN"}, ("swiden_high", "T"): {"i64x2xN", "f64x2xN"},
    ("uwiden_low", "T"): {"i64x2xN", "f64x2xN"}, ("uwiden_high", "T"): {"i64x2xN", "f64x2xN"},
    ("snarrow", "T"): {"i8x2", "i8x4", "i8x8", "i8x16", "i8x16xN"},
    ("unarrow", "T"): {"i8x2", "i8x4", "i8x8", "i8x16", "i8x16xN"},
    ("uunarrow", "T"): {"i8x2", "i8x4", "i8x8", "i8x16", "i8x16xN"},
}


def test_opcodes_without_semantics_are_the_listed_ones() -> None:
    assert {op.name for op in SPEC.opcodes if op.semantics is None} == set(WITHOUT_SEMANTICS)


@pytest.mark.parametrize("name", [op.name for op in SPEC.opcodes if op.semantics is not None])
def test_semantics_instantiate_at_every_type(name: str) -> None:
    op = IR.ops[name]
    instances = IR.instances(name)
    assert instances
    for inst in instances:
        prog = inst.program
        assert [n for n, _ in prog.outputs] == [n for n, _ in op.results] or (op.flags & {"branch"})
    for tv, names in op.typevars.items():
        used = {dict(i.bindings)[tv].name for i in instances}
        assert set(names) - used == UNUSABLE.get((name, tv), set()), (name, tv)


def test_every_opcode_with_semantics_has_examples() -> None:
    with_semantics = {op.name for op in SPEC.opcodes if op.semantics is not None}
    assert set(EXAMPLES) <= with_semantics
    assert set(EXAMPLES) == with_semantics, sorted(with_semantics - set(EXAMPLES))


# -- examples ---------------------------------------------------------------------------------


def _cases() -> list[tuple[str, int, dict]]:
    return [(name, i, ex) for name, exs in EXAMPLES.items() for i, ex in enumerate(exs)]


def _enum_index(kind: EnumImm, value: str) -> int:
    return [v[0] for v in kind.values].index(value)


class _Flags:
    def __init__(self, endianness: str | None) -> None:
        self.endianness = endianness


def _prepare(name: str, ex: dict):
    """(program, input values for Python, input values for Z3, expected outputs, trap)."""
    bindings = {k: ir_type(v) for k, v in ex.items() if k[0].isupper()}
    prog = IR.program(name, bindings)
    py_in, z_in = [], {}
    for n, kind in prog.inputs:
        value = ex.get(n) if isinstance(kind, FlagsImm) else ex[n]
        if isinstance(kind, BV):
            value &= (1 << (kind.width * (prog.lanes if n in prog.split else 1))) - 1
            py_in.append(value)
            z_in[n] = value
        elif isinstance(kind, EnumImm):
            py_in.append(_enum_index(kind, value))
            z_in[n] = _enum_index(kind, value)
        elif isinstance(kind, FlagsImm):
            py_in.append(_Flags(value))
            z_in[n] = value
        else:
            assert isinstance(kind, TrapCodeImm)
            py_in.append(value)
            z_in[n] = value
    expected = {}
    for n, w in prog.outputs:
        if n in ex:
            expected[n] = ex[n] & ((1 << (w * (prog.lanes if n in prog.split else 1))) - 1)
    return prog, py_in, z_in, expected, ex.get("trap")


@pytest.mark.parametrize(("name", "i", "ex"), _cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_example_python(name: str, i: int, ex: dict) -> None:
    prog, py_in, _, expected, trap = _prepare(name, ex)
    mem = DictMemory()
    mem.bytes.update(ex.get("mem", {}))
    fn = compile_program(prog)
    if trap is not None:
        with pytest.raises(Trap) as info:
            fn(*py_in, *([mem] if prog.uses_memory else []))
        assert info.value.code == trap
        return
    out = dict(zip([n for n, _ in prog.outputs], fn(*py_in, *([mem] if prog.uses_memory else []))))
    assert {n: out[n] for n in expected} == expected
    for addr, byte in ex.get("mem_out", {}).items():
        assert mem.bytes.get(addr, 0) == byte, hex(addr)


@pytest.mark.parametrize(("name", "i", "ex"), _cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_example_z3(name: str, i: int, ex: dict) -> None:
    prog, _, z_in, expected, trap = _prepare(name, ex)
    memory = z3.K(z3.BitVecSort(64), z3.BitVecVal(0, 8))
    for addr, byte in ex.get("mem", {}).items():
        memory = z3.Store(memory, addr, byte)
    ev = smt.smt_eval(prog, z_in, memory=memory)
    fired = [code for cond, code in ev.traps if z3.is_true(z3.simplify(cond))]
    assert (fired[0] if fired else None) == trap
    if trap is not None:
        return
    for n, value in expected.items():
        assert z3.simplify(ev.outputs[n]).as_long() == value, n
    for addr, byte in ex.get("mem_out", {}).items():
        assert z3.simplify(z3.Select(ev.memory, addr)).as_long() == byte, hex(addr)


# -- the rendered evaluator module --------------------------------------------------------------


@pytest.fixture(scope="module")
def evaluators() -> dict:
    namespace: dict = {}
    exec(compile(render_evaluators(SPEC), "ir_eval.py", "exec"), namespace)  # noqa: S102
    return namespace


def test_rendering_is_deterministic() -> None:
    assert render_evaluators(SPEC) == render_evaluators(SPEC)


@pytest.mark.parametrize(("name", "i", "ex"), _cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_example_through_evaluators(evaluators: dict, name: str, i: int, ex: dict) -> None:
    """The interpreter's calling convention: (ctrl_type, arg_types, args, imm[, mem])."""
    op = IR.ops[name]
    bindings = {k: ir_type(v) for k, v in ex.items() if k[0].isupper()}
    ctrl = type_by_name(bindings[op.ctrl].name) if op.ctrl else None
    arg_types = [type_by_name(resolve_type_expr(e, bindings).name) for _, e in op.operands]
    args = [ex[n] & t.mask for (n, _), t in zip(op.operands, arg_types)]
    imm_name = IR.primary_immediate(op.format)
    imm = ex.get(imm_name) if imm_name else None
    kind = dict(IR.program(name, bindings).inputs).get(imm_name)
    if isinstance(kind, EnumImm):
        imm = _enum_index(kind, imm)
    elif isinstance(kind, FlagsImm):
        imm = _Flags(imm)
    extra = []
    if name in evaluators["USES_MEMORY"]:
        mem = DictMemory()
        mem.bytes.update(ex.get("mem", {}))
        extra.append(mem)
    evaluate = evaluators["EVALUATORS"][name]
    if "trap" in ex:
        with pytest.raises(Trap) as info:
            evaluate(ctrl, arg_types, args, imm, *extra)
        assert info.value.code == ex["trap"]
        return
    results = evaluate(ctrl, arg_types, args, imm, *extra)
    for (n, expr), value in zip(op.results, results):
        if n in ex:
            assert value == ex[n] & type_by_name(resolve_type_expr(expr, bindings).name).mask, n
    if op.flags & {"branch"}:
        assert results == (ex["taken"],)


def test_enum_tables_are_exported(evaluators: dict) -> None:
    """The interpreter's atomic_rmw handler needs the operation alone."""
    ops = [v.name for v in SPEC.enums["AtomicRmwOp"].values]
    table = evaluators["ENUM_TABLES"]["AtomicRmwOp", (32, 32)]
    assert table[ops.index("sub")](1, 2) == 0xFFFFFFFF
    assert table[ops.index("smax")](0xFFFFFFFF, 1) == 1
