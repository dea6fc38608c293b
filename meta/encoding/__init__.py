"""Encoding notations: from the strings of ``instructions.yaml`` to encoder source.

An ISA names its notation in ``isa.yaml`` (``encoding: {notation: x86, ...}``).  The
notation parses each variant's encoding string, checks it against the variant's
operands (and ``fields``), and writes one flat Python encoder per variant.  Nothing
here knows a register number or an opcode byte: they come from the spec.

Notations (one module each): :mod:`.x86` (Intel SDM opcode column: ``REX.W + 01 /r``,
``81 /0 id``, ``B8+rd io``) and :mod:`.bitfield` (riscv-opcodes layouts:
``31..25=0 24..20=rs2 19..15=rs1 14..12=0 11..7=rd 6..0=0x33``).

The encoder of a variant (the renderer puts these into ``generated/<isa>.py``)::

    def enc_add_rr_64(buf, args, regs):
        ...

- ``buf``: the machine buffer.  ``put1(v)``, ``put2(v)``, ``put4(v)``, ``put8(v)`` append
  ``v`` (already reduced to that many bytes) little-endian; ``fixup(label, kind)``
  records that the label field ``kind`` (a :class:`LabelField` name) of a reference to
  ``label`` starts at the current offset (the encoder then writes the field as zero
  bits); ``trap_label(code)`` gives the label of an out-of-line trap with that code;
  ``trap_site(code)`` records a trap-table entry at the current offset.
- ``args``: the MInst's args in operand order (``Variant.arg_layout``): physical
  register numbers, immediates as ints (signed or the unsigned pattern: the encoder
  uses the low bits), label numbers, enum operands as the value's ``encoding``, trap
  codes as strings, a memory operand flattened into its addressing form's fields (an
  absent optional register is -1, ``heron.backend.vcode.NO_REG``).
- ``regs``: physical register number -> hardware encoding (the ``encoding`` column of
  isa.yaml's registers, in register-table order).

Example::

    >>> from heron.meta.isa import load_isa
    >>> isa = load_isa("x86_64")
    >>> print(encoder_source(isa.variant("add_rr.64")))
    def enc_add_rr_64(buf, args, regs):
        \"\"\"add_rr.64: REX.W + 01 /r\"\"\"
        r = regs[args[2]]
        b = regs[args[0]]
        buf.put1(0x48 | (r & 8) >> 1 | (b & 8) >> 3)
        buf.put1(0x1)
        buf.put1(0xc0 | (r & 7) << 3 | b & 7)
    <BLANKLINE>
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "NOTATIONS",
    "LabelField",
    "encoder_name",
    "encoder_source",
    "encoders_source",
    "label_fields",
    "asm_text",
    "format_imm",
]


@dataclass(frozen=True)
class LabelField:
    """Where a label's displacement goes in an instruction, so the buffer can patch it.

    The displacement is ``target - (fixup offset + pc_bias)``; it must be a multiple of
    ``align`` and fit ``bits`` bits signed.  ``size`` bytes at the fixup offset hold the
    field (little-endian); ``slices`` say where the displacement's bits go:
    ``(word_hi, word_lo, disp_hi, disp_lo)`` puts ``disp[disp_hi:disp_lo]`` into bits
    ``word_hi..word_lo`` of that little-endian word.  :meth:`patch_source` writes the
    patch function the generated module uses.

    Example::

        >>> f = LabelField("rel32", 4, 4, 32, 1, ((31, 0, 31, 0),))
        >>> ns = {}; exec(f.patch_source(), ns)
        >>> hex(ns["patch_rel32"](0, -2))
        '0xfffffffe'
    """

    name: str
    size: int
    pc_bias: int
    bits: int
    align: int
    slices: tuple[tuple[int, int, int, int], ...]
    doc: str = ""

    def in_range(self, disp: int) -> bool:
        return disp % self.align == 0 and -(1 << (self.bits - 1)) <= disp < (1 << (self.bits - 1))

    def patch_source(self) -> str:
        """``def patch_<name>(word, disp) -> word``: the field's bits of ``word`` replaced."""
        clear = 0
        parts = []
        for whi, wlo, dhi, dlo in self.slices:
            n = whi - wlo + 1
            clear |= ((1 << n) - 1) << wlo
            piece = f"(disp >> {dlo})" if dlo else "disp"
            shift = f" << {wlo}" if wlo else ""
            parts.append(f"({piece} & {hex((1 << n) - 1)}){shift}")
        keep = ((1 << (8 * self.size)) - 1) & ~clear
        body = " | ".join(parts)
        head = f"def patch_{self.name}(word, disp):"
        doc = f'    """{self.doc or self.name}: disp = target - (offset + {self.pc_bias}), {self.bits} bits signed, multiple of {self.align}."""'
        return f"{head}\n{doc}\n    return (word & {hex(keep)}) | {body}\n"


def encoder_name(variant: Any) -> str:
    return f"enc_{variant.py_name}"


def encoder_source(variant: Any) -> str:
    """The Python source of the variant's encoder ``enc_<name>(buf, args, regs)``."""
    return variant.form.notation.encoder_source(variant)


def encoders_source(isa: Any) -> str:
    """Every encoder of the ISA plus the helpers they share and the label-field patchers:
    the encoding section of the generated module (exec-able on its own)."""
    parts = [isa.notation.helpers_source()]
    for f in isa.notation.label_fields():
        parts.append(f.patch_source())
    for v in isa.variants:
        parts.append(encoder_source(v))
    return "\n\n".join(p.rstrip("\n") + "\n" for p in parts if p)


def label_fields(isa: Any) -> list[LabelField]:
    return isa.notation.label_fields()


def format_imm(value: int, bits: int, signed: bool) -> str:
    """An immediate as disassemblers print it: decimal below 10, else hex; signed kinds
    print negative values with a minus sign."""
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    mag = abs(value)
    text = str(mag) if mag < 10 else hex(mag)
    return ("-" if value < 0 else "") + text


def asm_text(variant: Any, args: list[Any], label_text: Any = None) -> str:
    """The variant's ``asm`` template filled in with ``args`` (the encoder's args):
    registers by their asm name at the operand's size, immediates by :func:`format_imm`,
    memory operands in the notation's syntax, enum values by name, labels and trap codes
    through ``label_text(value)`` (default ``str``)."""
    isa = variant.form.notation.isa
    inst = variant.inst
    by_number = list(isa.registers.values())
    values: dict[str, str] = {}
    for o in inst.operands:
        if o.kind == "reg":
            reg = by_number[args[variant.arg_index(o.name)]]
            values[o.name] = reg.asm[variant.sizes[o.name]]
        elif o.kind == "imm":
            values[o.name] = format_imm(args[variant.arg_index(o.name)], o.imm.bits, o.imm.signed)
        elif o.kind == "mem":
            form = isa.addressing[o.mem]
            fields = {f.name: args[variant.arg_index(o.name, f.name)] for f in form.fields}
            values[o.name] = isa.notation.format_mem(form, fields, variant.sizes[o.name])
        elif o.kind == "enum":
            code = args[variant.arg_index(o.name)]
            values[o.name] = next(v.name for v in isa.enums[o.enum].values if v.encoding == code)
        else:  # a label, or a trap code (printed only where it is a jump target)
            values[o.name] = (label_text or str)(args[variant.arg_index(o.name)])
    return (variant.asm or inst.asm).format(**values)


# The notation modules import LabelField from this package, so they come last.
from heron.meta.encoding.bitfield import BitfieldNotation  # noqa: E402
from heron.meta.encoding.x86 import X86Notation  # noqa: E402

NOTATIONS: dict[str, Any] = {"x86": X86Notation, "bitfield": BitfieldNotation}
