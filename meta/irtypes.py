"""Meta's own small model of IR type names, immediate kinds and trap codes.

``heron.meta`` may not import ``heron.ir.types`` (DESIGN.md §2: a broken runtime must
never stop the meta-compiler), so this module re-derives what the semantics DSL needs
from a type's *name*: lane width, lane count, int or float, fixed or dynamic vector.
A dynamic vector (``i32x4xN``) is modelled by its static shape, the smallest scale.

Example::

    >>> t = ir_type("f64x2")
    >>> t.lane_bits, t.lanes, t.is_float, t.bits
    (64, 2, True, 128)
    >>> derived_type(ir_type("i16x8"), "merge_lanes").name
    'i32x4'
    >>> resolve_type_expr("T.as_truthy", {"T": ir_type("f32")}).name
    'i8'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "IRType",
    "ir_type",
    "derived_type",
    "resolve_type_expr",
    "DERIVED_TYPES",
    "IMMEDIATE_WIDTHS",
    "TRAP_CODES",
    "is_trap_code",
]

_NAME = re.compile(r"^([if])(8|16|32|64|128)(?:x(\d+))?(xN)?$")
_INT_BITS = (8, 16, 32, 64, 128)
_FLOAT_BITS = (16, 32, 64, 128)
_VECTOR_MAX_BITS = 128


@dataclass(frozen=True)
class IRType:
    """An IR type as the DSL sees it: ``lanes`` lanes of ``lane_bits`` bits."""

    name: str
    lane_bits: int
    lanes: int
    is_float: bool
    is_dynamic: bool = False

    @property
    def bits(self) -> int:
        return self.lane_bits * self.lanes

    @property
    def is_vector(self) -> bool:
        return self.lanes > 1 or self.is_dynamic

    @property
    def lane(self) -> IRType:
        return _make(self.is_float, self.lane_bits, 1, False)  # type: ignore[return-value]


def _make(is_float: bool, lane_bits: int, lanes: int, dynamic: bool) -> IRType | None:
    if lane_bits not in (_FLOAT_BITS if is_float else _INT_BITS):
        return None
    if lanes == 1 and not dynamic:
        return IRType(("f" if is_float else "i") + str(lane_bits), lane_bits, 1, is_float)
    if lanes < 2 or lanes & (lanes - 1) or lane_bits * lanes > _VECTOR_MAX_BITS or lane_bits == 128:
        return None
    name = f"{'f' if is_float else 'i'}{lane_bits}x{lanes}" + ("xN" if dynamic else "")
    return IRType(name, lane_bits, lanes, is_float, dynamic)


def ir_type(name: str) -> IRType | None:
    """The type called ``name`` (``i32``, ``f32x4``, ``i64x2xN``), or None."""
    m = _NAME.match(name)
    if m is None:
        return None
    kind, bits, lanes, dyn = m.groups()
    if lanes is None and dyn:
        return None
    t = _make(kind == "f", int(bits), int(lanes) if lanes else 1, bool(dyn))
    return t if t is not None and t.name == name else None


def _as_int(t: IRType) -> IRType | None:
    return _make(False, t.lane_bits, t.lanes, t.is_dynamic)


def _as_truthy(t: IRType) -> IRType | None:
    return _make(False, 8, 1, False) if not t.is_vector else _as_int(t)


DERIVED_TYPES = {
    "lane": lambda t: t.lane,
    "as_int": _as_int,
    "as_truthy": _as_truthy,
    "half_width": lambda t: _make(t.is_float, t.lane_bits // 2, t.lanes, t.is_dynamic),
    "double_width": lambda t: _make(t.is_float, t.lane_bits * 2, t.lanes, t.is_dynamic),
    "half_vector": lambda t: _make(t.is_float, t.lane_bits, t.lanes // 2, False) if t.lanes > 1 and not t.is_dynamic else None,
    "split_lanes": lambda t: _make(t.is_float, t.lane_bits // 2, t.lanes * 2, t.is_dynamic),
    "merge_lanes": lambda t: _make(t.is_float, t.lane_bits * 2, t.lanes // 2, t.is_dynamic) if t.lanes > 1 else None,
    "static": lambda t: _make(t.is_float, t.lane_bits, t.lanes, False) if t.is_dynamic else None,
}


def derived_type(t: IRType, fn: str) -> IRType | None:
    """``T.<fn>`` applied to ``t``; None when the result is not a type (``i8.half_width``)."""
    return DERIVED_TYPES[fn](t)


def resolve_type_expr(expr: str, bindings: dict[str, IRType]) -> IRType | None:
    """The type of an operand type expression (``T``, ``T.lane``, ``i8``) under ``bindings``."""
    base, _, fn = expr.partition(".")
    if base in bindings:
        t = bindings[base]
        return derived_type(t, fn) if fn else t
    return ir_type(base) if not fn else None


# Widths of the immediate kinds of ir.yaml's formats, as DSL bit-vectors.  `constant`
# (a constant-pool entry) has the width of the controlling type, filled in per instance;
# enum kinds, trap codes and memory flags are not bit-vectors (see heron.meta.dsl.check).
IMMEDIATE_WIDTHS = {
    "imm64": 64,
    "uimm8": 8,
    "uimm128": 128,
    "offset32": 32,
    "ieee16": 16,
    "ieee32": 32,
    "ieee64": 64,
}

# Cranelift's trap codes; `user<N>` codes are accepted too.
TRAP_CODES = frozenset(
    {
        "stk_ovf",
        "heap_oob",
        "int_ovf",
        "int_divz",
        "bad_toint",
        "bad_sig",
        "unreachable",
        "interrupt",
        "table_oob",
        "icall_null",
        "null_reference",
        "array_oob",
        "heap_misaligned",
    }
)


def is_trap_code(name: str) -> bool:
    return name in TRAP_CODES or re.fullmatch(r"user\d+", name) is not None
