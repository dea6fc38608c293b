"""Instruction data: what one IR instruction holds, and what an opcode allows.

An instruction is an :class:`InstData` record stored in the data-flow graph's
instruction table and named by its number (``inst5``).  It holds its opcode
number, the controlling type, its value operands (value numbers), at most two
immediates and, for branches, its block calls.  Which slot holds what depends
on the opcode's *format* (from ``isa_specs/ir.yaml``):

============== ===================== ============================== ===========
format          ``imm``               ``aux``                        ``dests``
============== ===================== ============================== ===========
UnaryImm        the bits (int)
UnaryIeee*      the float's bits
UnaryConst      the value (int)
UnaryGlobalValue                      global value number
BinaryImm8      lane
TernaryImm8     lane
Shuffle         mask (int, byte i = lane i)
IntCompare      IntCC index
FloatCompare    FloatCC index
Load/Store      offset                MemFlags
Load/StoreNoOffset                    MemFlags
AtomicRmw       AtomicRmwOp index     MemFlags
AtomicCas                             MemFlags
StackLoad/Store offset                stack slot number
Call/FuncAddr                         func ref number
CallIndirect                          sig ref number
TryCall         handler tags          (func ref, sig ref)            [normal, exceptional...]
Trap/CondTrap                         trap code (str)
Jump                                                                 [dest]
Brif                                                                 [then, else]
BranchTable                                                          [default, entries...]
============== ===================== ============================== ===========

Integer immediates are unsigned bit patterns of the controlling type
(``iconst.i8 -1`` holds 255; an ``i128`` immediate is sign-extended from 64
bits); a constant's value has lane 0 in its low bits.  The handler tags of a
``try_call`` are a tuple with one entry per exceptional destination: the tag
number (``tag1: block2``) or None (``default: block3``).

Example::

    >>> from heron.ir import opcodes as op
    >>> from heron.ir.types import I32
    >>> d = InstData(op.IADD, I32, [0, 1])
    >>> opcode_info(d.opcode).name, d.args
    ('iadd', [0, 1])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron.ir.types import Type, type_by_name

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "InstData",
    "BlockCall",
    "OpcodeInfo",
    "opcode_info",
    "opcode_by_name",
    "resolve_type_expr",
]


class BlockCall:
    """A branch destination: a block and the arguments passed to its parameters.

    An argument is a value number, or for ``try_call`` exceptional edges a negative
    number ``-(i + 1)`` standing for the i-th exception payload (``exn<i>``).
    """

    __slots__ = ("block", "args")

    def __init__(self, block: int, args: list[int] | None = None) -> None:
        self.block = block
        self.args = args if args is not None else []

    def __repr__(self) -> str:
        return f"BlockCall(block{self.block}, {self.args})"


class InstData:
    """One instruction's data.  See the module docstring for the meaning of the slots."""

    __slots__ = ("opcode", "ctrl_type", "args", "imm", "aux", "dests")

    def __init__(
        self,
        opcode: int,
        ctrl_type: Type | None = None,
        args: list[int] | None = None,
        imm: object = None,
        aux: object = None,
        dests: list[BlockCall] | None = None,
    ) -> None:
        self.opcode = opcode
        self.ctrl_type = ctrl_type
        self.args = args if args is not None else []
        self.imm = imm
        self.aux = aux
        self.dests = dests

    def __repr__(self) -> str:
        name = opcode_info(self.opcode).name
        return f"InstData({name}, {self.ctrl_type}, {self.args}, imm={self.imm!r}, aux={self.aux!r}, dests={self.dests})"


class OpcodeInfo:
    """Everything the IR knows about one opcode, generated from ``isa_specs/ir.yaml``.

    ``operands`` and ``results`` are ``(name, type_expr)`` pairs.  A type expression is
    a type variable (``T``), a derived type (``T.lane``, ``T.as_truthy``,
    ``T.half_width``, ``T.double_width``, ``T.merge_lanes``, ``T.split_lanes``,
    ``T.static``) or a concrete type name (``i8``).  ``varargs`` names the variable
    operand list, if any, which follows the fixed operands.  ``ctrl`` is the
    controlling type variable; ``infer`` is the index of the fixed operand its value
    is read from when the text omits the ``.type`` suffix (-1: the suffix is required).
    """

    __slots__ = (
        "number",
        "name",
        "format",
        "doc",
        "typevars",
        "ctrl",
        "infer",
        "operands",
        "varargs",
        "results",
        "constraints",
        "is_terminator",
        "is_branch",
        "is_call",
        "is_return",
        "can_trap",
        "can_load",
        "can_store",
        "side_effects",
        "lanewise",
    )

    def __init__(
        self,
        number: int,
        name: str,
        format: str,
        doc: str,
        typevars: dict[str, frozenset[str]],
        ctrl: str | None,
        infer: int,
        operands: tuple[tuple[str, str], ...],
        varargs: str | None,
        results: tuple[tuple[str, str], ...],
        constraints: tuple[tuple[str, str, str], ...],
        flags: frozenset[str],
        lanewise: bool,
    ) -> None:
        self.number = number
        self.name = name
        self.format = format
        self.doc = doc
        self.typevars = typevars
        self.ctrl = ctrl
        self.infer = infer
        self.operands = operands
        self.varargs = varargs
        self.results = results
        self.constraints = constraints
        self.is_terminator = "terminator" in flags
        self.is_branch = "branch" in flags
        self.is_call = "call" in flags
        self.is_return = "return" in flags
        self.can_trap = "can_trap" in flags
        self.can_load = "can_load" in flags
        self.can_store = "can_store" in flags
        self.side_effects = "side_effects" in flags
        self.lanewise = lanewise

    @property
    def requires_type_suffix(self) -> bool:
        """Whether the text form must spell the controlling type (``iconst.i32``).

        Not when the type cannot be inferred but has a single choice (``f32const``).
        """
        return self.ctrl is not None and self.infer < 0 and len(self.typevars[self.ctrl]) > 1

    def allows(self, typevar: str, ty: Type) -> bool:
        """Whether ``ty`` is in the set of type variable ``typevar``."""
        return ty.name in self.typevars[typevar]

    def __repr__(self) -> str:
        return f"<opcode {self.name}>"


def resolve_type_expr(expr: str, bindings: dict[str, Type]) -> Type | None:
    """The type denoted by ``expr`` under typevar ``bindings``; None if not derivable.

    >>> from heron.ir.types import I32, type_by_name
    >>> resolve_type_expr("T.half_width", {"T": I32}).name
    'i16'
    >>> resolve_type_expr("T.as_truthy", {"T": type_by_name("f32x4")}).name
    'i32x4'
    """
    base, _, derived = expr.partition(".")
    ty = bindings.get(base)
    if ty is None:
        return type_by_name(base) if not derived else None
    if not derived:
        return ty
    fn = _DERIVED.get(derived)
    return fn(ty) if fn is not None else None


_DERIVED = {
    "lane": lambda t: t.lane_type,
    "as_truthy": lambda t: t.as_truthy(),
    "as_int": lambda t: t.as_int(),
    "half_width": lambda t: t.half_width(),
    "double_width": lambda t: t.double_width(),
    "merge_lanes": lambda t: t.merge_lanes(),
    "split_lanes": lambda t: t.split_lanes(),
    "half_vector": lambda t: t.half_vector(),
    "static": lambda t: t.static(),
}

DERIVED_TYPE_FUNCTIONS = frozenset(_DERIVED)

_table: Sequence[OpcodeInfo] | None = None
_by_name: dict[str, OpcodeInfo] | None = None


def _load() -> Sequence[OpcodeInfo]:
    global _table, _by_name
    from heron.generated.ir_opcodes import OPCODES

    _table = OPCODES
    _by_name = {info.name: info for info in OPCODES}
    return OPCODES


def opcode_info(number: int) -> OpcodeInfo:
    """The :class:`OpcodeInfo` of an opcode number."""
    table = _table if _table is not None else _load()
    return table[number]


def opcode_by_name(name: str) -> OpcodeInfo | None:
    """The :class:`OpcodeInfo` of an opcode name, or None."""
    if _by_name is None:
        _load()
    assert _by_name is not None
    return _by_name.get(name)
