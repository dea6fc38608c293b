"""The s-expression patterns of lowering rules: parse, check against ir.yaml, type.

A pattern is ``(opcode arg ...)``.  The arguments follow the text order of the
opcode's format fields with block calls left out: ``(icmp cond x y)``, ``(iconst k)``,
``(load flags p offset)``, ``(brif c)``.  An argument is a variable (binds a value or
an immediate; a variable used twice means the same value), ``_`` (anything), a
literal immediate (``0``, ``-1``, an enum value such as ``eq``, a trap code), or a
nested pattern: the producer of that value merged into the rule.

Example::

    >>> from heron.meta.irspec import load_ir_spec
    >>> from heron.meta.dsl.irsem import IRSemantics
    >>> ir = IRSemantics(load_ir_spec())
    >>> p = parse_pattern("(brif (icmp cond x y))")
    >>> check_pattern(p, ir.spec, "rule.yaml", 3, "(brif (icmp cond x y))")
    >>> [(s.opcode, s.bindings["T"].name) for s in solve_types(p, ir, {"x": "i16"})[0].nodes]
    [('brif', 'i8'), ('icmp', 'i16')]
"""

from __future__ import annotations

import itertools
import re
import weakref
from dataclasses import dataclass

from heron.errors import SpecError
from heron.meta.dsl.irsem import IRSemantics
from heron.meta.irtypes import IRType, ir_type, is_trap_code, resolve_type_expr
from heron.meta.isa.model import PatLit, PatNode, PatVar, PatWild

__all__ = ["parse_pattern", "check_pattern", "pattern_args", "solve_types", "Typing", "NodeTyping", "iter_nodes", "DESTINATION_KINDS"]

# Format fields a pattern leaves out: the destinations of branches.
DESTINATION_KINDS = frozenset({"block_call", "jump_table", "exception_table"})
_ENUM_KINDS = {"intcc": "IntCC", "floatcc": "FloatCC", "atomic_rmw_op": "AtomicRmwOp"}
# Opcodes whose flags forbid merging them into a user as a nested pattern.
_NOT_NESTABLE = frozenset({"side_effects", "can_store", "can_trap", "branch", "terminator", "call", "return"})
_TOKEN = re.compile(r"\s*(?:(\()|(\))|(-?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9][0-9_]*))(?![A-Za-z0-9_])|([A-Za-z_][A-Za-z0-9_]*))")


class _Error(Exception):
    def __init__(self, message: str, col: int) -> None:
        super().__init__(message)
        self.col = col


def parse_pattern(text: str, file: str = "<rule>", line: int = 0) -> PatNode:
    """Parse ``text`` into a :class:`PatNode`; a SpecError names the column."""
    if not isinstance(text, str):
        raise SpecError("match: a pattern is a string '(opcode arg ...)'", file, line)
    pos = 0
    tokens: list[tuple[str, str, int]] = []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            col = len(text) - len(text[pos:].lstrip()) + 1
            raise SpecError(f"match: unexpected character {text[col - 1]!r} (column {col}) in '{text}'", file, line)
        kind = "(" if m.group(1) else ")" if m.group(2) else "int" if m.group(3) else "name"
        start = m.start(m.lastindex)  # type: ignore[arg-type]
        tokens.append((kind, m.group(m.lastindex), start + 1))  # type: ignore[arg-type]
        pos = m.end()
    at = 0

    def node() -> PatNode:
        nonlocal at
        kind, tok, col = tokens[at]
        at += 1  # '('
        if at >= len(tokens) or tokens[at][0] != "name":
            raise _Error("expected an opcode name after '('", tokens[at][2] if at < len(tokens) else len(text) + 1)
        opcode, ocol = tokens[at][1], tokens[at][2]
        at += 1
        args: list[PatVar | PatWild | PatLit | PatNode] = []
        while True:
            if at >= len(tokens):
                raise _Error("missing ')'", len(text) + 1)
            kind, tok, col = tokens[at]
            if kind == ")":
                at += 1
                return PatNode(opcode, tuple(args), ocol)
            if kind == "(":
                args.append(node())
            elif kind == "int":
                args.append(PatLit(int(tok.replace("_", ""), 0), col))
                at += 1
            elif tok == "_":
                args.append(PatWild(col))
                at += 1
            else:
                args.append(PatVar(tok, col))
                at += 1

    try:
        if not tokens or tokens[0][0] != "(":
            raise _Error("a pattern starts with '('", tokens[0][2] if tokens else 1)
        root = node()
        if at != len(tokens):
            raise _Error(f"unexpected '{tokens[at][1]}' after the pattern", tokens[at][2])
    except _Error as err:
        raise SpecError(f"match: {err} (column {err.col}) in '{text}'", file, line) from None
    return root


def iter_nodes(root: PatNode) -> list[PatNode]:
    """The nodes of a pattern in pre-order (the root first)."""
    out = [root]
    for a in root.args:
        if isinstance(a, PatNode):
            out.extend(iter_nodes(a))
    return out


def pattern_args(node: PatNode, spec) -> list[tuple[str, str, object]]:  # spec: IRSpec
    """``(env name, field kind, arg)`` for each argument: field kind is 'value' or the
    immediate kind; env name is the opcode's operand name or the immediate's name."""
    op = spec.opcode(node.opcode)
    fmt = spec.formats[op.format]
    values = iter(name for name, _ in op.operands)
    out = []
    fields = [f for f in fmt.fields if f.kind not in DESTINATION_KINDS]
    for f, a in zip(fields, node.args):
        if f.kind == "value":
            out.append((next(values), "value", a))
        else:
            out.append((f.name, f.kind, a))
    return out


def check_pattern(root: PatNode, spec, file: str, line: int, text: str) -> None:
    """Check opcodes, arities and argument kinds against ir.yaml (spec: IRSpec)."""

    def fail(message: str, col: int) -> SpecError:
        return SpecError(f"match: {message} (column {col}) in '{text}'", file, line)

    names = {o.name for o in spec.opcodes}

    def visit(node: PatNode, nested: bool) -> None:
        if node.opcode not in names:
            raise fail(f"unknown IR opcode '{node.opcode}'", node.col)
        op = spec.opcode(node.opcode)
        if op.semantics is None:
            raise fail(f"'{node.opcode}' has no semantics in ir.yaml, so no rule for it can be verified", node.col)
        fmt = spec.formats[op.format]
        if fmt.has_varargs:
            raise fail(f"'{node.opcode}' takes a variable operand list, which patterns cannot match", node.col)
        fields = [f for f in fmt.fields if f.kind not in DESTINATION_KINDS]
        if len(node.args) != len(fields):
            shown = " ".join(f.name if f.name and f.kind != "value" else "value" for f in fields)
            raise fail(f"'{node.opcode}' takes {len(fields)} arguments ({shown}), not {len(node.args)}", node.col)
        if nested:
            if len(op.results) != 1:
                raise fail(f"'{node.opcode}' has {len(op.results)} results; a nested pattern must produce one value", node.col)
            bad = op.flags & _NOT_NESTABLE
            if bad:
                raise fail(f"'{node.opcode}' ({', '.join(sorted(bad))}) cannot be merged into its user as a nested pattern", node.col)
        for f, a in zip(fields, node.args):
            if f.kind == "value":
                if isinstance(a, PatLit):
                    raise fail(f"the literal {a.value} stands where '{node.opcode}' takes a value; match (iconst {a.value}) instead", a.col)
                if isinstance(a, PatNode):
                    visit(a, True)
                continue
            if isinstance(a, PatNode):
                raise fail(f"'{f.name}' of '{node.opcode}' is an immediate ({f.kind}), not a value", a.col)
            if isinstance(a, PatLit) and f.kind in ("memflags", "trapcode") | _ENUM_KINDS.keys():
                raise fail(f"'{f.name}' of '{node.opcode}' ({f.kind}) takes a name, not the number {a.value}", a.col)
            if isinstance(a, PatVar) and f.kind in _ENUM_KINDS:
                enum = spec.enums[_ENUM_KINDS[f.kind]]
                if a.name in {v.name for v in enum.values}:
                    continue  # an enum literal; resolved by literal_of
            if isinstance(a, PatVar) and f.kind == "trapcode" and is_trap_code(a.name):
                continue

    visit(root, False)


def literal_of(arg: object, kind: str, spec) -> PatLit | None:
    """The literal an argument stands for at an immediate of ``kind`` (an enum value or a
    trap-code name spelled like a variable), or None."""
    if isinstance(arg, PatLit):
        return arg
    if isinstance(arg, PatVar):
        if kind in _ENUM_KINDS and arg.name in {v.name for v in spec.enums[_ENUM_KINDS[kind]].values}:
            return PatLit(arg.name, arg.col)
        if kind == "trapcode" and is_trap_code(arg.name):
            return PatLit(arg.name, arg.col)
    return None


def enum_of_kind(kind: str) -> str | None:
    return _ENUM_KINDS.get(kind)


@dataclass
class NodeTyping:
    node: PatNode
    opcode: str
    bindings: dict[str, IRType]
    types: dict[str, IRType]  # operand and result names -> types


@dataclass
class Typing:
    nodes: list[NodeTyping]  # pre-order
    var_types: dict[str, IRType]
    result_types: list[IRType]


def _shapes(op, b: dict[str, IRType]) -> dict[str, IRType] | None:
    types = {}
    for n, expr in list(op.operands) + list(op.results):
        ty = resolve_type_expr(expr, b)
        if ty is None:
            return None
        types[n] = ty
    return types


_CANDIDATES: weakref.WeakKeyDictionary[IRSemantics, dict[str, list]] = weakref.WeakKeyDictionary()


def _candidates(ir: IRSemantics, opcode: str) -> list[tuple[dict[str, IRType], dict[str, IRType]]]:
    """The scalar bindings of an opcode's type variables with its operand and result types."""
    cache = _CANDIDATES.setdefault(ir, {})
    if opcode not in cache:
        op = ir.ops[opcode]
        out = []
        for b in ir.bindings(opcode, include_dynamic=False) if op.typevars else [{}]:
            if any(t.is_vector for t in b.values()):
                continue
            shapes = _shapes(op, b)
            if shapes is not None:
                out.append((b, shapes))
        cache[opcode] = out
    return cache[opcode]


def solve_types(root: PatNode, ir: IRSemantics, given: dict[str, str], root_type: str | None = None) -> list[Typing]:
    """Every typing of the pattern consistent with ``given`` (variable or ``out``/``outN``
    -> type name) and ``root_type`` (the root's controlling type variable).  Scalar types
    only; the caller wants exactly one."""
    spec = ir.spec
    nodes = iter_nodes(root)
    parent: dict[int, tuple[int, str]] = {}
    index = {id(n): i for i, n in enumerate(nodes)}
    for i, n in enumerate(nodes):
        for env, kind, a in pattern_args(n, spec):
            if isinstance(a, PatNode):
                parent[index[id(a)]] = (i, env)
    cands = [_candidates(ir, n.opcode) for n in nodes]
    want = {k: ir_type(v) for k, v in given.items()}
    root_op = ir.ops[root.opcode]
    results = [r for r, _ in root_op.results]
    out_names = {("out" if len(results) == 1 else f"out{i}"): r for i, r in enumerate(results)}
    solutions: list[Typing] = []
    chosen: list[tuple[dict[str, IRType], dict[str, IRType]]] = []

    def consistent(i: int, b: dict[str, IRType], shapes: dict[str, IRType], var_types: dict[str, IRType]) -> dict[str, IRType] | None:
        n = nodes[i]
        if i == 0:
            if root_type is not None and (root_op.ctrl is None or b.get(root_op.ctrl) != ir_type(root_type)):
                return None
            for out, res in out_names.items():
                if out in want and shapes[res] != want[out]:
                    return None
        if i in parent:
            p, env = parent[i]
            pshapes = chosen[p][1]
            res = ir.ops[n.opcode].results[0][0]
            if shapes[res] != pshapes[env]:
                return None
        vt = dict(var_types)
        for env, kind, a in pattern_args(n, spec):
            if kind == "value" and isinstance(a, PatVar):
                ty = shapes[env]
                if a.name in want and want[a.name] != ty:
                    return None
                if vt.setdefault(a.name, ty) != ty:
                    return None
        return vt

    def search(i: int, var_types: dict[str, IRType]) -> None:
        if i == len(nodes):
            typings = [NodeTyping(n, n.opcode, b, s) for n, (b, s) in zip(nodes, chosen)]
            solutions.append(Typing(typings, var_types, [chosen[0][1][r] for r in results]))
            return
        for b, shapes in cands[i]:
            vt = consistent(i, b, shapes, var_types)
            if vt is not None:
                chosen.append((b, shapes))
                search(i + 1, vt)
                chosen.pop()

    search(0, {})
    return solutions


def describe_ambiguity(solutions: list[Typing]) -> str:
    """Name what differs between typings: a variable's type or a node's type variable."""
    first, other = solutions[0], solutions[1]
    for name in first.var_types:
        if first.var_types[name] != other.var_types.get(name):
            options = sorted({s.var_types[name].name for s in solutions}, key=_order)
            return f"the type of '{name}' ({', '.join(options)})"
    for k, (a, b) in enumerate(zip(first.nodes, other.nodes)):
        for tv in a.bindings:
            if a.bindings[tv] != b.bindings[tv]:
                options = sorted({s.nodes[k].bindings[tv].name for s in solutions}, key=_order)
                return f"type variable {tv} of '{a.opcode}' ({', '.join(options)})"
    return "the typing"


def _order(name: str) -> tuple[int, str]:
    t = ir_type(name)
    return (t.bits if t else 0, name)


def product_types(mapping: dict[str, list[str]]) -> list[dict[str, str]]:
    """``{out: [i32, i64], y: i8}`` -> one dict per combination."""
    keys = list(mapping)
    lists = [v if isinstance(v, list) else [v] for v in mapping.values()]
    return [dict(zip(keys, combo)) for combo in itertools.product(*lists)]
