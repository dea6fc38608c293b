"""ISA specs: the seed x86-64 spec and the small ISAs of isa_pass/ load; every malformed
spec of isa_fail/ gives its located error; the DSL's machine features and the rule
patterns behave as isa_specs/README.md says.

Each file in isa_fail/ starts with three comment lines::

    # base: mini_x86            (the ISA of isa_pass/ it modifies)
    # file: rules.yaml          (the file of that ISA it replaces; line numbers count these lines)
    # error: rules.yaml:11: error: ...   (the SpecError, with the folder path left out)
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from heron.errors import SpecError
from heron.meta.dsl import BV, EnumImm, MemAddr, instantiate, parse_expression, parse_semantics
from heron.meta.dsl.check import WidthOnly, check_expression
from heron.meta.isa import ISA, ISA_FILES, ir_semantics, isa_folders, load_isa, load_isa_folder
from heron.meta.isa.machine import ISA_KEYS
from heron.meta.patterns import parse_pattern, solve_types
from heron.meta.yamlload import load_yaml

HERE = Path(__file__).parent
PASS = HERE / "isa_pass"
FAIL = HERE / "isa_fail"


@pytest.fixture(scope="module")
def x86() -> ISA:
    return load_isa("x86_64")


# -- the seed spec --------------------------------------------------------------------------


def test_every_isa_folder_loads() -> None:
    names = [f.name for f in isa_folders()]
    assert "x86_64" in names
    for folder in isa_folders():
        assert [f for f in ISA_FILES if (folder / f).exists()] == list(ISA_FILES)
        assert list(load_yaml(folder / "isa.yaml")) == list(ISA_KEYS)
        load_isa_folder(folder)


def test_seed_registers_and_state(x86: ISA) -> None:
    gprs = [r for r in x86.registers.values() if r.regclass == "gpr"]
    assert [r.encoding for r in gprs] == list(range(16))
    assert {r.name for r in gprs if r.reserved} == {"rsp", "rbp"}
    assert x86.registers["rsi"].asm == {64: "rsi", 32: "esi", 16: "si", 8: "sil"}
    assert x86.registers["r12"].asm[8] == "r12b"
    assert len([r for r in x86.registers.values() if r.regclass == "xmm"]) == 16
    assert list(x86.state) == ["CF", "ZF", "SF", "OF", "PF"]
    cc = x86.enums["cc"]
    assert [v.encoding for v in cc.values] == list(range(16))
    for v in cc.values:
        assert cc.value(v.inverse).inverse == v.name
        assert cc.value(v.inverse).encoding == v.encoding ^ 1
    assert x86.notation.rex_byte_codes == (4, 5, 6, 7)


def test_seed_abi(x86: ISA) -> None:
    sv = x86.call_convs["system_v"]
    assert sv.int_args == ["rdi", "rsi", "rdx", "rcx", "r8", "r9"]
    assert sv.float_args == [f"xmm{i}" for i in range(8)]
    assert sv.callee_saved == ["rbx", "rbp", "r12", "r13", "r14", "r15"]
    assert (sv.stack_align, sv.red_zone, sv.stack_pointer) == (16, 0, "rsp")


def test_seed_instructions_expand_into_variants(x86: ISA) -> None:
    names = [v.name for v in x86.instructions["movsx_load"].variants]
    assert names == ["movsx_load.8.32", "movsx_load.8.64", "movsx_load.16.32", "movsx_load.16.64"]
    v = x86.variant("mov_load.32")
    assert v.arg_layout == [("dst", None), ("m", "base"), ("m", "index"), ("m", "scale"), ("m", "disp")]
    assert v.sizes == {"dst": 32, "m": 32}
    assert x86.variant("add_rr.64").writes_state() == ["CF", "ZF", "SF", "OF", "PF"]
    assert x86.variant("imul_rr.64").writes_state() == ["CF", "OF", "ZF", "SF", "PF"]
    assert x86.variant("mov_rr.64").writes_state() == []
    assert x86.variant("jcc").is_branch and not x86.variant("trap_if").is_branch
    assert len({v.index for v in x86.variants}) == len(x86.variants)


def test_seed_rules_are_instantiated_per_type(x86: ISA) -> None:
    rules = x86.rules
    assert [i.label for i in rules["iadd_rr"].instances] == ["i8", "i16", "i32", "i64"]
    labels = [i.label for i in rules["ishl_imm"].instances]
    assert "i8 (ishl.S=i16, iconst.T=i16)" in labels and len(labels) == 20
    inst = rules["brif_icmp"].instances[0]
    assert inst.is_branch and inst.enum_vars[0][:2] == ("cond", "IntCC") and inst.width == 8
    assert [e.variant.name for e in inst.emits] == ["cmp_rr.8", "jcc", "jmp"]
    i128 = rules["iadd_i128"].instances[0]
    assert i128.parts == {"x": 2, "y": 2, "out": 2}
    assert [e.args["dst"].key for e in i128.emits] == ["out.lo", "out.hi"]
    assert rules["trap"].instances[0].label == "untyped"


@pytest.mark.parametrize("folder", sorted(p for p in PASS.iterdir() if p.is_dir()), ids=lambda p: p.name)
def test_small_isas_load(folder: Path) -> None:
    isa = load_isa_folder(folder)
    assert isa.name == folder.name and isa.rules and isa.call_convs


# -- malformed specs ----------------------------------------------------------------------------


def _case(path: Path) -> tuple[str, str, str]:
    lines = path.read_text().splitlines()
    keys = [ln.split(":", 1) for ln in lines[:3]]
    assert [k[0] for k in keys] == ["# base", "# file", "# error"], f"{path.name}: header lines"
    return keys[0][1].strip(), keys[1][1].strip(), keys[2][1].strip()


@pytest.mark.parametrize("path", sorted(FAIL.glob("*.yaml")), ids=lambda p: p.stem)
def test_malformed_spec(path: Path, tmp_path: Path) -> None:
    base, file, expected = _case(path)
    folder = tmp_path / base
    shutil.copytree(PASS / base, folder)
    (folder / file).write_text(path.read_text())
    with pytest.raises(SpecError) as info:
        load_isa_folder(folder)
    assert str(info.value).replace(f"{folder}/", "") == expected


def test_enough_malformed_cases() -> None:
    cases = list(FAIL.glob("*.yaml"))
    assert len(cases) >= 20
    assert {_case(p)[1] for p in cases} == set(ISA_FILES)


def test_missing_file(tmp_path: Path) -> None:
    folder = tmp_path / "mini_x86"
    shutil.copytree(PASS / "mini_x86", folder)
    (folder / "abi.yaml").unlink()
    with pytest.raises(SpecError, match="has no abi.yaml"):
        load_isa_folder(folder)


# -- the DSL's machine features --------------------------------------------------------------------


def _prog(text: str, inputs: dict, outputs: dict, **kw: Any) -> Any:
    return instantiate(parse_semantics(text), inputs, outputs, **kw)


def test_state_is_read_before_and_after_its_assignment() -> None:
    from heron.meta import smt

    sem = "old = CF\nCF = !CF\ndst = zext(concat(old, CF), 64)"
    prog = _prog(sem, {"CF": BV(1)}, {"dst": BV(64), "CF": BV(1), "ZF": BV(1)},
                 inout=frozenset({"CF"}), optional=frozenset({"CF", "ZF"}))
    assert [n for n, _ in prog.outputs] == ["dst", "CF"]  # ZF: optional and never assigned
    out, _ = smt.evaluate(prog, {"CF": 1})
    assert out == {"dst": 0b10, "CF": 0}
    with pytest.raises(SpecError, match="'CF' is assigned twice"):
        _prog("CF = 1\nCF = 0", {"CF": BV(1)}, {"CF": BV(1)}, inout=frozenset({"CF"}))


def test_undef_is_free_in_z3_and_zero_in_python() -> None:
    from heron.meta import smt
    from heron.meta.dsl.pyback import ModuleHelpers, function_source

    prog = _prog("a = concat(undef(4), x)", {"x": BV(4)}, {"a": BV(8)})
    e1, e2 = smt.smt_eval(prog, {"x": "x"}), smt.smt_eval(prog, {"x": "x"})
    assert smt.prove_equal(e1.outputs["a"], e2.outputs["a"]).status == "refuted"
    assert "0 << 4" in function_source(prog, "f", ModuleHelpers())


def test_memory_operands_are_read_through_addr() -> None:
    prog = _prog("dst = load(addr(m), 64)", {"m": MemAddr(64)}, {"dst": BV(64)})
    assert prog.uses_memory
    with pytest.raises(SpecError, match="'m' is a memory operand: write addr"):
        _prog("dst = m", {"m": MemAddr(64)}, {"dst": BV(64)})
    with pytest.raises(SpecError, match="'addr' takes the name of a memory operand"):
        _prog("dst = load(addr(x), 64)", {"x": BV(64)}, {"dst": BV(64)})


def test_implicit_enums_read_the_state(x86: ISA) -> None:
    kind = x86.enums["cc"].kind
    assert isinstance(kind, EnumImm) and kind.implicit and kind.params == ("CF", "ZF", "SF", "OF", "PF")
    inputs = {"c": kind, **{n: BV(1) for n in x86.state}}
    _prog("t = c()", inputs, {"t": BV(1)})
    with pytest.raises(SpecError, match="takes no arguments"):
        _prog("t = c(CF)", inputs, {"t": BV(1)})


def test_fault_is_a_trap_code_of_machine_semantics_only() -> None:
    _prog("trap x == 0 : fault", {"x": BV(8)}, {}, trap_codes=frozenset({"fault"}))
    with pytest.raises(SpecError, match="unknown trap code 'fault'"):
        _prog("trap x == 0 : fault", {"x": BV(8)}, {})


def test_width_only_values() -> None:
    expr, src = parse_expression("width(x) == 8 ? 32 : 64")
    assert check_expression(expr, src, {"x": WidthOnly(BV(8))}) == 32
    expr, src = parse_expression("x + 1")
    with pytest.raises(SpecError, match="only width\\(x\\) can be used"):
        check_expression(expr, src, {"x": WidthOnly(BV(8))})


# -- patterns -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        ("iadd x y", "a pattern starts with '(' (column 1)"),
        ("(iadd x y))", "unexpected ')' after the pattern (column 11)"),
        ("(iadd x $)", "unexpected character '$' (column 9)"),
        ("()", "expected an opcode name after '(' (column 2)"),
    ],
)
def test_pattern_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_pattern(text, "rules.yaml", 4)
    assert str(info.value) == f"rules.yaml:4: error: match: {message} in '{text}'"


def test_pattern_literals_and_typing() -> None:
    ir = ir_semantics()
    p = parse_pattern("(brif (icmp eq x (iconst -1)))")
    assert p.args[0].args[2].args[0].value == -1
    [typing] = solve_types(p, ir, {"x": "i32"})
    assert [n.bindings["T"].name for n in typing.nodes] == ["i8", "i32", "i32"]
    open_typings = solve_types(parse_pattern("(ishl x (iconst k))"), ir, {}, "i64")
    assert sorted(t.nodes[1].bindings["T"].name for t in open_typings) == ["i128", "i16", "i32", "i64", "i8"]
