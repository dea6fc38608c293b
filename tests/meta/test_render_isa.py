"""generated/<isa>.py: planned for every ISA folder, fresh, and faithful to the spec:
its tables, the instruction flags the templates give, printers that agree with the
meta-level asm text and with capstone, the abi.yaml framework section's errors, a spec
without that section, and the proofs of the templates."""

from __future__ import annotations

import random
import shutil
import types
from pathlib import Path

import capstone
import pytest
from encoding_support import same_asm

from heron.backend.vcode import ARG_SLOT, NO_REG, VREG_BASE
from heron.errors import SpecError
from heron.meta import render
from heron.meta.encoding import asm_text
from heron.meta.irspec import default_specs_dir
from heron.meta.isa import ISA, load_isa
from heron.meta.isa.model import TemplateInst
from heron.meta.render_isa import isa_context, isa_outputs
from heron.meta.verify_templates import verify_templates

SPECS = default_specs_dir()


@pytest.fixture(scope="module")
def isa() -> ISA:
    return load_isa("x86_64")


@pytest.fixture(scope="module")
def gen() -> types.ModuleType:
    from heron.generated import x86_64

    return x86_64


# ---------------------------------------------------------------------------- planning, freshness
def test_plan_has_one_backend_per_complete_isa_folder() -> None:
    planned = {o.target.name for o in render.plan_outputs()}
    for folder in SPECS.iterdir():
        if (folder / "isa.yaml").exists() and all((folder / f).exists() for f in ("instructions.yaml", "rules.yaml", "abi.yaml")):
            assert f"{folder.name}.py" in planned
    assert "x86_64.py" in planned


def test_x86_64_module_is_fresh() -> None:
    [out] = [o for o in render.plan_outputs() if o.target.name == "x86_64.py"]
    assert out.template == "isa.py.j2"
    assert [p.name for p in out.inputs] == ["ir.yaml", "isa.yaml", "instructions.yaml", "rules.yaml", "abi.yaml"]
    assert render.render_output(out) == out.target.read_text(), "generated/x86_64.py is stale: run `heron meta build`"


def test_an_incomplete_isa_folder_is_not_planned(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(SPECS / "x86_64", specs / "x86_64")
    shutil.copy(SPECS / "ir.yaml", specs / "ir.yaml")
    (specs / "x86_64" / "rules.yaml").unlink()
    assert isa_outputs(specs, tmp_path / "gen") == []


# ---------------------------------------------------------------------------- the contract
def test_register_tables_follow_isa_yaml(isa: ISA, gen: types.ModuleType) -> None:
    regs = list(isa.registers.values())
    assert gen.REG_NAMES == tuple(r.name for r in regs)
    assert gen.REG_ENCODINGS == tuple(r.encoding for r in regs)
    assert [gen.CLASS_NAMES[c] for c in gen.REG_CLASSES] == [r.regclass for r in regs]
    assert gen.RAX == 0 and gen.REG_NAMES[gen.R11] == "r11"
    assert gen.asm_reg(gen.RAX, 32) == "eax" and gen.asm_reg(VREG_BASE + 3, 64) == "v3" and gen.asm_reg(NO_REG, 64) == "-"


def test_reginfo_orders_caller_saved_first_and_keeps_scratch_out(isa: ISA, gen: types.ModuleType) -> None:
    ri = gen.REGINFO
    names = [[ri.reg_names[r] for r in regs] for regs in ri.allocatable]
    assert names[0][0] == "rax" and names[0][-5:] == ["rbx", "r12", "r13", "r14", "r15"]
    assert "rsp" not in names[0] and "rbp" not in names[0] and "r11" not in names[0]
    assert [ri.reg_names[r] for r in ri.scratch] == ["r11", "xmm15"]
    assert {ri.reg_names[r] for r in ri.callee_saved} == set(isa.call_convs["system_v"].callee_saved)
    assert len(names[1]) == 15


def test_instruction_table_has_every_variant_then_the_pseudo_ops(isa: ISA, gen: types.ModuleType) -> None:
    variants = isa.variants
    assert [i.name for i in gen.INSTS[: len(variants)]] == [v.name for v in variants]
    assert [i.name for i in gen.INSTS[len(variants) :]] == ["abi_args", "abi_return"]
    assert gen.PSEUDO_OPS == {gen.OP_ABI_ARGS, gen.OP_ABI_RETURN}
    for v in variants:
        info = gen.INSTS[getattr(gen, "OP_" + v.py_name.upper())]
        assert len(info.arg_kinds) == len(v.arg_layout)


def test_flags_come_from_the_templates(gen: types.ModuleType) -> None:
    I = gen.INSTS  # noqa: E741
    assert I[gen.OP_MOV_RR_64].is_move and not I[gen.OP_MOV_RR_32].is_move and I[gen.OP_MOVAPS_RR].is_move
    assert I[gen.OP_JMP].is_terminator and I[gen.OP_JMP].is_branch
    assert I[gen.OP_JCC].is_branch and not I[gen.OP_JCC].is_terminator
    assert not I[gen.OP_TRAP_IF].is_branch  # its target is a trap stub, not a block
    call = I[gen.OP_CALL_REL32]
    assert call.is_call and not call.is_branch and I[gen.OP_CALL_R].is_call
    clobbered = {gen.REG_NAMES[r] for r in call.clobbers}
    assert {"rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "xmm0", "xmm14"} <= clobbered
    assert not clobbered & {"rbx", "rbp", "rsp", "r12", "r13", "r14", "r15", "r11"}
    assert I[gen.OP_ABI_RETURN].is_return and I[gen.OP_ABI_RETURN].is_terminator
    # A stack location may fill the displacement of the spill instruction, not the others.
    assert I[gen.OP_MOV_STORE_64].arg_kinds[4] == ARG_SLOT
    assert ARG_SLOT not in I[gen.OP_ADD_RR_64].arg_kinds


def test_branches_know_how_to_invert_conditions(isa: ISA, gen: types.ModuleType) -> None:
    label, cond = gen.BRANCHES[gen.OP_JCC]
    assert label == 1 and cond is not None
    k, inverse = cond
    cc = {v.name: v.encoding for v in isa.enums["cc"].values}
    assert k == 0 and inverse[cc["e"]] == cc["ne"] and inverse[cc["l"]] == cc["ge"]
    assert gen.BRANCHES[gen.OP_JMP] == (0, None)


def test_emission_and_linking_tables(gen: types.ModuleType) -> None:
    assert set(gen.PATCHERS) == {"rel8", "rel32"} and gen.SYMBOL_FIXUPS == {"rel32": ("pcrel4", -4)}
    assert set(gen.RELOCS) == {"abs8", "pcrel4"}
    buf = bytearray(8)
    gen.PATCHERS["rel32"](buf, 2, 100)
    assert int.from_bytes(buf[2:6], "little", signed=True) == 100 - 6
    hc = gen.HOST_CALL_CONV
    assert (hc.int_args, hc.float_args, hc.int_rets, hc.float_rets) == (6, 8, 2, 2)
    assert gen.FRAME_HEADER == 16 and gen.SAVE_BYTES == {gen.CLASS_GPR: 8}


def test_templates_build_minsts(gen: types.ModuleType) -> None:
    t = gen.templates
    mi = t.move(gen.CLASS_GPR, VREG_BASE, VREG_BASE + 1)
    assert mi.op == gen.OP_MOV_RR_64 and mi.args == [VREG_BASE, VREG_BASE + 1]
    [mi] = t.symbol_address(gen.RAX, "sym")
    assert mi.reloc == (8, "abs8", "sym") and mi.args == [gen.RAX, 0]
    assert [gen.INSTS[m.op].name for m in t.push_frame()] == ["push", "mov_rr.64"]
    with pytest.raises(KeyError):
        t.load(gen.I128, 0, 0, 0)  # i128 goes in two i64 parts (heron.backend.abi)


# ---------------------------------------------------------------------------- printers
def _sample_args(isa: ISA, v, rng: random.Random) -> list:
    args = []
    for op_name, fld in v.arg_layout:
        op = v.inst.operand(op_name)
        if fld is None and op.kind == "reg":
            regs = [r.index for r in isa.registers.values() if r.regclass == op.regclass]
            args.append(isa.registers[op.fixed].index if op.fixed else rng.choice(regs))
        elif fld is None and op.kind == "imm":
            k = op.imm
            lo, hi = (-(1 << (k.bits - 1)), (1 << (k.bits - 1)) - 1) if k.signed else (0, (1 << k.bits) - 1)
            args.append(rng.choice([0, 1, 7, hi, lo, rng.randint(lo, hi)]) if k.values is None else rng.choice(k.values))
        elif fld is None and op.kind == "enum":
            args.append(rng.choice(isa.enums[op.enum].values).encoding)
        elif fld is None and op.kind == "label":
            args.append(0)
        elif fld is None:
            args.append("int_divz")
        elif fld == "base":
            args.append(rng.choice([r.index for r in isa.registers.values() if r.regclass == "gpr"]))
        elif fld == "index":
            args.append(rng.choice([-1, 0, 3, 9, 13]))
        elif fld == "scale":
            args.append(rng.randint(0, 3))
        else:
            args.append(rng.choice([0, 8, -8, 0x1234, -0x80000000]))
    return args


class _Buf:
    def __init__(self) -> None:
        self.data = bytearray()

    def put1(self, v: int) -> None:
        self.data.append(v)

    def put2(self, v: int) -> None:
        self.data += v.to_bytes(2, "little")

    def put4(self, v: int) -> None:
        self.data += v.to_bytes(4, "little")

    def put8(self, v: int) -> None:
        self.data += v.to_bytes(8, "little")

    def fixup(self, label: object, kind: str) -> None:
        pass

    def trap_label(self, code: str) -> int:
        return 0

    def trap_site(self, code: str) -> None:
        pass


def test_printers_agree_with_the_spec_and_capstone(isa: ISA, gen: types.ModuleType) -> None:
    """Every variant, several operand samples: the generated printer gives the text the
    meta level's asm_text gives, and (labels as capstone prints a zero displacement)
    what capstone reads from the generated encoder's bytes."""
    rng = random.Random(5)
    cs = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    failures = []
    for v in isa.variants:
        info = gen.INSTS[getattr(gen, "OP_" + v.py_name.upper())]
        for _ in range(6):
            args = _sample_args(isa, v, rng)
            text = info.text(args, gen.asm_reg, str)
            want = asm_text(v, args, str)
            if text != want:
                failures.append(f"{v.name} {args}: printer '{text}', spec '{want}'")
                continue
            buf = _Buf()
            info.encode(buf, args, gen.REG_ENCODINGS)
            [d] = list(cs.disasm(bytes(buf.data), 0))
            seen = f"{d.mnemonic} {d.op_str}".strip()
            at_end = info.text(args, gen.asm_reg, lambda _: str(len(buf.data)))
            if not same_asm(at_end, seen):
                failures.append(f"{v.name} {args}: printer '{at_end}', capstone '{seen}'")
    assert not failures, "\n".join(failures[:10])


# ---------------------------------------------------------------------------- abi.yaml errors
def _spec_with(tmp_path: Path, old: str, new: str) -> Path:
    specs = tmp_path / "specs"
    shutil.copytree(SPECS / "x86_64", specs / "x86_64")
    shutil.copy(SPECS / "ir.yaml", specs / "ir.yaml")
    abi = specs / "x86_64" / "abi.yaml"
    text = abi.read_text()
    assert old in text, old
    abi.write_text(text.replace(old, new, 1))
    return specs


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("      - mov_rr: {size: 64, dst: $dst, src: $src}", "      - mov_rr: {size: 64, dst: $dst, src: $base}", "no placeholder '$base' here"),
        ("      - mov_rr: {size: 64, dst: $dst, src: $src}", "      - mov_rr: {size: 64, dst: $dst, src: xmm1}", "'xmm1' is a xmm register"),
        ("      - mov_rr: {size: 64, dst: $dst, src: $src}", "      - mov_rr: {size: 64, dst: $dst, src: $src}\n      - mov_rr: {size: 64, dst: $dst, src: $src}", "must be exactly one instruction"),
        ("      - mov_rr: {size: 64, dst: $dst, src: $src}", "      - mov_rr: {size: 16, dst: $dst, src: $src}", "param size of 'mov_rr' must be one of 32, 64"),
        ("    - jmp: {target: $target}", "    - jmp: {target: $dst}", "no placeholder '$dst' here"),
        ("      - movaps_rr: {dst: $dst, src: $src}", "      - movaps_rr: {dst: $src, src: $dst}", "exactly the operands dst (a def, $dst) then src"),
        ("      reloc: {kind: abs8, from_end: 8}\n  stack_address", "      reloc: {kind: abs9, from_end: 8}\n  stack_address", "'abs9' is not a relocation"),
        ("    - mov_ri64: {dst: $dst, imm: $symbol}\n      reloc: {kind: abs8, from_end: 8}", "    - mov_ri64: {dst: $dst, imm: $symbol}", "needs 'reloc: {kind, from_end}'"),
        ("scratch: {gpr: r11, xmm: xmm15}", "scratch: {gpr: rdi, xmm: xmm15}", "'rdi' carries arguments or results"),
        ("scratch: {gpr: r11, xmm: xmm15}", "scratch: {gpr: r11}", "every register class needs a scratch register"),
        ("  fence:\n    - mfence: {}\n", "", "missing 'fence'"),
        ("    - cmp_ri: {size: 64, lhs: $value, imm: $imm}", "    - cmp_ri: {size: 64, lhs: $value, imm: 5000000000}", "does not fit"),
        ("  pcrel4: {size: 4, pc_relative: true, label_field: rel32,", "  pcrel4: {size: 4, pc_relative: true, label_field: rel16,", "not a label field"),
    ],
)
def test_framework_section_errors_name_file_and_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    specs = _spec_with(tmp_path, old, new)
    with pytest.raises(SpecError) as info:
        load_isa("x86_64", specs)
    assert message in str(info.value)
    assert info.value.location.file.endswith("abi.yaml") and info.value.location.line > 0


def test_a_spec_without_the_framework_section_renders_selection_only(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(SPECS / "x86_64", specs / "x86_64")
    shutil.copy(SPECS / "ir.yaml", specs / "ir.yaml")
    abi = specs / "x86_64" / "abi.yaml"
    text = abi.read_text()
    abi.write_text(text[: text.index("\n# One register per class")] + "\n")
    [out] = isa_outputs(specs, tmp_path / "gen")
    module = types.ModuleType("heron_generated_x86_64_bare")
    exec(compile(render.render_output(out), "<bare>", "exec"), module.__dict__)  # noqa: S102
    assert module.templates is None and module.REGINFO is None and module.abi is None
    assert module.LOWER and len(module.INSTS) == len(load_isa("x86_64", specs).variants) + 2


# ---------------------------------------------------------------------------- proofs
def test_template_claims_are_proved(isa: ISA) -> None:
    results = verify_templates(isa)
    assert {label for label, _ in results} >= {"move gpr", "move xmm", "spill/reload gpr", "spill/reload xmm", "store/load i8", "store/load f64"}
    assert all(r.status == "proved" for _, r in results), [(n, str(r)) for n, r in results if not r]


def test_a_wrong_move_template_is_refuted() -> None:
    isa = load_isa("x86_64")
    [ti] = isa.templates["move"].bodies["gpr"]
    isa.templates["move"].bodies["gpr"] = [TemplateInst(isa.variant("mov_rr.32"), ti.args, None, ti.line)]
    [(label, result)] = [(n, r) for n, r in verify_templates(isa) if n == "move gpr"]
    assert result.status == "refuted"


def test_context_is_plain_data(isa: ISA) -> None:
    ctx = isa_context(isa)
    assert ctx["default_call_conv"] == "system_v"
    assert ctx["symbol_fixups"] == [("rel32", "pcrel4", -4)]
    assert any(r.startswith("def rule_iadd_rr(ctx, inst, data):") for r in ctx["rules"])
