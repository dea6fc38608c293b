"""Bit-field encodings (riscv-opcodes layouts): golden words of a small RV64 spec checked
against capstone, label fields patched and decoded, and the layout checks.

The golden table (encodings_riscv.txt) is checked three ways like the x86 one: encoder
bytes, capstone's reading of them, and the spec's asm template.
"""

from __future__ import annotations

import struct
from pathlib import Path

import capstone
import pytest
from encoding_support import Encoders, expected_asm, parse_args, same_asm

from heron.meta.isa import ISA, load_isa_folder

HERE = Path(__file__).parent
TABLE = HERE / "encodings_riscv.txt"


@pytest.fixture(scope="module")
def isa() -> ISA:
    return load_isa_folder(HERE / "isa_pass" / "mini_riscv")


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


def test_golden_table(isa: ISA, enc: Encoders, cs: capstone.Cs, bless: bool) -> None:
    lines = TABLE.read_text().splitlines()
    failures = []
    for n, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        name, args_text, hexbytes, text = [c.strip() for c in line.split("|")]
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
        want = expected_asm(v, args, 0)
        if not same_asm(want, seen):
            failures.append(f"line {n}: the asm template gives '{want}', capstone '{seen}'")
    if bless:
        TABLE.write_text("\n".join(lines) + "\n")
    assert not failures, "\n".join(failures)


def test_every_variant_has_a_golden_row(isa: ISA) -> None:
    names = {ln.split("|")[0].strip() for ln in TABLE.read_text().splitlines() if ln.strip() and not ln.startswith("#")}
    assert {v.name for v in isa.variants} <= names


@pytest.mark.parametrize(
    "name, args, disp, text",
    [
        ("beq", "a0, a1, L0", 8, "beq a0, a1, 8"),
        ("beq", "a0, a1, L0", -4096, "beq a0, a1, -0x1000"),
        ("beq", "s1, t6, L0", 4094, "beq s1, t6, 0xffe"),
        ("bnez", "a2, L0", -2, "bnez a2, -2"),
        ("bnez", "a2, L0", 0x7FE, "bnez a2, 0x7fe"),
        ("j", "L0", 0xFFFFE, "j 0xffffe"),
        ("j", "L0", -0x100000, "j -0x100000"),
        ("j", "L0", 2048, "j 0x800"),
    ],
)
def test_label_fields_patch_the_displacement(isa: ISA, enc: Encoders, cs: capstone.Cs, name: str, args: str, disp: int, text: str) -> None:
    v = isa.variant(name)
    buf = enc.encode(v, parse_args(isa, v, args))
    [(offset, label, kind)] = buf.fixups
    assert offset == 0 and label == 0
    code = bytearray(buf.data)
    enc.patch(kind, code, 0, disp)
    assert disasm(cs, bytes(code)) == text


def test_label_fields_are_shared_and_described(isa: ISA) -> None:
    fields = {f.name: f for f in isa.notation.label_fields()}
    assert set(fields) == {"beq_target", "j_target"}  # bnez shares beq's B-type layout
    b, j = fields["beq_target"], fields["j_target"]
    assert (b.bits, b.align, b.pc_bias, b.size) == (13, 2, 0, 4)
    assert (j.bits, j.align) == (21, 2)
    assert b.in_range(-4096) and not b.in_range(4096) and not b.in_range(3)
    assert isa.variant("bnez").form.label is b


def test_memory_fields_and_constants(isa: ISA) -> None:
    sd = isa.variant("sd").form
    assert [(f.hi, f.lo, f.operand, f.fld) for f in sd.fields if f.operand] == [
        (31, 25, "m", "disp"),
        (24, 20, "rs2", None),
        (19, 15, "m", "base"),
        (11, 7, "m", "disp"),
    ]
    assert sd.constant == 0x3023


def test_word_is_little_endian(isa: ISA, enc: Encoders) -> None:
    v = isa.variant("add")
    data = enc.encode(v, parse_args(isa, v, "a0, a0, a1")).data
    assert struct.unpack("<I", data)[0] == 0x00B50533
