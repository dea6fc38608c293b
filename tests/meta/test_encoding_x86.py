"""x86 encodings: golden bytes cross-checked with capstone, every variant with every
register, the label fixups, and the notation's errors.

The golden table (encodings_x86.txt) is not self-referential: each row's bytes must be
what the encoder writes, capstone must decode them to the row's text, and that text
must agree with the spec's asm template filled in with the row's arguments.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import capstone
import pytest
from encoding_support import Encoders, expected_asm, format_args, parse_args, same_asm

from heron.meta.encoding.x86 import _Bad
from heron.meta.isa import ISA, load_isa

TABLE = Path(__file__).parent / "encodings_x86.txt"


@pytest.fixture(scope="module")
def isa() -> ISA:
    return load_isa("x86_64")


@pytest.fixture(scope="module")
def enc(isa: ISA) -> Encoders:
    return Encoders(isa)


@pytest.fixture(scope="module")
def cs() -> capstone.Cs:
    return capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)


def disasm(cs: capstone.Cs, code: bytes) -> str:
    insts = list(cs.disasm(code, 0))
    assert len(insts) == 1 and insts[0].size == len(code), f"capstone does not see one instruction in {code.hex(' ')}"
    return f"{insts[0].mnemonic} {insts[0].op_str}".strip()


def _rows() -> list[tuple[int, list[str]]]:
    out = []
    for n, line in enumerate(TABLE.read_text().splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            out.append((n, [c.strip() for c in line.split("|")]))
    return out


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
        golden = bytes.fromhex(hexbytes)
        if code != golden:
            failures.append(f"line {n}: {name} {args_text}: encoder wrote {code.hex(' ')}, golden {hexbytes}")
            continue
        seen = disasm(cs, golden)
        if seen != text:
            failures.append(f"line {n}: capstone reads {hexbytes} as '{seen}', the table says '{text}'")
        want = expected_asm(v, args, len(golden))
        if not same_asm(want, seen):
            failures.append(f"line {n}: the asm template gives '{want}', capstone '{seen}'")
    if bless:
        TABLE.write_text("\n".join(lines) + "\n")
    assert not failures, "\n".join(failures)


def test_every_variant_has_a_golden_row(isa: ISA) -> None:
    covered = {name for _, (name, *_rest) in _rows()}
    missing = [v.name for v in isa.variants if v.name not in covered]
    assert not missing, f"variants without a golden encoding: {missing}"


def _arg_sets(isa: ISA, v):
    """A base argument list, then one field varied at a time over its interesting values."""
    gprs = [r.index for r in isa.registers.values() if r.regclass == "gpr"]
    choices: list[list[object]] = []
    for op_name, fld in v.arg_layout:
        op = v.inst.operand(op_name)
        if fld is None and op.kind == "reg":
            of_class = [r.index for r in isa.registers.values() if r.regclass == op.regclass]
            choices.append([isa.registers[op.fixed].index] if op.fixed else of_class)
        elif fld is None and op.kind == "imm":
            k = op.imm
            if k.values is not None:  # a value set: exactly its values
                choices.append(list(k.values))
            elif k.text == "imm64":
                choices.append([0, 1, -1, 0x7FFFFFFFFFFFFFFF, -(1 << 63), 0x123456789])
            else:
                lo, hi = (-(1 << (k.bits - 1)), (1 << (k.bits - 1)) - 1) if k.signed else (0, (1 << k.bits) - 1)
                choices.append(sorted(v for v in {0, 1, lo, hi, lo + 1, hi - 1} if lo <= v <= hi))
        elif fld is None and op.kind == "enum":
            choices.append([e.encoding for e in isa.enums[op.enum].values])
        elif fld is None and op.kind == "label":
            choices.append([0])
        elif fld is None:
            choices.append(["int_divz"])
        elif fld == "base":
            choices.append(gprs)
        elif fld == "index":
            choices.append([-1] + [r for r in gprs if isa.registers["rsp"].index != r])
        elif fld == "scale":
            choices.append([0, 1, 2, 3])
        else:
            choices.append([0, 1, -1, 127, 128, -128, -129, 0x12345678, -0x80000000, 0x7FFFFFFF])
    base = [c[1] if len(c) > 1 and isinstance(c[1], int) and c[0] == -1 else c[0] for c in choices]
    yield list(base)
    for i, c in enumerate(choices):
        for value in c:
            args = list(base)
            args[i] = value
            yield args


def test_every_variant_with_every_register_and_form(isa: ISA, enc: Encoders, cs: capstone.Cs) -> None:
    """Capstone reads what the spec's asm template says for every variant, every
    register in every field, every memory form and immediates at their bounds."""
    count = 0
    failures = []
    for v in isa.variants:
        for args in _arg_sets(isa, v):
            code = bytes(enc.encode(v, args).data)
            seen = disasm(cs, code)
            want = expected_asm(v, args, len(code))
            count += 1
            if not same_asm(want, seen):
                failures.append(f"{v.name} {format_args(isa, v, args)}: {code.hex(' ')} is '{seen}', the template says '{want}'")
    assert count > 2000
    assert not failures, "\n".join(failures[:20])


def test_label_fixups_are_recorded_and_patched(isa: ISA, enc: Encoders, cs: capstone.Cs) -> None:
    v = isa.variant("jcc")
    buf = enc.encode(v, [isa.enums["cc"].value("ne").encoding, 7])
    assert buf.fixups == [(2, 7, "rel32")]
    code = bytearray(buf.data)
    for target in (0x40, -0x1000, 6):
        enc.patch("rel32", code, 2, target)
        assert disasm(cs, bytes(code)) == f"jne {hex(target & (2**64 - 1)) if target >= 10 or target < 0 else target}"
    buf = enc.encode(isa.variant("trap_if"), [isa.enums["cc"].value("e").encoding, "int_divz"])
    assert buf.fixups == [(2, ("trap", "int_divz"), "rel32")]
    buf = enc.encode(isa.variant("ud2"), ["heap_oob"])
    assert buf.trap_sites == [(0, "heap_oob")] and bytes(buf.data) == b"\x0f\x0b"


def test_label_fields_of_the_x86_notation(isa: ISA) -> None:
    fields = {f.name: f for f in isa.notation.label_fields()}
    assert fields["rel32"].size == 4 and fields["rel32"].pc_bias == 4 and fields["rel32"].bits == 32
    assert fields["rel8"].in_range(-128) and not fields["rel8"].in_range(128)


@pytest.mark.parametrize(
    "text, message, col",
    [
        ("REX.W 01 /r", "expected '+' after REX.W", 7),
        ("REX.X + 01 /r", "unknown prefix 'REX.X'", 1),
        ("REX.W + /r", "expected an opcode byte (two hex digits), found '/r'", 9),
        ("01 /q", "unknown ModRM notation '/q'", 4),
        ("B9+rd id", "whose low 3 bits must be 0", 3),
        ("0F 81+cc cd", "whose low 4 bits must be 0", 6),
        ("81 id /0", "'/0' is out of order", 7),
        ("01 /r zz", "unknown token 'zz'", 7),
        ("B8+rq /r", "cannot both encode registers", 7),
        ("0F 0F 0F 0F", "at most 3 bytes", 10),
        ("01 +rx", "unknown opcode modifier '+rx'", 4),
        ("REX.W + 66 01 /r", "prefix 66 must come before REX", 9),
        ("VEX.LIG.66.0F38.W1 REX.W + A9 /r", "a VEX prefix has no REX prefix", 20),
        ("VEX.256.66.0F38.W1 A9 /r", "bad VEX prefix 'VEX.256.66.0F38.W1'", 1),
    ],
)
def test_notation_errors_name_the_column(isa: ISA, text: str, message: str, col: int) -> None:
    with pytest.raises(_Bad) as info:
        isa.notation._parse(text)
    assert message in str(info.value)
    assert info.value.col == col


def test_forms_describe_their_bindings(isa: ISA) -> None:
    assert isa.variant("mov_store.8").form.byte_regs == ("src",)
    assert isa.variant("setcc").form.describe() == "0F 90 +cc /0: rm=dst cc=cc"
    assert isa.variant("mov_ri64").form.describe() == "REX.W B8 +rd io: opreg=dst imm=imm"
