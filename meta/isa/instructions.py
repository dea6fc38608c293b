"""Load ``instructions.yaml``: every machine instruction, expanded into its variants.

An instruction with ``params: {size: [32, 64]}`` has the variants ``NAME.32`` and
``NAME.64``; each variant has its own typed semantics (params are compile-time
constants), its own encoding string (the one whose condition holds) parsed and bound
by the ISA's notation, and the asm sizes of its operands.

The semantics environment of a variant (isa_specs/README.md, "instructions.yaml"):
register uses are inputs of their class's width and defs are outputs; immediates are
inputs of their kind's width; a memory operand ``m`` is ``addr(m)``; an enum operand
is called like a function without arguments (``cc()``) and reads the state; every state
name is an input and may be assigned once (reads before the assignment see the incoming
value); an instruction with a label operand assigns ``taken``; ``trap cond : code``
names an IR trap code, a trapcode operand, or ``fault`` (a hardware exception).

Example::

    >>> from heron.meta.isa import load_isa
    >>> div = load_isa("x86_64").variant("div.64")
    >>> [(n, getattr(k, "width", k)) for n, k in div.program.inputs][:5], div.program.outputs[:2]
    ([('lo', 64), ('hi', 64), ('divisor', 64), ('CF', 1), ('ZF', 1)], (('quot', 64), ('rem', 64)))
    >>> [t.code for t in div.program.stmts if type(t).__name__ == "Trap"]
    ['fault', 'fault']
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from heron.errors import SpecError
from heron.meta.dsl.check import BV, Kind, MemAddr, TrapCodeImm, check_expression, instantiate
from heron.meta.dsl.parser import parse_expression, parse_semantics
from heron.meta.isa import schema as sch
from heron.meta.isa.machine import parse_imm_kind
from heron.meta.isa.model import ISA, Instruction, Operand, Variant
from heron.meta.yamlload import LDict, describe

__all__ = ["INSTRUCTION_KEYS", "OPERAND_KEYS", "load_instructions", "FAULT"]

INSTRUCTION_KEYS = ("doc", "params", "operands", "clobbers", "encoding", "fields", "asm", "semantics")
OPERAND_KEYS = {
    "reg": ("reg", "size", "def", "early", "reuse", "fixed"),
    "imm": ("imm",),
    "mem": ("mem", "size"),
    "label": ("label",),
    "enum": ("enum",),
    "trapcode": ("trapcode",),
}
# The trap code of a hardware exception (x86 #DE): no IR trap has it, so a rule whose
# machine code can raise it where the IR does not trap (or traps otherwise) is refuted.
FAULT = "fault"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def load_instructions(doc: Any, isa: ISA) -> None:
    if not isinstance(doc, LDict):
        raise SpecError("instructions.yaml must be a mapping with the key instructions", getattr(doc, "file", "instructions.yaml"), 1)
    sch.check_keys(doc, ("instructions",), "instructions.yaml", required=("instructions",))
    body = sch.expect_map(doc, "instructions", "instructions")
    for name in body:
        sch.expect_name(body, name, "instruction", name)
        isa.instructions[name] = _load_instruction(name, body, isa)


def _load_instruction(name: str, parent: LDict, isa: ISA) -> Instruction:
    what = f"instruction '{name}'"
    body = sch.expect_map(parent, name, what)
    sch.check_keys(body, INSTRUCTION_KEYS, what, required=("doc", "encoding", "asm", "semantics"))
    params: dict[str, tuple[int, ...]] = {}
    if "params" in body:
        pdoc = sch.expect_map(body, "params", f"{what}: params")
        for p in pdoc:
            sch.expect_name(pdoc, p, "param", p)
            values = pdoc[p]
            if not isinstance(values, list) or not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                raise pdoc.error(f"{what}: param '{p}' must be a non-empty list of integers", p)
            params[p] = tuple(values)
    operands = _load_operands(body, what, isa, params) if "operands" in body else []
    names = [o.name for o in operands]
    clashes = set(names) & set(params)
    if clashes:
        raise body.error(f"{what}: '{sorted(clashes)[0]}' is both a param and an operand", "operands")
    clobbers: list[str] = []
    if "clobbers" in body:
        cl = sch.expect_list(body, "clobbers", f"{what}: clobbers")
        for i, c in enumerate(cl):
            if c not in isa.state and c not in isa.registers:
                raise cl.error(f"{what}: clobbers '{c}', which is neither a state name nor a register", i)
            clobbers.append(c)
    fields: dict[str, str] = {}
    if "fields" in body:
        fdoc = sch.expect_map(body, "fields", f"{what}: fields")
        for f, o in fdoc.items():
            if o not in names:
                raise fdoc.error(f"{what}: field '{f}' names '{o}', which is not an operand (operands: {', '.join(names) or 'none'})", f)
            fields[str(f)] = o
    asm_doc = body["asm"]
    if isinstance(asm_doc, LDict):  # a condition over params -> text, like `encoding`
        asm_texts = [(asm_doc[c], asm_doc, c) for c in asm_doc]
        asm = str(next(iter(asm_doc.values()), ""))
    else:
        asm = sch.expect_str(body, "asm", f"{what}: asm")
        asm_texts = [(asm, body, "asm")]
    for text, where, key in asm_texts:
        if not isinstance(text, str):
            raise where.error(f"{what}: asm must be a string or a mapping from a condition over params to a string, found {describe(text)}", key)
        for m in _PLACEHOLDER.finditer(text):
            if m.group(1) not in names:
                raise where.error(f"{what}: asm placeholder '{{{m.group(1)}}}' is not an operand (column {m.start() + 1})", key)
    semantics = sch.expect_str(body, "semantics", f"{what}: semantics")
    inst = Instruction(
        name=name,
        doc=sch.expect_str(body, "doc", f"{what}: doc"),
        params=params,
        operands=operands,
        clobbers=clobbers,
        fields=fields,
        asm=asm,
        semantics=semantics,
        line=parent.key_line(name),
        file=parent.file,
        raw=body,
        isa_state=frozenset(isa.state),
    )
    for o in operands:
        if o.kind == "mem":
            inst.arg_layout.extend((o.name, f.name) for f in isa.addressing[o.mem].fields)  # type: ignore[index]
        else:
            inst.arg_layout.append((o.name, None))
    _expand_variants(inst, body, isa)
    return inst


def _load_operands(body: LDict, what: str, isa: ISA, params: dict[str, tuple[int, ...]]) -> list[Operand]:
    odoc = sch.expect_map(body, "operands", f"{what}: operands")
    out: list[Operand] = []
    for oname in odoc:
        sch.expect_name(odoc, oname, "operand", oname)
        ow = f"{what}, operand '{oname}'"
        ob = odoc[oname]
        if not isinstance(ob, LDict) or not ob or next(iter(ob)) not in OPERAND_KEYS:
            raise odoc.error(f"{ow}: an operand is a mapping whose first key is its kind ({', '.join(OPERAND_KEYS)})", oname)
        kind = next(iter(ob))
        sch.check_keys(ob, OPERAND_KEYS[kind], ow)
        op = Operand(oname, kind, line=odoc.key_line(oname))
        if kind == "reg":
            if ob["reg"] not in isa.classes:
                raise ob.error(f"{ow}: unknown register class '{ob['reg']}' (expected one of {', '.join(isa.classes)})", "reg")
            op.regclass = ob["reg"]
            is_def = sch.expect_bool(ob, "def", f"{ow}: def") if "def" in ob else False
            early = sch.expect_bool(ob, "early", f"{ow}: early") if "early" in ob else False
            if early and not is_def:
                raise ob.error(f"{ow}: early applies to a def (add def: true)", "early")
            op.access = "early" if early else ("def" if is_def else "use")
            if "fixed" in ob:
                reg = isa.registers.get(ob["fixed"])
                if reg is None:
                    raise ob.error(f"{ow}: fixed register '{ob['fixed']}' is not a register", "fixed")
                if reg.regclass != op.regclass:
                    raise ob.error(f"{ow}: fixed register '{reg.name}' is in class {reg.regclass}, not {op.regclass}", "fixed")
                op.fixed = reg.name
            if "reuse" in ob:
                if not is_def:
                    raise ob.error(f"{ow}: reuse applies to a def (the def gets the register of the use it names)", "reuse")
                op.reuse = str(ob["reuse"])
            op.size = ob.get("size")
        elif kind == "imm":
            op.imm = parse_imm_kind(ob, "imm", ow)
        elif kind == "mem":
            if ob["mem"] not in isa.addressing:
                raise ob.error(f"{ow}: unknown addressing form '{ob['mem']}' (expected one of {', '.join(isa.addressing) or 'none'})", "mem")
            op.mem = ob["mem"]
            op.size = ob.get("size")
        elif kind == "enum":
            if ob["enum"] not in isa.enums:
                raise ob.error(f"{ow}: unknown enum '{ob['enum']}' (expected one of {', '.join(isa.enums) or 'none'})", "enum")
            op.enum = ob["enum"]
        else:  # label, trapcode
            if ob[kind] is not True:
                raise ob.error(f"{ow}: write {{{kind}: true}}", kind)
        out.append(op)
    by_name = {o.name: o for o in out}
    for o in out:
        if o.reuse is not None:
            target = by_name.get(o.reuse)
            if target is None or target.kind != "reg" or target.is_def:
                raise odoc.error(f"{what}, operand '{o.name}': reuse '{o.reuse}' must name a register use of this instruction", o.name)
            if target.regclass != o.regclass:
                raise odoc.error(f"{what}, operand '{o.name}': reuse '{o.reuse}' is in class {target.regclass}, not {o.regclass}", o.name)
    return out


def _ct(text: Any, file: str, line: int, consts: dict[str, int], what: str) -> int:
    """A compile-time expression over params (an int, or DSL text)."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if not isinstance(text, str):
        raise SpecError(f"{what} must be an integer or an expression over params, found {describe(text)}", file, line)
    expr, source = parse_expression(text, file, line)
    value = check_expression(expr, source, {}, consts)
    if not isinstance(value, int):
        raise SpecError(f"{what} '{text}' must be a compile-time expression over params", file, line)
    return value


def _encoding_for(inst: Instruction, body: LDict, params: dict[str, int], vname: str, key: str = "encoding") -> tuple[str, int]:
    """The text of ``key`` (``encoding`` or ``asm``) for one variant: the string, or the
    one entry of a mapping whose condition over params holds."""
    enc = body[key]
    if isinstance(enc, str):
        return enc, body.value_line(key)
    if not isinstance(enc, LDict):
        raise body.error(f"instruction '{inst.name}': {key} must be a string or a mapping from a condition over params to a string", key)
    chosen = []
    for cond, text in enc.items():
        line = enc.key_line(cond)
        if not isinstance(text, str):
            raise enc.error(f"instruction '{inst.name}': the {key} for '{cond}' must be a string, found {describe(text)}", cond)
        if _ct(str(cond), enc.file, line, params, f"instruction '{inst.name}': {key} condition"):
            chosen.append((text, enc.value_line(cond)))
    if len(chosen) != 1:
        many = f"no {key} condition holds" if not chosen else f"several {key} conditions hold"
        raise body.error(f"instruction '{inst.name}': {many} for variant {vname}", key)
    return chosen[0]


def _expand_variants(inst: Instruction, body: LDict, isa: ISA) -> None:
    sem = parse_semantics(inst.semantics, body.file, body.value_line("semantics"))
    for stmt in sem.stmts:
        # Capitalized names are state; a misspelt one would silently become a local.
        target = getattr(stmt, "target", None)
        if target and target[0].isupper() and target not in isa.state:
            state = ", ".join(isa.state) or "none"
            raise sem.error(f"'{target}' is not a state name of this ISA (state: {state}); locals are lower-case", stmt)
    combos = list(itertools.product(*inst.params.values())) if inst.params else [()]
    for combo in combos:
        params = dict(zip(inst.params, combo))
        vname = ".".join([inst.name, *(str(v) for v in combo)])
        sizes: dict[str, int | None] = {}
        for o in inst.operands:
            if o.kind == "reg":
                size = isa.classes[o.regclass].bits if o.size is None else _ct(o.size, body.file, o.line, params, f"{vname}: size of '{o.name}'")  # type: ignore[index]
                names = _asm_sizes(isa, o.regclass)  # type: ignore[arg-type]
                if size not in names:
                    raise SpecError(
                        f"{vname}: operand '{o.name}' has size {size} but the registers of class {o.regclass} have asm names for sizes {', '.join(map(str, sorted(names)))}",
                        body.file,
                        o.line,
                    )
                sizes[o.name] = size
            elif o.kind == "mem":
                sizes[o.name] = None if o.size is None else _ct(o.size, body.file, o.line, params, f"{vname}: size of '{o.name}'")
        program = instantiate(sem, *_environment(inst, isa), consts=params, label=vname, **_state_options(isa))  # type: ignore[misc]
        text, line = _encoding_for(inst, body, params, vname)
        asm, _ = _encoding_for(inst, body, params, vname, "asm")
        variant = Variant(inst, params, vname, program, sizes, text, line, index=len(isa.variants) + len(inst.variants), asm=asm)
        variant.form = isa.notation.bind(variant, body)
        inst.variants.append(variant)


def _asm_sizes(isa: ISA, regclass: str) -> set[int]:
    for r in isa.registers.values():
        if r.regclass == regclass:
            return set(r.asm)
    return {isa.classes[regclass].bits}


def _environment(inst: Instruction, isa: ISA) -> tuple[dict[str, Kind], dict[str, BV]]:
    inputs: dict[str, Kind] = {}
    outputs: dict[str, BV] = {}
    for o in inst.operands:
        if o.kind == "reg":
            (outputs if o.is_def else inputs)[o.name] = BV(isa.classes[o.regclass].bits)  # type: ignore[index]
        elif o.kind == "imm":
            inputs[o.name] = BV(o.imm.bits)  # type: ignore[union-attr]
        elif o.kind == "mem":
            inputs[o.name] = MemAddr(isa.pointer_bits)
        elif o.kind == "enum":
            inputs[o.name] = isa.enums[o.enum].kind  # type: ignore[index]
        elif o.kind == "trapcode":
            inputs[o.name] = TrapCodeImm()
    if any(o.kind == "label" for o in inst.operands):
        outputs["taken"] = BV(1)
    for name, s in isa.state.items():
        inputs[name] = BV(s.bits)
        outputs[name] = BV(s.bits)
    return inputs, outputs


def _state_options(isa: ISA) -> dict[str, frozenset[str]]:
    state = frozenset(isa.state)
    return {"inout": state, "optional": state, "trap_codes": frozenset({FAULT})}
