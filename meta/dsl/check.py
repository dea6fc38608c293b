"""Width inference and instantiation: a parsed semantics + an environment -> a typed program.

The environment gives every name its kind: a bit-vector width (:class:`BV`, with an
optional lane shape), an enum-typed immediate (:class:`EnumImm`), a trap-code
immediate (:class:`TrapCodeImm`), a memory-flags immediate (:class:`FlagsImm`) or, in
``consts``, a compile-time integer.  Rules (isa_specs/README.md has the full list):

- literals and other compile-time values take the width of the other operand, of the
  assignment target, or of ``const(v, w)``; a literal whose width cannot be inferred is
  an error, and so is one that does not fit;
- both operands of a binary operator have the same width; comparisons give 1 bit;
  shift and rotate amounts may have any width;
- conditions (``?:``, ``&&``, ``||``, ``!``, ``trap``) are 1 bit wide;
- compile-time expressions (``width(x)``, loop variables, ``is_vector``...) are folded,
  a compile-time ``?:`` types only the branch it selects, ``vec``/``all``/``any`` unroll.

Example::

    >>> from heron.meta.dsl.parser import parse_semantics
    >>> sem = parse_semantics("a = x + y")
    >>> instantiate(sem, {"x": BV(32), "y": BV(8)}, {"a": BV(32)})
    Traceback (most recent call last):
    heron.errors.SpecError: <semantics>:1: error: semantics: operands of '+' have widths 32 and 8 (column 7) in 'a = x + y'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from heron.errors import SpecError
from heron.meta.dsl import ast
from heron.meta.dsl import builtins as builtin
from heron.meta.dsl import typed as t
from heron.meta.dsl.lexer import Source
from heron.meta.irtypes import is_trap_code

__all__ = ["BV", "EnumImm", "TrapCodeImm", "FlagsImm", "MemAddr", "WidthOnly", "instantiate", "check_expression", "FLOAT_WIDTHS"]

FLOAT_WIDTHS = (16, 32, 64, 128)
_MAX_LANES = 4096


@dataclass(frozen=True)
class BV:
    """A bit-vector name of ``width`` bits; ``lane_bits`` < width makes it a vector."""

    width: int
    lane_bits: int = 0

    def __post_init__(self) -> None:
        if self.lane_bits == 0:
            object.__setattr__(self, "lane_bits", self.width)

    @property
    def lanes(self) -> int:
        return self.width // self.lane_bits


@dataclass(frozen=True)
class EnumImm:
    """An immediate holding a value of enum ``enum``; ``values`` are (name, body, source)
    with bodies over ``params``.  At run time the immediate is the value's index.

    ``implicit``: the enum is called with no arguments (``cc()``) and its parameters are
    the caller's names of the same spelling (an ISA condition code reads the flags)."""

    enum: str
    values: tuple[tuple[str, ast.Expr, Source], ...]
    params: tuple[str, ...] = ("x", "y")
    implicit: bool = False


@dataclass(frozen=True)
class TrapCodeImm:
    """An immediate holding a trap code (``trap cond : code`` may name it)."""


@dataclass(frozen=True)
class FlagsImm:
    """A memory-flags immediate; ``big_endian(flags)`` reads its byte order."""


@dataclass(frozen=True)
class MemAddr:
    """A machine memory operand: ``addr(m)`` is its ``bits``-wide address (the back ends
    receive the address itself as the input ``m``)."""

    bits: int


@dataclass(frozen=True)
class WidthOnly:
    """A value known only by its shape: ``width(x)`` works, reading ``x`` does not (the
    IR values of a rule's pattern, seen from its predicate and immediates)."""

    bv: BV


Kind = BV | EnumImm | TrapCodeImm | FlagsImm | MemAddr | WidthOnly

@dataclass(frozen=True)
class _Pending:
    """An output not assigned yet: its width is known (``width(a)``) but not its value."""

    bv: BV


def _as_slice(e: t.TExpr) -> tuple[t.TExpr, int, int]:
    """(source, hi, lo) with ``e == source[hi:lo]``."""
    if isinstance(e, t.Op) and e.op == "extract":
        return e.args[0], e.attrs[0], e.attrs[1]
    return e, e.width - 1, 0


class _Checker:
    """Types one semantics (or one enum value's body) in a scope of names."""

    def __init__(
        self,
        source: Source,
        scope: dict[str, object],
        inputs: frozenset[str] = frozenset(),
        inout: frozenset[str] = frozenset(),
        trap_codes: frozenset[str] = frozenset(),
    ) -> None:
        self.source = source
        # name -> BV | EnumImm | TrapCodeImm | FlagsImm | MemAddr | int (compile-time) | _Pending
        self.scope = scope
        self.inputs = inputs
        self.inout = inout  # inputs that may also be assigned once (machine state)
        self.assigned: set[str] = set()
        self.trap_codes = trap_codes  # codes accepted besides the IR's trap codes
        self.enum_cache: dict[tuple, tuple[tuple[t.TExpr, ...], int]] = {}
        self.uses_memory = False
        self.undefs = 0

    def error(self, message: str, node: ast.Node) -> SpecError:
        return self.source.error(message, node.line, node.col)

    # -- compile-time values ---------------------------------------------------
    def ct_value(self, e: ast.Expr) -> int | None:
        """The value of ``e`` if it is a compile-time integer expression, else None."""
        if isinstance(e, ast.Num):
            return e.value
        if isinstance(e, ast.Name):
            kind = self.lookup(e)
            return kind if isinstance(kind, int) else None
        if isinstance(e, ast.Unary):
            v = self.ct_value(e.operand)
            if v is None:
                return None
            return {"-": -v, "~": ~v, "!": int(v == 0)}[e.op]
        if isinstance(e, ast.Binary):
            if e.op == "<<":
                a, b = self.ct_value(e.left), self.ct_value(e.right)
                if a is None or b is None:
                    return None
                if b < 0 or b > 4096:
                    raise self.error(f"compile-time shift by {b}", e)
                return a << b
            a = self.ct_value(e.left)
            if a is None:
                return None
            b = self.ct_value(e.right)
            return None if b is None else builtin.COMPTIME_BINARY[e.op](a, b)
        if isinstance(e, ast.Cond):
            c = self.ct_value(e.cond)
            if c is None:
                return None
            return self.ct_value(e.then if c else e.else_)
        if isinstance(e, ast.Call):
            if e.func in ("width", "lanes", "lane_bits") and not isinstance(self.scope.get(e.func), EnumImm):
                if len(e.args) != 1:
                    raise self.error(f"'{e.func}' takes one argument", e)
                arg = e.args[0]
                pending = self.scope.get(arg.name) if isinstance(arg, ast.Name) else None
                shape = pending.bv if isinstance(pending, (_Pending, WidthOnly)) else self.bv(arg, None)
                return {"width": shape.width, "lanes": shape.width // shape.lane_bits, "lane_bits": shape.lane_bits}[e.func]
            if e.func in builtin.COMPTIME_FUNCS and len(e.args) == 2:
                a, b = self.ct_value(e.args[0]), self.ct_value(e.args[1])
                if a is None or b is None:
                    return None
                if e.func in ("udiv", "urem") and b == 0:
                    raise self.error(f"compile-time division by zero in '{e.func}'", e)
                return builtin.COMPTIME_FUNCS[e.func](a, b)
        return None

    def ct(self, e: ast.Expr, what: str) -> int:
        """``e`` as a compile-time integer, or an error naming ``what`` it is for."""
        v = self.ct_value(e)
        if v is None:
            raise self.error(f"{what} must be a compile-time integer (a literal, width(x), lanes(x), ...)", e)
        return v

    def lookup(self, e: ast.Name) -> object:
        if e.name not in self.scope:
            raise self.error(f"unknown name '{e.name}'", e)
        kind = self.scope[e.name]
        if isinstance(kind, _Pending):
            raise self.error(f"'{e.name}' is used before it is assigned", e)
        if isinstance(kind, WidthOnly):
            raise self.error(f"'{e.name}' is a value known only at run time; here only width({e.name}) can be used", e)
        return kind

    # -- bit-vector expressions ---------------------------------------------------
    def literal(self, value: int, want: int | None, e: ast.Node) -> t.Const:
        if want is None:
            raise self.error(
                f"cannot infer the width of the compile-time value {value}; write const({value}, w)", e
            )
        if not -(1 << (want - 1)) <= value < (1 << want):
            raise self.error(f"the value {value} does not fit in {want} bits", e)
        return t.Const(value & ((1 << want) - 1), want, want)

    def bv(self, e: ast.Expr, want: int | None) -> t.TExpr:
        """Type ``e`` as a bit-vector; ``want`` is the width a literal would take."""
        v = self.ct_value(e)
        if v is not None:
            return self.literal(v, want, e)
        if isinstance(e, ast.Name):
            kind = self.lookup(e)
            if isinstance(kind, MemAddr):
                raise self.error(f"'{e.name}' is a memory operand: write addr({e.name}) for its address", e)
            if not isinstance(kind, BV):
                raise self.error(f"'{e.name}' is not a bit-vector value", e)
            return t.Var(e.name, kind.width, kind.lane_bits)
        if isinstance(e, ast.Unary):
            if e.op == "!":
                x = self.bool1(e.operand, "the operand of '!'")
                return t.Op("lnot", (x,), 1, lane_bits=1)
            x = self.bv(e.operand, want)
            return t.Op("neg" if e.op == "-" else "not", (x,), x.width, lane_bits=x.lane_bits)
        if isinstance(e, ast.Binary):
            return self.binary(e, want)
        if isinstance(e, ast.Cond):
            return self.conditional(e, e.cond, e.then, e.else_, want)
        if isinstance(e, ast.Index):
            x = self.bv(e.value, None)
            bit = self.ct(e.bit, "a bit index")
            if not 0 <= bit < x.width:
                raise self.error(f"bit {bit} is outside a {x.width}-bit value", e)
            return t.Op("extract", (x,), 1, (bit, bit), 1)
        if isinstance(e, ast.Slice):
            x = self.bv(e.value, None)
            hi, lo = self.ct(e.hi, "a slice bound"), self.ct(e.lo, "a slice bound")
            if not 0 <= lo <= hi < x.width:
                raise self.error(f"slice [{hi}:{lo}] is outside a {x.width}-bit value (need width > hi >= lo >= 0)", e)
            return self.extract(x, hi, lo)
        if isinstance(e, ast.Comprehension):
            return self.comprehension(e, want)
        assert isinstance(e, ast.Call)
        return self.call(e, want)

    def extract(self, x: t.TExpr, hi: int, lo: int) -> t.TExpr:
        width = hi - lo + 1
        if width == x.width:
            return x
        lb = x.lane_bits if lo % x.lane_bits == 0 and width % x.lane_bits == 0 else width
        return t.Op("extract", (x,), width, (hi, lo), lb)

    def bool1(self, e: ast.Expr, what: str) -> t.TExpr:
        x = self.bv(e, 1)
        if x.width != 1:
            raise self.error(f"{what} must be 1 bit wide, not {x.width} (write bool(x) for x != 0)", e)
        return x

    def pair(self, a: ast.Expr, b: ast.Expr, want: int | None, what: str, node: ast.Node) -> tuple[t.TExpr, t.TExpr]:
        """Type two operands that must have the same width; a literal takes the other's."""
        if self.ct_value(a) is not None and self.ct_value(b) is None:
            y = self.bv(b, want)
            x = self.bv(a, y.width)
        else:
            x = self.bv(a, want)
            y = self.bv(b, x.width)
        if x.width != y.width:
            raise self.error(f"operands of {what} have widths {x.width} and {y.width}", node)
        return x, y

    @staticmethod
    def shape(x: t.TExpr, y: t.TExpr) -> int:
        return x.lane_bits if x.lane_bits == y.lane_bits else x.width

    def binary(self, e: ast.Binary, want: int | None) -> t.TExpr:
        if e.op in ("&&", "||"):
            x = self.bool1(e.left, f"the left operand of '{e.op}'")
            y = self.bool1(e.right, f"the right operand of '{e.op}'")
            return t.Op("land" if e.op == "&&" else "lor", (x, y), 1, lane_bits=1)
        if e.op in ("==", "!="):
            x, y = self.pair(e.left, e.right, None, f"'{e.op}'", e)
            return t.Op("eq" if e.op == "==" else "ne", (x, y), 1, lane_bits=1)
        if e.op == "<<":
            return self.shift("shl", e.left, e.right, want)
        x, y = self.pair(e.left, e.right, want, f"'{e.op}'", e)
        return t.Op(builtin.ARITH[e.op], (x, y), x.width, lane_bits=self.shape(x, y))

    def shift(self, op: str, a: ast.Expr, n: ast.Expr, want: int | None) -> t.TExpr:
        x = self.bv(a, want)
        amount = self.bv(n, x.width if self.ct_value(n) is not None else None)
        return t.Op(op, (x, amount), x.width, lane_bits=x.lane_bits)

    def conditional(self, node: ast.Node, c: ast.Expr, a: ast.Expr, b: ast.Expr, want: int | None) -> t.TExpr:
        static = self.ct_value(c)
        if static is not None:
            return self.bv(a if static else b, want)
        cond = self.bool1(c, "the condition of '?:'")
        x, y = self.pair(a, b, want, "'?:'", node)
        return t.Op("ite", (cond, x, y), x.width, lane_bits=self.shape(x, y))

    def comprehension(self, e: ast.Comprehension, want: int | None) -> t.TExpr:
        count = self.ct(e.count, f"the lane count of '{e.func}'")
        if not 1 <= count <= _MAX_LANES:
            raise self.error(f"'{e.func}' needs a lane count from 1 to {_MAX_LANES}, not {count}", e)
        if e.var in self.scope:
            raise self.error(f"loop variable '{e.var}' hides another name", e)
        lane_want = want // count if e.func == "vec" and want is not None and want % count == 0 else None
        items: list[t.TExpr] = []
        try:
            for i in range(count):
                self.scope[e.var] = i
                if e.func == "vec":
                    items.append(self.bv(e.body, lane_want))
                else:
                    items.append(self.bool1(e.body, f"the body of '{e.func}'"))
        finally:
            self.scope.pop(e.var, None)
        if e.func != "vec":
            return items[0] if count == 1 else t.Op("land" if e.func == "all" else "lor", tuple(items), 1, lane_bits=1)
        widths = {x.width for x in items}
        if len(widths) != 1:
            raise self.error(f"the lanes of 'vec' have different widths {sorted(widths)}", e)
        lane = widths.pop()
        if count == 1:
            return items[0]
        return self.concat(tuple(reversed(items)), lane)

    def concat(self, parts: tuple[t.TExpr, ...], lane_bits: int) -> t.TExpr:
        """``concat(parts)`` (high part first), merging neighbours that are adjacent slices
        of one value: ``concat(x[15:8], x[7:0])`` is ``x[15:0]``."""
        merged: list[t.TExpr] = []
        for p in parts:
            if merged:
                src, hi, lo = _as_slice(merged[-1])
                src2, hi2, lo2 = _as_slice(p)
                if src2 == src and hi2 + 1 == lo:
                    merged[-1] = self.extract(src, hi, lo2)
                    continue
            merged.append(p)
        width = sum(p.width for p in parts)
        if len(merged) == 1:
            return replace(merged[0], lane_bits=lane_bits)
        return t.Op("concat", tuple(merged), width, lane_bits=lane_bits)

    # -- calls ------------------------------------------------------------------
    def nargs(self, e: ast.Call, *counts: int) -> None:
        if len(e.args) not in counts:
            n = " or ".join(str(c) for c in counts)
            raise self.error(f"'{e.func}' takes {n} argument{'s' if counts != (1,) else ''}, not {len(e.args)}", e)

    def float_operand(self, x: t.TExpr, e: ast.Call) -> t.TExpr:
        if x.width not in FLOAT_WIDTHS:
            raise self.error(f"'{e.func}' needs a float of 16, 32, 64 or 128 bits, not {x.width} bits", e)
        return x

    def float_width(self, e: ast.Expr, call: ast.Call) -> int:
        w = self.ct(e, f"the float width of '{call.func}'")
        if w not in FLOAT_WIDTHS:
            raise self.error(f"'{call.func}' converts to a float of 16, 32, 64 or 128 bits, not {w}", call)
        return w

    def call(self, e: ast.Call, want: int | None) -> t.TExpr:
        f = e.func
        kind = self.scope.get(f)
        if isinstance(kind, EnumImm):
            return self.enum_call(e, f, kind)
        if f in builtin.CMP_FUNCS:
            self.nargs(e, 2)
            x, y = self.pair(e.args[0], e.args[1], None, f"'{f}'", e)
            return t.Op(f, (x, y), 1, lane_bits=1)
        if f in builtin.SAME_WIDTH_FUNCS:
            self.nargs(e, 2)
            x, y = self.pair(e.args[0], e.args[1], want, f"'{f}'", e)
            return t.Op(f, (x, y), x.width, lane_bits=self.shape(x, y))
        if f in builtin.SHIFT_FUNCS:
            self.nargs(e, 2)
            return self.shift(f, e.args[0], e.args[1], want)
        if f in builtin.UNARY_FUNCS:
            self.nargs(e, 1)
            x = self.bv(e.args[0], want)
            if f == "bswap" and x.width % 8:
                raise self.error(f"'bswap' needs a whole number of bytes, not {x.width} bits", e)
            if f == "bswap" and x.width == 8:
                return x
            return t.Op(f, (x,), x.width, lane_bits=x.lane_bits)
        if f in ("sext", "zext", "trunc"):
            self.nargs(e, 2)
            x = self.bv(e.args[0], None)
            w = self.ct(e.args[1], f"the width of '{f}'")
            if f == "trunc":
                if not 1 <= w <= x.width:
                    raise self.error(f"'trunc' to {w} bits of a {x.width}-bit value (need 1 <= w <= width)", e)
                return self.extract(x, w - 1, 0)
            if w < x.width:
                raise self.error(f"'{f}' to {w} bits of a wider {x.width}-bit value", e)
            return x if w == x.width else t.Op(f, (x,), w, lane_bits=w)
        if f == "concat":
            if len(e.args) < 2:
                raise self.error("'concat' takes at least 2 arguments (high part first)", e)
            parts = tuple(self.bv(a, None) for a in e.args)
            lbs = {p.lane_bits for p in parts}
            width = sum(p.width for p in parts)
            return self.concat(parts, lbs.pop() if len(lbs) == 1 else width)
        if f == "ite":
            self.nargs(e, 3)
            return self.conditional(e, e.args[0], e.args[1], e.args[2], want)
        if f in ("width", "lanes", "lane_bits"):
            self.nargs(e, 1)
            raise self.error(f"'{f}' of a value without a width", e)
        if f == "const":
            self.nargs(e, 2)
            w = self.ct(e.args[1], "the width of 'const'")
            if w < 1:
                raise self.error(f"'const' needs a width of at least 1, not {w}", e)
            return self.literal(self.ct(e.args[0], "the value of 'const'"), w, e)
        if f == "bool":
            self.nargs(e, 1)
            x = self.bv(e.args[0], None)
            return t.Op("ne", (x, t.Const(0, x.width, x.width)), 1, lane_bits=1)
        if f == "lane":
            return self.lane(e)
        if f == "load":
            self.nargs(e, 2)
            addr = self.bv(e.args[0], None)
            bits = self.ct(e.args[1], "the width of 'load'")
            if bits < 8 or bits % 8:
                raise self.error(f"'load' reads whole bytes; {bits} bits is not a multiple of 8", e)
            self.uses_memory = True
            return t.Op("load", (addr,), bits, lane_bits=bits)
        if f == "addr":
            self.nargs(e, 1)
            arg = e.args[0]
            kind = self.scope.get(arg.name) if isinstance(arg, ast.Name) else None
            if not isinstance(kind, MemAddr):
                raise self.error("'addr' takes the name of a memory operand", e)
            return t.Var(arg.name, kind.bits, kind.bits)
        if f == "undef":
            self.nargs(e, 1)
            w = self.ct(e.args[0], "the width of 'undef'")
            if w < 1:
                raise self.error(f"'undef' needs a width of at least 1, not {w}", e)
            self.undefs += 1
            return t.Op("undef", (), w, (self.undefs,), w)
        if f == "big_endian":
            self.nargs(e, 1)
            arg = e.args[0]
            if not isinstance(arg, ast.Name) or not isinstance(self.scope.get(arg.name), FlagsImm):
                raise self.error("'big_endian' takes the name of a memory-flags immediate", e)
            return t.FlagTest(arg.name, "big", 1, 1)
        return self.float_call(e, want)

    def float_call(self, e: ast.Call, want: int | None) -> t.TExpr:
        f = e.func
        if f in builtin.F_BINARY:
            self.nargs(e, 2)
            x, y = self.pair(e.args[0], e.args[1], want, f"'{f}'", e)
            return t.Op(f, (self.float_operand(x, e), y), x.width, lane_bits=x.width)
        if f in builtin.F_UNARY:
            self.nargs(e, 1)
            x = self.float_operand(self.bv(e.args[0], want), e)
            return t.Op(f, (x,), x.width, lane_bits=x.width)
        if f == "ffma":
            self.nargs(e, 3)
            x, y = self.pair(e.args[0], e.args[1], want, "'ffma'", e)
            z = self.bv(e.args[2], x.width)
            if z.width != x.width:
                raise self.error(f"operands of 'ffma' have widths {x.width} and {z.width}", e)
            return t.Op(f, (self.float_operand(x, e), y, z), x.width, lane_bits=x.width)
        if f in builtin.F_CMP:
            self.nargs(e, 2)
            x, y = self.pair(e.args[0], e.args[1], None, f"'{f}'", e)
            return t.Op(f, (self.float_operand(x, e), y), 1, lane_bits=1)
        if f == "fisnan":
            self.nargs(e, 1)
            return t.Op(f, (self.float_operand(self.bv(e.args[0], None), e),), 1, lane_bits=1)
        if f == "fcvt":
            self.nargs(e, 2)
            x = self.float_operand(self.bv(e.args[0], None), e)
            w = self.float_width(e.args[1], e)
            return t.Op(f, (x,), w, lane_bits=w)
        if f in ("sitofp", "uitofp"):
            self.nargs(e, 2)
            x = self.bv(e.args[0], None)
            w = self.float_width(e.args[1], e)
            return t.Op(f, (x,), w, lane_bits=w)
        if f in builtin.F_TO_INT or f in builtin.F_TO_INT_OK:
            self.nargs(e, 2)
            x = self.float_operand(self.bv(e.args[0], None), e)
            w = self.ct(e.args[1], f"the integer width of '{f}'")
            if w < 1:
                raise self.error(f"'{f}' to {w} bits", e)
            if f in builtin.F_TO_INT_OK:
                return t.Op(f, (x,), 1, (w,), 1)
            return t.Op(f, (x,), w, lane_bits=w)
        hint = " (an enum-typed immediate is called like a function)" if f in self.scope else ""
        raise self.error(f"unknown function '{f}'{hint}", e)

    def lane(self, e: ast.Call) -> t.TExpr:
        self.nargs(e, 2, 3)
        v = self.bv(e.args[0], None)
        lb = self.ct(e.args[2], "the lane width of 'lane'") if len(e.args) == 3 else v.lane_bits
        if lb < 1 or v.width % lb:
            raise self.error(f"a {v.width}-bit value has no lanes of {lb} bits", e)
        n = v.width // lb
        index = self.ct_value(e.args[1])
        if index is not None:
            if not 0 <= index < n:
                raise self.error(f"lane {index} of a vector of {n} lanes", e)
            return self.extract(v, index * lb + lb - 1, index * lb)
        idx = self.bv(e.args[1], None)
        return t.Op("lane_dyn", (v, idx), lb, (lb,), lb)

    def enum_call(self, e: ast.Call, name: str, enum: EnumImm) -> t.TExpr:
        if enum.implicit:
            if e.args:
                raise self.error(f"'{name}' (an {enum.enum}) takes no arguments: it reads {', '.join(enum.params)}", e)
            e = ast.Call(e.func, tuple(ast.Name(p, line=e.line, col=e.col) for p in enum.params), line=e.line, col=e.col)
        if len(e.args) != len(enum.params):
            raise self.error(f"'{name}' (an {enum.enum}) takes {len(enum.params)} arguments, not {len(e.args)}", e)
        if len(e.args) == 2:
            args = self.pair(e.args[0], e.args[1], None, f"'{name}'", e)
        else:
            args = tuple(self.bv(a, None) for a in e.args)
        key = (enum.enum, tuple((a.width, a.lane_bits) for a in args))
        if key not in self.enum_cache:
            cases = []
            for value_name, body, source in enum.values:
                scope: dict[str, object] = {p: BV(a.width, a.lane_bits) for p, a in zip(enum.params, args)}
                sub = _Checker(source, scope)
                try:
                    cases.append(sub.bv(body, None))
                except SpecError as err:
                    raise SpecError(f"{err.message} (value '{value_name}' of {enum.enum})", err.location.file, err.location.line) from None
            widths = {c.width for c in cases}
            if len(widths) != 1:
                raise self.error(f"the values of {enum.enum} give different widths {sorted(widths)}", e)
            self.enum_cache[key] = (tuple(cases), widths.pop())
        cases, width = self.enum_cache[key]
        names = tuple(v[0] for v in enum.values)
        return t.EnumCall(enum.enum, name, names, enum.params, cases, tuple(args), width, width)

    # -- statements -------------------------------------------------------------
    def statements(self, sem: ast.Semantics, outputs: Mapping[str, BV]) -> list[t.TStmt]:
        out: list[t.TStmt] = []
        for s in sem.stmts:
            if isinstance(s, ast.Assign):
                out.extend(self.assign(s, outputs))
            elif isinstance(s, ast.Trap):
                out.append(self.trap(s))
            else:
                addr = self.bv(s.addr, None)
                value = self.bv(s.value, None)
                if value.width % 8:
                    raise self.error(f"'store' writes whole bytes; the value has {value.width} bits", s)
                self.uses_memory = True
                out.append(t.Store(addr, value))
        return out

    def assign(self, s: ast.Assign, outputs: Mapping[str, BV]) -> list[t.TStmt]:
        name = s.target
        if name in self.inout:
            if name in self.assigned:
                raise self.error(f"'{name}' is assigned twice", s)
            want = outputs[name]
            expr = self.bv(s.expr, want.width)
            if expr.width != want.width:
                raise self.error(f"'{name}' has {want.width} bits but the expression has {expr.width}", s)
            self.assigned.add(name)
            return [t.Assign(name, expr, True)]
        if name in outputs:
            if not isinstance(self.scope.get(name), _Pending):
                raise self.error(f"'{name}' is assigned twice", s)
            want = outputs[name]
            expr = self.bv(s.expr, want.width)
            if expr.width != want.width:
                raise self.error(f"'{name}' has {want.width} bits but the expression has {expr.width}", s)
            self.scope[name] = want
            return [t.Assign(name, expr, True)]
        if name in self.scope:
            what = "assigned twice" if name not in self.inputs else "an input and cannot be assigned"
            raise self.error(f"'{name}' is {what}", s)
        value = self.ct_value(s.expr)
        if value is not None:
            self.scope[name] = value
            return []
        expr = self.bv(s.expr, None)
        self.scope[name] = BV(expr.width, expr.lane_bits)
        return [t.Assign(name, expr, False)]

    def trap(self, s: ast.Trap) -> t.Trap:
        cond = self.bool1(s.cond, "a trap condition")
        if s.code is None:
            imms = [n for n, k in self.scope.items() if isinstance(k, TrapCodeImm)]
            if len(imms) != 1:
                raise self.error("'trap' needs a code here: 'trap cond : code'", s)
            return t.Trap(cond, imms[0], True)
        if isinstance(self.scope.get(s.code), TrapCodeImm):
            return t.Trap(cond, s.code, True)
        if not is_trap_code(s.code) and s.code not in self.trap_codes:
            raise self.error(f"unknown trap code '{s.code}'", s)
        return t.Trap(cond, s.code, False)


def instantiate(
    sem: ast.Semantics,
    inputs: Mapping[str, Kind],
    outputs: Mapping[str, BV],
    consts: Mapping[str, int] | None = None,
    *,
    lanes: int = 1,
    split: frozenset[str] = frozenset(),
    require_outputs: bool = True,
    label: str = "",
    inout: frozenset[str] = frozenset(),
    optional: frozenset[str] = frozenset(),
    trap_codes: frozenset[str] = frozenset(),
) -> t.Program:
    """Check ``sem`` against an environment and return the typed program.

    ``inputs`` maps operand and immediate names to their kinds, ``outputs`` the names
    the semantics must assign (results, machine state), ``consts`` compile-time integers
    (``is_vector``...).  ``lanes``/``split`` describe a lanewise vector instance (see
    :class:`heron.meta.dsl.typed.Program`); widths are then lane widths.

    Machine instructions also use: ``inout``, names that are inputs *and* outputs (state
    such as ``CF``: reads before the assignment see the incoming value, reads after it the
    new one; assigned at most once); ``optional``, outputs the semantics may leave
    unassigned (they are then missing from the program's outputs); ``trap_codes``, trap
    codes accepted besides the IR's (``fault``).
    """
    scope: dict[str, object] = {}
    for name, kind in (consts or {}).items():
        scope[name] = kind
    for name, kind in inputs.items():
        scope[name] = kind
    for name in outputs:
        if name in inout:
            if name not in inputs:
                raise sem.error(f"'{name}' is read and written but is not an input")
            continue
        if name in scope:
            raise sem.error(f"'{name}' is both an input and an output")
        scope[name] = _Pending(outputs[name])
    checker = _Checker(sem.source, scope, frozenset(inputs) | frozenset(consts or ()), frozenset(inout), frozenset(trap_codes))
    stmts = checker.statements(sem, outputs)

    def assigned(n: str) -> bool:
        return n in checker.assigned if n in inout else not isinstance(scope[n], _Pending)

    if require_outputs:
        missing = [n for n in outputs if n not in optional and not assigned(n)]
        if missing:
            raise sem.error(f"the semantics never assigns {', '.join(repr(m) for m in missing)}")
    return t.Program(
        inputs=tuple(inputs.items()),
        outputs=tuple((n, w.width) for n, w in outputs.items() if assigned(n)),
        stmts=tuple(stmts),
        lanes=lanes,
        split=frozenset(split),
        uses_memory=checker.uses_memory,
        label=label,
    )


def check_expression(
    expr: ast.Expr,
    source: Source,
    inputs: Mapping[str, Kind],
    consts: Mapping[str, int] | None = None,
    want: int | None = None,
) -> int | t.TExpr:
    """Type one expression (a rule's predicate, a ``let``, an immediate operand).

    Returns the folded integer when the expression is a compile-time value, else the
    typed expression; ``want`` is the width a bare literal inside it would take.

    Example::

        >>> from heron.meta.dsl.parser import parse_expression
        >>> e, src = parse_expression("width == 64 ? 64 : 32")
        >>> check_expression(e, src, {}, {"width": 16})
        32
        >>> e, src = parse_expression("sext(trunc(k, 32), 64) == k")
        >>> check_expression(e, src, {"k": BV(64)}).width
        1
    """
    scope: dict[str, object] = dict(consts or {})
    scope.update(inputs)
    checker = _Checker(source, scope, frozenset(scope))
    value = checker.ct_value(expr)
    if value is not None:
        return value
    return checker.bv(expr, want)
