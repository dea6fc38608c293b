"""Load ``rules.yaml``: value classes and lowering rules, instantiated per claimed type.

Each rule is checked once per entry of its ``types``: the pattern is typed (every
pattern node gets its type bindings and its IR semantics), the predicate and the
``let`` expressions are typed, and every emitted instruction is resolved to a variant
with its operands bound (registers to pattern values, results and temporaries;
immediates to typed expressions).  The resulting :class:`RuleInstance` records are what
the verifier proves and what the renderer turns into matchers.

Example::

    >>> from heron.meta.isa import load_isa
    >>> rule = load_isa("x86_64").rules["brif_icmp"]
    >>> inst = rule.instances[2]
    >>> inst.label, [n.opcode for n in inst.nodes], inst.enum_vars[0][2][:3]
    ('x=i32', ['icmp', 'brif'], ('eq', 'ne', 'slt'))
    >>> [(e.variant.name, e.args["cc"] if "cc" in e.args else None) for e in inst.emits][1]
    ('jcc', EnumArg(value=None, map='CC', var='cond'))
"""

from __future__ import annotations

import re
import weakref
from typing import Any

from heron.errors import SpecError
from heron.meta.dsl.check import BV, EnumImm, Kind, TrapCodeImm, WidthOnly, check_expression
from heron.meta.dsl.irsem import IRSemantics
from heron.meta.dsl.parser import parse_expression
from heron.meta.dsl import typed as t
from heron.meta.irtypes import IRType, ir_type, is_trap_code
from heron.meta.isa import schema as sch
from heron.meta.isa.model import (
    ISA,
    EmitInst,
    EnumArg,
    ImmArg,
    LabelArg,
    MemArg,
    NodeInst,
    PatNode,
    PatVar,
    PatWild,
    RegArg,
    Rule,
    RuleInstance,
    TrapArg,
)
from heron.meta.patterns import (
    DESTINATION_KINDS,
    check_pattern,
    enum_of_kind,
    iter_nodes,
    literal_of,
    parse_pattern,
    pattern_args,
    product_types,
    solve_types,
)
from heron.meta.yamlload import LDict, LList, describe

__all__ = ["RULES_FILE_KEYS", "RULE_KEYS", "VALUE_CLASS_KINDS", "load_rules", "value_class"]

RULES_FILE_KEYS = ("value_classes", "rules")
RULE_KEYS = ("doc", "unproven", "match", "types", "when", "priority", "let", "maps", "emit")
VALUE_CLASS_KINDS = ("int", "float", "vector")
_LET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_VALUE_NAME = re.compile(r"^([a-z][a-z0-9_]*)(?:\.(lo|hi))?$")
_MAP_REF = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\[([a-z_][a-z0-9_]*)\]$")
_RESERVED = frozenset({"width", "then", "else", "_"})


_PROGRAMS: weakref.WeakKeyDictionary[IRSemantics, dict[Any, Any]] = weakref.WeakKeyDictionary()


def _ir_program(ir: IRSemantics, opcode: str, bindings: dict[str, IRType]) -> Any:
    """An opcode's typed semantics at a binding, instantiated once per IR spec."""
    cache = _PROGRAMS.setdefault(ir, {})
    key = (opcode, tuple((k, t.name) for k, t in bindings.items()))
    if key not in cache:
        cache[key] = ir.program(opcode, bindings)
    return cache[key]


def value_class(isa: ISA, ty: IRType) -> str | None:
    """The register class of IR values of type ``ty`` (value_classes), or None."""
    kind = "vector" if ty.is_vector else "float" if ty.is_float else "int"
    return isa.value_classes.get(kind)


def load_rules(doc: Any, isa: ISA, ir: IRSemantics) -> None:
    if not isinstance(doc, LDict):
        raise SpecError("rules.yaml must be a mapping with the keys value_classes, rules", getattr(doc, "file", "rules.yaml"), 1)
    sch.check_keys(doc, RULES_FILE_KEYS, "rules.yaml", required=RULES_FILE_KEYS)
    vc = sch.expect_map(doc, "value_classes", "value_classes")
    sch.check_keys(vc, VALUE_CLASS_KINDS, "value_classes", required=("int",))
    for kind, cls in vc.items():
        if cls not in isa.classes:
            raise vc.error(f"value_classes: '{kind}' names unknown register class '{cls}' (expected one of {', '.join(isa.classes)})", kind)
        isa.value_classes[kind] = cls
    rules = sch.expect_map(doc, "rules", "rules")
    for name in rules:
        sch.expect_name(rules, name, "rule", name)
        isa.rules[name] = _load_rule(name, rules, isa, ir)


def _load_rule(name: str, parent: LDict, isa: ISA, ir: IRSemantics) -> Rule:
    what = f"rule '{name}'"
    body = sch.expect_map(parent, name, what)
    sch.check_keys(body, RULE_KEYS, what, required=("doc", "match", "emit"))
    text = sch.expect_str(body, "match", f"{what}: match")
    pattern = parse_pattern(text, body.file, body.value_line("match"))
    check_pattern(pattern, ir.spec, body.file, body.value_line("match"), text)
    when = None
    if "when" in body:
        when = body["when"]
        if not isinstance(when, str):
            raise body.error(f"{what}: when must be a predicate (a string), found {describe(when)}", "when")
    priority = sch.expect_int(body, "priority", f"{what}: priority") if "priority" in body else 0
    lets: list[tuple[str, str]] = []
    if "let" in body:
        ld = sch.expect_map(body, "let", f"{what}: let")
        for k, v in ld.items():
            if not isinstance(k, str) or not _LET_NAME.match(k) or k in _RESERVED:
                raise ld.error(f"{what}: let name '{k}' must be an identifier other than {', '.join(sorted(_RESERVED))}", k)
            if not isinstance(v, (str, int)) or isinstance(v, bool):
                raise ld.error(f"{what}: let '{k}' must be an expression, found {describe(v)}", k)
            lets.append((k, str(v)))
    maps: dict[str, dict[str, str]] = {}
    if "maps" in body:
        md = sch.expect_map(body, "maps", f"{what}: maps")
        for k in md:
            if not isinstance(k, str) or not _LET_NAME.match(k):
                raise md.error(f"{what}: map name '{k}' must be an identifier", k)
            table = sch.expect_map(md, k, f"{what}: map '{k}'")
            maps[k] = {str(a): (None if b is None else str(b)) for a, b in table.items()}
    unproven = None
    if "unproven" in body:
        unproven = body["unproven"]
        if not isinstance(unproven, str) or not unproven.strip():
            raise body.error(f"{what}: unproven must say why the rule cannot be proven (a non-empty string)", "unproven")
    rule = Rule(name, sch.expect_str(body, "doc", f"{what}: doc"), text, pattern, when, priority, lets, maps, parent.key_line(name), parent.file, body, unproven=unproven)
    for label, given, root_type, line in _type_entries(rule, body, ir):
        solutions = solve_types(pattern, ir, given, root_type)
        if not solutions:
            raise _Instantiator(rule, body, isa, ir, label, line).error(_no_typing(pattern, ir, given, root_type))
        for typing, full in zip(solutions, _labels(label, given, solutions)):
            rule.instances.append(_Instantiator(rule, body, isa, ir, full, line).build(typing))
    _check_maps_used(rule, body)
    return rule


def _type_entries(rule: Rule, body: LDict, ir: IRSemantics) -> list[tuple[str, dict[str, str], str | None, int]]:
    """(label, given types, root type, line) per claimed typing."""
    what = f"rule '{rule.name}'"
    root_op = ir.ops[rule.pattern.opcode]
    if "types" not in body:
        if root_op.typevars:
            raise body.error(f"{what}: missing 'types' (the types the rule claims: a list of type names or of mappings)")
        return [("untyped", {}, None, body.line)]
    types = body["types"]
    names = _pattern_names(rule.pattern, ir)
    out: list[tuple[str, dict[str, str], str | None, int]] = []

    def check_type(tname: Any, where: LDict | LList, key: Any) -> str:
        ty = ir_type(tname) if isinstance(tname, str) else None
        if ty is None or ty.is_vector:
            raise SpecError(f"{what}: types: '{tname}' is not a scalar IR type", where.file, sch.line_of(where, key))
        return tname

    def mapping(m: LDict, line: int) -> None:
        for k, v in m.items():
            if k not in names:
                raise m.error(f"{what}: types: '{k}' is neither a value variable of the pattern nor a result ({', '.join(sorted(names))})", k)
            if isinstance(v, LList):
                for i in range(len(v)):
                    check_type(v[i], v, i)
            else:
                check_type(v, m, k)
        for given in product_types({k: list(v) if isinstance(v, LList) else v for k, v in m.items()}):
            out.append((", ".join(f"{k}={v}" for k, v in given.items()), given, None, line))

    if isinstance(types, LDict):
        mapping(types, body.value_line("types"))
    elif isinstance(types, LList) and types:
        for i, entry in enumerate(types):
            if isinstance(entry, LDict):
                mapping(entry, types.item_line(i))
            else:
                if root_op.ctrl is None:
                    raise types.error(f"{what}: '{rule.pattern.opcode}' has no controlling type; give types as mappings", i)
                out.append((check_type(entry, types, i), {}, entry, types.item_line(i)))
    else:
        raise body.error(f"{what}: types must be a list of type names or mappings, or a mapping", "types")
    return out


def _labels(label: str, given: dict[str, str], solutions: list[Any]) -> list[str]:
    """One label per typing: the types entry, plus what the typings that it leaves open
    differ in (a variable's type, else a nested node's type variable)."""
    if len(solutions) == 1:
        return [label]
    extra: list[list[str]] = [[] for _ in solutions]
    for name in solutions[0].var_types:
        if name not in given and len({s.var_types[name] for s in solutions}) > 1:
            for k, s in enumerate(solutions):
                extra[k].append(f"{name}={s.var_types[name].name}")
    if len({tuple(e) for e in extra}) < len(solutions):
        for i, nt in enumerate(solutions[0].nodes):
            for tv in nt.bindings:
                if len({s.nodes[i].bindings[tv] for s in solutions}) > 1:
                    for k, s in enumerate(solutions):
                        extra[k].append(f"{nt.opcode}.{tv}={s.nodes[i].bindings[tv].name}")
    return [f"{label} ({', '.join(e)})" for e in extra]


def _no_typing(root: PatNode, ir: IRSemantics, given: dict[str, str], root_type: str | None) -> str:
    op = ir.ops[root.opcode]
    if root_type is not None:
        allowed = op.typevars.get(op.ctrl, ())
        if root_type not in allowed:
            return f"type {root_type} is not in {root.opcode}'s type set for {op.ctrl} ({', '.join(allowed)})"
    free = solve_types(root, ir, {}, None)
    for name, ty in given.items():
        if name.startswith("out") and name not in {v for s in free for v in s.var_types}:
            can = {t.name for s in free for t in s.result_types}
        else:
            can = {s.var_types[name].name for s in free if name in s.var_types}
        if ty not in can:
            return f"'{name}' cannot have type {ty} in this pattern (it can be {', '.join(sorted(can, key=_bits)) or 'nothing'})"
    return "no typing of the pattern agrees with this types entry"


def _bits(name: str) -> tuple[int, str]:
    t = ir_type(name)
    return (t.bits if t else 0, name)


def _pattern_names(root: PatNode, ir: IRSemantics) -> set[str]:
    names: set[str] = set()
    for n in iter_nodes(root):
        for _, kind, a in pattern_args(n, ir.spec):
            if kind == "value" and isinstance(a, PatVar):
                names.add(a.name)
    results = ir.ops[root.opcode].results
    names |= {"out"} if len(results) == 1 else {f"out{i}" for i in range(len(results))}
    return names


def _check_maps_used(rule: Rule, body: LDict) -> None:
    used = set()
    for inst in rule.instances:
        for e in inst.emits:
            for a in e.args.values():
                if isinstance(a, EnumArg) and a.map:
                    used.add(a.map)
    for m in rule.maps:
        if m not in used:
            raise body["maps"].error(f"rule '{rule.name}': map '{m}' is never used (write {m}[var] as an enum operand)", m)


class _Instantiator:
    """Builds one RuleInstance; every error names the rule and the typing."""

    def __init__(self, rule: Rule, body: LDict, isa: ISA, ir: IRSemantics, label: str, line: int) -> None:
        self.rule, self.body, self.isa, self.ir, self.label, self.line = rule, body, isa, ir, label, line
        self.spec = ir.spec

    def error(self, message: str, line: int | None = None) -> SpecError:
        return SpecError(f"rule '{self.rule.name}' at {self.label}: {message}", self.body.file, line or self.line)

    # -- typing ------------------------------------------------------------------------------
    def build(self, typing: Any) -> RuleInstance:
        root_op = self.ir.ops[self.rule.pattern.opcode]
        self.width = typing.nodes[0].bindings[root_op.ctrl].bits if root_op.ctrl else 0
        self.nodes, self.imm_vars = self._nodes(typing)
        self.value_vars = typing.var_types
        results = [r for r, _ in root_op.results]
        self.results = [("out" if len(results) == 1 else f"out{i}", r, typing.result_types[i]) for i, r in enumerate(results)]
        self.parts: dict[str, int] = {}
        for name, ty in list(self.value_vars.items()) + [(o, ty) for o, _, ty in self.results]:
            self.parts[name] = self._parts(name, ty)
        self.consts: dict[str, int] = {"width": self.width}
        self.bv_inputs: dict[str, Kind] = {n: k for n, k in self.imm_vars.items() if isinstance(k, BV)}
        # The pattern's values are known by their widths only: `width(x)`, `width(out)`.
        self.shapes: dict[str, Kind] = {n: WidthOnly(BV(ty.bits)) for n, ty in self.value_vars.items()}
        self.shapes.update({o: WidthOnly(BV(ty.bits)) for o, _, ty in self.results})
        when = self._when()
        lets = self._lets()
        self.is_branch = "branch" in root_op.flags
        self.destinations = [f.name for f in self.spec.formats[root_op.format].fields if f.kind in DESTINATION_KINDS]
        emits = self._emits()
        enum_vars = [(n, k.enum, self._mapped_values(n, k)) for n, k in self.imm_vars.items() if isinstance(k, EnumImm)]
        return RuleInstance(
            rule=self.rule,
            label=self.label,
            width=self.width,
            nodes=self.nodes,
            value_vars=self.value_vars,
            imm_vars=self.imm_vars,
            results=self.results,
            when=when,
            lets=lets,
            emits=emits,
            enum_vars=enum_vars,
            is_branch=self.is_branch,
            parts=self.parts,
            destinations=self.destinations,
        )

    def _parts(self, name: str, ty: IRType) -> int:
        cls = value_class(self.isa, ty)
        if cls is None:
            raise self.error(f"'{name}' has type {ty.name} but value_classes gives no register class for its kind")
        bits = self.isa.classes[cls].bits
        n = -(-ty.bits // bits)
        if n > 2:
            raise self.error(f"'{name}' ({ty.name}) needs {n} registers of class {cls}; at most a lo/hi pair is supported")
        return n

    def _nodes(self, typing: Any) -> tuple[list[NodeInst], dict[str, Kind]]:
        pre = typing.nodes
        index = {id(nt.node): i for i, nt in enumerate(pre)}
        imm_vars: dict[str, Kind] = {}
        insts: dict[int, NodeInst] = {}
        order: list[int] = []

        def visit(i: int) -> None:
            nt = pre[i]
            for _, _, a in pattern_args(nt.node, self.spec):
                if isinstance(a, PatNode):
                    visit(index[id(a)])
            order.append(i)

        visit(0)
        post = {i: k for k, i in enumerate(order)}
        for i in order:
            nt = pre[i]
            prog = _ir_program(self.ir, nt.opcode, nt.bindings)
            kinds = dict(prog.inputs)
            inputs: dict[str, tuple[str, Any]] = {}
            for env, kind, a in pattern_args(nt.node, self.spec):
                if env not in kinds:
                    continue  # an immediate the semantics does not read
                lit = literal_of(a, kind, self.spec) if kind != "value" else None
                if isinstance(a, PatNode):
                    inputs[env] = ("node", post[index[id(a)]])
                elif lit is not None:
                    value = lit.value
                    if isinstance(value, str) and enum_of_kind(kind):
                        value = [v.name for v in self.spec.enums[enum_of_kind(kind)].values].index(value)
                    inputs[env] = ("lit", value)
                elif isinstance(a, PatWild):
                    inputs[env] = ("wild", f"_{nt.opcode}{i}_{env}")
                else:
                    assert isinstance(a, PatVar)
                    if kind != "value":
                        if a.name in typing.var_types:
                            raise self.error(f"'{a.name}' is used both as a value and as an immediate")
                        prev = imm_vars.setdefault(a.name, kinds[env])
                        if prev != kinds[env]:
                            raise self.error(f"immediate '{a.name}' is bound to immediates of different kinds")
                        if a.name in _RESERVED:
                            raise self.error(f"'{a.name}' is reserved and cannot be a pattern variable")
                    elif a.name in _RESERVED or a.name.startswith("out"):
                        raise self.error(f"'{a.name}' is reserved and cannot be a pattern variable")
                    inputs[env] = ("var", a.name)
            insts[i] = NodeInst(nt.node, nt.opcode, nt.bindings, prog, inputs, [nt.types[r] for r, _ in self.ir.ops[nt.opcode].results])
        return [insts[i] for i in order], imm_vars

    # -- predicate and lets ------------------------------------------------------------------------
    def _expr(self, text: Any, key_line: int, what: str, want: int | None = None) -> int | t.TExpr:
        if isinstance(text, int) and not isinstance(text, bool):
            return text
        if not isinstance(text, str):
            raise self.error(f"{what} must be an expression, found {describe(text)}", key_line)
        expr, source = parse_expression(text, self.body.file, key_line)
        try:
            return check_expression(expr, source, {**self.shapes, **self.bv_inputs}, self.consts, want)
        except SpecError as err:
            raise SpecError(f"rule '{self.rule.name}' at {self.label}: {what}: {err.message}", err.location.file, err.location.line) from None

    def _when(self) -> t.TExpr | None:
        if self.rule.when is None:
            return None
        line = self.body.value_line("when")
        value = self._expr(self.rule.when, line, "when")
        if isinstance(value, int):
            if value == 0:
                raise self.error("when is false at this type: the rule never applies (drop the type)", line)
            return None
        if value.width != 1:
            raise self.error(f"when must be 1 bit wide (a comparison), not {value.width} bits", line)
        return value

    def _lets(self) -> dict[str, int | t.TExpr]:
        out: dict[str, int | t.TExpr] = {}
        ld = self.body.get("let")
        for name, text in self.rule.lets:
            if name in self.value_vars or name in self.imm_vars:
                raise self.error(f"let '{name}' hides a pattern variable", ld.key_line(name))
            value = self._expr(ld[name], ld.value_line(name), f"let '{name}'")
            out[name] = value
            if isinstance(value, int):
                self.consts[name] = value
            else:
                self.bv_inputs[name] = BV(value.width)
        return out

    # -- emitted instructions ----------------------------------------------------------------------------
    def _emits(self) -> list[EmitInst]:
        emit = self.body["emit"]
        if not isinstance(emit, LList) or not emit:
            raise self.body.error(f"rule '{self.rule.name}': emit must be a non-empty list of '- INSTRUCTION: {{operand: value, ...}}'", "emit")
        self.defined: dict[str, str] = {}  # register value key -> class
        self.map_uses: set[tuple[str, str]] = set()  # (map, enum variable)
        out: list[EmitInst] = []
        seen_branch = False
        for i, entry in enumerate(emit):
            line = emit.item_line(i)
            if not isinstance(entry, LDict) or len(entry) != 1:
                raise self.error("each emit entry is one '- INSTRUCTION: {operand: value, ...}'", line)
            [(iname, ops)] = entry.items()
            inst = self.isa.instructions.get(iname)
            if inst is None:
                raise self.error(f"unknown instruction '{iname}'", line)
            if ops is None:
                ops = LDict()
                ops.file, ops.line = entry.file, line
            if not isinstance(ops, LDict):
                raise self.error(f"the operands of '{iname}' must be a mapping {{operand: value}}", line)
            em = self._emit_one(inst, ops, line)
            if em.variant.is_branch:
                seen_branch = True
            elif seen_branch:
                raise self.error(f"'{iname}' follows a branch; branches end the emitted sequence", line)
            out.append(em)
        for name, _, _ in self.results:
            for key in self._keys(name):
                if key not in self.defined:
                    raise self.error(f"the emitted instructions never define '{key}'", self.body.value_line("emit"))
        if self.is_branch and not seen_branch:
            raise self.error(f"'{self.rule.pattern.opcode}' is a branch: the sequence must end with branch instructions to {', '.join(self.destinations)}")
        return out

    def _mapped_values(self, var: str, kind: EnumImm) -> tuple[str, ...]:
        """The IR enum values the rule applies to: those every map read with ``var`` maps
        (an entry `~` says the rule does not apply to that value)."""
        tables = [self.rule.maps[m] for m, v in self.map_uses if v == var]
        values = tuple(v[0] for v in kind.values if all(t[v[0]] is not None for t in tables))
        if not values:
            raise self.error(f"the maps read with '{var}' leave no {kind.enum} value the rule applies to")
        return values

    def _keys(self, name: str) -> list[str]:
        return [name] if self.parts.get(name, 1) == 1 else [f"{name}.lo", f"{name}.hi"]

    def _emit_one(self, inst: Any, ops: LDict, line: int) -> EmitInst:
        names = [o.name for o in inst.operands]
        for k in ops:
            if k not in names and k not in inst.params:
                have = ", ".join(names + list(inst.params)) or "none"
                raise self.error(f"'{inst.name}' has no operand or param '{k}' (it has {have})", ops.key_line(k))
        params: dict[str, int] = {}
        for p, allowed in inst.params.items():
            if p not in ops:
                raise self.error(f"'{inst.name}' needs the param '{p}' (one of {', '.join(map(str, allowed))})", line)
            value = self._expr(ops[p], ops.value_line(p), f"param '{p}' of '{inst.name}'")
            if not isinstance(value, int):
                raise self.error(f"param '{p}' of '{inst.name}' must be a compile-time value (over width and compile-time lets)", ops.value_line(p))
            if value not in allowed:
                raise self.error(f"param {p} = {value} is not one of {inst.name}'s values ({', '.join(map(str, allowed))})", ops.value_line(p))
            params[p] = value
        variant = next(v for v in inst.variants if v.params == params)
        for o in inst.operands:
            if o.name not in ops:
                raise self.error(f"'{inst.name}' needs the operand '{o.name}'", line)
        args: dict[str, Any] = {}
        defs = []
        for o in inst.operands:  # uses first: a def is visible to later instructions only
            if o.kind == "reg" and o.is_def:
                defs.append(o)
                continue
            args[o.name] = self._operand(inst, o, ops, line)
        for o in defs:
            args[o.name] = self._reg(inst, o, ops[o.name], ops.value_line(o.name), True)
        return EmitInst(variant, {o.name: args[o.name] for o in inst.operands}, line)

    def _operand(self, inst: Any, o: Any, ops: LDict, line: int) -> Any:
        value = ops[o.name]
        vline = ops.value_line(o.name)
        where = f"operand '{o.name}' of '{inst.name}'"
        if o.kind == "reg":
            return self._reg(inst, o, value, vline, False)
        if o.kind == "imm":
            return self._imm(value, o.imm, vline, where)
        if o.kind == "mem":
            return self._mem(inst, o, value, vline, where)
        if o.kind == "enum":
            return self._enum(o, value, vline, where)
        if o.kind == "label":
            if not self.is_branch or value not in self.destinations:
                dests = ", ".join(self.destinations) if self.is_branch else f"none: '{self.rule.pattern.opcode}' is not a branch"
                raise self.error(f"{where} is a label: give a destination of the root branch ({dests})", vline)
            return LabelArg(value)
        # trapcode
        if isinstance(value, str) and isinstance(self.imm_vars.get(value), TrapCodeImm):
            return TrapArg(var=value)
        if isinstance(value, str) and is_trap_code(value):
            return TrapArg(code=value)
        raise self.error(f"{where} is a trap code: give a trap code (int_divz, heap_oob, user1...) or a trapcode variable, not {describe(value)}", vline)

    def _reg(self, inst: Any, o: Any, value: Any, vline: int, is_def: bool, regclass: str | None = None) -> RegArg:
        where = f"operand '{o.name}' of '{inst.name}'"
        cls = regclass or o.regclass
        m = _VALUE_NAME.match(value) if isinstance(value, str) else None
        if m is None:
            raise self.error(f"{where} is a register: give a value name (a pattern variable, out, a temporary), not {describe(value)}", vline)
        name, part = m.group(1), m.group(2)
        if name in self.imm_vars or name in self.bv_inputs or name in self.consts:
            raise self.error(f"{where} is a register but '{name}' is an immediate", vline)
        if name in _RESERVED:
            raise self.error(f"{where}: '{name}' is reserved", vline)
        result_names = {r for r, _, _ in self.results}
        if name in self.value_vars or name in result_names:
            role = "leaf" if name in self.value_vars else "result"
            ty = self.value_vars[name] if role == "leaf" else next(ty for r, _, ty in self.results if r == name)
            n = self.parts[name]
            if n == 2 and part is None:
                raise self.error(f"{where}: '{name}' ({ty.name}) is a register pair; write {name}.lo or {name}.hi", vline)
            if n == 1 and part is not None:
                raise self.error(f"{where}: '{name}' ({ty.name}) is one register; '{value}' has no halves", vline)
            vcls = value_class(self.isa, ty)
            if vcls != cls:
                raise self.error(f"{where} is a {cls} register but '{name}' ({ty.name}) lives in class {vcls}", vline)
            if role == "leaf" and is_def:
                raise self.error(f"{where} is a def but '{name}' is an input of the rule; define out or a temporary", vline)
        else:
            if part is not None:
                raise self.error(f"{where}: the temporary '{name}' has no halves", vline)
            role = "temp"
        key = value
        if role != "leaf":
            if is_def:
                if key in self.defined:
                    raise self.error(f"{where}: '{key}' is defined twice (values are defined once)", vline)
                self.defined[key] = cls
            else:
                if key not in self.defined:
                    raise self.error(f"{where}: '{key}' is used before an instruction defines it", vline)
                if self.defined[key] != cls:
                    raise self.error(f"{where} is a {cls} register but '{key}' is a {self.defined[key]} register", vline)
        return RegArg(name, role, part)

    def _imm(self, value: Any, kind: Any, vline: int, where: str) -> ImmArg:
        expr = self._expr(value, vline, where, kind.bits)
        if isinstance(expr, int) and not kind.fits(expr):
            raise self.error(f"{where}: {expr} does not fit the immediate kind {kind.text}", vline)
        return ImmArg(expr, kind.bits, str(value))

    def _mem(self, inst: Any, o: Any, value: Any, vline: int, where: str) -> MemArg:
        form = self.isa.addressing[o.mem]
        if not isinstance(value, LDict):
            raise self.error(f"{where} is a memory operand: give its fields {{{', '.join(f.name for f in form.fields)}}}", vline)
        for k in value:
            if k not in [f.name for f in form.fields]:
                raise self.error(f"{where}: addressing form '{form.name}' has no field '{k}'", value.key_line(k))
        fields = []
        for f in form.fields:
            if f.name not in value:
                if f.optional:
                    fields.append((f.name, None))
                    continue
                if f.default is not None:
                    fields.append((f.name, ImmArg(f.default, f.imm.bits, str(f.default))))
                    continue
                raise self.error(f"{where}: missing field '{f.name}' of addressing form '{form.name}'", vline)
            fl = value.value_line(f.name)
            if f.kind == "reg":
                fields.append((f.name, self._reg(inst, o, value[f.name], fl, False, f.regclass)))
            else:
                fields.append((f.name, self._imm(value[f.name], f.imm, fl, f"{where}, field '{f.name}'")))
        return MemArg(form.name, tuple(fields))

    def _enum(self, o: Any, value: Any, vline: int, where: str) -> EnumArg:
        enum = self.isa.enums[o.enum]
        if isinstance(value, str) and enum.value(value) is not None:
            return EnumArg(value=value)
        m = _MAP_REF.match(value) if isinstance(value, str) else None
        if m is None:
            raise self.error(f"{where} is a '{enum.name}': give one of {', '.join(v.name for v in enum.values)} or MAP[var], not {describe(value)}", vline)
        mname, var = m.groups()
        if mname not in self.rule.maps:
            raise self.error(f"{where}: no map '{mname}' in maps:", vline)
        kind = self.imm_vars.get(var)
        if not isinstance(kind, EnumImm):
            raise self.error(f"{where}: '{var}' in {mname}[{var}] must be a pattern variable bound to an IR enum immediate", vline)
        table = self.rule.maps[mname]
        maps_doc = self.body["maps"][mname]
        ir_values = [v[0] for v in kind.values]
        for k in table:
            if k not in ir_values:
                raise SpecError(f"rule '{self.rule.name}': map '{mname}': '{k}' is not a value of {kind.enum} ({', '.join(ir_values)})", maps_doc.file, maps_doc.key_line(k))
        missing = [v for v in ir_values if v not in table]
        if missing:
            raise SpecError(f"rule '{self.rule.name}': map '{mname}' has no entry for {kind.enum} value{'s' if len(missing) > 1 else ''} {', '.join(missing)}", maps_doc.file, maps_doc.line)
        for k, v in table.items():
            if v is not None and enum.value(v) is None:
                raise SpecError(f"rule '{self.rule.name}': map '{mname}': '{v}' is not a value of enum '{enum.name}'", maps_doc.file, maps_doc.value_line(k))
        self.map_uses.add((mname, var))
        return EnumArg(map=mname, var=var)
