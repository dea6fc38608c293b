"""The x86 encoding notation: the Intel SDM's opcode column -> encoder source.

A notation string lists, in order::

    [66|F2|F3]...  [REX.W + | REX +]  opcode bytes  [+rb|+rw|+rd|+rq|+cc]  [/r | /0../7]  [ib|iw|id|io]  [cb|cd]

``fields`` binds the notation's fields to operands: ``reg`` (ModRM.reg of ``/r``), ``rm``
(ModRM.rm: a register or a memory operand), ``opreg`` (the ``+r`` register), ``imm``
(``ib iw id io``), ``target`` (``cb cd``: a label, or a trapcode operand for a jump to an
out-of-line trap) and ``cc`` (``+cc``: an enum operand).  A trapcode operand in no
field records a trap-table entry at the instruction (``ud2``).

Encoding rules (Intel SDM Vol. 2, 2.1-2.2): a REX prefix is emitted when the notation
says ``REX.W +`` or ``REX +``, when a register field holds a register numbered 8 or
more, or when an 8-bit register operand is one of ``rex_byte_registers`` (spl bpl sil
dil).  A memory operand (an addressing form with the fields ``base index scale disp``)
uses mod=00 without displacement unless the base is ``no_disp0_base`` (rbp, r13:
they take a disp8 of 0), disp8 when the displacement fits, disp32 otherwise, and a
SIB byte when there is an index or the base is ``sib_rm`` (rsp, r12).  All these numbers
come from isa.yaml's ``encoding:``.

Example::

    >>> from heron.meta.isa import load_isa
    >>> isa = load_isa("x86_64")
    >>> v = isa.variant("mov_load.64")
    >>> v.form.describe()
    'REX.W 8B /r: reg=dst rm=m'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from heron.errors import SpecError
from heron.meta.encoding import LabelField, format_imm
from heron.meta.isa import schema as sch
from heron.meta.yamlload import LDict

__all__ = ["X86Notation", "X86Form", "PARAM_KEYS", "FIELDS"]

PARAM_KEYS = ("notation", "prefixes", "rex", "modrm_mod", "sib_rm", "sib_no_index", "no_disp0_base", "rex_byte_registers", "vex")
FIELDS = ("reg", "rm", "opreg", "imm", "target", "cc", "vvvv")
_VEX = re.compile(r"^VEX\.(LIG|L0|128)(?:\.([0-9A-F]{2}))?\.(0F|0F38|0F3A)\.(W0|W1|WIG)$")
_IMM_BYTES = {"ib": 1, "iw": 2, "id": 4, "io": 8}
_REL_BYTES = {"cb": 1, "cd": 4}
_PTR = {8: "byte", 16: "word", 32: "dword", 64: "qword", 80: "xword", 128: "xmmword", 256: "ymmword"}
_HEX = re.compile(r"^[0-9A-F]{2}$")
_MEM_FIELDS = ("base", "index", "scale", "disp")


@dataclass
class X86Form:
    """A parsed and bound x86 encoding (one variant)."""

    notation: X86Notation
    text: str
    prefixes: tuple[int, ...] = ()
    rex_w: bool = False
    rex_force: bool = False
    opcode: tuple[int, ...] = ()
    opreg: str | None = None  # 'rb' 'rw' 'rd' 'rq'
    cc: bool = False
    modrm: str | int | None = None  # '/r' -> 'r', '/5' -> 5
    imm_bytes: int = 0
    rel_bytes: int = 0
    fields: dict[str, str] = field(default_factory=dict)
    rm_is_mem: bool = False
    byte_regs: tuple[str, ...] = ()  # operands in register fields with 8-bit size
    trap_site: str | None = None  # trapcode operand in no field
    vex: tuple[int, int, int, int] | None = None  # (L, pp, map, W) of a VEX.L.pp.map.W prefix

    def describe(self) -> str:
        head = " ".join(
            ([self.text.split()[0]] if self.vex else [])
            + [f"{p:02X}" for p in self.prefixes]
            + (["REX.W"] if self.rex_w else ["REX"] if self.rex_force else [])
            + [f"{b:02X}" for b in self.opcode]
            + ([f"+{self.opreg}"] if self.opreg else [])
            + (["+cc"] if self.cc else [])
            + (["/r"] if self.modrm == "r" else [f"/{self.modrm}"] if self.modrm is not None else [])
            + ([{1: "ib", 2: "iw", 4: "id", 8: "io"}[self.imm_bytes]] if self.imm_bytes else [])
            + ([{1: "cb", 4: "cd"}[self.rel_bytes]] if self.rel_bytes else [])
        )
        binds = " ".join(f"{k}={v}" for k, v in self.fields.items())
        return f"{head}: {binds}" if binds else head


class _Bad(Exception):
    def __init__(self, message: str, col: int) -> None:
        super().__init__(message)
        self.col = col


def _tokens(text: str) -> list[tuple[str, int]]:
    """Whitespace-separated tokens, with ``B8+rd`` split into ``B8`` and ``+rd``."""
    out: list[tuple[str, int]] = []
    for m in re.finditer(r"\S+", text):
        tok, col = m.group(), m.start() + 1
        if tok != "+" and "+" in tok[1:]:
            head, _, tail = tok.partition("+")
            if head:
                out.append((head, col))
            out.append(("+" + tail, col + len(head)) if tail else ("+", col + len(head)))
        else:
            out.append((tok, col))
    return out


class X86Notation:
    """The x86 notation of one ISA, with the numbers of its ``encoding:`` section."""

    name = "x86"
    uses_fields = True

    def __init__(self, isa: Any, doc: LDict) -> None:
        self.isa = isa
        sch.check_keys(doc, PARAM_KEYS, "encoding (x86)", required=PARAM_KEYS[:-1])
        self.vex: dict[str, Any] | None = None
        if "vex" in doc:  # the three-byte VEX prefix: its escape byte, pp prefixes and opcode maps
            vd = sch.expect_map(doc, "vex", "encoding: vex")
            sch.check_keys(vd, ("escape", "pp", "maps"), "encoding: vex", required=("escape", "pp", "maps"))
            ppl = sch.expect_list(vd, "pp", "encoding: vex.pp")
            maps = sch.expect_list(vd, "maps", "encoding: vex.maps")
            self.vex = {
                "escape": sch.expect_int(vd, "escape", "encoding: vex.escape", 0, 255),
                "pp": {sch.expect_int(ppl, i, "a pp prefix", 0, 255): i + 1 for i in range(len(ppl))},
                "maps": {str(maps[i]): i + 1 for i in range(len(maps))},
            }
        pl = sch.expect_list(doc, "prefixes", "encoding: prefixes")
        self.prefixes = tuple(sch.expect_int(pl, i, "a legacy prefix", 0, 255) for i in range(len(pl)))
        rex = sch.expect_map(doc, "rex", "encoding: rex")
        sch.check_keys(rex, ("base", "w", "r", "x", "b"), "encoding: rex", required=("base", "w", "r", "x", "b"))
        self.rex = {k: sch.expect_int(rex, k, f"encoding: rex.{k}", 0, 255) for k in rex}
        for k in ("w", "r", "x", "b"):
            if self.rex[k] & (self.rex[k] - 1) or self.rex[k] == 0 or self.rex[k] > 8:
                raise rex.error(f"encoding: rex.{k} must be one bit of the low four (1, 2, 4 or 8)", k)
        mod = sch.expect_map(doc, "modrm_mod", "encoding: modrm_mod")
        keys = ("indirect", "disp8", "disp32", "direct")
        sch.check_keys(mod, keys, "encoding: modrm_mod", required=keys)
        self.mod = {k: sch.expect_int(mod, k, f"encoding: modrm_mod.{k}", 0, 3) for k in keys}
        self.sib_rm = sch.expect_int(doc, "sib_rm", "encoding: sib_rm", 0, 7)
        self.no_index = sch.expect_int(doc, "sib_no_index", "encoding: sib_no_index", 0, 7)
        self.no_disp0_base = sch.expect_int(doc, "no_disp0_base", "encoding: no_disp0_base", 0, 7)
        rb = sch.expect_list(doc, "rex_byte_registers", "encoding: rex_byte_registers")
        codes = []
        for i, name in enumerate(rb):
            if name not in isa.registers:
                raise rb.error(f"encoding: rex_byte_registers: '{name}' is not a register", i)
            codes.append(isa.registers[name].encoding)
        self.rex_byte_codes = tuple(sorted(set(codes)))
        for r in isa.registers.values():
            if r.encoding > 15:
                raise SpecError(f"register '{r.name}': x86 register fields hold encodings 0..15, not {r.encoding}", doc.file, r.line)

    # -- parsing and binding ----------------------------------------------------------------
    def bind(self, variant: Any, body: LDict) -> X86Form:
        inst = variant.inst
        text = variant.encoding_text

        def fail(message: str, col: int | None = None) -> SpecError:
            where = f" (column {col})" if col else ""
            return SpecError(f"instruction '{inst.name}': encoding '{text}': {message}{where}", body.file, variant.encoding_line)

        try:
            form = self._parse(text)
        except _Bad as bad:
            raise fail(str(bad), bad.col) from None
        for f in inst.fields:
            if f not in FIELDS:
                raise body.error(f"instruction '{inst.name}': unknown x86 field '{f}' (expected one of {', '.join(FIELDS)})", "fields")
        form.fields = dict(inst.fields)
        used: set[str] = set()

        def need(f: str, kinds: tuple[str, ...], why: str) -> Any:
            if f not in form.fields:
                raise fail(f"{why} needs the field '{f}' (add it to fields:)")
            used.add(f)
            op = inst.operand(form.fields[f])
            if op.kind not in kinds:
                raise fail(f"field '{f}' is operand '{op.name}', a {op.kind} operand; {why} needs a {' or '.join(kinds)} operand")
            return op

        if form.modrm == "r":
            need("reg", ("reg",), "/r")
        if form.modrm is not None:
            rm = need("rm", ("reg", "mem"), "a ModRM byte (/r or /digit)")
            if rm.kind == "mem":
                form.rm_is_mem = True
                self._check_mem_form(rm, fail)
        if form.opreg:
            need("opreg", ("reg",), f"+{form.opreg}")
        if form.cc:
            op = need("cc", ("enum",), "+cc")
            big = max(v.encoding for v in self.isa.enums[op.enum].values)
            if big > 15:
                raise fail(f"+cc adds enum '{op.enum}' values up to {big} to the opcode; at most 15 fit")
        if form.imm_bytes:
            op = need("imm", ("imm",), "an immediate (ib iw id io)")
            if op.imm.bits > 8 * form.imm_bytes:
                raise fail(
                    f"operand '{op.name}' is a {op.imm.bits}-bit immediate ({op.imm.text}) but the field holds {8 * form.imm_bytes} bits"
                )
        if form.rel_bytes:
            need("target", ("label", "trapcode"), "a relative target (cb cd)")
        if form.vex and "vvvv" in form.fields:
            need("vvvv", ("reg",), "VEX.vvvv")
        for f in form.fields:
            if f not in used:
                raise fail(f"field '{f}' is given but the encoding has no place for it")
        placed = set(form.fields.values())
        reused = {o.reuse for o in inst.operands if o.reuse}
        for o in inst.operands:
            if o.name in placed:
                continue
            if o.kind == "reg" and (o.fixed or o.name in reused):
                continue
            if o.kind == "trapcode" and form.trap_site is None:
                form.trap_site = o.name
                continue
            raise fail(f"operand '{o.name}' is in no field of the encoding (and is not a fixed register or reused by a def)")
        byte_regs = []
        for f in ("reg", "rm", "opreg"):
            name = form.fields.get(f)
            if name is not None and inst.operand(name).kind == "reg" and variant.sizes[name] == 8:
                byte_regs.append(name)
        form.byte_regs = tuple(byte_regs)
        return form

    def _check_mem_form(self, op: Any, fail: Any) -> None:
        af = self.isa.addressing[op.mem]
        names = tuple(f.name for f in af.fields)
        ok = names == _MEM_FIELDS and af.fields[0].kind == "reg" and af.fields[1].kind == "reg" and af.fields[1].optional
        ok = ok and af.fields[2].kind == "imm" and af.fields[2].imm.bits <= 2 and af.fields[3].kind == "imm" and af.fields[3].imm.bits <= 32
        if not ok:
            raise fail(
                f"operand '{op.name}' uses addressing form '{af.name}'; an x86 ModRM memory operand needs the fields "
                "base (reg), index (optional reg), scale (imm of at most 2 bits), disp (imm of at most 32 bits)"
            )

    def _parse(self, text: str) -> X86Form:
        toks = _tokens(text)
        form = X86Form(self, text)
        pos = 0

        def tok() -> tuple[str, int]:
            return toks[pos] if pos < len(toks) else ("", len(text) + 1)

        if tok()[0].startswith("VEX"):
            m = _VEX.match(tok()[0])
            if m is None or self.vex is None:
                why = "this ISA's encoding: has no vex section" if self.vex is None else "expected VEX.{LIG|L0|128}[.pp].{0F|0F38|0F3A}.{W0|W1|WIG}"
                raise _Bad(f"bad VEX prefix '{tok()[0]}': {why}", tok()[1])
            pp = 0 if m.group(2) is None else self.vex["pp"].get(int(m.group(2), 16))
            if pp is None or m.group(3) not in self.vex["maps"]:
                raise _Bad(f"VEX prefix '{tok()[0]}': pp or opcode map not in encoding: vex", tok()[1])
            form.vex = (0, pp, self.vex["maps"][m.group(3)], 1 if m.group(4) == "W1" else 0)
            pos += 1
        prefixes = []
        while not form.vex and _HEX.match(tok()[0]) and int(tok()[0], 16) in self.prefixes and pos + 1 < len(toks):
            prefixes.append(int(tok()[0], 16))
            pos += 1
        form.prefixes = tuple(prefixes)
        if form.vex and tok()[0].startswith("REX"):
            raise _Bad("a VEX prefix has no REX prefix (its R X B W bits replace it)", tok()[1])
        if tok()[0] in ("REX.W", "REX"):
            form.rex_w = tok()[0] == "REX.W"
            form.rex_force = not form.rex_w
            word = tok()[0]
            pos += 1
            if tok()[0] != "+":
                raise _Bad(f"expected '+' after {word}", tok()[1])
            pos += 1
        elif tok()[0].startswith("REX"):
            raise _Bad(f"unknown prefix '{tok()[0]}' (expected 'REX.W +' or 'REX +')", tok()[1])
        opcode = []
        while _HEX.match(tok()[0]):
            value = int(tok()[0], 16)
            if not opcode and value in self.prefixes and (form.rex_w or form.rex_force):
                raise _Bad(f"prefix {tok()[0]} must come before REX", tok()[1])
            opcode.append(value)
            pos += 1
        if not opcode:
            found = f"'{tok()[0]}'" if tok()[0] else "the end"
            raise _Bad(f"expected an opcode byte (two hex digits), found {found}", tok()[1])
        if len(opcode) > 3:
            raise _Bad("an opcode has at most 3 bytes", toks[pos - 1][1])
        form.opcode = tuple(opcode)
        t, col = tok()
        if t in ("+rb", "+rw", "+rd", "+rq"):
            if opcode[-1] & 7:
                raise _Bad(f"+{t[1:]} adds a register to opcode byte {opcode[-1]:02X}, whose low 3 bits must be 0", col)
            form.opreg = t[1:]
            pos += 1
        elif t == "+cc":
            if opcode[-1] & 15:
                raise _Bad(f"+cc adds a condition to opcode byte {opcode[-1]:02X}, whose low 4 bits must be 0", col)
            form.cc = True
            pos += 1
        elif t.startswith("+"):
            raise _Bad(f"unknown opcode modifier '{t}' (expected +rb +rw +rd +rq +cc)", col)
        t, col = tok()
        if t == "/r":
            form.modrm = "r"
            pos += 1
        elif re.fullmatch(r"/[0-7]", t):
            form.modrm = int(t[1])
            pos += 1
        elif t.startswith("/"):
            raise _Bad(f"unknown ModRM notation '{t}' (expected /r or /0 to /7)", col)
        if form.opreg and form.modrm is not None:
            raise _Bad("a +r register and a ModRM byte cannot both encode registers here", col)
        t, col = tok()
        if t in _IMM_BYTES:
            form.imm_bytes = _IMM_BYTES[t]
            pos += 1
        t, col = tok()
        if t in _REL_BYTES:
            form.rel_bytes = _REL_BYTES[t]
            pos += 1
        if pos < len(toks):
            t, col = tok()
            if t in _IMM_BYTES or t in _REL_BYTES or t.startswith("/") or _HEX.match(t):
                raise _Bad(f"'{t}' is out of order (prefixes, REX, opcode, +r/+cc, /r or /digit, immediate, relative target)", col)
            raise _Bad(f"unknown token '{t}'", col)
        return form

    # -- encoder source -----------------------------------------------------------------------
    def _rex_bit(self, var: str, which: str) -> str:
        """Text of the REX bit ``which`` taken from bit 3 of register encoding ``var``."""
        pos = self.rex[which].bit_length() - 1
        return f"({var} & 8) >> {3 - pos}" if pos < 3 else f"({var} & 8)"

    def encoder_source(self, variant: Any) -> str:
        form: X86Form = variant.form
        arg = variant.arg_index
        f = form.fields
        lines: list[str] = []
        if form.trap_site:
            lines.append(f"buf.trap_site(args[{arg(form.trap_site)}])")
        rex_bits: list[str] = []
        byte_vars: list[str] = []
        reg_text = "0"
        if form.modrm == "r":
            lines.append(f"r = regs[args[{arg(f['reg'])}]]")
            rex_bits.append(self._rex_bit("r", "r"))
            reg_text = "(r & 7)"
            if f["reg"] in form.byte_regs:
                byte_vars.append("r")
        elif isinstance(form.modrm, int):
            reg_text = str(form.modrm)
        b_name = f.get("opreg") or (f.get("rm") if not form.rm_is_mem else None)
        if b_name:
            lines.append(f"b = regs[args[{arg(b_name)}]]")
            rex_bits.append(self._rex_bit("b", "b"))
            if b_name in form.byte_regs:
                byte_vars.append("b")
        if form.rm_is_mem:
            m = f["rm"]
            lines.append(f"base = regs[args[{arg(m, 'base')}]]")
            lines.append(f"x = regs[args[{arg(m, 'index')}]] if args[{arg(m, 'index')}] >= 0 else {self.no_index}")
            rex_bits.append(self._rex_bit("x", "x"))
            rex_bits.append(self._rex_bit("base", "b"))
        for p in form.prefixes:
            lines.append(f"buf.put1({p:#x})")
        bits = " | ".join(rex_bits)
        if form.vex:
            # VEX3: escape, ~R ~X ~B mmmmm, W ~vvvv L pp (the inverted bits come from bit 3
            # of the register encodings, like REX.R/X/B).
            length, pp, mmmmm, w = form.vex
            r = "r" if form.modrm == "r" else "0"
            x = "x" if form.rm_is_mem else "0"
            b = "base" if form.rm_is_mem else ("b" if b_name else "0")
            v = f"regs[args[{arg(f['vvvv'])}]]" if "vvvv" in f else "0"
            lines.append(f"buf.put1({self.vex['escape']:#x})")
            lines.append(f"buf.put1((~{r} & 8) << 4 | (~{x} & 8) << 3 | (~{b} & 8) << 2 | {mmmmm})")
            lines.append(f"buf.put1({w << 7 | length << 2 | pp:#x} | (~{v} & 15) << 3)")
        elif form.rex_w or form.rex_force:
            fixed = self.rex["base"] | (self.rex["w"] if form.rex_w else 0)
            lines.append(f"buf.put1({fixed:#x}{' | ' + bits if bits else ''})")
        elif rex_bits or byte_vars:
            lines.append(f"rex = {bits or '0'}")
            conds = ["rex"] + [f"{v} in {self.rex_byte_codes!r}" for v in byte_vars]
            lines.append(f"if {' or '.join(conds)}:")
            lines.append(f"    buf.put1({self.rex['base']:#x} | rex)")
        for i, byte in enumerate(form.opcode):
            last = i == len(form.opcode) - 1
            if last and form.opreg:
                lines.append(f"buf.put1({byte:#x} | b & 7)")
            elif last and form.cc:
                lines.append(f"buf.put1({byte:#x} | args[{arg(f['cc'])}])")
            else:
                lines.append(f"buf.put1({byte:#x})")
        if form.modrm is not None and not form.rm_is_mem:
            direct = self.mod["direct"] << 6
            if isinstance(form.modrm, int):
                lines.append(f"buf.put1({direct | form.modrm << 3:#x} | b & 7)")
            else:
                lines.append(f"buf.put1({direct:#x} | {reg_text} << 3 | b & 7)")
        elif form.rm_is_mem:
            m = f["rm"]
            lines.append(f"_x86_mem(buf, {reg_text}, base, x, args[{arg(m, 'scale')}], args[{arg(m, 'disp')}])")
        if form.imm_bytes:
            mask = (1 << (8 * form.imm_bytes)) - 1
            lines.append(f"buf.put{form.imm_bytes}(args[{arg(f['imm'])}] & {mask:#x})")
        if form.rel_bytes:
            target = variant.inst.operand(f["target"])
            label = f"args[{arg(target.name)}]" if target.kind == "label" else f"buf.trap_label(args[{arg(target.name)}])"
            lines.append(f'buf.fixup({label}, "rel{8 * form.rel_bytes}")')
            lines.append(f"buf.put{form.rel_bytes}(0)")
        head = f"def enc_{variant.py_name}(buf, args, regs):"
        doc = f'"""{variant.name}: {form.text}"""'
        return "\n".join([head, "    " + doc] + ["    " + ln for ln in lines]) + "\n"

    def helpers_source(self) -> str:
        mod = {k: v << 6 for k, v in self.mod.items()}
        return f'''def _x86_mem(buf, reg, base, index, scale, disp):
    """ModRM, SIB and displacement of [base + (index << scale) + disp]: ``reg`` is the
    3-bit ModRM.reg value, ``base``/``index`` hardware encodings ({self.no_index}: no index)."""
    disp = ((disp & 0xffffffff) ^ 0x80000000) - 0x80000000
    b = base & 7
    if disp == 0 and b != {self.no_disp0_base}:
        mod = {mod["indirect"]:#x}
    elif -0x80 <= disp < 0x80:
        mod = {mod["disp8"]:#x}
    else:
        mod = {mod["disp32"]:#x}
    if index == {self.no_index} and b != {self.sib_rm}:
        buf.put1(mod | reg << 3 | b)
    else:
        buf.put1(mod | reg << 3 | {self.sib_rm})
        buf.put1((scale << 6 if index != {self.no_index} else 0) | (index & 7) << 3 | b)
    if mod == {mod["disp8"]:#x}:
        buf.put1(disp & 0xff)
    elif mod == {mod["disp32"]:#x}:
        buf.put4(disp & 0xffffffff)
'''

    def label_fields(self) -> list[LabelField]:
        return [
            LabelField("rel8", 1, 1, 8, 1, ((7, 0, 7, 0),), "x86 cb: 8-bit displacement from the end of the instruction"),
            LabelField("rel32", 4, 4, 32, 1, ((31, 0, 31, 0),), "x86 cd: 32-bit displacement from the end of the instruction"),
        ]

    # -- assembler syntax (Intel, as capstone prints it) --------------------------------------
    def mem_text_source(self, form: Any) -> str:
        """Python source of ``def _asm_mem_<form>(reg, base, index, scale, disp, size)``:
        :meth:`format_mem` for the generated printers (``reg(number, bits)`` names a
        register, ``_fmt_imm`` formats an immediate; a ``disp`` that is not an int yet, a
        stack slot before the frame is laid out, prints as itself)."""
        ptr = self.isa.pointer_bits
        names = {k: f"{v} ptr " for k, v in _PTR.items()}
        return f'''def _asm_mem_{form.name}(reg, base, index, scale, disp, size):
    """An x86 memory operand as capstone prints it: qword ptr [base + index*4 + 8]."""
    text = reg(base, {ptr})
    if index >= 0:
        text += " + " + reg(index, {ptr}) + ("*" + str(1 << scale) if scale else "")
    if type(disp) is not int:
        text += " + " + str(disp)
    else:
        d = _fmt_imm(disp, 32, True)
        if d != "0":
            text += " - " + d[1:] if d.startswith("-") else " + " + d
    return _MEM_PTR.get(size, "") + "[" + text + "]"


_MEM_PTR = {names!r}
'''

    def format_mem(self, form: Any, fields: dict[str, int], size: int | None) -> str:
        regs = list(self.isa.registers.values())
        ptr = self.isa.pointer_bits
        text = regs[fields["base"]].asm[ptr]
        if fields["index"] >= 0:
            text += " + " + regs[fields["index"]].asm[ptr] + (f"*{1 << fields['scale']}" if fields["scale"] else "")
        disp = format_imm(fields["disp"], 32, True)
        if disp != "0":
            text += f" - {disp[1:]}" if disp.startswith("-") else f" + {disp}"
        return (f"{_PTR[size]} ptr " if size else "") + f"[{text}]"
