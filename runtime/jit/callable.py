"""Python callables for JIT functions: a function address plus a heron Signature.

:class:`JitFunction` converts arguments and results.  ``call_bits(*patterns)`` takes
and returns bit patterns (what the test runner compares, bit-exactly, NaN payloads
included); ``__call__`` takes and returns Python values:

- integers ``i8`` .. ``i128``: any Python int, masked to the width; results come back
  **signed** (two's complement), so ``f(-1)`` of an identity function is ``-1``.
  ``call_bits`` results are unsigned patterns, as the interpreter returns them.
- floats ``f16``/``f32``/``f64``: Python floats (rounded as C rounds); ``f128`` and
  vectors only as bit patterns (ints).
- no result gives ``None``, one result the value, several a tuple.

Two ways to make the call:

Direct (ctypes)
    The signature becomes a C prototype: ``i8``..``i64`` the unsigned C integer of the
    width, an ``i128`` parameter two ``uint64_t`` (the System V pair of registers), a
    float ``float``/``double`` passed from its bit pattern (never through a Python
    float, so signalling NaNs survive).  Results in registers come back as one scalar
    or as a 16-byte struct whose two eightbytes the host C ABI returns in the same
    registers Heron uses (``{u64, u64}``: ``rax:rdx``, an ``i128`` among them;
    ``{double, double}``: ``xmm0:xmm1``; ``{float, pad}`` keeps an f32's eightbyte in
    an SSE register).  That is at most two registers: a signature needing more, an
    ``i128`` parameter not wholly in registers, or f16/f128/vector types, need the
    entry trampoline.
Entry trampoline (array call)
    ``entry(callee, values, trap_context)``, a C function generated per signature
    (see ``heron.jit``): ``values`` is an array of 16-byte slots, slot *i* holding
    parameter *i* on entry and result *i* on return, as little-endian bit patterns.
    Any signature works; traps unwind through it.

Heron's multi-return convention (what the backend's ABI code follows): results are
assigned in order; each takes the next free return registers of its class (an
``i128`` two integer registers) if enough remain, and otherwise goes to the *return
area*: the next offset aligned to its size (at most 16), the area's size rounded up
to 16 bytes.  When any result goes there, the caller passes the area's address as an
implicit first integer argument (like a C struct return), before the formal ones.
With System V x86-64 (two integer and two float return registers) ``-> i64, i64,
i64`` returns the third value in memory.

After every call the module's trap context is checked: a pending trap is reset and
raised as :class:`heron.Trap`.

Example (a host C function stands in for JIT code)::

    >>> import ctypes
    >>> from heron.ir.entities import AbiParam, Signature
    >>> from heron.ir.types import I32
    >>> libc = ctypes.CDLL(None)
    >>> absolute = ctypes.cast(libc.abs, ctypes.c_void_p).value
    >>> sig = Signature([AbiParam(I32)], [AbiParam(I32)])
    >>> f = JitFunction(absolute, sig, HostCallConv(6, 8, 2, 2), name="abs")
    >>> f(-5), f.call_bits(0xFFFF_FFFB)
    (5, [5])
"""

from __future__ import annotations

import ctypes
import functools
import platform
import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from heron.errors import HeronError
from heron.ir.entities import Signature
from heron.ir.types import Type
from heron.jit.trap import TrapContext

if TYPE_CHECKING:
    from heron.jit.module import JITModule

__all__ = ["HostCallConv", "ReturnPlan", "JitFunction", "to_bits", "from_bits"]

SLOT_BYTES = 16  # bytes per value in an entry trampoline's array (heron.jit.entry)
_INT_CTYPES = {8: ctypes.c_uint8, 16: ctypes.c_uint16, 32: ctypes.c_uint32, 64: ctypes.c_uint64}


class _F32(ctypes.c_float):
    """A subclass, so ctypes hands back the instance (its raw bytes), not a Python float."""


class _F64(ctypes.c_double):
    pass


class _PairInts(ctypes.Structure):
    _fields_ = [("lo", ctypes.c_uint64), ("hi", ctypes.c_uint64)]


class HostCallConv:
    """Register counts of Heron's calling convention on the host ISA (from its abi.yaml):
    integer and float argument registers, integer and float return registers."""

    __slots__ = ("int_args", "float_args", "int_rets", "float_rets")

    def __init__(self, int_args: int, float_args: int, int_rets: int, float_rets: int) -> None:
        self.int_args = int_args
        self.float_args = float_args
        self.int_rets = int_rets
        self.float_rets = float_rets

    def __repr__(self) -> str:
        return f"HostCallConv(int_args={self.int_args}, float_args={self.float_args}, int_rets={self.int_rets}, float_rets={self.float_rets})"


def _is_float_class(ty: Type) -> bool:
    """Floats and vectors live in float/vector registers."""
    return ty.is_float or ty.is_vector


class ReturnPlan:
    """Where each result of a signature goes under Heron's multi-return convention.

    ``in_registers``: the indexes of the results returned in registers, in order;
    ``area_offsets``: result index -> offset in the return area; ``area_size``.

        >>> from heron.ir.entities import AbiParam, Signature
        >>> from heron.ir.types import I64, I128, F64
        >>> sig = Signature([], [AbiParam(t) for t in (I64, F64, I128, I64, F64)])
        >>> plan = ReturnPlan(sig, HostCallConv(6, 8, 2, 2))
        >>> plan.in_registers, plan.area_offsets, plan.area_size
        ([0, 1, 3, 4], {2: 0}, 16)
    """

    __slots__ = ("in_registers", "area_offsets", "area_size")

    def __init__(self, signature: Signature, conv: HostCallConv) -> None:
        free_int, free_float = conv.int_rets, conv.float_rets
        self.in_registers: list[int] = []
        self.area_offsets: dict[int, int] = {}
        size = 0
        for i, ret in enumerate(signature.returns):
            ty = ret.type
            if _is_float_class(ty):
                if free_float >= 1:
                    free_float -= 1
                    self.in_registers.append(i)
                    continue
            else:
                need = 2 if ty.bits > 64 else 1
                if free_int >= need:
                    free_int -= need
                    self.in_registers.append(i)
                    continue
            align = min(ty.bytes, 16)
            size = (size + align - 1) & -align
            self.area_offsets[i] = size
            size += ty.bytes
        self.area_size = (size + 15) & -16


def to_bits(ty: Type, value: Any) -> int:
    """The bit pattern of a Python value of IR type ``ty`` (see the module docstring)."""
    if ty.is_scalar and ty.is_float and ty.bits != 128:
        if not isinstance(value, (int, float)):
            raise HeronError(f"expected a number for {ty}, got {type(value).__name__}")
        if ty.bits == 64:
            return int.from_bytes(struct.pack("<d", value), "little")
        if ty.bits == 32:
            return int.from_bytes(bytes(ctypes.c_float(value)), "little")
        try:
            return int.from_bytes(struct.pack("<e", value), "little")
        except OverflowError:
            return 0xFC00 if value < 0 else 0x7C00
    if not isinstance(value, int):
        raise HeronError(f"expected an int for {ty}, got {type(value).__name__}")
    return value & ty.mask


def from_bits(ty: Type, bits: int) -> Any:
    """The Python value of bit pattern ``bits`` of IR type ``ty`` (ints signed)."""
    if ty.is_scalar and ty.is_float:
        if ty.bits == 64:
            return struct.unpack("<d", bits.to_bytes(8, "little"))[0]
        if ty.bits == 32:
            return struct.unpack("<f", bits.to_bytes(4, "little"))[0]
        if ty.bits == 16:
            return struct.unpack("<e", bits.to_bytes(2, "little"))[0]
        return bits
    if ty.is_vector:
        return bits
    return bits - (1 << ty.bits) if bits >> (ty.bits - 1) else bits


class _DirectCall:
    """A ctypes prototype for a signature (see "Direct" in the module docstring)."""

    __slots__ = ("fn", "param_makers", "result_reader", "plan")

    def __init__(self, address: int, signature: Signature, conv: HostCallConv) -> None:
        plan = ReturnPlan(signature, conv)
        self.plan = plan
        argtypes: list[Any] = []
        makers: list[Callable[[int], Sequence[Any]]] = []
        next_int = 0
        if plan.area_offsets:
            argtypes.append(ctypes.c_void_p)
            next_int = 1
        for p in signature.params:
            ty = p.type
            if ty.is_vector or ty.bits in (16, 128) and ty.is_float:
                raise HeronError(f"a {ty} parameter needs the entry trampoline")
            if ty.is_float:
                ctype = ctypes.c_float if ty.bits == 32 else ctypes.c_double
                argtypes.append(ctype)
                makers.append(_float_maker(ctype, ty.bytes))
            elif ty.bits == 128:
                if next_int + 2 > conv.int_args:
                    raise HeronError("an i128 parameter not wholly in registers needs the entry trampoline")
                next_int += 2
                argtypes += (ctypes.c_uint64, ctypes.c_uint64)
                makers.append(_split128)
            else:
                next_int += 1
                argtypes.append(_INT_CTYPES[ty.bits])
                makers.append(_one)
        self.param_makers = makers
        restype, self.result_reader = _result_shape(signature, plan)
        self.fn = ctypes.CFUNCTYPE(restype, *argtypes)(address)

    def call(self, signature: Signature, bits: Sequence[int]) -> list[int]:
        args: list[Any] = []
        area_addr = 0
        if self.plan.area_offsets:
            area = ctypes.create_string_buffer(self.plan.area_size + 16)
            area_addr = (ctypes.addressof(area) + 15) & -16
            args.append(area_addr)
        for make, b in zip(self.param_makers, bits):
            args.extend(make(b))
        raw = self.fn(*args)
        results = [0] * len(signature.returns)
        for i, value in zip(self.plan.in_registers, self.result_reader(raw)):
            results[i] = value & signature.returns[i].type.mask
        for i, off in self.plan.area_offsets.items():
            ty = signature.returns[i].type
            results[i] = int.from_bytes(ctypes.string_at(area_addr + off, ty.bytes), "little")
        return results


def _one(b: int) -> tuple[int]:
    return (b,)


def _split128(b: int) -> tuple[int, int]:
    return (b & 0xFFFF_FFFF_FFFF_FFFF, b >> 64)


def _float_maker(ctype: Any, nbytes: int) -> Callable[[int], tuple[Any]]:
    def make(b: int) -> tuple[Any]:
        return (ctype.from_buffer_copy(b.to_bytes(nbytes, "little")),)

    return make


def _result_shape(signature: Signature, plan: ReturnPlan) -> tuple[Any, Callable[[Any], list[int]]]:
    """The ctypes restype for the register results and how to read their bits back."""
    types = [signature.returns[i].type for i in plan.in_registers]
    for ty in types:
        if ty.is_vector or ty.is_float and ty.bits in (16, 128):
            raise HeronError(f"a {ty} result needs the entry trampoline")
    if not types:
        return None, lambda raw: []
    if len(types) == 1:
        ty = types[0]
        if ty.is_float:
            return (_F32 if ty.bits == 32 else _F64), lambda raw: [int.from_bytes(bytes(raw), "little")]
        if ty.bits == 128:
            return _PairInts, lambda raw: [raw.lo | raw.hi << 64]
        return _INT_CTYPES[ty.bits], lambda raw: [raw]
    if len(types) > 2 or any(t.bits == 128 for t in types):
        raise HeronError(f"{len(types)} results in registers need the entry trampoline")
    if platform.machine() not in ("x86_64", "AMD64"):
        raise HeronError(f"two results in registers through ctypes are only known for System V x86-64, not {platform.machine()}")
    pair = _pair_struct(tuple("i64" if not ty.is_float else ty.name for ty in types))

    def read(raw: Any) -> list[int]:
        data = bytes(raw)
        return [int.from_bytes(data[0:8], "little"), int.from_bytes(data[8:16], "little")]

    return pair, read


@functools.cache
def _pair_struct(kinds: tuple[str, ...]) -> type[ctypes.Structure]:
    """A 16-byte struct of two eightbytes, one per register result: ``i64`` (INTEGER
    class), ``f64`` (SSE), ``f32`` (SSE: the float padded with a float, since an int
    pad would make the eightbyte INTEGER and two floats would share one register)."""
    fields: list[tuple[str, Any]] = []
    for n, kind in enumerate(kinds):
        if kind == "i64":
            fields.append((f"r{n}", ctypes.c_uint64))
        elif kind == "f64":
            fields.append((f"r{n}", ctypes.c_double))
        else:
            fields += [(f"r{n}", ctypes.c_float), (f"pad{n}", ctypes.c_float)]

    class _Pair(ctypes.Structure):
        _fields_ = fields

    return _Pair


_ENTRY_PROTOTYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


class _EntryCall:
    """A call through an array-call entry trampoline (see the module docstring)."""

    __slots__ = ("fn", "callee", "slots")

    def __init__(self, entry: int, callee: int, signature: Signature) -> None:
        self.fn = _ENTRY_PROTOTYPE(entry)
        self.callee = callee
        self.slots = max(len(signature.params), len(signature.returns), 1)

    def call(self, signature: Signature, bits: Sequence[int], context: int) -> list[int]:
        data = b"".join(b.to_bytes(SLOT_BYTES, "little") for b in bits).ljust(self.slots * SLOT_BYTES, b"\0")
        values = ctypes.create_string_buffer(data, len(data))
        self.fn(self.callee, ctypes.addressof(values), context or None)
        raw = values.raw
        return [
            int.from_bytes(raw[i * SLOT_BYTES : i * SLOT_BYTES + r.type.bytes], "little") for i, r in enumerate(signature.returns)
        ]


class JitFunction:
    """A JIT function callable from Python (see the module docstring).

    ``owner`` is the module the code lives in (calls fail once it is freed, and it
    locates traps); ``trap_context`` the address of its trap-context block (0: none);
    ``entry`` the address of an entry trampoline for this signature (0: call directly,
    which needs ``conv``).
    """

    __slots__ = ("address", "signature", "name", "_owner", "_context", "_direct", "_entry", "_types")

    def __init__(
        self,
        address: int,
        signature: Signature,
        conv: HostCallConv | None,
        *,
        name: str = "",
        owner: JITModule | None = None,
        trap_context: int = 0,
        entry: int = 0,
    ) -> None:
        self.address = address
        self.signature = signature
        self.name = name
        self._owner = owner
        self._context = TrapContext(trap_context) if trap_context else None
        self._types = [p.type for p in signature.params]
        self._entry = _EntryCall(entry, address, signature) if entry else None
        if not entry and conv is None:
            raise HeronError(f"cannot call {name or 'a function'} directly without the host calling convention (conv)")
        self._direct = None if entry else _DirectCall(address, signature, conv)  # type: ignore[arg-type]

    def call_bits(self, *bits: int) -> list[int]:
        """Call with parameter bit patterns; the results' bit patterns (unsigned)."""
        types = self._types
        if len(bits) != len(types):
            raise HeronError(f"{self.name or 'function'} takes {len(types)} arguments, {len(bits)} given")
        if self._owner is not None and self._owner.freed:
            raise HeronError(f"cannot call {self.name}: its module was freed")
        masked = [b & ty.mask for b, ty in zip(bits, types)]
        context = self._context
        if self._entry is not None:
            results = self._entry.call(self.signature, masked, context.address if context else 0)
        else:
            results = self._direct.call(self.signature, masked)  # type: ignore[union-attr]
        if context is not None and context.pending():
            context.raise_pending(self.name, self._owner.lookup_trap if self._owner is not None else None)
        return results

    def __call__(self, *args: Any) -> Any:
        """Call with Python values; None, one value, or a tuple of values."""
        types = self._types
        if len(args) != len(types):
            raise HeronError(f"{self.name or 'function'} takes {len(types)} arguments, {len(args)} given")
        results = self.call_bits(*(to_bits(ty, a) for ty, a in zip(types, args)))
        values = tuple(from_bits(r.type, b) for r, b in zip(self.signature.returns, results))
        if not values:
            return None
        return values[0] if len(values) == 1 else values

    def __repr__(self) -> str:
        return f"<JitFunction {self.name} {self.signature} at {self.address:#x}>"
