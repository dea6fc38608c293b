"""Load ``isa.yaml``: register classes, registers, state, enums, addressing forms and the
parameters of the encoding notation.

Example::

    >>> from heron.meta.yamlload import load_yaml_text
    >>> doc = load_yaml_text('''
    ... name: toy
    ... doc: A toy machine.
    ... pointer_bits: 64
    ... endianness: little
    ... register_classes: {gpr: {bits: 64, doc: Integer registers.}}
    ... registers:
    ...   r0: {class: gpr, encoding: 0}
    ...   r1: {class: gpr, encoding: 1}
    ... state: {}
    ... enums: {}
    ... addressing:
    ...   base_disp:
    ...     doc: Base plus displacement.
    ...     fields: {base: {reg: gpr}, disp: {imm: s12}}
    ...     address: base + sext(disp, 64)
    ... encoding: {notation: bitfield, word_bits: 32}
    ... ''', "isa.yaml")
    >>> isa = load_machine(doc, "toy")
    >>> [r.name for r in isa.registers.values()], isa.addressing["base_disp"].fields[1].imm.bits
    (['r0', 'r1'], 12)
"""

from __future__ import annotations

import re
from typing import Any

from heron.errors import SpecError
from heron.meta.dsl.check import BV, EnumImm, check_expression, instantiate
from heron.meta.dsl.parser import parse_expression, parse_semantics
from heron.meta.isa import schema as sch
from heron.meta.isa.model import ISA, AddressingForm, AddrField, ImmKind, IsaEnum, IsaEnumValue, RegClass, Register, StateVar
from heron.meta.yamlload import LDict, LList, describe

__all__ = ["ISA_KEYS", "load_machine", "parse_imm_kind"]

ISA_KEYS = (
    "name",
    "doc",
    "pointer_bits",
    "endianness",
    "disassembler",
    "register_classes",
    "registers",
    "state",
    "enums",
    "addressing",
    "encoding",
)
_STATE_NAME = re.compile(r"^[A-Z][A-Za-z0-9_]*$")
_IMM = re.compile(r"^([su])([0-9]+)$")


def parse_imm_kind(parent: LDict, key: Any, what: str) -> ImmKind:
    """``sN`` / ``uN`` (1 <= N <= 64), ``imm64``, or a list of allowed values."""
    value = parent[key]
    line = parent.value_line(key)
    if isinstance(value, LList):
        if not value or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
            raise SpecError(f"{what}: an immediate set must be a non-empty list of integers >= 0", parent.file, line)
        return ImmKind(str(list(value)), max(max(value).bit_length(), 1), False, tuple(value))
    if value == "imm64":
        return ImmKind("imm64", 64, False)
    m = _IMM.match(str(value))
    if m is None or not 1 <= int(m.group(2)) <= 64:
        raise SpecError(
            f"{what}: unknown immediate kind {describe(value)} (expected sN or uN with 1 <= N <= 64, imm64, or a list of values)",
            parent.file,
            line,
        )
    return ImmKind(str(value), int(m.group(2)), m.group(1) == "s")


def load_machine(doc: Any, folder: str) -> ISA:
    """Check the document of ``isa.yaml`` and build the :class:`ISA` (without instructions,
    rules and calling conventions, which the other files add)."""
    if not isinstance(doc, LDict):
        raise SpecError(f"isa.yaml must be a mapping with the keys {', '.join(ISA_KEYS)}", getattr(doc, "file", "isa.yaml"), 1)
    sch.check_keys(doc, ISA_KEYS, "isa.yaml", required=tuple(k for k in ISA_KEYS if k != "disassembler"))
    name = sch.expect_name(doc, "name", "the ISA name")
    if name != folder:
        raise doc.error(f"isa.yaml: name '{name}' must be the folder's name '{folder}'", "name")
    pointer_bits = sch.expect_int(doc, "pointer_bits", "pointer_bits")
    if pointer_bits not in (32, 64):
        raise doc.error(f"pointer_bits must be 32 or 64, not {pointer_bits}", "pointer_bits")
    endianness = doc["endianness"]
    if endianness not in ("little", "big"):
        raise doc.error(f"endianness must be little or big, not {describe(endianness)}", "endianness")
    disassembler: dict[str, str] = {}
    if "disassembler" in doc:
        dd = sch.expect_map(doc, "disassembler", "disassembler")
        sch.check_keys(dd, ("capstone_arch", "capstone_mode"), "disassembler", required=("capstone_arch", "capstone_mode"))
        for k in ("capstone_arch", "capstone_mode"):
            disassembler[k] = sch.expect_str(dd, k, f"disassembler: {k}")
    isa = ISA(
        name=name,
        doc=sch.expect_str(doc, "doc", "doc"),
        folder=folder,
        pointer_bits=pointer_bits,
        endianness=endianness,
        disassembler=disassembler,
        classes=_load_classes(sch.expect_map(doc, "register_classes", "register_classes")),
        registers={},
        state={},
        enums={},
        addressing={},
        encoding={},
    )
    isa.registers = _load_registers(sch.expect_map(doc, "registers", "registers"), isa)
    isa.state = _load_state(sch.expect_map(doc, "state", "state"))
    isa.enums = _load_enums(sch.expect_map(doc, "enums", "enums"), isa)
    isa.addressing = _load_addressing(sch.expect_map(doc, "addressing", "addressing"), isa)
    _load_encoding(sch.expect_map(doc, "encoding", "encoding"), isa)
    return isa


def _load_classes(doc: LDict) -> dict[str, RegClass]:
    out: dict[str, RegClass] = {}
    for i, name in enumerate(doc):
        sch.expect_name(doc, name, "register class", name)
        body = sch.expect_map(doc, name, f"register class '{name}'")
        sch.check_keys(body, ("bits", "doc"), f"register class '{name}'", required=("bits", "doc"))
        bits = sch.expect_int(body, "bits", f"register class '{name}': bits", 1, 512)
        out[name] = RegClass(name, bits, sch.expect_str(body, "doc", "doc"), i)
    if not out:
        raise doc.error("register_classes: an ISA needs at least one register class")
    return out


def _load_registers(doc: LDict, isa: ISA) -> dict[str, Register]:
    out: dict[str, Register] = {}
    seen: dict[tuple[str, int], str] = {}
    sizes: dict[str, tuple[set[int], str]] = {}
    for i, name in enumerate(doc):
        sch.expect_name(doc, name, "register", name)
        what = f"register '{name}'"
        body = sch.expect_map(doc, name, what)
        sch.check_keys(body, ("class", "encoding", "asm", "reserved"), what, required=("class", "encoding"))
        cls = body["class"]
        if cls not in isa.classes:
            raise body.error(f"{what}: unknown register class '{cls}' (expected one of {', '.join(isa.classes)})", "class")
        enc = sch.expect_int(body, "encoding", f"{what}: encoding", 0)
        if (cls, enc) in seen:
            raise body.error(f"{what}: encoding {enc} is already {seen[(cls, enc)]}'s in class {cls}", "encoding")
        seen[(cls, enc)] = name
        asm: dict[int, str] = {isa.classes[cls].bits: name}
        if "asm" in body:
            a = body["asm"]
            if isinstance(a, str):
                asm = {isa.classes[cls].bits: a}
            elif isinstance(a, LDict):
                asm = {}
                for size, text in a.items():
                    if not isinstance(size, int) or not isinstance(text, str) or not 0 < size <= isa.classes[cls].bits:
                        raise a.error(f"{what}: asm maps an operand size in bits (at most {isa.classes[cls].bits}) to a name", size)
                    asm[size] = text
            else:
                raise body.error(f"{what}: asm must be a name or a mapping from operand size to name", "asm")
        reserved = sch.expect_bool(body, "reserved", f"{what}: reserved") if "reserved" in body else False
        have = set(asm)
        if cls in sizes and sizes[cls][0] != have:
            first = sizes[cls][1]
            raise body.error(
                f"{what}: asm names sizes {sorted(have)} but {first} (same class) names {sorted(sizes[cls][0])}", "asm" if "asm" in body else "class"
            )
        sizes.setdefault(cls, (have, name))
        out[name] = Register(name, cls, enc, asm, reserved, i, doc.key_line(name))
    return out


def _load_state(doc: LDict) -> dict[str, StateVar]:
    out: dict[str, StateVar] = {}
    for name, body in doc.items():
        if not isinstance(name, str) or not _STATE_NAME.match(name):
            raise doc.error(f"state '{name}' must start with a capital letter (CF, ZF, FPSR)", name)
        body = sch.expect_map(doc, name, f"state '{name}'")
        sch.check_keys(body, ("bits", "doc"), f"state '{name}'", required=("bits", "doc"))
        out[name] = StateVar(name, sch.expect_int(body, "bits", f"state '{name}': bits", 1, 128), sch.expect_str(body, "doc", "doc"))
    return out


def _state_inputs(isa: ISA) -> dict[str, BV]:
    return {n: BV(s.bits) for n, s in isa.state.items()}


def _load_enums(doc: LDict, isa: ISA) -> dict[str, IsaEnum]:
    out: dict[str, IsaEnum] = {}
    params = tuple(isa.state)
    for name in doc:
        sch.expect_name(doc, name, "enum", name)
        what = f"enum '{name}'"
        body = sch.expect_map(doc, name, what)
        sch.check_keys(body, ("doc", "values"), what, required=("doc", "values"))
        vdoc = sch.expect_map(body, "values", f"{what}: values")
        values: list[IsaEnumValue] = []
        parsed = []
        codes: dict[int, str] = {}
        for vname in vdoc:
            if not isinstance(vname, str) or not sch.NAME.match(vname):
                raise vdoc.error(f"{what}: value '{vname}' must be a lower_snake_case name (quote YAML words like \"no\")", vname)
            vw = f"{what}, value '{vname}'"
            vbody = sch.expect_map(vdoc, vname, vw)
            sch.check_keys(vbody, ("encoding", "semantics", "inverse"), vw, required=("encoding", "semantics"))
            enc = sch.expect_int(vbody, "encoding", f"{vw}: encoding", 0)
            if enc in codes:
                raise vbody.error(f"{vw}: encoding {enc} is already value '{codes[enc]}'s", "encoding")
            codes[enc] = vname
            sem = sch.expect_str(vbody, "semantics", f"{vw}: semantics")
            expr, source = parse_expression(sem, vdoc.file, vbody.value_line("semantics"))
            parsed.append((vname, expr, source))
            inverse = vbody.get("inverse")
            values.append(IsaEnumValue(vname, enc, sem, inverse, vdoc.key_line(vname)))
        names = {v.name for v in values}
        for v in values:
            if v.inverse is not None and v.inverse not in names:
                raise vdoc.error(f"{what}, value '{v.name}': inverse '{v.inverse}' is not a value of {name}", v.name)
        if not values:
            raise body.error(f"{what}: no values", "values")
        kind = EnumImm(name, tuple(parsed), params, implicit=True)
        # Type every value's semantics now, over the machine state (errors name the value).
        probe = parse_semantics("probe = e()", doc.file, doc.key_line(name))
        instantiate(probe, {"e": kind, **_state_inputs(isa)}, {}, require_outputs=False)
        out[name] = IsaEnum(name, sch.expect_str(body, "doc", "doc"), values, kind, doc.key_line(name))
    return out


def _load_addressing(doc: LDict, isa: ISA) -> dict[str, AddressingForm]:
    out: dict[str, AddressingForm] = {}
    for name in doc:
        sch.expect_name(doc, name, "addressing form", name)
        what = f"addressing form '{name}'"
        body = sch.expect_map(doc, name, what)
        sch.check_keys(body, ("doc", "fields", "address"), what, required=("doc", "fields", "address"))
        fdoc = sch.expect_map(body, "fields", f"{what}: fields")
        fields: list[AddrField] = []
        inputs: dict[str, BV] = {}
        for fname in fdoc:
            sch.expect_name(fdoc, fname, "field", fname)
            fw = f"{what}, field '{fname}'"
            fb = sch.expect_map(fdoc, fname, fw)
            kind = next(iter(fb), None)
            if kind == "reg":
                sch.check_keys(fb, ("reg", "optional"), fw, required=("reg",))
                cls = fb["reg"]
                if cls not in isa.classes:
                    raise fb.error(f"{fw}: unknown register class '{cls}'", "reg")
                optional = sch.expect_bool(fb, "optional", f"{fw}: optional") if "optional" in fb else False
                fields.append(AddrField(fname, "reg", cls, None, optional))
                inputs[fname] = BV(isa.classes[cls].bits)
            elif kind == "imm":
                sch.check_keys(fb, ("imm", "default"), fw, required=("imm",))
                imm = parse_imm_kind(fb, "imm", fw)
                default = None
                if "default" in fb:
                    default = sch.expect_int(fb, "default", f"{fw}: default")
                    if not imm.fits(default):
                        raise fb.error(f"{fw}: default {default} does not fit {imm.text}", "default")
                fields.append(AddrField(fname, "imm", None, imm, False, default))
                inputs[fname] = BV(imm.bits)
            else:
                raise fdoc.error(f"{fw}: a field is {{reg: CLASS[, optional: true]}} or {{imm: KIND[, default: N]}}", fname)
        text = sch.expect_str(body, "address", f"{what}: address")
        expr, source = parse_expression(text, body.file, body.value_line("address"))
        typed = check_expression(expr, source, inputs)
        if isinstance(typed, int) or typed.width != isa.pointer_bits:
            width = "a constant" if isinstance(typed, int) else f"{typed.width} bits"
            raise body.error(f"{what}: the address must have {isa.pointer_bits} bits (pointer_bits), not {width}", "address")
        out[name] = AddressingForm(name, sch.expect_str(body, "doc", "doc"), fields, typed, text, doc.key_line(name))
    return out


def _load_encoding(doc: LDict, isa: ISA) -> None:
    from heron.meta.encoding import NOTATIONS

    notation = doc.get("notation")
    if notation not in NOTATIONS:
        raise doc.error(f"encoding: notation must be one of {', '.join(NOTATIONS)}, not {describe(notation)}", "notation" if "notation" in doc else None)
    isa.encoding = dict(doc)
    isa.notation = NOTATIONS[notation](isa, doc)
