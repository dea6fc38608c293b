"""Matchers: the lowering rules of an ISA as Python source (for ``generated/<isa>.py``).

Every rule becomes one function ``rule_<name>(ctx, inst, data) -> bool`` that reads like
the rule: check the root's type, look through operands to their producers
(``ctx.producer``) as the pattern nests, bind immediates, then per typing the rule
claims (instances with the same code share one arm) test ``when``, compute the lets,
take merged loads over (``ctx.sink``), fetch registers (``ctx.reg``/``regs``/``out``/
``outs``/``temp``) and emit the instructions (``ctx.emit``).  It returns False without
side effects when the rule does not apply.  Every root opcode gets one function
``lower_<opcode>`` trying its rules by priority: higher first; among equal priorities
the more specific pattern first (more nodes and literals, as ISLE prefers), then file
order.

Conventions the generated code follows (the contract with :mod:`heron.backend.lower`):

- immediates are the IR's bit patterns reduced to the DSL kind's width (``imm64``: 64
  bits, an i128 constant's sign-extended bits cut to its 64-bit source; ``offset32``: 32);
  enum immediates are indexes in ir.yaml order; trap codes and memory flags are the
  InstData's ``aux`` (the IR keeps memflags, trap codes, stack slots and entity
  references in ``aux``, everything else in ``imm``);
- an emitted immediate is the unsigned pattern of its operand's width (encoders use
  the low bits); an absent optional address register is ``NO_REG``;
- an enum operand given as ``MAP[var]`` reads a module-level table indexed by the IR enum.

Example (the rule ``bnot`` of the x86-64 spec)::

    >>> from heron.meta.isa import load_isa
    >>> w = MatcherWriter(load_isa("x86_64"))
    >>> print(w.rule_source(w.isa.rules["bnot"]))            # doctest: +ELLIPSIS
    def rule_bnot(ctx, inst, data):
        \"\"\"bnot (rules.yaml:...): (bnot x) -- Bitwise complement.\"\"\"
        ty = data.ctrl_type
        if ty is not I8 and ty is not I16 and ty is not I32 and ty is not I64:
            return False
        x = data.args[0]
        if ty is I8 or ty is I16 or ty is I32:
            _r_out = ctx.out(inst)
            _r_x = ctx.reg(x)
            ctx.emit(MInst(OP_NOT_32, [_r_out, _r_x]))
            return True
        _r_out = ctx.out(inst)
        _r_x = ctx.reg(x)
        ctx.emit(MInst(OP_NOT_64, [_r_out, _r_x]))
        return True
    <BLANKLINE>
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from heron.errors import SpecError
from heron.meta.dsl.pyback import ModuleHelpers, expression_source, py_name
from heron.meta.irtypes import IMMEDIATE_WIDTHS, IRType
from heron.meta.isa.model import ISA, EnumArg, ImmArg, LabelArg, MemArg, PatLit, PatNode, PatVar, RegArg, Rule, RuleInstance, TrapArg
from heron.meta.patterns import DESTINATION_KINDS, enum_of_kind, literal_of, pattern_args

__all__ = ["MatcherWriter", "AUX_KINDS", "op_const", "type_const", "class_const"]

# Immediate kinds the IR keeps in InstData.aux (heron.ir.instructions); the rest are in imm.
AUX_KINDS = frozenset({"memflags", "trapcode", "stack_slot", "func_ref", "sig_ref", "global_value"})
_RESERVED_LOCALS = frozenset({"ctx", "inst", "data", "ty", "MInst", "NO_REG"})


def op_const(variant: Any) -> str:
    """The module constant of a variant's op number: ``add_rr.64`` -> ``OP_ADD_RR_64``."""
    return "OP_" + variant.py_name.upper()


def type_const(ty: IRType) -> str:
    """The Python name of an IR type in the generated module (``I32``; vectors too)."""
    return ty.name.upper()


def class_const(name: str) -> str:
    return "CLASS_" + name.upper()


@dataclass
class _Node:
    """A pattern node during code generation: its InstData/inst expressions."""

    node: PatNode
    iexpr: str
    dexpr: str


@dataclass
class _Shape:
    """What the structural part of a rule binds: nodes (pre-order), names of value
    variables and immediates, the lines matching the structure."""

    nodes: list[_Node] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    imms: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    loads: list[str] = field(default_factory=list)  # inst expressions of merged loads
    counter: int = 0


class MatcherWriter:
    """Writes the matcher source of one ISA's rules (see the module docstring)."""

    def __init__(self, isa: ISA, helpers: ModuleHelpers | None = None) -> None:
        self.isa = isa
        self.ir = isa.ir
        self.spec = isa.ir.spec
        self.helpers = helpers if helpers is not None else ModuleHelpers()
        self.maps: dict[str, str] = {}  # table name -> source
        self.types: dict[str, IRType] = {}  # type constants used
        self.ir_opcodes: set[str] = set()

    # -- the whole module part ----------------------------------------------------------
    def rules_by_root(self) -> dict[str, list[Rule]]:
        out: dict[str, list[Rule]] = {}
        for rule in self.isa.rules.values():
            out.setdefault(rule.pattern.opcode, []).append(rule)
        for rules in out.values():
            # Higher priority first; among equals the more specific pattern (more nodes and
            # literals: it matches fewer instructions), then file order (a stable sort).
            rules.sort(key=lambda r: (-r.priority, -_specificity(r.pattern)))
        return out

    def opcode_source(self, opcode: str, rules: list[Rule]) -> str:
        self.ir_opcodes.add(opcode)
        names = ", ".join(r.name for r in rules)
        calls = "\n        or ".join(f"rule_{r.name}(ctx, inst, data)" for r in rules)
        return (
            f"def lower_{opcode}(ctx, inst, data):\n"
            f'    """{opcode}: the rules by priority: {names}."""\n'
            f"    return (\n        {calls}\n    )\n"
        )

    # -- one rule --------------------------------------------------------------------------
    def rule_source(self, rule: Rule) -> str:
        for name in _names_of(rule.pattern):
            if name in _RESERVED_LOCALS or name.startswith("_"):
                raise SpecError(f"rule '{rule.name}': '{name}' cannot be a pattern variable of a generated matcher", rule.file, rule.line)
        shape = _Shape()
        lines = shape.lines
        root_op = self.ir.ops[rule.pattern.opcode]
        prefilter = None
        if root_op.ctrl is not None:
            lines.append("ty = data.ctrl_type")
            root_types = _unique(inst.nodes[-1].bindings[root_op.ctrl] for inst in rule.instances)
            prefilter = root_types
            cond = " and ".join(f"ty is not {self._type(ty)}" for ty in root_types)
            lines.append(f"if {cond}:")
            lines.append("    return False")
        self._walk(rule.pattern, "inst", "data", shape)
        # Per instance: the type checks and the body.
        readers: dict[tuple[int, str], str] = {}  # (node index, typevar) -> local
        reader_lines: list[str] = []
        per_instance: list[tuple[tuple[tuple[str, str], ...], str]] = []
        for inst in rule.instances:
            checks = []
            by_node = {id(n.node): n for n in inst.nodes}
            for k, nd in enumerate(shape.nodes):
                ni = by_node[id(nd.node)]
                op = self.ir.ops[ni.opcode]
                for tv, ty in ni.bindings.items():
                    local = readers.get((k, tv))
                    if local is None:
                        expr = self._type_reader(op, tv, nd)
                        if expr is None:
                            continue
                        if k == 0 and tv == root_op.ctrl:
                            local = "ty"
                        else:
                            local = f"_t{len(readers)}"
                            reader_lines.append(f"{local} = {expr}")
                        readers[(k, tv)] = local
                    checks.append((local, self._type(ty)))
            body = self._body(rule, inst, shape)
            per_instance.append((tuple(checks), body))
        lines.extend(reader_lines)
        # Instances whose code is the same share one arm; the last arm needs no test
        # when the arms together cover every typing the type checks can tell apart.
        groups: dict[str, list[tuple[tuple[str, str], ...]]] = {}
        for checks, body in per_instance:
            groups.setdefault(body, []).append(checks)
        arms = list(groups.items())
        for i, (body, conds) in enumerate(arms):
            last = i == len(arms) - 1
            test = _condition(conds)
            if last and _covers_everything(conds, per_instance, prefilter, readers):
                lines.extend(body.splitlines())
                break
            lines.append(f"if {test}:")
            lines.extend("    " + ln for ln in body.splitlines())
        else:
            lines.append("return False")
        where = f"{_short(rule.file)}:{rule.line}"
        doc = f"{rule.name} ({where}): {rule.match} -- {rule.doc}".replace('"""', "'''").replace("\\", "\\\\")
        head = f"def rule_{rule.name}(ctx, inst, data):\n    \"\"\"{doc}\"\"\""
        return head + "\n" + "\n".join("    " + ln for ln in lines) + "\n"

    def _type(self, ty: IRType) -> str:
        name = type_const(ty)
        self.types[name] = ty
        return name

    def _type_reader(self, op: Any, tv: str, nd: _Node) -> str | None:
        """An expression reading type variable ``tv`` of a matched node, or None."""
        if tv == op.ctrl:
            return f"{nd.dexpr}.ctrl_type"
        for j, (_, texpr) in enumerate(op.operands):
            if texpr == tv:
                return f"ctx.arg_type({nd.dexpr}, {j})"
        for k, (_, texpr) in enumerate(op.results):
            if texpr == tv:
                return f"ctx.result_type({nd.iexpr}, {k})"
        return None

    # -- the pattern's structure ----------------------------------------------------------------
    def _walk(self, node: PatNode, iexpr: str, dexpr: str, shape: _Shape) -> None:
        shape.nodes.append(_Node(node, iexpr, dexpr))
        self.ir_opcodes.add(node.opcode)
        lines = shape.lines
        j = 0
        for _env, kind, arg in pattern_args(node, self.spec):
            if kind in DESTINATION_KINDS:
                continue
            if kind == "value":
                src = f"{dexpr}.args[{j}]"
                j += 1
                if isinstance(arg, PatVar):
                    name = py_name(arg.name)
                    if arg.name in shape.values:
                        lines.append(f"if not ctx.same_value({shape.values[arg.name]}, {src}):")
                        lines.append("    return False")
                    else:
                        lines.append(f"{name} = {src}")
                        shape.values[arg.name] = name
                elif isinstance(arg, PatNode):
                    shape.counter += 1
                    k = shape.counter
                    lines.append(f"_p{k} = ctx.producer({src})")
                    lines.append(f"if _p{k} is None:")
                    lines.append("    return False")
                    lines.append(f"_i{k}, _d{k} = _p{k}")
                    lines.append(f"if _d{k}.opcode != {arg.opcode.upper()}:")
                    lines.append("    return False")
                    if "can_load" in self.ir.ops[arg.opcode].flags:
                        shape.loads.append(f"_i{k}")
                    self._walk(arg, f"_i{k}", f"_d{k}", shape)
                continue
            src = f"{dexpr}.{'aux' if kind in AUX_KINDS else 'imm'}"
            width = IMMEDIATE_WIDTHS.get(kind)
            lit = literal_of(arg, kind, self.spec)  # `eq`, `int_divz`: a literal, not a variable
            if lit is not None:
                arg = lit
            if isinstance(arg, PatVar):
                name = py_name(arg.name)
                if arg.name in shape.imms:
                    raise SpecError(f"pattern variable '{arg.name}' is bound to two immediates; the matcher cannot compare them", "<rule>", 0)
                value = f"{src} & {_hex_mask(width)}" if width is not None else src
                lines.append(f"{name} = {value}")
                shape.imms[arg.name] = name
            elif isinstance(arg, PatLit):
                lit = arg.value
                if isinstance(lit, str):
                    enum = enum_of_kind(kind)
                    if enum is not None:
                        index = [v.name for v in self.spec.enums[enum].values].index(lit)
                        lines.append(f"if {src} != {index}:")
                    else:
                        lines.append(f"if {src} != {lit!r}:")
                elif width is not None:
                    mask = (1 << width) - 1
                    lines.append(f"if {src} & {_hex_mask(width)} != {lit & mask:#x}:")
                else:
                    lines.append(f"if {src} != {lit!r}:")
                lines.append("    return False")

    # -- one instance's code -----------------------------------------------------------------------
    def _body(self, rule: Rule, inst: RuleInstance, shape: _Shape) -> str:
        lines: list[str] = []
        guarded: set[str] = set()
        for em in inst.emits:  # a map entry `~`: the rule does not apply to that value
            for o in em.variant.inst.operands:
                a = em.args[o.name]
                if isinstance(a, EnumArg) and a.map and None in rule.maps[a.map].values() and a.map not in guarded:
                    guarded.add(a.map)
                    lines.append(f"if {self._enum(rule, o, a)} is None:")
                    lines.append("    return False")
        if inst.when is not None:
            lines.append(f"if not ({self._expr(inst.when)}):")
            lines.append("    return False")
        for name, value in inst.lets.items():
            if not isinstance(value, int):
                lines.append(f"{py_name(name)} = {self._expr(value)}")
        for load in shape.loads:
            lines.append(f"ctx.sink({load})")
        regs: dict[str, str] = {}

        def reg(a: RegArg, regclass: str) -> str:
            key = a.key
            if key in regs:
                return regs[key]
            base = "_r_" + a.value
            if a.role == "temp":
                regs[key] = base
                lines.append(f"{base} = ctx.temp({class_const(regclass)})")
            elif inst.parts.get(a.value, 1) == 2:
                regs[f"{a.value}.lo"], regs[f"{a.value}.hi"] = base + "_lo", base + "_hi"
                lines.append(f"{base}_lo, {base}_hi = {self._reg_source(a, inst, True)}")
            else:
                regs[key] = base
                lines.append(f"{base} = {self._reg_source(a, inst, False)}")
            return regs[key]

        emits = []
        for em in inst.emits:
            v = em.variant
            args = []
            for opname, fld in v.arg_layout:
                o = v.inst.operand(opname)
                a = em.args[opname]
                if fld is not None:
                    assert isinstance(a, MemArg)
                    a = dict(a.fields)[fld]
                    form = self.isa.addressing[o.mem]
                    f = next(f for f in form.fields if f.name == fld)
                    if a is None:
                        args.append("NO_REG")
                    elif isinstance(a, RegArg):
                        args.append(reg(a, f.regclass))
                    else:
                        args.append(self._imm(a))
                    continue
                if isinstance(a, RegArg):
                    args.append(reg(a, o.regclass))
                elif isinstance(a, ImmArg):
                    args.append(self._imm(a))
                elif isinstance(a, EnumArg):
                    args.append(self._enum(rule, o, a))
                elif isinstance(a, LabelArg):
                    args.append(f"ctx.target(inst, {inst.destinations.index(a.target)})")
                elif isinstance(a, TrapArg):
                    args.append(repr(a.code) if a.code is not None else py_name(a.var))
                else:
                    raise AssertionError(a)
            emits.append(f"ctx.emit(MInst({op_const(v)}, [{', '.join(args)}]))")
        lines.extend(emits)
        lines.append("return True")
        return "\n".join(lines)

    def _reg_source(self, a: RegArg, inst: RuleInstance, pair: bool) -> str:
        if a.role == "leaf":
            return f"ctx.regs({py_name(a.value)})" if pair else f"ctx.reg({py_name(a.value)})"
        results = [r for r, _, _ in inst.results]
        index = results.index(a.value)
        call = "ctx.outs" if pair else "ctx.out"
        return f"{call}(inst)" if index == 0 else f"{call}(inst, {index})"

    def _expr(self, e: Any) -> str:
        return expression_source(e, self.helpers)

    def _imm(self, a: ImmArg) -> str:
        if isinstance(a.expr, int):
            return str(a.expr)
        text = self._expr(a.expr)
        if a.expr.width > a.bits:
            return f"({text}) & {_hex_mask(a.bits)}"
        return text

    def _enum(self, rule: Rule, o: Any, a: EnumArg) -> str:
        enum = self.isa.enums[o.enum]
        if a.value is not None:
            return str(enum.value(a.value).encoding)
        table = rule.maps[a.map]
        kind = rule.instances[0].imm_vars[a.var]
        ir_values = [v[0] for v in kind.values]
        name = f"_{rule.name.upper()}_{a.map}"
        codes = ", ".join(str(enum.value(table[v]).encoding) if table[v] is not None else "None" for v in ir_values)
        comment = ", ".join(f"{v}: {table[v] or '-'}" for v in ir_values)
        self.maps[name] = f"# {rule.name}: {a.map} maps {kind.enum} to {o.enum} ({comment})\n{name} = ({codes},)"
        return f"{name}[{py_name(a.var)}]"


def _specificity(node: PatNode) -> int:
    """Nodes and literals of a pattern: how much it constrains what it matches."""
    return 1 + sum(_specificity(a) if isinstance(a, PatNode) else int(isinstance(a, PatLit)) for a in node.args)


def _names_of(node: PatNode) -> list[str]:
    out = []
    for a in node.args:
        if isinstance(a, PatVar):  # (enum literals too: they never clash with the locals)
            out.append(a.name)
        elif isinstance(a, PatNode):
            out.extend(_names_of(a))
    return out


def _unique(items: Any) -> list[Any]:
    out: list[Any] = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


def _hex_mask(width: int | None) -> str:
    return hex((1 << width) - 1) if width else "0"


def _short(path: str) -> str:
    return re.sub(r"^.*?isa_specs/[^/]+/", "", path)


def _condition(conds: list[tuple[tuple[str, str], ...]]) -> str:
    """Python text true for exactly the given type tuples: a product of per-position
    choices when they form one, else a disjunction of conjunctions."""
    if not conds or not conds[0]:
        return "True"
    locals_ = [c[0] for c in conds[0]]
    if all([c[0] for c in cond] == locals_ for cond in conds):
        choices = [_unique(cond[i][1] for cond in conds) for i in range(len(locals_))]
        product = {tuple(p) for p in itertools.product(*choices)}
        if product == {tuple(c[1] for c in cond) for cond in conds}:
            parts = []
            for local, options in zip(locals_, choices):
                if len(options) == 1:
                    parts.append(f"{local} is {options[0]}")
                else:
                    parts.append("(" + " or ".join(f"{local} is {o}" for o in options) + ")")
            # A product over one position reads better without parentheses.
            if len(parts) == 1 and parts[0].startswith("("):
                return parts[0][1:-1]
            return " and ".join(parts)
    return " or ".join("(" + " and ".join(f"{loc} is {ty}" for loc, ty in cond) + ")" for cond in conds)


def _covers_everything(
    conds: list[tuple[tuple[str, str], ...]],
    per_instance: list[tuple[tuple[tuple[str, str], ...], str]],
    prefilter: list[IRType] | None,
    readers: dict[tuple[int, str], str],
) -> bool:
    """Whether the last arm may drop its test: it is the only arm left and the prefilter
    (the root's type) is the only check of every instance, so reaching it means a match."""
    if len(per_instance) == 0 or prefilter is None:
        return False
    if any(len(checks) != 1 or checks[0][0] != "ty" for checks, _ in per_instance):
        return False
    return True
