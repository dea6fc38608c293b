"""The untyped syntax tree of a semantics, as the parser builds it.

Nothing here knows widths: :mod:`heron.meta.dsl.check` turns a :class:`Semantics`
plus an environment into a typed program (:mod:`heron.meta.dsl.typed`).  Every node
records its line (within the semantics string) and column for error messages.

Example::

    >>> from heron.meta.dsl.parser import parse_semantics
    >>> sem = parse_semantics("a = x + 1")
    >>> sem.stmts[0]
    Assign(target='a', expr=Binary(op='+', left=Name(name='x'), right=Num(value=1)))
"""

from __future__ import annotations

from dataclasses import dataclass, field

from heron.meta.dsl.lexer import Source

__all__ = [
    "Expr",
    "Num",
    "Name",
    "Unary",
    "Binary",
    "Cond",
    "Index",
    "Slice",
    "Call",
    "Comprehension",
    "Stmt",
    "Assign",
    "Trap",
    "Store",
    "Semantics",
]


@dataclass(frozen=True)
class Node:
    line: int = field(default=0, repr=False, compare=False, kw_only=True)
    col: int = field(default=0, repr=False, compare=False, kw_only=True)


@dataclass(frozen=True)
class Num(Node):
    """An integer literal; it has no width of its own."""

    value: int


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class Unary(Node):
    op: str  # '-', '~', '!'
    operand: Expr


@dataclass(frozen=True)
class Binary(Node):
    op: str  # '||' '&&' '|' '^' '&' '==' '!=' '<<' '+' '-' '*'
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Cond(Node):
    """``cond ? then : else_``."""

    cond: Expr
    then: Expr
    else_: Expr


@dataclass(frozen=True)
class Index(Node):
    """``value[bit]``: one bit."""

    value: Expr
    bit: Expr


@dataclass(frozen=True)
class Slice(Node):
    """``value[hi:lo]``: bits hi down to lo, inclusive."""

    value: Expr
    hi: Expr
    lo: Expr


@dataclass(frozen=True)
class Call(Node):
    """``func(args)``: a builtin, or an enum-typed immediate used as a function."""

    func: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Comprehension(Node):
    """``vec(i: count, body)``, ``all(...)`` or ``any(...)``."""

    func: str
    var: str
    count: Expr
    body: Expr


Expr = Num | Name | Unary | Binary | Cond | Index | Slice | Call | Comprehension


@dataclass(frozen=True)
class Assign(Node):
    target: str
    expr: Expr


@dataclass(frozen=True)
class Trap(Node):
    """``trap cond`` or ``trap cond : code``; ``code`` None means the default code."""

    cond: Expr
    code: str | None = None


@dataclass(frozen=True)
class Store(Node):
    addr: Expr
    value: Expr


Stmt = Assign | Trap | Store


@dataclass(frozen=True)
class Semantics:
    """A parsed semantics: its statements and where the text came from."""

    stmts: tuple[Stmt, ...]
    source: Source

    def error(self, message: str, node: Node | None = None):  # -> SpecError
        """A SpecError at ``node``'s line, quoting that line of the semantics."""
        if node is None:
            return self.source.error(message)
        return self.source.error(message, node.line, node.col)
