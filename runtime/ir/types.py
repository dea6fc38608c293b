"""IR value types: scalar integers and floats, and fixed-width vectors of them.

Types are interned singletons, so ``is`` and ``==`` agree and a type is cheap to
store per value.  A vector type is a lane type times a power-of-two lane count
(``i32x4``: 4 lanes of i32, 128 bits).  Dynamic vector types (``i32x4xN``) are
not value types of this IR; they appear only in a function preamble (``dt0``).

Example::

    >>> from heron.ir.types import I32, type_by_name
    >>> I32.bits, I32.is_int, I32.is_vector
    (32, True, False)
    >>> v = type_by_name("i16x8")
    >>> v.lane_type.name, v.lanes, v.bits
    ('i16', 8, 128)
    >>> v.half_width().name, v.merge_lanes().name
    ('i8x8', 'i32x4')
"""

from __future__ import annotations

__all__ = [
    "Type",
    "type_by_name",
    "int_type",
    "float_type",
    "vector_type",
    "I8",
    "I16",
    "I32",
    "I64",
    "I128",
    "F16",
    "F32",
    "F64",
    "F128",
    "SCALAR_INTS",
    "SCALAR_FLOATS",
    "ALL_TYPES",
]


class Type:
    """One interned IR type.  Build through the module constants or :func:`type_by_name`."""

    __slots__ = ("name", "lane_bits", "lanes", "is_float", "is_dynamic", "bits", "bytes", "mask", "_lane")

    def __init__(self, name: str, lane_bits: int, lanes: int, is_float: bool, is_dynamic: bool = False) -> None:
        self.name = name
        self.is_dynamic = is_dynamic
        self.lane_bits = lane_bits
        self.lanes = lanes
        self.is_float = is_float
        self.bits = lane_bits * lanes
        self.bytes = self.bits // 8
        self.mask = (1 << self.bits) - 1
        self._lane: Type | None = None

    # -- classification -------------------------------------------------
    @property
    def is_int(self) -> bool:
        """An integer scalar or integer vector."""
        return not self.is_float

    @property
    def is_vector(self) -> bool:
        return self.lanes > 1

    @property
    def is_scalar(self) -> bool:
        return self.lanes == 1

    @property
    def lane_type(self) -> Type:
        """The type of one lane (the type itself for a scalar)."""
        return self._lane if self._lane is not None else self

    @property
    def lane_mask(self) -> int:
        return (1 << self.lane_bits) - 1

    # -- derived types (None when the result would not be a valid type) --
    def with_lane(self, lane: Type) -> Type | None:
        """Same lane count (and dynamic-ness), other lane type."""
        if self.lanes == 1:
            return lane
        return _vector_or_dynamic(lane, self.lanes, self.is_dynamic)

    def as_int(self) -> Type:
        """The integer type of the same shape (``f32x4`` -> ``i32x4``)."""
        return self.with_lane(int_type(self.lane_bits))  # type: ignore[return-value]

    def as_truthy(self) -> Type:
        """What a comparison of this type yields: i8 for a scalar, a same-shape int vector."""
        if self.lanes == 1:
            return I8
        return self.as_int()

    def half_width(self) -> Type | None:
        """Lanes of half the width (``i32`` -> ``i16``, ``i32x4`` -> ``i16x4``)."""
        lane = self.lane_type
        half = _by_lane_kind.get((lane.lane_bits // 2, lane.is_float))
        return self.with_lane(half) if half is not None else None

    def double_width(self) -> Type | None:
        lane = self.lane_type
        double = _by_lane_kind.get((lane.lane_bits * 2, lane.is_float))
        return self.with_lane(double) if double is not None else None

    def half_vector(self) -> Type | None:
        """Half the lanes (``i32x4`` -> ``i32x2``)."""
        if self.lanes < 2 or self.is_dynamic:
            return None
        return vector_type(self.lane_type, self.lanes // 2)

    def split_lanes(self) -> Type | None:
        """Twice the lanes of half the width (``i32x4`` -> ``i16x8``)."""
        half = self.half_width()
        if half is None:
            return None
        return _vector_or_dynamic(half.lane_type, self.lanes * 2, self.is_dynamic)

    def merge_lanes(self) -> Type | None:
        """Half the lanes of twice the width (``i16x8`` -> ``i32x4``)."""
        if self.lanes < 2:
            return None
        double = _by_lane_kind.get((self.lane_bits * 2, self.is_float))
        if double is None:
            return None
        return _vector_or_dynamic(double, self.lanes // 2, self.is_dynamic)

    def static(self) -> Type | None:
        """The fixed vector a dynamic vector is scaled from (``i32x4xN`` -> ``i32x4``)."""
        return vector_type(self.lane_type, self.lanes) if self.is_dynamic else None

    def dynamic(self) -> Type | None:
        """The dynamic vector scaled from this fixed vector (``i32x4`` -> ``i32x4xN``)."""
        if self.lanes < 2 or self.is_dynamic:
            return None
        return _by_name.get(self.name + "xN")

    def __repr__(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name

    def __reduce__(self) -> tuple:
        return (type_by_name, (self.name,))


_by_name: dict[str, Type] = {}
_by_lane_kind: dict[tuple[int, bool], Type] = {}


def _scalar(name: str, bits: int, is_float: bool) -> Type:
    t = Type(name, bits, 1, is_float)
    _by_name[name] = t
    _by_lane_kind[(bits, is_float)] = t
    return t


I8 = _scalar("i8", 8, False)
I16 = _scalar("i16", 16, False)
I32 = _scalar("i32", 32, False)
I64 = _scalar("i64", 64, False)
I128 = _scalar("i128", 128, False)
F16 = _scalar("f16", 16, True)
F32 = _scalar("f32", 32, True)
F64 = _scalar("f64", 64, True)
F128 = _scalar("f128", 128, True)

SCALAR_INTS: tuple[Type, ...] = (I8, I16, I32, I64, I128)
SCALAR_FLOATS: tuple[Type, ...] = (F16, F32, F64, F128)

# Vector types: lane counts 2..256 with a total of at most 128 bits (as Cranelift's
# fixed vectors: i8x2 .. i8x16, i16x2 .. i16x8, i32x2, i32x4, i64x2, f32x2, f32x4, f64x2).
_VECTOR_MAX_BITS = 128


def vector_type(lane: Type, lanes: int) -> Type | None:
    """The vector of ``lanes`` lanes of scalar ``lane`` (``lanes == 1`` gives ``lane``)."""
    if lanes == 1:
        return lane
    return _by_name.get(f"{lane.name}x{lanes}")


def _vector_or_dynamic(lane: Type, lanes: int, dynamic: bool) -> Type | None:
    if lanes == 1 and not dynamic:
        return lane
    return _by_name.get(f"{lane.name}x{lanes}" + ("xN" if dynamic else ""))


def _make_vectors() -> None:
    for lane in (I8, I16, I32, I64, F16, F32, F64):
        lanes = 2
        while lane.bits * lanes <= _VECTOR_MAX_BITS:
            name = f"{lane.name}x{lanes}"
            v = Type(name, lane.bits, lanes, lane.is_float)
            v._lane = lane
            _by_name[name] = v
            # The dynamic vector ``<name>xN``: a scaled multiple of the fixed vector.  Heron
            # parses and prints these but cannot run them.
            d = Type(name + "xN", lane.bits, lanes, lane.is_float, is_dynamic=True)
            d._lane = lane
            _by_name[d.name] = d
            lanes *= 2


_make_vectors()

ALL_TYPES: tuple[Type, ...] = tuple(t for t in _by_name.values() if not t.is_dynamic)


def type_by_name(name: str) -> Type | None:
    """Look up a type by its CLIF name; None if there is no such type."""
    return _by_name.get(name)


def int_type(bits: int) -> Type:
    """The scalar integer type of ``bits`` bits (8..128)."""
    return _by_lane_kind[(bits, False)]


def float_type(bits: int) -> Type:
    """The scalar float type of ``bits`` bits (16, 32, 64, 128)."""
    return _by_lane_kind[(bits, True)]
