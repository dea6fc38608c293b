"""The DSL expressions and rule patterns of a mutant, back to text (the mutated YAML
holds text), and the literal-level edits the operators make on expressions.

Example::

    >>> from heron.meta.dsl.parser import parse_expression
    >>> unparse(parse_expression("trunc(sext(offset, 64) + k, 32)")[0])   # parenthesized, parses back the same
    'trunc((sext(offset, 64) + k), 32)'
"""

from __future__ import annotations

from dataclasses import fields

from heron.meta.dsl import ast
from heron.meta.dsl.parser import parse_expression
from heron.meta.isa.model import PatLit, PatNode, PatVar, PatWild

__all__ = ["unparse", "pattern_text"]

# Where a literal is a width or a bit position rather than a value: moving it changes the
# type (the loader rejects it) or how much of a value is kept, not the value.
_WIDTH_ARGS = {"trunc": (1,), "sext": (1,), "zext": (1,), "const": (1,), "lane": (1, 2)}
# The widths a `when` edit may move: how much of an immediate a range check keeps
# (`trunc(k, 32)`), not the width a comparison's sides must share (`sext(.., 64) == k`).
_BOUND_WIDTHS = frozenset({"trunc", "bit"})
_COMPARISONS = {"==", "!="}
_COMPARE_CALLS = frozenset({"ult", "ule", "ugt", "uge", "slt", "sle", "sgt", "sge"})


# -- the DSL and patterns back to text ---------------------------------------------------------------


def unparse(e: ast.Expr) -> str:
    """DSL text for an expression, parenthesized so that it parses back to ``e``.

    >>> unparse(parse_expression("ult(width, 64) || sext(trunc(k, 32), 64) == k")[0])
    '(ult(width, 64) || (sext(trunc(k, 32), 64) == k))'
    """
    if isinstance(e, ast.Num):
        return str(e.value)
    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.Unary):
        return f"{e.op}{_atom(e.operand)}"
    if isinstance(e, ast.Binary):
        return f"({unparse(e.left)} {e.op} {unparse(e.right)})"
    if isinstance(e, ast.Cond):
        return f"({unparse(e.cond)} ? {unparse(e.then)} : {unparse(e.else_)})"
    if isinstance(e, ast.Index):
        return f"{_atom(e.value)}[{unparse(e.bit)}]"
    if isinstance(e, ast.Slice):
        return f"{_atom(e.value)}[{unparse(e.hi)}:{unparse(e.lo)}]"
    if isinstance(e, ast.Call):
        return f"{e.func}({', '.join(unparse(a) for a in e.args)})"
    if isinstance(e, ast.Comprehension):
        return f"{e.func}({e.var}: {unparse(e.count)}, {unparse(e.body)})"
    raise TypeError(f"not an expression: {e!r}")


def _atom(e: ast.Expr) -> str:
    text = unparse(e)
    return text if isinstance(e, (ast.Num, ast.Name, ast.Call, ast.Binary, ast.Cond)) else f"({text})"


def _children(e: ast.Expr) -> list[tuple[str, ast.Expr, bool, bool]]:
    """(field, child, is a width/bit position, is an operand of a comparison)."""
    if isinstance(e, ast.Unary):
        return [("operand", e.operand, False, False)]
    if isinstance(e, ast.Binary):
        cmp = e.op in _COMPARISONS
        return [("left", e.left, False, cmp), ("right", e.right, False, cmp)]
    if isinstance(e, ast.Cond):
        return [("cond", e.cond, False, False), ("then", e.then, False, False), ("else_", e.else_, False, False)]
    if isinstance(e, ast.Index):
        return [("value", e.value, False, False), ("bit", e.bit, True, False)]
    if isinstance(e, ast.Slice):
        return [("value", e.value, False, False), ("hi", e.hi, True, False), ("lo", e.lo, True, False)]
    if isinstance(e, ast.Call):
        widths = _WIDTH_ARGS.get(e.func, ())
        return [(str(i), a, i in widths, e.func in _COMPARE_CALLS) for i, a in enumerate(e.args)]
    if isinstance(e, ast.Comprehension):
        return [("count", e.count, True, False), ("body", e.body, False, False)]
    return []


def _literals(e: ast.Expr, bounds: bool, compared_only: bool = False) -> list[int]:
    """Pre-order indices (among all literals of ``e``) of the literals an edit may move:
    those that are not widths (with ``bounds``, also the widths of ``trunc`` and bit
    positions), optionally only operands of comparisons."""
    out: list[int] = []
    counter = [0]

    def walk(x: ast.Expr, width: str | None, compared: bool) -> None:
        if isinstance(x, ast.Num):
            movable = width is None or (bounds and width in _BOUND_WIDTHS)
            if movable and (compared or not compared_only):
                out.append(counter[0])
            counter[0] += 1
            return
        for _, child, w, c in _children(x):
            kind = (x.func if isinstance(x, ast.Call) else "bit") if w else None
            walk(child, width or kind, c)

    walk(e, None, False)
    return out


def _replace_literal(e: ast.Expr, index: int, new: ast.Expr) -> ast.Expr:
    """``e`` with its ``index``-th literal (pre-order) replaced by ``new``."""
    counter = [0]

    def walk(x: ast.Expr) -> ast.Expr:
        if isinstance(x, ast.Num):
            counter[0] += 1
            return new if counter[0] - 1 == index else x
        kids = _children(x)
        if not kids:
            return x
        changed = {}
        for name, child, _, _ in kids:
            changed[name] = walk(child)
        if isinstance(x, ast.Call):
            return ast.Call(x.func, tuple(changed[str(i)] for i in range(len(x.args))))
        return type(x)(**{f.name: changed.get(f.name, getattr(x, f.name)) for f in fields(x) if f.init and f.name not in ("line", "col")})

    return walk(e)


def _nth_literal(e: ast.Expr, index: int) -> int:
    found: list[int] = []

    def walk(x: ast.Expr) -> None:
        if isinstance(x, ast.Num):
            found.append(x.value)
        for _, child, _, _ in _children(x):
            walk(child)

    walk(e)
    return found[index]


def _int_expr(v: int) -> ast.Expr:
    return ast.Num(v) if v >= 0 else ast.Unary("-", ast.Num(-v))


def pattern_text(p: PatNode | PatVar | PatWild | PatLit) -> str:
    if isinstance(p, PatNode):
        return "(" + " ".join([p.opcode, *(pattern_text(a) for a in p.args)]) + ")"
    if isinstance(p, PatVar):
        return p.name
    if isinstance(p, PatWild):
        return "_"
    return str(p.value)
