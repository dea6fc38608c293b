"""The builtin functions of the semantics DSL, grouped by how they are typed.

:mod:`.check` types a call by its group; the back ends implement each operator of
:mod:`.typed`.  ``COMPTIME_*`` give the meaning of operators and functions applied to
compile-time integers (mathematical integers: ``ult`` is just ``<`` there).

Example::

    >>> "sdiv" in SAME_WIDTH_FUNCS and "fptosi_ok" in F_TO_INT_OK
    True
"""

from __future__ import annotations

__all__ = [
    "ARITH",
    "SAME_WIDTH_FUNCS",
    "CMP_FUNCS",
    "SHIFT_FUNCS",
    "UNARY_FUNCS",
    "F_BINARY",
    "F_UNARY",
    "F_CMP",
    "F_TO_INT",
    "F_TO_INT_OK",
    "COMPTIME_FUNCS",
    "COMPTIME_BINARY",
    "BUILTINS",
]

ARITH = {"+": "add", "-": "sub", "*": "mul", "&": "and", "|": "or", "^": "xor"}
SAME_WIDTH_FUNCS = frozenset(
    {"udiv", "sdiv", "urem", "srem", "umulhi", "smulhi", "umin", "umax", "smin", "smax"}
)
CMP_FUNCS = frozenset({"ult", "ule", "ugt", "uge", "slt", "sle", "sgt", "sge"})
SHIFT_FUNCS = frozenset({"lshr", "ashr", "rotl", "rotr"})
UNARY_FUNCS = frozenset({"clz", "ctz", "cls", "popcnt", "bswap", "bitrev"})
F_BINARY = frozenset({"fadd", "fsub", "fmul", "fdiv", "fmin", "fmax", "fcopysign"})
F_UNARY = frozenset({"fsqrt", "fneg", "fabs", "fceil", "ffloor", "ftrunc", "fnearest"})
F_CMP = frozenset({"feq", "flt", "fle", "funord"})
F_TO_INT = frozenset({"fptosi", "fptoui", "fptosi_sat", "fptoui_sat"})
F_TO_INT_OK = frozenset({"fptosi_ok", "fptoui_ok"})
COMPTIME_FUNCS = {
    "udiv": lambda a, b: a // b,
    "urem": lambda a, b: a % b,
    "umin": min,
    "umax": max,
    "smin": min,
    "smax": max,
    "ult": lambda a, b: int(a < b),
    "ule": lambda a, b: int(a <= b),
    "ugt": lambda a, b: int(a > b),
    "uge": lambda a, b: int(a >= b),
    "slt": lambda a, b: int(a < b),
    "sle": lambda a, b: int(a <= b),
    "sgt": lambda a, b: int(a > b),
    "sge": lambda a, b: int(a >= b),
}
COMPTIME_BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "==": lambda a, b: int(a == b),
    "!=": lambda a, b: int(a != b),
    "&&": lambda a, b: int(bool(a) and bool(b)),
    "||": lambda a, b: int(bool(a) or bool(b)),
}

BUILTINS = frozenset(
    SAME_WIDTH_FUNCS | CMP_FUNCS | SHIFT_FUNCS | UNARY_FUNCS | F_BINARY | F_UNARY | F_CMP
    | F_TO_INT | F_TO_INT_OK
    | {"sext", "zext", "trunc", "concat", "ite", "width", "lanes", "lane_bits", "const", "bool",
       "lane", "load", "big_endian", "addr", "undef", "ffma", "fisnan", "fcvt", "sitofp", "uitofp", "vec", "all", "any"}
)
