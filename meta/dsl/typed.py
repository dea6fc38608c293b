"""The typed program: what :func:`heron.meta.dsl.check.instantiate` produces.

Every width is a concrete number, compile-time arithmetic is folded, ``vec``/``all``/
``any`` are unrolled and enum calls carry one typed body per enum value.  Both back
ends (:mod:`.pyback`, :mod:`heron.meta.smt`) read only this module's nodes.

An expression node is a :class:`Const`, :class:`Var`, :class:`Op`, :class:`EnumCall`
or :class:`FlagTest`.  ``Op.op`` is one of :data:`OPS`; ``Op.attrs`` holds its static
integer parameters (``extract``: hi, lo; ``lane_dyn``: lane bits).

Example::

    >>> from heron.meta.dsl import parse_semantics, instantiate, BV
    >>> prog = instantiate(parse_semantics("a = x + 1"), {"x": BV(8)}, {"a": BV(8)})
    >>> prog.stmts[0].expr
    Op(op='add', args=(Var(name='x', width=8), Const(value=1, width=8)), width=8)
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Const",
    "Var",
    "Op",
    "EnumCall",
    "FlagTest",
    "TExpr",
    "Assign",
    "Trap",
    "Store",
    "TStmt",
    "Program",
    "OPS",
    "FLOAT_OPS",
]

# Operators of the typed program, by arity class (the back ends implement each one).
OPS = frozenset(
    {
        # binary, same width in and out
        "add", "sub", "mul", "and", "or", "xor",
        "udiv", "sdiv", "urem", "srem", "umulhi", "smulhi", "umin", "umax", "smin", "smax",
        # shifts and rotates: amount of any width, unsigned
        "shl", "lshr", "ashr", "rotl", "rotr",
        # comparisons -> 1 bit
        "eq", "ne", "ult", "ule", "ugt", "uge", "slt", "sle", "sgt", "sge",
        # 1-bit logic (n-ary land/lor)
        "land", "lor", "lnot",
        # unary
        "neg", "not", "clz", "ctz", "cls", "popcnt", "bswap", "bitrev",
        # structure
        "ite", "extract", "concat", "sext", "zext", "lane_dyn", "load",
        # a value the semantics leaves unspecified (attrs: a serial number)
        "undef",
    }
)
FLOAT_OPS = frozenset(
    {
        "fadd", "fsub", "fmul", "fdiv", "fmin", "fmax", "fcopysign", "fsqrt", "ffma",
        "fneg", "fabs", "fceil", "ffloor", "ftrunc", "fnearest",
        "feq", "flt", "fle", "funord", "fisnan",
        "fcvt", "sitofp", "uitofp", "fptosi", "fptoui", "fptosi_ok", "fptoui_ok",
        "fptosi_sat", "fptoui_sat",
    }
)


@dataclass(frozen=True)
class Const:
    """A literal; ``value`` is unsigned, below ``2**width``."""

    value: int
    width: int
    lane_bits: int = field(default=0, repr=False, compare=False)


@dataclass(frozen=True)
class Var:
    """An input (operand, immediate) or a name assigned earlier."""

    name: str
    width: int
    lane_bits: int = field(default=0, repr=False, compare=False)


@dataclass(frozen=True)
class Op:
    op: str
    args: tuple[TExpr, ...]
    width: int
    attrs: tuple[int, ...] = field(default=(), repr=False)
    lane_bits: int = field(default=0, repr=False, compare=False)


@dataclass(frozen=True)
class EnumCall:
    """``cond(x, y)`` through an enum-typed immediate ``imm``.

    ``cases[k]`` is the body for the enum's k-th value (in ir.yaml order), typed with
    the parameters ``params`` (``x``, ``y``) bound to ``args``.
    """

    enum: str
    imm: str
    value_names: tuple[str, ...]
    params: tuple[str, ...]
    cases: tuple[TExpr, ...]
    args: tuple[TExpr, ...]
    width: int
    lane_bits: int = field(default=0, repr=False, compare=False)


@dataclass(frozen=True)
class FlagTest:
    """``big_endian(flags)``: 1 when the memory-flags immediate ``imm`` says ``big``."""

    imm: str
    flag: str
    width: int = 1
    lane_bits: int = field(default=0, repr=False, compare=False)


TExpr = Const | Var | Op | EnumCall | FlagTest


@dataclass(frozen=True)
class Assign:
    name: str
    expr: TExpr
    is_output: bool


@dataclass(frozen=True)
class Trap:
    """Trap when ``cond`` (1 bit) is 1.  ``code`` is a trap-code name, or the name of
    a trap-code immediate when ``code_is_imm``."""

    cond: TExpr
    code: str
    code_is_imm: bool = False


@dataclass(frozen=True)
class Store:
    addr: TExpr
    value: TExpr


TStmt = Assign | Trap | Store


@dataclass(frozen=True)
class Program:
    """One semantics instantiated at concrete widths.

    ``inputs`` and ``outputs`` keep the environment's order.  When ``lanes > 1`` the
    program describes ONE lane of a lanewise vector operation: the names in ``split``
    are vectors of ``lanes`` lanes (their widths here are lane widths), the other
    inputs are the same for every lane.
    """

    inputs: tuple[tuple[str, object], ...]
    outputs: tuple[tuple[str, int], ...]
    stmts: tuple[TStmt, ...]
    lanes: int = 1
    split: frozenset[str] = frozenset()
    uses_memory: bool = False
    label: str = ""
