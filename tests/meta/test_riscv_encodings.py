"""RISC-V 64 encodings: every instruction variant of isa_specs/riscv64, encoded by the
generated encoder source and read back by capstone (CS_ARCH_RISCV, CS_MODE_RISCV64).

Three checks, like the x86 ones: the golden table (encodings_riscv64.txt: bytes, capstone's
text, the asm template); every variant with every register in every field and immediates
and branch displacements at and between their bounds; label and trap fixups.

capstone prints the assembler's aliases (`mv`, `neg`, `seqz`, `beqz`, `j`, `jr`...) where
the operands allow one.  :func:`base_form` rewrites an alias into the instruction it
stands for, and both capstone's text and the template's are compared in that form, as
exact strings: register names and number spellings must agree too.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import capstone
import pytest
from encoding_support import Encoders, format_args, parse_args

from heron.meta.encoding import asm_text, format_imm
from heron.meta.isa import ISA, load_isa

TABLE = Path(__file__).parent / "encodings_riscv64.txt"

# capstone alias -> base instruction, by the number of operands; {0}, {1}... are the alias's operands.
ALIASES: dict[tuple[str, int], str] = {
    ("nop", 0): "addi zero, zero, 0",
    ("mv", 2): "addi {0}, {1}, 0",
    ("not", 2): "xori {0}, {1}, -1",
    ("neg", 2): "sub {0}, zero, {1}",
    ("negw", 2): "subw {0}, zero, {1}",
    ("sext.w", 2): "addiw {0}, {1}, 0",
    ("seqz", 2): "sltiu {0}, {1}, 1",
    ("snez", 2): "sltu {0}, zero, {1}",
    ("sltz", 2): "slt {0}, {1}, zero",
    ("sgtz", 2): "slt {0}, zero, {1}",
    ("beqz", 2): "beq {0}, zero, {1}",
    ("bnez", 2): "bne {0}, zero, {1}",
    ("blez", 2): "bge zero, {0}, {1}",
    ("bgez", 2): "bge {0}, zero, {1}",
    ("bltz", 2): "blt {0}, zero, {1}",
    ("bgtz", 2): "blt zero, {0}, {1}",
    ("j", 1): "jal zero, {0}",
    ("jal", 1): "jal ra, {0}",
    ("jr", 1): "jalr zero, {0}, 0",
    ("jalr", 1): "jalr ra, {0}, 0",
    ("ret", 0): "jalr zero, ra, 0",
}


def base_form(text: str) -> str:
    """``mv a0, a1`` -> ``addi a0, a1, 0``; other text is returned with normalized spacing."""
    mnemonic, _, rest = text.strip().partition(" ")
    ops = [o.strip() for o in rest.split(",")] if rest.strip() else []
    pattern = ALIASES.get((mnemonic, len(ops)))
    if pattern is not None:
        return pattern.format(*ops)
    return " ".join([mnemonic, ", ".join(ops)]).strip()


@pytest.fixture(scope="module")
def isa() -> ISA:
    return load_isa("riscv64")


@pytest.fixture(scope="module")
def enc(isa: ISA) -> Encoders:
    return Encoders(isa)


@pytest.fixture(scope="module")
def cs() -> capstone.Cs:
    return capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV64)


def disasm(cs: capstone.Cs, code: bytes) -> str:
    insts = list(cs.disasm(code, 0))
    assert len(insts) == 1 and insts[0].size == len(code), f"capstone does not see one instruction in {code.hex(' ')}"
    return f"{insts[0].mnemonic} {insts[0].op_str}".strip()


def target_text(disp: int) -> str:
    """A branch target as capstone prints it for an instruction at address 0."""
    return format_imm(disp, 64, True)


def _rows() -> list[tuple[int, list[str]]]:
    out = []
    for n, line in enumerate(TABLE.read_text().splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            out.append((n, [c.strip() for c in line.split("|")]))
    return out


def _label_operand(v: Any) -> Any:
    return next((o for o in v.inst.operands if o.kind in ("label", "trapcode") and v.form.label_operand == o.name), None)


def test_golden_table(isa: ISA, enc: Encoders, cs: capstone.Cs, bless: bool) -> None:
    lines = TABLE.read_text().splitlines()
    failures = []
    for n, (name, args_text, hexbytes, text) in _rows():
        v = isa.variant(name)
        args = parse_args(isa, v, args_text)
        code = bytes(enc.encode(v, args).data)
        if bless:
            lines[n - 1] = f"{name} | {args_text} | {code.hex(' ')} | {disasm(cs, code)}"
            continue
        if code != bytes.fromhex(hexbytes):
            failures.append(f"line {n}: {name} {args_text}: encoder wrote {code.hex(' ')}, golden {hexbytes}")
            continue
        seen = disasm(cs, code)
        if seen != text:
            failures.append(f"line {n}: capstone reads {hexbytes} as '{seen}', the table says '{text}'")
        want = asm_text(v, args, label_text=lambda _: "0")
        if base_form(want) != base_form(seen):
            failures.append(f"line {n}: the asm template gives '{want}', capstone '{seen}'")
    if bless:
        TABLE.write_text("\n".join(lines) + "\n")
    assert not failures, "\n".join(failures)


def test_every_variant_has_a_golden_row(isa: ISA) -> None:
    covered = {name for _, (name, *_rest) in _rows()}
    missing = [v.name for v in isa.variants if v.name not in covered]
    assert not missing, f"variants without a golden encoding: {missing}"


def _imm_samples(kind: Any, rng: random.Random) -> list[int]:
    lo, hi = (-(1 << (kind.bits - 1)), (1 << (kind.bits - 1)) - 1) if kind.signed else (0, (1 << kind.bits) - 1)
    picks = {lo, lo + 1, hi, hi - 1, 0, 1, 9, 10, -1, -9, -10, 0x7FF, -0x800, 0x800}
    picks |= {rng.randint(lo, hi) for _ in range(6)}
    return sorted(p for p in picks if lo <= p <= hi)


def _disp_samples(field: Any, rng: random.Random) -> list[int]:
    top = 1 << (field.bits - 1)
    picks = {-top, top - field.align, 0, field.align, -field.align, 8, -8, 0x7FE, -0x800, 0x800}
    picks |= {rng.randrange(-top, top, field.align) for _ in range(6)}
    return sorted(p for p in picks if field.in_range(p))


def _arg_sets(isa: ISA, v: Any, rng: random.Random) -> Iterator[tuple[list[Any], int | None]]:
    """A base argument list, then one field varied at a time over its interesting values
    (every register; immediates at and between their bounds; branch displacements):
    ``(args, displacement or None)``."""
    gprs = [r.index for r in isa.registers.values() if r.regclass == "gpr"]
    choices: list[list[Any]] = []
    for op_name, fld in v.arg_layout:
        op = v.inst.operand(op_name)
        if op.kind == "mem":
            f = next(f for f in isa.addressing[op.mem].fields if f.name == fld)
            choices.append(gprs if f.kind == "reg" else _imm_samples(f.imm, rng))
        elif op.kind == "reg":
            choices.append(gprs)
        elif op.kind == "imm":
            choices.append(_imm_samples(op.imm, rng))
        elif op.kind == "label":
            choices.append([0])
        else:
            choices.append(["int_divz", "heap_oob", "user1"])
    base = [rng.choice(c) for c in choices]
    disps = _disp_samples(v.form.label, rng) if v.form.label is not None else [None]
    for disp in disps:
        yield list(base), disp
    for i, c in enumerate(choices):
        for value in c:
            args = list(base)
            args[i] = value
            yield args, rng.choice(disps)


def test_every_variant_with_every_register_and_immediate(isa: ISA, enc: Encoders, cs: capstone.Cs) -> None:
    """Capstone reads what the asm template says for every variant, every register in
    every field, immediates at their bounds and branch displacements over their range."""
    rng = random.Random(8)
    count = 0
    failures = []
    for v in isa.variants:
        for args, disp in _arg_sets(isa, v, rng):
            buf = enc.encode(v, args)
            code = bytearray(buf.data)
            if disp is not None:
                [(offset, _label, kind)] = buf.fixups
                enc.patch(kind, code, offset, disp)
            seen = disasm(cs, bytes(code))
            want = asm_text(v, args, label_text=lambda _: target_text(disp or 0))
            count += 1
            if base_form(want) != base_form(seen):
                failures.append(f"{v.name} {format_args(isa, v, args)} disp {disp}: {code.hex(' ')} is '{seen}', the template says '{want}'")
    assert count > 5000
    assert not failures, f"{len(failures)} of {count}:\n" + "\n".join(failures[:20])


def test_labels_and_traps_are_fixups(isa: ISA, enc: Encoders, cs: capstone.Cs) -> None:
    x10, x11 = isa.registers["x10"].index, isa.registers["x11"].index
    buf = enc.encode(isa.variant("bltu"), [x10, x11, 7])
    assert buf.fixups == [(0, 7, "beq_target")]
    buf = enc.encode(isa.variant("beqz_trap"), [x10, "int_divz"])
    assert buf.fixups == [(0, ("trap", "int_divz"), "beq_target")] and not buf.trap_sites
    code = bytearray(buf.data)
    enc.patch("beq_target", code, 0, 0x40)
    assert disasm(cs, bytes(code)) == "beqz a0, 0x40"
    buf = enc.encode(isa.variant("jal"), [isa.registers["x1"].index, 3])
    assert buf.fixups == [(0, 3, "jal_target")]
    buf = enc.encode(isa.variant("unimp"), ["heap_oob"])
    assert buf.trap_sites == [(0, "heap_oob")] and not buf.fixups
    assert disasm(cs, bytes(buf.data)) == "unimp"


def test_branch_ranges(isa: ISA) -> None:
    fields = {f.name: f for f in isa.notation.label_fields()}
    assert set(fields) == {"beq_target", "jal_target"}  # every B-type shares beq's, j and jal share jal's
    b, j = fields["beq_target"], fields["jal_target"]
    assert (b.bits, b.align, b.pc_bias, b.size) == (13, 2, 0, 4)
    assert (j.bits, j.align, j.pc_bias, j.size) == (21, 2, 0, 4)
    for name in ("beq", "bne", "blt", "bge", "bltu", "bgeu", "beqz", "bnez", "beqz_trap", "bnez_trap"):
        assert isa.variant(name).form.label is b, name
    assert isa.variant("j").form.label is j


@pytest.mark.parametrize(
    "alias, base",
    [
        ("mv a0, a1", "addi a0, a1, 0"),
        ("nop", "addi zero, zero, 0"),
        ("beqz a1, -0x10", "beq a1, zero, -0x10"),
        ("jalr a1", "jalr ra, a1, 0"),
        ("jalr a0, a1, 8", "jalr a0, a1, 8"),
        ("add  a0,a1,  a2", "add a0, a1, a2"),
    ],
)
def test_base_form(alias: str, base: str) -> None:
    assert base_form(alias) == base


def test_register_names_are_capstones(isa: ISA, cs: capstone.Cs) -> None:
    """isa.yaml's asm names are the ABI names capstone prints (add xN, xN, xN)."""
    for r in isa.registers.values():
        if r.regclass != "gpr":
            continue
        word = 0x33 | r.encoding << 7 | r.encoding << 15 | r.encoding << 20
        name = r.asm[64]
        assert disasm(cs, word.to_bytes(4, "little")) == f"add {name}, {name}, {name}", r.name


def test_asm_templates_use_known_mnemonics(isa: ISA) -> None:
    """Every template starts with a mnemonic capstone prints (itself or an alias)."""
    for inst in isa.instructions.values():
        assert re.match(r"^[a-z][a-z.]*( |$)", inst.asm), inst.name
