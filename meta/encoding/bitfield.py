"""The bit-field encoding notation (riscv-opcodes style) -> encoder source.

A layout gives every bit of a fixed-width instruction word exactly once, high bits
first by convention::

    "31..25=0 24..20=rs2 19..15=rs1 14..12=0 11..7=rd 6..0=0x33"

Each field is ``HI..LO=VALUE`` (or ``BIT=VALUE``); a value is a number, an operand name
(a register's encoding, an immediate's bits, an enum value's encoding), a memory
operand's field (``m.base``, ``m.disp``), or a slice of an immediate or label:
``imm[11:5]``, ``off[12]``, ``m.disp[4:0]``.  A label operand's slices
describe where its displacement (from the start of the instruction) goes: the bits
they cover must be contiguous from some low bit ``k`` (the displacement is then a
multiple of ``2**k``) to the top (its sign bit); instructions with the same slices
share one :class:`~heron.meta.encoding.LabelField`, named after the first of them.

Example::

    >>> from heron.meta.isa import load_isa_folder
    >>> from pathlib import Path
    >>> isa = load_isa_folder(Path(__file__).resolve().parents[2] / "tests/meta/isa_pass/mini_riscv")
    >>> print(isa.notation.encoder_source(isa.variant("add")))
    def enc_add(buf, args, regs):
        \"\"\"add: 31..25=0 24..20=rs2 19..15=rs1 14..12=0 11..7=rd 6..0=0x33\"\"\"
        buf.put4(0x33 | regs[args[2]] << 20 | regs[args[1]] << 15 | regs[args[0]] << 7)
    <BLANKLINE>
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from heron.errors import SpecError
from heron.meta.encoding import LabelField, format_imm
from heron.meta.isa import schema as sch
from heron.meta.yamlload import LDict

__all__ = ["BitfieldNotation", "BitLayout", "BitField", "PARAM_KEYS"]

PARAM_KEYS = ("notation", "word_bits")
_FIELD = re.compile(r"^(\d+)(?:\.\.(\d+))?=(.+)$")
_VALUE = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?)(?:\[(\d+)(?::(\d+))?\])?$")
_NUMBER = re.compile(r"^(0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9][0-9_]*)$")


@dataclass
class BitField:
    """Bits ``hi..lo`` of the word hold a number, or bits ``vhi..vlo`` of an operand (or of
    a memory operand's field ``fld``)."""

    hi: int
    lo: int
    const: int | None = None
    operand: str | None = None
    fld: str | None = None
    kind: str = ""  # 'reg', 'imm', 'label', 'enum'
    vhi: int = 0
    vlo: int = 0


@dataclass
class _Item:
    """Something a layout can place: an operand, or one field of a memory operand."""

    key: str  # 'rd', 'm.disp'
    operand: str
    fld: str | None
    kind: str
    regclass: str | None = None
    imm: object = None
    enum: str | None = None


@dataclass
class BitLayout:
    notation: BitfieldNotation
    text: str
    fields: list[BitField] = field(default_factory=list)
    label: LabelField | None = None
    label_operand: str | None = None
    trap_site: str | None = None

    @property
    def constant(self) -> int:
        return sum(f.const << f.lo for f in self.fields if f.const is not None)


class BitfieldNotation:
    name = "bitfield"
    uses_fields = False

    def __init__(self, isa: Any, doc: LDict) -> None:
        self.isa = isa
        sch.check_keys(doc, PARAM_KEYS, "encoding (bitfield)", required=PARAM_KEYS)
        self.word_bits = sch.expect_int(doc, "word_bits", "encoding: word_bits")
        if self.word_bits not in (16, 32, 64):
            raise doc.error(f"encoding: word_bits must be 16, 32 or 64, not {self.word_bits}", "word_bits")
        self._labels: dict[tuple[tuple[int, int, int, int], ...], LabelField] = {}

    def bind(self, variant: Any, body: LDict) -> BitLayout:
        inst = variant.inst
        text = variant.encoding_text

        def fail(message: str, col: int | None = None) -> SpecError:
            where = f" (column {col})" if col else ""
            return SpecError(f"instruction '{inst.name}': encoding '{text}': {message}{where}", body.file, variant.encoding_line)

        if inst.fields:
            raise body.error(f"instruction '{inst.name}': bitfield layouts name operands directly; remove fields:", "fields")
        layout = BitLayout(self, text)
        items = self._items(inst)
        owner: dict[int, int] = {}
        used: dict[str, list[BitField]] = {}
        for m in re.finditer(r"\S+", text):
            tok, col = m.group(), m.start() + 1
            fm = _FIELD.match(tok)
            if fm is None:
                raise fail(f"expected HI..LO=VALUE or BIT=VALUE, found '{tok}'", col)
            hi = int(fm.group(1))
            lo = int(fm.group(2)) if fm.group(2) is not None else hi
            if hi < lo:
                raise fail(f"'{tok}': the high bit comes first (HI..LO)", col)
            if hi >= self.word_bits:
                raise fail(f"'{tok}': bit {hi} is outside a {self.word_bits}-bit word", col)
            for bit in range(lo, hi + 1):
                if bit in owner:
                    raise fail(f"bit {bit} is given twice (also at column {owner[bit]})", col)
                owner[bit] = col
            width = hi - lo + 1
            value = fm.group(3)
            bf = BitField(hi, lo)
            if _NUMBER.match(value):
                n = int(value.replace("_", ""), 0)
                if n >= 1 << width:
                    raise fail(f"'{tok}': {n:#x} does not fit in {width} bits", col)
                bf.const = n
            else:
                vm = _VALUE.match(value)
                item = items.get(vm.group(1)) if vm else None
                if item is None:
                    raise fail(f"'{tok}': '{vm.group(1) if vm else value}' is neither a number nor an operand (or m.field of a memory operand)", col)
                name = item.key
                bf.operand, bf.fld, bf.kind = item.operand, item.fld, item.kind
                if vm.group(2) is not None:
                    vhi = int(vm.group(2))
                    vlo = int(vm.group(3)) if vm.group(3) is not None else vhi
                    if item.kind not in ("imm", "label", "trapcode"):
                        raise fail(f"'{tok}': only immediates and labels can be sliced, '{name}' is a {item.kind}", col)
                    if vhi < vlo or vhi - vlo + 1 != width:
                        raise fail(f"'{tok}': the slice [{vhi}:{vlo}] has {max(vhi - vlo + 1, 0)} bits but the field has {width}", col)
                    if item.kind == "imm" and vhi >= item.imm.bits:
                        raise fail(f"'{tok}': '{name}' has {item.imm.bits} bits; bit {vhi} does not exist", col)
                    bf.vhi, bf.vlo = vhi, vlo
                else:
                    bf.vhi, bf.vlo = width - 1, 0
                    self._check_whole(item, width, tok, col, fail)
                used.setdefault(name, []).append(bf)
            layout.fields.append(bf)
        missing = [b for b in range(self.word_bits) if b not in owner]
        if missing:
            raise fail(f"{_ranges(missing)} in no field (a layout covers bits {self.word_bits - 1}..0 exactly once)")
        self._check_operands(inst, layout, used, fail)
        return layout

    def _items(self, inst: Any) -> dict[str, _Item]:
        items: dict[str, _Item] = {}
        for o in inst.operands:
            if o.kind == "mem":
                for f in self.isa.addressing[o.mem].fields:
                    key = f"{o.name}.{f.name}"
                    items[key] = _Item(key, o.name, f.name, f.kind, f.regclass, f.imm)
            else:
                items[o.name] = _Item(o.name, o.name, None, o.kind, o.regclass, o.imm, o.enum)
        return items

    def _check_whole(self, item: _Item, width: int, tok: str, col: int, fail: Any) -> None:
        if item.kind == "reg":
            top = max((r.encoding for r in self.isa.registers.values() if r.regclass == item.regclass), default=0)
            if top >= 1 << width:
                raise fail(f"'{tok}': registers of class {item.regclass} have encodings up to {top}, which need more than {width} bits", col)
        elif item.kind == "imm":
            if item.imm.bits != width:
                raise fail(f"'{tok}': '{item.key}' is a {item.imm.bits}-bit immediate ({item.imm.text}) in a {width}-bit field; slice it", col)
        elif item.kind == "enum":
            top = max(v.encoding for v in self.isa.enums[item.enum].values)
            if top >= 1 << width:
                raise fail(f"'{tok}': enum '{item.enum}' has encodings up to {top}, which need more than {width} bits", col)
        elif item.kind not in ("label", "trapcode"):
            raise fail(f"'{tok}': a {item.kind} operand cannot be a bit field", col)

    def _check_operands(self, inst: Any, layout: BitLayout, used: dict[str, list[BitField]], fail: Any) -> None:
        reused = {o.reuse for o in inst.operands if o.reuse}
        for item in self._items(inst).values():
            parts = used.get(item.key)
            o = inst.operand(item.operand)
            if parts is None:
                if item.kind == "reg" and item.fld is None and (o.fixed or o.name in reused):
                    continue
                if item.kind == "trapcode" and layout.trap_site is None:
                    layout.trap_site = item.key
                    continue
                if item.fld is not None and any(f.name == item.fld and f.optional for f in self.isa.addressing[o.mem].fields):
                    raise fail(f"the optional field '{item.key}' cannot be encoded by a bit layout")
                raise fail(f"'{item.key}' is in no field of the layout (and is not a fixed register or reused by a def)")
            if item.kind in ("reg", "enum") and len(parts) > 1:
                raise fail(f"'{item.key}' is in several fields")
            if item.kind in ("imm", "label", "trapcode"):
                bits = sorted(b for p in parts for b in range(p.vlo, p.vhi + 1))
                if len(bits) != len(set(bits)):
                    raise fail(f"bits of '{item.key}' are placed twice")
                low = 0 if item.kind == "imm" else bits[0]
                top = item.imm.bits - 1 if item.kind == "imm" else bits[-1]
                gaps = [b for b in range(low, top + 1) if b not in set(bits)]
                if gaps:
                    raise fail(f"{_ranges(gaps, of=item.key)} in no field")
                if item.kind in ("label", "trapcode"):
                    if layout.label_operand is not None:
                        raise fail("a layout holds at most one label")
                    slices = tuple(sorted(((p.hi, p.lo, p.vhi, p.vlo) for p in parts), reverse=True))
                    if slices not in self._labels:
                        self._labels[slices] = LabelField(
                            f"{inst.name}_{item.key}",
                            self.word_bits // 8,
                            0,
                            top + 1,
                            1 << low,
                            slices,
                            f"displacement of '{item.key}' in {inst.name}'s layout, from the start of the instruction",
                        )
                    layout.label = self._labels[slices]
                    layout.label_operand = item.key

    # -- encoder source ---------------------------------------------------------------------------
    def encoder_source(self, variant: Any) -> str:
        layout: BitLayout = variant.form
        terms = [f"{layout.constant:#x}"] if layout.constant else []
        for f in layout.fields:
            if f.operand is None or f.kind in ("label", "trapcode"):
                continue
            a = f"args[{variant.arg_index(f.operand, f.fld)}]"
            if f.kind == "reg":
                value = f"regs[{a}]"
            elif f.kind == "enum":
                value = a
            else:
                width = f.hi - f.lo + 1
                value = f"({a} >> {f.vlo} & {(1 << width) - 1:#x})" if f.vlo else f"({a} & {(1 << width) - 1:#x})"
            terms.append(f"{value} << {f.lo}" if f.lo else value)
        lines = []
        if layout.trap_site:
            lines.append(f"buf.trap_site(args[{variant.arg_index(layout.trap_site)}])")
        if layout.label is not None:
            target = f"args[{variant.arg_index(layout.label_operand)}]"
            if variant.inst.operand(layout.label_operand).kind == "trapcode":
                target = f"buf.trap_label({target})"
            lines.append(f'buf.fixup({target}, "{layout.label.name}")')
        lines.append(f"buf.put{self.word_bits // 8}({' | '.join(terms) or '0'})")
        head = f"def enc_{variant.py_name}(buf, args, regs):"
        return "\n".join([head, f'    """{variant.name}: {layout.text}"""'] + ["    " + ln for ln in lines]) + "\n"

    def helpers_source(self) -> str:
        return ""

    def label_fields(self) -> list[LabelField]:
        return list(self._labels.values())

    def format_mem(self, form: Any, fields: dict[str, int], size: int | None) -> str:
        """``disp(base)`` for a base + immediate form, else the fields in brackets."""
        regs = list(self.isa.registers.values())
        reg = [f for f in form.fields if f.kind == "reg"]
        imm = [f for f in form.fields if f.kind == "imm"]
        if len(reg) == 1 and len(imm) == 1:
            base = regs[fields[reg[0].name]].asm[self.isa.classes[reg[0].regclass].bits]
            return f"{format_imm(fields[imm[0].name], imm[0].imm.bits, imm[0].imm.signed)}({base})"
        return "[" + ", ".join(str(fields[f.name]) for f in form.fields) + "]"


def _ranges(bits: list[int], of: str | None = None) -> str:
    """``[0, 1, 2, 7]`` -> ``'bits 7, 2..0 are'``, ``[11]`` -> ``'bit 11 is'`` (high first)."""
    out: list[str] = []
    bits = sorted(bits, reverse=True)
    start = prev = bits[0]
    for b in bits[1:] + [None]:  # type: ignore[list-item]
        if b is not None and b == prev - 1:
            prev = b
            continue
        out.append(f"{start}..{prev}" if start != prev else str(start))
        if b is not None:
            start = prev = b
    whose = f" of '{of}'" if of else ""
    return f"bit {out[0]}{whose} is" if len(bits) == 1 else f"bits {', '.join(out)}{whose} are"
