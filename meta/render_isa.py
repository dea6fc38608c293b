"""The backend module of an ISA, ``generated/<isa>.py``, from its loaded spec alone.

:func:`isa_context` turns a :class:`heron.meta.isa.ISA` into the plain data and source
snippets ``meta/templates/isa.py.j2`` lays out; :func:`isa_outputs` plans one output per
ISA folder holding the four spec files (``heron meta build``/``check`` cover them).  What
the module provides is the contract of ``heron.backend`` (documented in its
``__init__``): the register and class tables and ``REGINFO``; ``INSTS`` (one
``InstInfo`` per variant, index = op, plus the framework's pseudo-ops) with encoders and
printers; ``LOWER`` (the matchers of :mod:`heron.meta.lowergen`); ``value_class``;
``templates`` (abi.yaml's framework templates as builders of MInsts); the calling
conventions; ``BRANCHES`` (what branch simplification needs); ``PATCHERS``,
``SYMBOL_FIXUPS`` and ``RELOCS``.

Instruction flags come from the spec: a variant with a label operand is a branch; the
instruction of the ``jump`` template is a terminator, those of the ``move`` template are
moves (the allocator may drop them), those of the ``call`` templates are calls and
clobber every allocatable register the default calling convention does not preserve.
An immediate a template fills with a stack ``$slot``/``$offset`` is an ``ARG_SLOT``
argument (the frame layout resolves it at emission).

Example::

    >>> from heron.meta.isa import load_isa
    >>> ctx = isa_context(load_isa("x86_64"))
    >>> ctx["name"], ctx["classes"][0]["const"], ctx["insts"][0]["name"]
    ('x86_64', 'CLASS_GPR', 'mov_rr.32')
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from heron.errors import SpecError
from heron.meta.dsl.pyback import ModuleHelpers
from heron.meta.encoding import encoders_source, label_fields
from heron.meta.isa.abi import TEMPLATE_KINDS
from heron.meta.isa.model import ISA, TArg, Template, TemplateInst, Variant
from heron.meta.lowergen import MatcherWriter, class_const, op_const

__all__ = ["isa_context", "isa_outputs", "TEMPLATE_METHODS", "PSEUDO_OPS"]

# Framework template -> (method of the generated Templates, key parameter, parameters in
# the method's order, returns one MInst rather than a list).
TEMPLATE_METHODS: dict[str, tuple[str, str | None, tuple[str, ...], bool]] = {
    "move": ("move", "cls", ("dst", "src"), True),
    "spill": ("spill", "cls", ("slot", "src"), True),
    "reload": ("reload", "cls", ("dst", "slot"), True),
    "load": ("load", "ty", ("dst", "base", "offset"), False),
    "store": ("store", "ty", ("src", "base", "offset"), False),
    "jump": ("jump", None, ("target",), True),
    "return": ("ret", None, (), False),
    "call": ("call", None, ("callee",), False),
    "call_indirect": ("call_indirect", None, ("callee",), False),
    "symbol_address": ("symbol_address", None, ("dst", "symbol"), False),
    "stack_address": ("stack_address", None, ("dst", "slot"), False),
    "frame_pointer": ("frame_pointer", None, ("dst",), False),
    "stack_pointer": ("stack_pointer", None, ("dst",), False),
    "return_address": ("return_address", None, ("dst",), False),
    "fence": ("fence", None, (), False),
    "push_frame": ("push_frame", None, (), False),
    "pop_frame": ("pop_frame", None, (), False),
    "save": ("save", "cls", ("reg",), False),
    "restore": ("restore", "cls", ("reg",), False),
    "sp_sub": ("sp_sub", None, ("bytes",), False),
    "sp_add": ("sp_add", None, ("bytes",), False),
    "branch_if_equal_imm": ("branch_if_equal_imm", None, ("value", "imm", "target"), False),
    "stack_check": ("stack_check", None, ("trap_context", "stack_limit", "lowest"), False),
    "trap_stub": ("trap_stub", None, ("trap_context", "code", "pc", "trap_code", "trap_pc", "entry_sp"), False),
}
# The framework's pseudo-ops, appended to INSTS after the variants: (constant, name, doc).
PSEUDO_OPS = (
    ("OP_ABI_ARGS", "abi_args", "Defines the incoming argument registers (its extra defs); emits nothing."),
    ("OP_ABI_RETURN", "abi_return", "Returns (its extra uses: the return registers); the frame layout replaces it with the epilogue and the return template."),
)

_ACCESS = {"use": "USE", "def": "DEF", "early": "EARLY_DEF"}


def isa_outputs(specs: Path, gen: Path) -> list[Any]:
    """One ``generated/<isa>.py`` output per ISA folder of ``specs`` with all four files."""
    from heron.meta.isa import ISA_FILES, isa_folders, load_isa
    from heron.meta.render import Output

    outputs = []
    for folder in isa_folders(specs):
        if not all((folder / f).exists() for f in ISA_FILES):
            continue
        name = folder.name

        def context(name: str = name) -> dict[str, Any]:
            return isa_context(load_isa(name, specs))

        inputs = [specs / "ir.yaml"] + [folder / f for f in ISA_FILES]
        outputs.append(Output(gen / f"{name}.py", "isa.py.j2", inputs, context))
    return outputs


def isa_context(isa: ISA) -> dict[str, Any]:
    """Everything the template lays out (see the module docstring)."""
    return _Context(isa).build()


class _Context:
    def __init__(self, isa: ISA) -> None:
        self.isa = isa
        self.regs = list(isa.registers.values())
        self.reg_const = {r.name: r.name.upper() for r in self.regs}
        self.classes = list(isa.classes.values())
        self.variants = isa.variants
        self.helpers = ModuleHelpers()
        self.has_templates = bool(isa.templates)
        self.default_conv = next(iter(isa.call_convs.values()))

    def build(self) -> dict[str, Any]:
        isa = self.isa
        roles = self._roles()
        slot_args = self._slot_args()
        matchers = MatcherWriter(isa, self.helpers)
        rule_sources = [matchers.rule_source(r) for r in isa.rules.values()]
        by_root = matchers.rules_by_root()
        opcode_sources = [(op, matchers.opcode_source(op, rules)) for op, rules in by_root.items()]
        templates = self._templates() if self.has_templates else None
        # Printers first: they record the enum tables they read.
        printers = [self._printer(v) for v in self.variants]
        return {
            "name": isa.name,
            "doc": isa.doc,
            "pointer_bits": isa.pointer_bits,
            "endianness": isa.endianness,
            "disassembler": isa.disassembler,
            "classes": [{"name": c.name, "const": class_const(c.name), "bits": c.bits, "index": c.index} for c in self.classes],
            "registers": [
                {"name": r.name, "const": self.reg_const[r.name], "encoding": r.encoding, "cls": class_const(r.regclass)} for r in self.regs
            ],
            "asm_sizes": self._asm_sizes(),
            "reginfo": self._reginfo() if self.has_templates else None,
            "value_classes": {k: class_const(v) for k, v in isa.value_classes.items()},
            "encoders": encoders_source(isa),
            "mem_printers": self._mem_printers(),
            "enum_texts": self._enum_texts(),
            "printers": printers,
            "insts": [self._inst(v, roles, slot_args) for v in self.variants],
            "pseudo_ops": [{"const": c, "name": n, "doc": d} for c, n, d in PSEUDO_OPS],
            "branches": self._branches(roles),
            "rules": rule_sources,
            "opcode_matchers": opcode_sources,
            "ir_opcodes": sorted(o.upper() for o in matchers.ir_opcodes),
            "types": sorted(matchers.types.items(), key=lambda kv: (kv[1].is_float, kv[1].lanes, kv[1].bits, kv[0])),
            "maps": list(matchers.maps.values()),
            "helpers": self.helpers.source(),
            "templates": templates,
            "call_convs": self._call_convs(),
            "default_call_conv": self.default_conv.name,
            "patchers": self._patchers(),
            "symbol_fixups": self._symbol_fixups(),
            "relocs": [
                {"name": r.name, "applier": f"{'pcrel' if r.pc_relative else 'abs'}_reloc({r.size})", "doc": r.doc}
                for r in isa.relocations.values()
            ],
            "frame": {"header": isa.frame.header, "call_pushes": isa.frame.call_pushes, "save_bytes": {class_const(k): v for k, v in isa.frame.save_bytes.items()}} if isa.frame else None,
        }

    # -- registers -------------------------------------------------------------------------
    def _asm_sizes(self) -> list[dict[str, Any]]:
        sizes = sorted({s for r in self.regs for s in r.asm})
        return [{"size": s, "names": tuple(r.asm.get(s) for r in self.regs)} for s in sizes]

    def _reginfo(self) -> dict[str, Any]:
        isa = self.isa
        conv = self.default_conv
        callee = set(conv.callee_saved)
        allocatable = []
        for c in self.classes:
            regs = [r for r in self.regs if r.regclass == c.name and not r.reserved and r.name != isa.scratch.get(c.name)]
            ordered = [r for r in regs if r.name not in callee] + [r for r in regs if r.name in callee]
            allocatable.append(tuple(self.reg_const[r.name] for r in ordered))
        return {
            "allocatable": allocatable,
            "scratch": tuple(self.reg_const[isa.scratch[c.name]] for c in self.classes),
            "callee_saved": tuple(self.reg_const[r] for r in conv.callee_saved),
        }

    def _call_convs(self) -> list[dict[str, Any]]:
        out = []
        for cc in self.isa.call_convs.values():
            regs = lambda names: _tuple([self.reg_const[n] for n in names])  # noqa: E731
            out.append({
                "name": cc.name,
                "doc": cc.doc,
                "int_args": regs(cc.int_args),
                "float_args": regs(cc.float_args),
                "int_rets": regs(cc.int_rets),
                "float_rets": regs(cc.float_rets),
                "callee_saved": regs(cc.callee_saved),
                "stack_pointer": self.reg_const[cc.stack_pointer],
                "frame_pointer": self.reg_const[cc.frame_pointer],
                "stack_align": cc.stack_align,
                "red_zone": cc.red_zone,
                "counts": (len(cc.int_args), len(cc.float_args), len(cc.int_rets), len(cc.float_rets)),
            })
        return out

    # -- instruction flags from the templates ----------------------------------------------------
    def _roles(self) -> dict[str, set[str]]:
        """variant name -> {'move', 'terminator', 'call'} from the templates it appears in."""
        roles: dict[str, set[str]] = {}
        t = self.isa.templates
        for name, role in (("move", "move"), ("jump", "terminator"), ("call", "call"), ("call_indirect", "call")):
            if name in t:
                for body in t[name].bodies.values():
                    for ti in body:
                        roles.setdefault(ti.variant.name, set()).add(role)
        return roles

    def _slot_args(self) -> dict[str, set[int]]:
        """variant name -> arg positions a template fills with a stack location."""
        out: dict[str, set[int]] = {}
        for tpl in self.isa.templates.values():
            for body in tpl.bodies.values():
                for ti in body:
                    for pos, a in self._flat_args(ti):
                        if a is not None and a.kind == "ph" and tpl.placeholders.get(a.value) == "slot":
                            out.setdefault(ti.variant.name, set()).add(pos)
        return out

    @staticmethod
    def _flat_args(ti: TemplateInst) -> list[tuple[int, TArg | None]]:
        out = []
        for pos, (opname, fld) in enumerate(ti.variant.arg_layout):
            a = ti.args[opname]
            if fld is not None:
                a = dict(a.value)[fld]  # type: ignore[arg-type]
            out.append((pos, a))
        return out

    def _inst(self, v: Variant, roles: dict[str, set[str]], slot_args: dict[str, set[int]]) -> dict[str, Any]:
        isa = self.isa
        kinds = []
        operands = []
        pos = 0
        index_of = {}
        for o in v.inst.operands:
            index_of[o.name] = pos
            pos += len(isa.addressing[o.mem].fields) if o.kind == "mem" else 1
        slots = slot_args.get(v.name, set())
        for o in v.inst.operands:
            i = index_of[o.name]
            if o.kind == "reg":
                kinds.append("ARG_REG")
                args = [str(i), _ACCESS[o.access], class_const(o.regclass)]
                if o.fixed:
                    args.append(f"fixed={self.reg_const[o.fixed]}")
                if o.reuse:
                    args.append(f"reuse={index_of[o.reuse]}")
                operands.append(f"OperandInfo({', '.join(args)})")
            elif o.kind == "mem":
                for k, f in enumerate(isa.addressing[o.mem].fields):
                    if f.kind == "reg":
                        kinds.append("ARG_REG")
                        operands.append(f"OperandInfo({i + k}, USE, {class_const(f.regclass)})")
                    else:
                        kinds.append("ARG_SLOT" if i + k in slots else "ARG_IMM")
            else:
                kinds.append({"imm": "ARG_SLOT" if i in slots else "ARG_IMM", "label": "ARG_LABEL", "enum": "ARG_ENUM", "trapcode": "ARG_TRAPCODE"}[o.kind])
        role = roles.get(v.name, set())
        clobbers = [self.reg_const[c] for c in v.inst.clobbers if c in isa.registers]
        if "call" in role:
            callee = set(self.default_conv.callee_saved)
            for r in self.regs:
                allocatable = not r.reserved and r.name not in isa.scratch.values()
                if allocatable and r.name not in callee and self.reg_const[r.name] not in clobbers:
                    clobbers.append(self.reg_const[r.name])
        is_branch = v.is_branch and "call" not in role
        flags = []
        if clobbers:
            flags.append(f"clobbers={_tuple(clobbers)}")
        if is_branch:
            flags.append("is_branch=True")
        if "terminator" in role:
            flags.append("is_terminator=True")
        if "call" in role:
            flags.append("is_call=True")
        if "move" in role:
            flags.append("is_move=True")
        return {
            "name": v.name,
            "const": op_const(v),
            "kinds": _tuple(kinds),
            "operands": _tuple(operands),
            "flags": flags,
            "encoder": f"enc_{v.py_name}",
            "printer": f"txt_{v.py_name}",
            "doc": f"{v.name}: {v.encoding_text}",
        }

    def _branches(self, roles: dict[str, set[str]]) -> list[dict[str, Any]]:
        """Per branch op: its label arg, and how to invert it (an enum operand whose values
        all have an inverse) or that it is unconditional (the jump template's)."""
        out = []
        for v in self.variants:
            role = roles.get(v.name, set())
            if not v.is_branch or "call" in role:
                continue
            label = next(v.arg_index(o.name) for o in v.inst.operands if o.kind == "label")
            if "terminator" in role:
                out.append({"const": op_const(v), "label": label, "cond": None})
                continue
            for o in v.inst.operands:
                if o.kind == "enum":
                    enum = self.isa.enums[o.enum]
                    if all(ev.inverse for ev in enum.values):
                        inverse = {ev.encoding: enum.value(ev.inverse).encoding for ev in enum.values}  # type: ignore[union-attr]
                        out.append({"const": op_const(v), "label": label, "cond": (v.arg_index(o.name), inverse)})
                        break
        return out

    # -- printers ------------------------------------------------------------------------------------
    def _mem_printers(self) -> list[str]:
        out = []
        notation = self.isa.notation
        for form in self.isa.addressing.values():
            source = getattr(notation, "mem_text_source", None)
            if source is not None:
                out.append(source(form))
            else:  # a notation without its own syntax yet: the fields in brackets
                params = ", ".join(f.name for f in form.fields)
                out.append(
                    f"def _asm_mem_{form.name}(reg, {params}, size):\n"
                    f'    """The fields of a {form.name} operand (the {notation.name} notation has no memory syntax yet)."""\n'
                    f"    return \"[\" + \", \".join(str(f) for f in ({params},)) + \"]\"\n"
                )
        return out

    def _enum_texts(self) -> list[str]:
        out = []
        for enum in self.isa.enums.values():
            items = ", ".join(f"{v.encoding}: {v.name!r}" for v in enum.values)
            out.append(f"_{enum.name.upper()}_TEXT = {{{items}}}")
        return out

    def _printer(self, v: Variant) -> str:
        isa = self.isa
        parts: list[str] = []
        pos = 0
        for m in re.finditer(r"\{([^{}]*)\}|[^{}]+", v.asm or v.inst.asm):
            if m.group(1) is None:
                parts.append(repr(m.group(0)))
                continue
            o = v.inst.operand(m.group(1))
            i = v.arg_index(o.name, isa.addressing[o.mem].fields[0].name if o.kind == "mem" else None)
            if o.kind == "reg":
                parts.append(f"reg(a[{i}], {v.sizes[o.name]})")
            elif o.kind == "imm":
                parts.append(f"_fmt_imm(a[{i}], {o.imm.bits}, {o.imm.signed})")
            elif o.kind == "mem":
                n = len(isa.addressing[o.mem].fields)
                fields = ", ".join(f"a[{i + k}]" for k in range(n))
                parts.append(f"_asm_mem_{o.mem}(reg, {fields}, {v.sizes[o.name]})")
            elif o.kind == "enum":
                parts.append(f"_{o.enum.upper()}_TEXT[a[{i}]]")
            else:
                parts.append(f"label(a[{i}])")
            pos += 1
        body = " + ".join(parts) if parts else "''"
        return f"def txt_{v.py_name}(a, reg, label):\n    return {body}\n"

    # -- framework templates --------------------------------------------------------------------------
    def _templates(self) -> dict[str, Any]:
        functions = []
        methods = []
        for name, tpl in self.isa.templates.items():
            method, key, params, single = TEMPLATE_METHODS[name]
            if tpl.keyed_by is None:
                fn = f"_t_{name}"
                functions.append(self._template_function(fn, tpl, None, params, single))
                call = f"{fn}({', '.join(params)})"
                methods.append({"name": method, "params": params, "key": None, "body": f"return {call}", "doc": _TEMPLATE_DOCS[name]})
                continue
            table = []
            for k in tpl.bodies:
                fn = f"_t_{name}_{k}"
                functions.append(self._template_function(fn, tpl, k, params, single))
                table.append((k, fn))
            if tpl.keyed_by == "class":
                consts = {c.name: class_const(c.name) for c in self.classes}
                entries = ", ".join(f"{consts[k]}: {fn}" for k, fn in table)
            else:
                entries = ", ".join(f"{k.upper()}: {fn}" for k, fn in table)
            functions.append(f"_{name.upper()} = {{{entries}}}\n")
            methods.append({
                "name": method,
                "params": params,
                "key": key,
                "body": f"return _{name.upper()}[{key}]({', '.join(params)})",
                "doc": _TEMPLATE_DOCS[name],
            })
        return {"functions": functions, "methods": methods}

    def _template_function(self, fn: str, tpl: Template, key: str | None, params: tuple[str, ...], single: bool) -> str:
        isa = self.isa
        lines = []
        names = []
        for n, ti in enumerate(tpl.bodies[key]):
            args = []
            symbol = None
            for _pos, a in self._flat_args(ti):
                if a is None:
                    args.append("NO_REG")
                elif a.kind == "reg":
                    args.append(self.reg_const[a.value])  # type: ignore[index]
                elif a.kind == "ph":
                    if tpl.placeholders[a.value] == "symbol" and ti.reloc is not None:  # type: ignore[index]
                        symbol = a.value
                        args.append("0")
                    else:
                        args.append(str(a.value))
                elif a.kind == "trapcode":
                    args.append(repr(a.value))
                else:
                    args.append(str(a.value))
            mi = f"MInst({op_const(ti.variant)}, [{', '.join(args)}])"
            if ti.reloc is not None:
                kind, from_end = ti.reloc
                var = f"_m{n}"
                lines.append(f"{var} = {mi}")
                lines.append(f"{var}.reloc = ({from_end}, {kind!r}, {symbol})")
                names.append(var)
            else:
                names.append(mi)
        where = f"{key}: " if key else ""
        doc = f'"""{tpl.name} {where}' + "; ".join(ti.variant.name for ti in tpl.bodies[key]) + '"""'
        if single:
            body = lines + [f"return {names[0]}"]
        else:
            body = lines + ["return [" + ", ".join(names) + "]"]
        return f"def {fn}({', '.join(params)}):\n    {doc}\n" + "".join(f"    {ln}\n" for ln in body)

    # -- emission ----------------------------------------------------------------------------------------
    def _patchers(self) -> list[dict[str, str]]:
        out = []
        for f in label_fields(self.isa):
            full = f.slices == ((8 * f.size - 1, 0, 8 * f.size - 1, 0),)
            if full and f.align == 1:
                expr = f"pcrel_patcher({f.size}, {f.pc_bias})"
            else:
                if f.pc_bias != 0:
                    raise SpecError(f"{self.isa.name}: label field {f.name}: a scattered field must count from the instruction start", self.isa.folder, 0)
                k = f.align.bit_length() - 1
                pieces = tuple((dhi - k, dlo - k, wlo) for _whi, wlo, dhi, dlo in f.slices)
                expr = f"bitfield_patcher({f.size}, {f.align}, {pieces!r})"
            out.append({"name": f.name, "expr": expr, "doc": f.doc})
        return out

    def _symbol_fixups(self) -> list[tuple[str, str, int]]:
        fields = {f.name: f for f in label_fields(self.isa)}
        return [(r.label_field, r.name, -fields[r.label_field].pc_bias) for r in self.isa.relocations.values() if r.label_field]


def _tuple(items: list[str]) -> str:
    """Python text of a tuple of expressions."""
    if len(items) == 1:
        return f"({items[0]},)"
    return "(" + ", ".join(items) + ")"


_TEMPLATE_DOCS = {
    "move": "Copy register ``src`` of class ``cls`` to ``dst`` (one MInst).",
    "spill": "Store register ``src`` of class ``cls`` to the stack location ``slot`` (a SlotRef).",
    "reload": "Load register ``dst`` of class ``cls`` from the stack location ``slot``.",
    "load": "Load a value of IR type ``ty`` from ``base + offset`` (offset: an int or a SlotRef).",
    "store": "Store a value of IR type ``ty`` to ``base + offset``.",
    "jump": "Jump to label ``target`` (one MInst).",
    "return": "Return to the caller (after the epilogue).",
    "call": "Call the symbol ``callee`` (a SymbolRef); the call MInst is the one whose op is a call.",
    "call_indirect": "Call the address in register ``callee``.",
    "symbol_address": "The address of a symbol (a SymbolRef) into ``dst``.",
    "stack_address": "The address of the stack location ``slot`` into ``dst``.",
    "frame_pointer": "The frame pointer into ``dst``.",
    "stack_pointer": "The stack pointer into ``dst``.",
    "return_address": "The return address of this function into ``dst``.",
    "fence": "A full memory barrier.",
    "push_frame": "Save the caller's frame pointer and set this function's.",
    "pop_frame": "Restore the caller's frame pointer.",
    "save": "Save callee-saved register ``reg`` of class ``cls`` in the prologue.",
    "restore": "Restore callee-saved register ``reg`` of class ``cls`` in the epilogue.",
    "sp_sub": "Lower the stack pointer by ``bytes``.",
    "sp_add": "Raise the stack pointer by ``bytes``.",
    "branch_if_equal_imm": "Jump to ``target`` if register ``value`` equals ``imm`` (br_table's compare chain).",
    "stack_check": "Trap with stk_ovf if the stack pointer plus ``lowest`` is below the limit stored at ``trap_context + stack_limit``.",
    "trap_stub": "Store trap ``code`` and address ``pc`` into the trap context and return to the entry trampoline.",
}
assert set(_TEMPLATE_DOCS) == set(TEMPLATE_KINDS) == set(TEMPLATE_METHODS)


