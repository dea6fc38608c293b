"""Instruction selection with the generated x86-64 matchers: every rule fires on an IR
function built from its own pattern, a missing rule is a CompileError naming opcode,
type and target, merged producers are not lowered twice, and the framework lowers
parameters, returns, calls, br_table, stack and symbol addresses."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from heron.backend.compile import vcode_to_text
from heron.backend.isa import lookup_isa
from heron.backend.legalize import legalize_function
from heron.backend.lower import lower_function
from heron.backend.vcode import DEF, USE, SlotRef, SymbolRef
from heron.errors import CompileError
from heron.ir import opcodes as op
from heron.ir.entities import AbiParam, Signature
from heron.ir.function import Function
from heron.ir.instructions import BlockCall, InstData, opcode_by_name
from heron.ir.memflags import MemFlags
from heron.ir.parser import parse_functions
from heron.ir.types import type_by_name
from heron.ir.verifier import verify_function
from heron.meta.irtypes import IMMEDIATE_WIDTHS
from heron.meta.isa import load_isa
from heron.meta.isa.model import PatNode, PatVar, PatWild
from heron.meta.patterns import DESTINATION_KINDS, enum_of_kind, literal_of, pattern_args

ISA = lookup_isa("x86_64")
SPEC = load_isa("x86_64")
AUX_KINDS = {"memflags", "trapcode"}
INT_CANDIDATES = [0, 1, 2, 3, 5, 7, 8, 31, 63, 100, 127, 128, 255, 0x7FFF, 0x8000, 0xFFFF, 2**31 - 1, 2**31,
                  2**32 - 1, 2**32, 2**40, -1, -2, -8, -128, -129, -(2**31), -(2**31) - 1, -(2**40)]


def _names(vcode: Any) -> list[str]:
    return [ISA.INSTS[mi.op].name for b in vcode.blocks for mi in b.insts]


def _lower(text: str) -> tuple[Function, Any]:
    [fn] = parse_functions(text)
    legalize_function(fn)
    return fn, lower_function(fn, ISA)


# ---------------------------------------------------------------------------- every rule fires
def _imm_slot(kind: str, ctrl: Any, value: Any) -> Any:
    """The InstData immediate of a pattern immediate (the IR keeps bit patterns of the type)."""
    if kind == "imm64":
        if ctrl is not None and ctrl.bits == 128:
            v = value & (2**64 - 1)
            return v | ((2**128 - 2**64) if v >> 63 else 0)
        return value & (ctrl.mask if ctrl is not None else 2**64 - 1)
    if kind in IMMEDIATE_WIDTHS:
        w = IMMEDIATE_WIDTHS[kind]
        v = value & ((1 << w) - 1)
        return v - (1 << w) if kind == "offset32" and v >> 31 else v
    return value


def _build(inst: Any, imms: dict[str, Any]) -> Function:
    """An IR function computing the rule instance's pattern from its parameters."""
    spec = SPEC.ir.spec
    leaves = list(inst.value_vars)
    root = inst.nodes[-1]
    root_op = SPEC.ir.ops[root.opcode]
    results = [type_by_name(t.name) for _, _, t in inst.results]
    fn = Function("%t", Signature([AbiParam(type_by_name(inst.value_vars[v].name)) for v in leaves],
                                  [AbiParam(t) for t in results]))
    dfg, layout = fn.dfg, fn.layout
    b0 = dfg.make_block()
    layout.append_block(b0)
    env = {v: dfg.append_block_param(b0, type_by_name(inst.value_vars[v].name)) for v in leaves}
    produced: dict[int, int] = {}
    last = -1
    for ni in inst.nodes:
        ir_op = SPEC.ir.ops[ni.opcode]
        ctrl = type_by_name(ni.bindings[ir_op.ctrl].name) if ir_op.ctrl else None
        args: list[int] = []
        imm: Any = None
        aux: Any = None
        values = iter(ir_op.operands)
        for _env, kind, a in pattern_args(ni.node, spec):
            if kind in DESTINATION_KINDS:
                continue
            if kind == "value":
                name, _texpr = next(values)
                if isinstance(a, PatVar):
                    args.append(env[a.name])
                elif isinstance(a, PatNode):
                    args.append(produced[id(a)])
                else:
                    raise AssertionError(f"wildcard operand {name} (the test skips such rules)")
                continue
            lit = literal_of(a, kind, spec)  # an enum value name or a trap code reads as a literal
            if lit is not None:
                value = lit.value
                if isinstance(value, str) and enum_of_kind(kind):
                    value = [v.name for v in spec.enums[enum_of_kind(kind)].values].index(value)
            elif isinstance(a, PatVar):
                value = imms[a.name]
            else:
                value = 0 if kind not in AUX_KINDS else None
            if kind == "memflags":
                aux = MemFlags() if value is None or isinstance(value, int) else value
            elif kind == "trapcode":
                aux = value if isinstance(value, str) else "user1"
            else:
                imm = _imm_slot(kind, ctrl, value)
        dests = None
        if "branch" in ir_op.flags:
            b1, b2 = dfg.make_block(), dfg.make_block()
            dests = [BlockCall(b1), BlockCall(b2)]
        i = dfg.make_inst(InstData(opcode_by_name(ni.opcode).number, ctrl, args, imm, aux, dests))
        res = dfg.make_inst_results(i, ctrl)
        layout.append_inst(i, b0)
        if res:
            produced[id(ni.node)] = res[0]
        last = i
        if dests:
            for d in dests:
                layout.append_block(d.block)
                r = dfg.make_inst(InstData(op.RETURN, None, []))
                layout.append_inst(r, d.block)
    if "terminator" not in root_op.flags:
        r = dfg.make_inst(InstData(op.RETURN, None, list(dfg.results[last])))
        layout.append_inst(r, b0)
    return fn


def _candidates(inst: Any) -> list[dict[str, Any]]:
    names, choices = [], []
    for name, kind in inst.imm_vars.items():
        names.append(name)
        kname = type(kind).__name__
        if kname == "EnumImm":
            choices.append(list(range(len(kind.values))))
        elif kname == "TrapCodeImm":
            choices.append(["user1"])
        elif kname == "FlagsImm":
            choices.append([MemFlags()])
        else:
            choices.append(INT_CANDIDATES)
    for name in _pattern_imm_names(inst):
        if name not in names:  # an immediate the semantics does not read (memflags)
            names.append(name)
            choices.append([None])
    combos = itertools.islice(itertools.product(*choices), 3000)
    return [dict(zip(names, c)) for c in combos]


def _pattern_imm_names(inst: Any) -> list[str]:
    out = []
    for ni in inst.nodes:
        for _env, kind, a in pattern_args(ni.node, SPEC.ir.spec):
            if kind != "value" and kind not in DESTINATION_KINDS and isinstance(a, PatVar) and literal_of(a, kind, SPEC.ir.spec) is None:
                out.append(a.name)
    return out


@pytest.fixture
def fired(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts of rules that matched and emitted, by rule name (the generated rule
    functions are wrapped; the opcode matchers look them up as module globals)."""
    counts: dict[str, int] = {}
    for name in SPEC.rules:
        fn = getattr(ISA, f"rule_{name}")

        def spy(ctx: Any, inst: int, data: Any, fn: Any = fn, name: str = name) -> bool:
            ok = fn(ctx, inst, data)
            if ok:
                counts[name] = counts.get(name, 0) + 1
            return ok

        monkeypatch.setattr(ISA, f"rule_{name}", spy)
    return counts


@pytest.mark.parametrize("rule", sorted(SPEC.rules))
def test_every_rule_fires(rule: str, fired: dict[str, int]) -> None:
    """Some typing of the rule, with some immediates, selects this very rule."""
    tried = 0
    for inst in SPEC.rules[rule].instances:
        if any(isinstance(a, PatWild) for n in inst.nodes for a in n.node.args):
            pytest.skip(f"rule {rule} has a wildcard operand")
        for imms in _candidates(inst):
            try:
                fn = _build(inst, imms)
                verify_function(fn)
            except Exception:
                continue  # an immediate the IR does not allow at this type
            tried += 1
            fired.clear()
            try:
                lower_function(fn, ISA)
            except CompileError:
                continue
            if fired.get(rule):
                return
    pytest.fail(f"rule {rule} never fired ({tried} functions built from its pattern); is it shadowed by a higher priority?")


# ---------------------------------------------------------------------------- errors
def test_a_missing_rule_names_opcode_type_and_target() -> None:
    candidates = ["fadd", "fmul", "sqrt", "bitrev", "popcnt", "smulhi", "bswap"]
    missing = [n for n in candidates if opcode_by_name(n) is not None and opcode_by_name(n).number not in ISA.LOWER]
    if not missing:
        pytest.skip("every candidate opcode has a rule now")
    name = missing[0]
    args = "v0, v0" if name in ("fadd", "fmul", "smulhi") else "v0"
    ty = "f64" if name in ("fadd", "fmul", "sqrt") else "i32"
    text = f"function %f({ty}) -> {ty} {{\nblock0(v0: {ty}):\n    v1 = {name} {args}\n    return v1\n}}"
    with pytest.raises(CompileError) as info:
        _lower(text)
    err = info.value
    assert (err.opcode, err.type_name, err.target) == (name, ty, "x86_64")
    assert f"no lowering rule for {name}.{ty}" in str(err) and "%f" in str(err)


def test_an_unknown_calling_convention_is_a_compile_error() -> None:
    with pytest.raises(CompileError, match="calling convention windows_fastcall is not supported"):
        _lower("function %f(i64) -> i64 windows_fastcall {\nblock0(v0: i64):\n    return v0\n}")


# ---------------------------------------------------------------------------- merging
def test_a_folded_constant_is_not_materialized() -> None:
    _fn, vc = _lower("function %f(i32) -> i32 {\nblock0(v0: i32):\n    v1 = iconst.i32 1000\n    v2 = iadd v0, v1\n    return v2\n}")
    assert _names(vc) == ["abi_args", "add_ri.32", "abi_return"]


def test_a_shared_constant_is_materialized_once_and_folded_where_it_fits() -> None:
    _fn, vc = _lower(
        "function %f(i32) -> i32, i32 {\nblock0(v0: i32):\n    v1 = iconst.i32 5\n    v2 = iadd v0, v1\n"
        "    return v2, v1\n}"
    )
    names = _names(vc)
    assert names.count("mov_ri32") == 1 and "add_ri8.32" in names


def test_a_compare_feeding_a_branch_becomes_cmp_jcc() -> None:
    _fn, vc = _lower(
        "function %f(i64, i64) -> i64 {\nblock0(v0: i64, v1: i64):\n    v2 = icmp slt v0, v1\n    brif v2, block1, block2\n"
        "block1:\n    return v0\nblock2:\n    return v1\n}"
    )
    names = _names(vc)
    assert "setcc" not in names and names.count("jcc") == 1 and "cmp_rr.64" in names


# ---------------------------------------------------------------------------- the ABI in isel
def test_parameters_are_defined_by_abi_args_in_their_registers() -> None:
    fn, vc = _lower(
        "function %f(i64, i128, i32, i64, i64, i64, i64) -> i64 {\n"
        "block0(v0: i64, v1: i128, v2: i32, v3: i64, v4: i64, v5: i64, v6: i64):\n"
        "    v7 = iadd v0, v3\n    v8 = iadd v7, v6\n    v9 = ireduce.i64 v1\n    v10 = iadd v8, v9\n    return v10\n}"
    )
    first = vc.blocks[0].insts[0]
    assert ISA.INSTS[first.op].name == "abi_args"
    fixed = {ISA.REG_NAMES[p] for _r, p, acc in first.extra if acc == DEF}
    # v0 rdi, v1 rsi:rdx, v2 rcx (unused: not defined), v3 r8, v4 r9 (unused), v5 v6 on the stack.
    assert fixed == {"rdi", "rsi", "rdx", "r8"}
    loads = [mi for mi in vc.blocks[0].insts if ISA.INSTS[mi.op].name == "mov_load.64"]
    assert len(loads) == 1 and loads[0].args[4].area == "incoming" and loads[0].args[4].offset == 8
    ret = vc.blocks[0].insts[-1]
    assert ISA.INSTS[ret.op].name == "abi_return" and [(ISA.REG_NAMES[p], acc) for _r, p, acc in ret.extra] == [("rax", USE)]


def test_a_third_result_goes_to_the_return_area() -> None:
    _fn, vc = _lower(
        "function %f(i64) -> i64, i64, i64 {\nblock0(v0: i64):\n    v1 = iadd v0, v0\n    return v0, v1, v0\n}"
    )
    insts = vc.blocks[0].insts
    args_extra = insts[0].extra
    # The hidden return-area pointer comes first, in rdi; the parameter moves to rsi.
    assert [ISA.REG_NAMES[p] for _r, p, _a in args_extra] == ["rdi", "rsi"]
    store = next(mi for mi in insts if ISA.INSTS[mi.op].name == "mov_store.64")
    assert store.args[1] == args_extra[0][0] and store.args[4] == 0
    assert [ISA.REG_NAMES[p] for _r, p, _a in insts[-1].extra] == ["rax", "rdx"]


def test_a_call_fixes_arguments_and_results_and_stores_stack_arguments() -> None:
    fn, vc = _lower(
        "function %f(i64) -> i64 {\n    fn0 = %g(i64, i64, i64, i64, i64, i64, i64) -> i64\n"
        "block0(v0: i64):\n    v1 = call fn0(v0, v0, v0, v0, v0, v0, v0)\n    return v1\n}"
    )
    insts = vc.blocks[0].insts
    call = next(mi for mi in insts if ISA.INSTS[mi.op].is_call)
    assert isinstance(call.args[0], SymbolRef) and call.args[0].name == "%g"
    assert [ISA.REG_NAMES[p] for _r, p, acc in call.extra if acc == USE] == ["rdi", "rsi", "rdx", "rcx", "r8", "r9"]
    assert [ISA.REG_NAMES[p] for _r, p, acc in call.extra if acc == DEF] == ["rax"]
    store = next(mi for mi in insts if ISA.INSTS[mi.op].name == "mov_store.64")
    assert ISA.REG_NAMES[store.args[1]] == "rsp" and store.args[4] == 0
    assert vc.meta["outgoing"] == 8 and vc.meta["calls"] == 1


def test_br_table_is_a_compare_chain_and_narrow_indexes_are_widened() -> None:
    fn, vc = _lower(
        "function %f(i8) -> i64 {\nblock0(v0: i8):\n    br_table v0, block3, [block1, block2, block1]\n"
        "block1:\n    v1 = iconst.i64 1\n    return v1\nblock2:\n    v2 = iconst.i64 2\n    return v2\n"
        "block3:\n    v3 = iconst.i64 3\n    return v3\n}"
    )
    names = _names(vc)
    assert names.count("cmp_ri.64") == 3 and names.count("jcc") == 3 and "movzx_rr.8" in names
    text = vcode_to_text(vc, ISA)
    assert "cmp v" in text and "je block" in text


def test_stack_slots_and_symbols_are_slotrefs_and_symbolrefs() -> None:
    fn, vc = _lower(
        "function %f(i64) -> i64 {\n    ss0 = explicit_slot 16\n    gv0 = symbol %data+8\n    fn0 = %g(i64) -> i64\n"
        "block0(v0: i64):\n    stack_store v0, ss0+8\n    v1 = stack_load.i64 ss0+8\n    v2 = global_value.i64 gv0\n"
        "    v3 = func_addr.i64 fn0\n    v4 = iadd v1, v2\n    v5 = iadd v4, v3\n    return v5\n}"
    )
    insts = [mi for b in vc.blocks for mi in b.insts]
    leas = [mi for mi in insts if ISA.INSTS[mi.op].name == "lea.64" and isinstance(mi.args[4], SlotRef)]
    assert {(s.args[4].area, s.args[4].index, s.args[4].offset) for s in leas} == {("explicit", 0, 8)}
    relocs = sorted((mi.reloc[1], mi.reloc[2].name, mi.reloc[2].addend) for mi in insts if mi.reloc)
    assert relocs == [("abs8", "%data", 8), ("abs8", "%g", 0)]


def test_thread_local_symbols_are_not_supported() -> None:
    with pytest.raises(CompileError, match="thread-local"):
        _lower("function %f() -> i64 {\n    gv0 = symbol tls %t\nblock0:\n    v0 = global_value.i64 gv0\n    return v0\n}")


def test_vmctx_global_values_read_the_parameter() -> None:
    fn, vc = _lower(
        "function %f(i64 vmctx) -> i64 {\n    gv0 = vmctx\n    gv1 = load.i64 notrap aligned gv0+16\n"
        "block0(v0: i64):\n    v1 = global_value.i64 gv1\n    return v1\n}"
    )
    assert "global_value" not in str(fn)
    assert _names(vc) == ["abi_args", "mov_load.64", "abi_return"]


# ---------------------------------------------------------------------------- merged loads
SINK_RULE = """
  iadd_load_test:
    doc: A single-use load merged into an addition (a test rule).
    match: (iadd x (load flags p offset))
    types: {out: i64, p: i64}
    priority: 9
    emit:
      - add_rm: {size: 64, dst: out, src: x, m: {base: p, disp: offset}}
"""


@pytest.fixture(scope="module")
def sink_isa(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The x86-64 backend rendered from a copy of the spec with a merged-load rule."""
    import shutil
    import sys
    import types

    from heron.meta import render
    from heron.meta.irspec import default_specs_dir
    from heron.meta.render_isa import isa_outputs

    specs = tmp_path_factory.mktemp("specs")
    shutil.copytree(default_specs_dir() / "x86_64", specs / "x86_64")
    shutil.copy(default_specs_dir() / "ir.yaml", specs / "ir.yaml")
    rules = specs / "x86_64" / "rules.yaml"
    rules.write_text(rules.read_text().rstrip("\n") + "\n" + SINK_RULE)
    [out] = isa_outputs(specs, specs / "gen")
    module = types.ModuleType("heron_generated_x86_64_sink")
    sys.modules[module.__name__] = module  # the module builds its `abi` from itself
    try:
        exec(compile(render.render_output(out), "<x86_64 with a sink rule>", "exec"), module.__dict__)  # noqa: S102
    finally:
        del sys.modules[module.__name__]
    return module


def test_a_single_use_load_is_merged_and_not_lowered_again(sink_isa: Any) -> None:
    [fn] = parse_functions("function %f(i64, i64) -> i64 {\nblock0(v0: i64, v1: i64):\n    v2 = load.i64 v1+8\n    v3 = iadd v0, v2\n    return v3\n}")
    vc = lower_function(fn, sink_isa)
    names = [sink_isa.INSTS[mi.op].name for b in vc.blocks for mi in b.insts]
    assert names == ["abi_args", "add_rm.64", "abi_return"]
    [add] = [mi for mi in vc.blocks[0].insts if sink_isa.INSTS[mi.op].name == "add_rm.64"]
    assert add.args[5] == 8


@pytest.mark.parametrize(
    "body",
    [
        # two uses: the load is not merged (it would run twice)
        "    v2 = load.i64 v1\n    v3 = iadd v0, v2\n    v4 = iadd v3, v2\n    return v4",
        # a store between the load and its user: the load must stay before the store
        "    v2 = load.i64 v1\n    store v0, v1\n    v3 = iadd v0, v2\n    return v3",
    ],
)
def test_a_load_is_not_merged_across_an_effect_or_into_two_users(sink_isa: Any, body: str) -> None:
    [fn] = parse_functions(f"function %f(i64, i64) -> i64 {{\nblock0(v0: i64, v1: i64):\n{body}\n}}")
    vc = lower_function(fn, sink_isa)
    names = [sink_isa.INSTS[mi.op].name for b in vc.blocks for mi in b.insts]
    assert names.count("mov_load.64") == 1 and "add_rm.64" not in names
