"""Shared helpers of the encoding tests: a recording buffer, running encoders, parsing
argument lists of the golden tables and comparing disassembly with asm templates."""

from __future__ import annotations

import re
from typing import Any

from heron.meta.encoding import asm_text, encoders_source, label_fields


class RecordingBuffer:
    """What an encoder writes to: bytes, label fixups, trap labels and trap sites."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.fixups: list[tuple[int, Any, str]] = []
        self.trap_sites: list[tuple[int, str]] = []

    def put1(self, v: int) -> None:
        assert 0 <= v < 1 << 8, v
        self.data.append(v)

    def put2(self, v: int) -> None:
        assert 0 <= v < 1 << 16, v
        self.data += v.to_bytes(2, "little")

    def put4(self, v: int) -> None:
        assert 0 <= v < 1 << 32, v
        self.data += v.to_bytes(4, "little")

    def put8(self, v: int) -> None:
        assert 0 <= v < 1 << 64, v
        self.data += v.to_bytes(8, "little")

    def fixup(self, label: Any, kind: str) -> None:
        self.fixups.append((len(self.data), label, kind))

    def trap_label(self, code: str) -> tuple[str, str]:
        return ("trap", code)

    def trap_site(self, code: str) -> None:
        self.trap_sites.append((len(self.data), code))


class Encoders:
    """The ISA's encoders, exec'd from the source the renderer will write."""

    def __init__(self, isa: Any) -> None:
        self.isa = isa
        self.ns: dict[str, Any] = {}
        exec(compile(encoders_source(isa), f"<encoders of {isa.name}>", "exec"), self.ns)  # noqa: S102
        self.regs = [r.encoding for r in isa.registers.values()]
        self.fields = {f.name: f for f in label_fields(isa)}

    def encode(self, variant: Any, args: list[Any]) -> RecordingBuffer:
        buf = RecordingBuffer()
        self.ns[f"enc_{variant.py_name}"](buf, args, self.regs)
        return buf

    def patch(self, kind: str, code: bytearray, offset: int, target: int) -> None:
        """Resolve one fixup as the machine buffer will: write ``target - (offset + pc_bias)``."""
        f = self.fields[kind]
        disp = target - (offset + f.pc_bias)
        assert f.in_range(disp), (kind, disp)
        word = int.from_bytes(code[offset:offset + f.size], "little")
        word = self.ns[f"patch_{kind}"](word, disp)
        code[offset:offset + f.size] = word.to_bytes(f.size, "little")


def parse_args(isa: Any, variant: Any, text: str) -> list[Any]:
    """``rax, rbx, -, 2, 8`` -> MInst args (register numbers, NO_REG, ints, enum
    encodings, trap codes, label numbers)."""
    names = list(isa.registers)
    items = [s.strip() for s in text.split(",")] if text.strip() else []
    layout = variant.arg_layout
    assert len(items) == len(layout), f"{variant.name}: {len(layout)} args expected, got {items}"
    out: list[Any] = []
    for (op_name, fld), item in zip(layout, items):
        op = variant.inst.operand(op_name)
        kind = op.kind if fld is None else next(f.kind for f in isa.addressing[op.mem].fields if f.name == fld)
        if kind == "reg":
            out.append(-1 if item == "-" else names.index(item))
        elif kind == "enum":
            out.append(isa.enums[op.enum].value(item).encoding)
        elif kind == "trapcode":
            out.append(item)
        elif kind == "label":
            out.append(int(item.lstrip("L")))
        else:
            out.append(int(item, 0))
    return out


def format_args(isa: Any, variant: Any, args: list[Any]) -> str:
    names = list(isa.registers)
    out = []
    for (op_name, fld), a in zip(variant.arg_layout, args):
        op = variant.inst.operand(op_name)
        kind = op.kind if fld is None else next(f.kind for f in isa.addressing[op.mem].fields if f.name == fld)
        if kind == "reg":
            out.append("-" if a < 0 else names[a])
        elif kind == "enum":
            out.append(next(v.name for v in isa.enums[op.enum].values if v.encoding == a))
        elif kind == "label":
            out.append(f"L{a}")
        elif kind == "trapcode":
            out.append(a)
        else:
            out.append(str(a) if -10 < a < 10 else hex(a))
    return ", ".join(out)


_NUMBER = re.compile(r"-?(?:0x[0-9a-fA-F]+|\d+)")


def same_asm(expected: str, disassembled: str) -> bool:
    """Equal up to spacing and the spelling of numbers: a number may be printed signed or
    as the unsigned pattern of 8, 16, 32 or 64 bits (``-1`` is ``0xffffffff``)."""
    a, b = " ".join(expected.split()), " ".join(disassembled.split())
    if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return False
    for x, y in zip(_NUMBER.findall(a), _NUMBER.findall(b)):
        u, v = int(x, 0), int(y, 0)
        if not any((u - v) % (1 << k) == 0 for k in (8, 16, 32, 64)) or (u != v and max(abs(u), abs(v)) < 10):
            return False
    return True


def expected_asm(variant: Any, args: list[Any], end: int) -> str:
    """The variant's asm template with labels and trap targets printed as the address
    capstone shows for a zero displacement (the end of the instruction)."""
    return asm_text(variant, args, label_text=lambda _: str(end))
