"""Load ``abi.yaml``: the calling conventions (argument, return and callee-saved
registers, stack pointer, frame pointer, stack alignment, red zone) and what the
backend framework needs to emit code: one scratch register per class, the relocation
kinds, the frame geometry and the framework *templates*, the instruction sequences it
builds moves, spills, stack accesses, calls, prologues, epilogues and trap stubs from
(isa_specs/README.md, "abi.yaml", lists every template and its placeholders).

A template is written like a rule's ``emit`` (``- INSTRUCTION: {operand: value}``) with
``$placeholders`` the framework fills in; the loader checks every operand against the
instruction (kinds, classes, params) and every placeholder against what the template
offers, with ``file:line`` errors.

Example::

    >>> from heron.meta.isa import load_isa
    >>> isa = load_isa("x86_64")
    >>> sv = isa.call_convs["system_v"]
    >>> sv.int_args[:2], sv.int_rets, sv.stack_align
    (['rdi', 'rsi'], ['rax', 'rdx'], 16)
    >>> [i.variant.name for i in isa.templates["spill"].bodies["gpr"]], isa.templates["spill"].placeholders
    (['mov_store.64'], {'src': 'reg', 'slot': 'slot'})
"""

from __future__ import annotations

from typing import Any

from heron.errors import SpecError
from heron.meta.isa import schema as sch
from heron.meta.isa.model import ISA, CallConv, FrameGeometry, Relocation, TArg, Template, TemplateInst
from heron.meta.yamlload import LDict, describe

__all__ = ["ABI_KEYS", "CALL_CONV_KEYS", "TEMPLATE_KINDS", "TEMPLATE_TYPES", "load_abi"]

ABI_KEYS = ("call_convs", "scratch", "relocations", "frame", "templates")

CALL_CONV_KEYS = (
    "doc",
    "int_args",
    "float_args",
    "int_rets",
    "float_rets",
    "callee_saved",
    "stack_pointer",
    "frame_pointer",
    "stack_align",
    "red_zone",
)


def load_abi(doc: Any, isa: ISA) -> None:
    if not isinstance(doc, LDict):
        raise SpecError("abi.yaml must be a mapping with the key call_convs", getattr(doc, "file", "abi.yaml"), 1)
    sch.check_keys(doc, ABI_KEYS, "abi.yaml", required=("call_convs",))
    convs = sch.expect_map(doc, "call_convs", "call_convs")
    if not convs:
        raise convs.error("call_convs: an ISA needs at least one calling convention")
    for name in convs:
        sch.expect_name(convs, name, "calling convention", name)
        what = f"calling convention '{name}'"
        body = sch.expect_map(convs, name, what)
        sch.check_keys(body, CALL_CONV_KEYS, what, required=CALL_CONV_KEYS)

        def regs(key: str, kind: str | None) -> list[str]:
            items = sch.expect_list(body, key, f"{what}: {key}")
            cls = isa.value_classes.get(kind) if kind else None
            seen = set()
            for i, r in enumerate(items):
                reg = isa.registers.get(r)
                if reg is None:
                    raise items.error(f"{what}: {key}: '{r}' is not a register", i)
                if cls is not None and reg.regclass != cls:
                    raise items.error(f"{what}: {key}: '{r}' is in class {reg.regclass}, not {cls} (value_classes.{kind})", i)
                if r in seen:
                    raise items.error(f"{what}: {key}: '{r}' is listed twice", i)
                seen.add(r)
            return list(items)

        def one(key: str) -> str:
            r = body[key]
            if r not in isa.registers:
                raise body.error(f"{what}: {key}: '{r}' is not a register", key)
            return r

        align = sch.expect_int(body, "stack_align", f"{what}: stack_align", 1)
        if align & (align - 1):
            raise body.error(f"{what}: stack_align must be a power of two, not {align}", "stack_align")
        isa.call_convs[name] = CallConv(
            name=name,
            doc=sch.expect_str(body, "doc", f"{what}: doc"),
            int_args=regs("int_args", "int"),
            float_args=regs("float_args", "float"),
            int_rets=regs("int_rets", "int"),
            float_rets=regs("float_rets", "float"),
            callee_saved=regs("callee_saved", None),
            stack_pointer=one("stack_pointer"),
            frame_pointer=one("frame_pointer"),
            stack_align=align,
            red_zone=sch.expect_int(body, "red_zone", f"{what}: red_zone", 0),
            line=convs.key_line(name),
        )
    if "scratch" in doc:
        _load_scratch(doc, isa)
    if "relocations" in doc:
        _load_relocations(doc, isa)
    if "frame" in doc:
        _load_frame(doc, isa)
    if "templates" in doc:
        for k in ("scratch", "relocations", "frame"):
            if k not in doc:
                raise doc.error(f"abi.yaml: templates need '{k}' too", "templates")
        _load_templates(doc, isa)


# -- scratch registers, relocations, frame geometry ------------------------------------------


def _load_scratch(doc: LDict, isa: ISA) -> None:
    sc = sch.expect_map(doc, "scratch", "scratch")
    default = next(iter(isa.call_convs.values()))
    for cls in sc:
        if cls not in isa.classes:
            raise sc.error(f"scratch: '{cls}' is not a register class ({', '.join(isa.classes)})", cls)
        r = sc[cls]
        reg = isa.registers.get(r) if isinstance(r, str) else None
        if reg is None or reg.regclass != cls:
            raise SpecError(f"scratch: {describe(r)} is not a register of class {cls}", sc.file, sc.value_line(cls))
        if reg.reserved:
            raise SpecError(f"scratch: '{r}' is reserved; the scratch register is one the allocator could otherwise use", sc.file, sc.value_line(cls))
        if r in default.int_args + default.float_args + default.int_rets + default.float_rets + default.callee_saved:
            raise SpecError(f"scratch: '{r}' carries arguments or results or is callee-saved in '{default.name}'", sc.file, sc.value_line(cls))
        isa.scratch[cls] = r
    missing = [c for c in isa.classes if c not in isa.scratch]
    if missing:
        raise sc.error(f"scratch: every register class needs a scratch register (missing {', '.join(missing)})")


def _load_relocations(doc: LDict, isa: ISA) -> None:
    rd = sch.expect_map(doc, "relocations", "relocations")
    fields = {f.name for f in isa.notation.label_fields()} if isa.notation is not None else set()
    for name in rd:
        sch.expect_name(rd, name, "relocation", name)
        what = f"relocation '{name}'"
        body = sch.expect_map(rd, name, what)
        sch.check_keys(body, ("size", "pc_relative", "label_field", "doc"), what, required=("size", "pc_relative", "doc"))
        size = sch.expect_int(body, "size", f"{what}: size", 1, 8)
        label_field = None
        if "label_field" in body:
            label_field = sch.expect_str(body, "label_field", f"{what}: label_field")
            if label_field not in fields:
                raise body.error(f"{what}: label_field '{label_field}' is not a label field of the notation ({', '.join(sorted(fields))})", "label_field")
            if any(r.label_field == label_field for r in isa.relocations.values()):
                raise body.error(f"{what}: label field '{label_field}' already has a relocation", "label_field")
        isa.relocations[name] = Relocation(
            name, size, sch.expect_bool(body, "pc_relative", f"{what}: pc_relative"), label_field,
            sch.expect_str(body, "doc", f"{what}: doc"), rd.key_line(name),
        )


def _load_frame(doc: LDict, isa: ISA) -> None:
    fd = sch.expect_map(doc, "frame", "frame")
    sch.check_keys(fd, ("header", "call_pushes", "save_bytes"), "frame", required=("header", "call_pushes", "save_bytes"))
    sb = sch.expect_map(fd, "save_bytes", "frame: save_bytes")
    saves: dict[str, int] = {}
    for cls in sb:
        if cls not in isa.classes:
            raise sb.error(f"frame: save_bytes: '{cls}' is not a register class", cls)
        saves[cls] = sch.expect_int(sb, cls, f"frame: save_bytes: {cls}", 1)
    isa.frame = FrameGeometry(sch.expect_int(fd, "header", "frame: header", 0), saves, sch.expect_int(fd, "call_pushes", "frame: call_pushes", 0))


# -- templates -----------------------------------------------------------------------------

# Template name -> (what its bodies are keyed by, {placeholder: kind}).  Placeholder kinds:
# reg (a register operand or address field), imm (an immediate), slot (an immediate that
# may be a stack location the frame layout resolves), label, symbol (a label operand,
# which becomes a relocation, or an immediate of an entry with `reloc`).
TEMPLATE_KINDS: dict[str, tuple[str | None, dict[str, str]]] = {
    "move": ("class", {"dst": "reg", "src": "reg"}),
    "spill": ("class", {"src": "reg", "slot": "slot"}),
    "reload": ("class", {"dst": "reg", "slot": "slot"}),
    "load": ("type", {"dst": "reg", "base": "reg", "offset": "slot"}),
    "store": ("type", {"src": "reg", "base": "reg", "offset": "slot"}),
    "jump": (None, {"target": "label"}),
    "return": (None, {}),
    "call": (None, {"callee": "symbol"}),
    "call_indirect": (None, {"callee": "reg"}),
    "symbol_address": (None, {"dst": "reg", "symbol": "symbol"}),
    "stack_address": (None, {"dst": "reg", "slot": "slot"}),
    "frame_pointer": (None, {"dst": "reg"}),
    "stack_pointer": (None, {"dst": "reg"}),
    "return_address": (None, {"dst": "reg"}),
    "fence": (None, {}),
    "push_frame": (None, {}),
    "pop_frame": (None, {}),
    "save": ("class", {"reg": "reg"}),
    "restore": ("class", {"reg": "reg"}),
    "sp_sub": (None, {"bytes": "imm"}),
    "sp_add": (None, {"bytes": "imm"}),
    "branch_if_equal_imm": (None, {"value": "reg", "imm": "imm", "target": "label"}),
    "stack_check": (None, {"trap_context": "symbol", "stack_limit": "imm", "lowest": "imm"}),
    "trap_stub": (None, {"trap_context": "symbol", "code": "imm", "pc": "symbol", "trap_code": "imm", "trap_pc": "imm", "entry_sp": "imm"}),
}
# Templates of exactly one instruction (the allocator and the isel driver insert them one by one).
SINGLE = frozenset({"move", "spill", "reload", "jump"})
# IR types every `load`/`store` template lists (the float ones when floats have a class).
TEMPLATE_TYPES = ("i8", "i16", "i32", "i64")
FLOAT_TEMPLATE_TYPES = ("f32", "f64")


def _load_templates(doc: LDict, isa: ISA) -> None:
    td = sch.expect_map(doc, "templates", "templates")
    order = tuple(TEMPLATE_KINDS)
    sch.check_keys(td, order, "templates", required=order)
    for name in td:
        keyed_by, offered = TEMPLATE_KINDS[name]
        what = f"template '{name}'"
        bodies: dict[str | None, list[TemplateInst]] = {}
        used: dict[str, str] = {}
        if keyed_by is None:
            bodies[None] = _template_body(td, name, what, isa, offered, used)
        else:
            kd = sch.expect_map(td, name, what)
            if keyed_by == "class":
                allowed = list(isa.classes)
                need = list(isa.classes)
                if name in ("save", "restore"):
                    default = next(iter(isa.call_convs.values()))
                    need = sorted({isa.registers[r].regclass for r in default.callee_saved if not isa.registers[r].reserved}, key=allowed.index)
            else:
                need = list(TEMPLATE_TYPES) + (list(FLOAT_TEMPLATE_TYPES) if "float" in isa.value_classes else [])
                allowed = need + ["f16", "f128"]
            for key in kd:
                if key not in allowed:
                    kind = "register class" if keyed_by == "class" else "scalar IR type"
                    raise kd.error(f"{what}: '{key}' is not a {kind} ({', '.join(allowed)})", key)
                bodies[key] = _template_body(kd, key, f"{what} for {key}", isa, offered, used)
            missing = [k for k in need if k not in kd]
            if missing:
                raise kd.error(f"{what}: missing {', '.join(missing)}")
        for key, body in bodies.items():
            if name in SINGLE and len(body) != 1:
                where = f" for {key}" if key else ""
                line = body[1].line if len(body) > 1 else td.key_line(name)
                raise SpecError(f"{what}{where}: must be exactly one instruction (the framework inserts it as one)", td.file, line)
            if name == "move":
                # The allocator reads a move as (dst, src) and may delete it.
                [ti] = body
                ops = ti.variant.inst.operands
                shape = [(o.kind, o.is_def, ti.args[o.name]) for o in ops]
                if shape != [("reg", True, TArg("ph", "dst")), ("reg", False, TArg("ph", "src"))] or ti.variant.inst.clobbers:
                    raise SpecError(f"{what} for {key}: the instruction must have exactly the operands dst (a def, $dst) then src (a use, $src), and no clobbers", td.file, ti.line)
        if name in ("save", "restore"):
            if isa.frame is not None:
                for key in bodies:
                    if key not in isa.frame.save_bytes:
                        raise td.error(f"{what}: frame: save_bytes has no entry for class {key}", name)
        isa.templates[name] = Template(name, keyed_by, bodies, used, td.key_line(name))
    _check_template_flags(isa, td)


def _template_body(parent: LDict, key: str, what: str, isa: ISA, offered: dict[str, str], used: dict[str, str]) -> list[TemplateInst]:
    items = sch.expect_list(parent, key, what)
    if not items:
        raise parent.error(f"{what}: give at least one instruction", key)
    out = []
    for i, entry in enumerate(items):
        line = items.item_line(i)
        if not isinstance(entry, LDict) or not entry or len(entry) > 2 or (len(entry) == 2 and "reloc" not in entry):
            raise SpecError(f"{what}: each entry is '- INSTRUCTION: {{operand: value, ...}}' (and optionally 'reloc:')", items.file, line)
        iname = next(k for k in entry if k != "reloc")
        inst = isa.instructions.get(iname)
        if inst is None:
            raise SpecError(f"{what}: unknown instruction '{iname}'", items.file, line)
        ops = entry[iname]
        if ops is None:
            ops = LDict()
            ops.file, ops.line = entry.file, line
        if not isinstance(ops, LDict):
            raise SpecError(f"{what}: the operands of '{iname}' must be a mapping {{operand: value}}", items.file, line)
        out.append(_template_inst(inst, ops, entry, line, what, isa, offered, used))
    return out


def _placeholder(value: Any) -> str | None:
    return value[1:] if isinstance(value, str) and value.startswith("$") else None


def _template_inst(inst: Any, ops: LDict, entry: LDict, line: int, what: str, isa: ISA, offered: dict[str, str], used: dict[str, str]) -> TemplateInst:
    names = [o.name for o in inst.operands]
    for k in ops:
        if k not in names and k not in inst.params:
            raise ops.error(f"{what}: '{inst.name}' has no operand or param '{k}' (it has {', '.join(names + list(inst.params)) or 'none'})", k)
    params: dict[str, int] = {}
    for p, allowed in inst.params.items():
        if p not in ops:
            raise SpecError(f"{what}: '{inst.name}' needs the param '{p}' (one of {', '.join(map(str, allowed))})", ops.file, line)
        v = ops[p]
        if not isinstance(v, int) or isinstance(v, bool) or v not in allowed:
            raise ops.error(f"{what}: param {p} of '{inst.name}' must be one of {', '.join(map(str, allowed))}, not {describe(v)}", p)
        params[p] = v
    variant = next(v for v in inst.variants if v.params == params)
    reloc = None
    if "reloc" in entry:
        rd = sch.expect_map(entry, "reloc", f"{what}: reloc")
        sch.check_keys(rd, ("kind", "from_end"), f"{what}: reloc", required=("kind", "from_end"))
        kind = rd["kind"]
        if kind not in isa.relocations:
            raise rd.error(f"{what}: reloc: '{kind}' is not a relocation of abi.yaml ({', '.join(isa.relocations)})", "kind")
        reloc = (kind, sch.expect_int(rd, "from_end", f"{what}: reloc: from_end", isa.relocations[kind].size))
    args: dict[str, TArg] = {}
    symbol_in_imm = False

    def use(name: str, kind: str, key: Any, where: LDict) -> TArg:
        have = offered.get(name)
        if have is None:
            raise where.error(f"{what}: no placeholder '${name}' here (this template offers {', '.join('$' + p for p in offered) or 'none'})", key)
        ok = {"reg": ("reg",), "imm": ("imm", "slot", "symbol"), "label": ("label", "symbol")}[kind]
        if have not in ok:
            raise where.error(f"{what}: '${name}' is a {have} placeholder but '{key}' of '{inst.name}' is a {kind} operand", key)
        used[name] = have
        return TArg("ph", name)

    def reg(value: Any, cls: str, key: Any, where: LDict) -> TArg:
        ph = _placeholder(value)
        if ph is not None:
            return use(ph, "reg", key, where)
        r = isa.registers.get(value) if isinstance(value, str) else None
        if r is None:
            raise where.error(f"{what}: operand '{key}' of '{inst.name}' is a register: give a register name or a placeholder, not {describe(value)}", key)
        if r.regclass != cls:
            raise where.error(f"{what}: '{value}' is a {r.regclass} register but '{key}' of '{inst.name}' takes {cls}", key)
        return TArg("reg", value)

    def imm(value: Any, kind: Any, key: Any, where: LDict) -> TArg:
        nonlocal symbol_in_imm
        ph = _placeholder(value)
        if ph is not None:
            a = use(ph, "imm", key, where)
            if offered[ph] == "symbol":
                if reloc is None:
                    raise where.error(f"{what}: '${ph}' is a symbol: an immediate holding it needs 'reloc: {{kind, from_end}}' on the entry", key)
                symbol_in_imm = True
            return a
        if not isinstance(value, int) or isinstance(value, bool) or not kind.fits(value):
            raise where.error(f"{what}: '{key}' of '{inst.name}' is an immediate ({kind.text}): {describe(value)} does not fit", key)
        return TArg("int", value)

    for o in inst.operands:
        if o.name not in ops:
            if o.kind == "reg" and o.fixed:
                args[o.name] = TArg("reg", o.fixed)
                continue
            raise SpecError(f"{what}: '{inst.name}' needs the operand '{o.name}'", ops.file, line)
        value = ops[o.name]
        if o.kind == "reg":
            a = reg(value, o.regclass, o.name, ops)
            if o.fixed and not (a.kind == "reg" and a.value == o.fixed):
                raise ops.error(f"{what}: operand '{o.name}' of '{inst.name}' is fixed to {o.fixed}", o.name)
            args[o.name] = a
        elif o.kind == "imm":
            args[o.name] = imm(value, o.imm, o.name, ops)
        elif o.kind == "label":
            ph = _placeholder(value)
            if ph is None:
                raise ops.error(f"{what}: operand '{o.name}' of '{inst.name}' is a label: give a placeholder", o.name)
            args[o.name] = use(ph, "label", o.name, ops)
            if offered[ph] == "symbol" and not any(r.label_field for r in isa.relocations.values()):
                raise ops.error(f"{what}: '${ph}' is a symbol in a label operand: a relocation of abi.yaml needs a label_field", o.name)
        elif o.kind == "enum":
            ev = isa.enums[o.enum].value(value) if isinstance(value, str) else None
            if ev is None:
                raise ops.error(f"{what}: operand '{o.name}' of '{inst.name}' is a '{o.enum}': give one of {', '.join(v.name for v in isa.enums[o.enum].values)}", o.name)
            args[o.name] = TArg("enum", ev.encoding)
        elif o.kind == "trapcode":
            from heron.meta.irtypes import is_trap_code

            if not isinstance(value, str) or not is_trap_code(value):
                raise ops.error(f"{what}: operand '{o.name}' of '{inst.name}' is a trap code, not {describe(value)}", o.name)
            args[o.name] = TArg("trapcode", value)
        else:  # memory
            form = isa.addressing[o.mem]
            if not isinstance(value, LDict):
                raise ops.error(f"{what}: operand '{o.name}' of '{inst.name}' is a memory operand: give its fields {{{', '.join(f.name for f in form.fields)}}}", o.name)
            for k in value:
                if k not in [f.name for f in form.fields]:
                    raise value.error(f"{what}: addressing form '{form.name}' has no field '{k}'", k)
            fields: list[tuple[str, TArg | None]] = []
            for f in form.fields:
                if f.name not in value:
                    if f.optional:
                        fields.append((f.name, None))
                    elif f.default is not None:
                        fields.append((f.name, TArg("int", f.default)))
                    else:
                        raise value.error(f"{what}: missing field '{f.name}' of addressing form '{form.name}'")
                elif f.kind == "reg":
                    fields.append((f.name, reg(value[f.name], f.regclass, f.name, value)))
                else:
                    fields.append((f.name, imm(value[f.name], f.imm, f.name, value)))
            args[o.name] = TArg("mem", tuple(fields))
    if reloc is not None and not symbol_in_imm:
        raise SpecError(f"{what}: 'reloc' is given but no immediate of '{inst.name}' holds a symbol placeholder", entry.file, entry.value_line("reloc"))
    return TemplateInst(variant, args, reloc, line)


def _check_template_flags(isa: ISA, td: LDict) -> None:
    """An instruction's framework role must not contradict its use by rules: a call
    template's instructions are calls (they clobber every caller-saved register), so no
    rule may emit them."""
    calls = {ti.variant.name for n in ("call", "call_indirect") for body in isa.templates[n].bodies.values() for ti in body}
    for rule in isa.rules.values():
        for inst in rule.instances[:1]:
            for e in inst.emits:
                if e.variant.name in calls:
                    raise td.error(f"templates: '{e.variant.name}' is a call instruction (call templates) and rule '{rule.name}' emits it", "call")
