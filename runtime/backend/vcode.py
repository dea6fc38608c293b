"""VCode: machine instructions over virtual registers, before and after allocation.

``VCode`` is what instruction selection produces and register allocation rewrites:
blocks in their final order, each a list of :class:`MInst`; the successor labels of
each block; the register class of every virtual register.  The static facts about an
instruction (its operands' kinds and constraints, its encoder) live in the ISA's
generated instruction table as :class:`InstInfo` records, shared by every MInst with
that ``op``.

Register numbers: physical registers are ``0 .. VREG_BASE-1`` (indexes into the ISA's
register table), virtual registers are ``VREG_BASE`` and up, ``NO_REG`` marks an absent
optional register (an x86 address without an index).

Example::

    >>> info = InstInfo("mov_ri.64", (ARG_REG, ARG_IMM), (OperandInfo(0, DEF, 0),))
    >>> vc = VCode(["gpr"])
    >>> b = vc.add_block()
    >>> v = vc.new_vreg(0)
    >>> vc.blocks[b].insts.append(MInst(7, [v, 42]))
    >>> v == VREG_BASE, vc.vreg_class[v - VREG_BASE]
    (True, 0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "VREG_BASE",
    "NO_REG",
    "USE",
    "DEF",
    "EARLY_DEF",
    "ARG_REG",
    "ARG_IMM",
    "ARG_LABEL",
    "ARG_ENUM",
    "ARG_TRAPCODE",
    "ARG_SLOT",
    "OperandInfo",
    "InstInfo",
    "MInst",
    "SlotRef",
    "SymbolRef",
    "VBlock",
    "VCode",
    "is_vreg",
]

VREG_BASE = 1024
NO_REG = -1

# Register operand access.
USE = 0
DEF = 1
EARLY_DEF = 2  # written before the uses are read: never shares a register with a use

# Argument kinds of an MInst (per position, in InstInfo.arg_kinds).
ARG_REG = 0
ARG_IMM = 1
ARG_LABEL = 2
ARG_ENUM = 3
ARG_TRAPCODE = 4
ARG_SLOT = 5  # an immediate that may be a SlotRef until the frame is laid out


def is_vreg(r: int) -> bool:
    return r >= VREG_BASE


class OperandInfo:
    """The constraint of one register operand: which arg, use/def, class, fixed register, reuse.

    ``fixed`` is a physical register the operand must be in (or -1); ``reuse`` is, for a
    def, the arg index of the use whose register it must share (x86 two-address), or -1.
    """

    __slots__ = ("index", "access", "regclass", "fixed", "reuse")

    def __init__(self, index: int, access: int, regclass: int, fixed: int = -1, reuse: int = -1) -> None:
        self.index = index
        self.access = access
        self.regclass = regclass
        self.fixed = fixed
        self.reuse = reuse

    def __repr__(self) -> str:
        acc = ("use", "def", "early_def")[self.access]
        extra = (f", fixed={self.fixed}" if self.fixed >= 0 else "") + (f", reuse={self.reuse}" if self.reuse >= 0 else "")
        return f"OperandInfo(arg{self.index}, {acc}, class {self.regclass}{extra})"


class InstInfo:
    """Static facts of one machine instruction variant (one per op, from the generated table)."""

    __slots__ = (
        "name",
        "arg_kinds",
        "operands",
        "clobbers",
        "is_branch",
        "is_terminator",
        "is_call",
        "is_return",
        "is_move",
        "encode",
        "text",
    )

    def __init__(
        self,
        name: str,
        arg_kinds: tuple[int, ...],
        operands: tuple[OperandInfo, ...],
        clobbers: tuple[int, ...] = (),
        is_branch: bool = False,
        is_terminator: bool = False,
        is_call: bool = False,
        is_return: bool = False,
        is_move: bool = False,
        encode: Callable[..., None] | None = None,
        text: Callable[..., str] | None = None,
    ) -> None:
        self.name = name
        self.arg_kinds = arg_kinds
        self.operands = operands
        self.clobbers = clobbers
        self.is_branch = is_branch
        self.is_terminator = is_terminator
        self.is_call = is_call
        self.is_return = is_return
        self.is_move = is_move  # a plain register copy: args (dst, src); allocation may remove it
        self.encode = encode
        self.text = text

    def __repr__(self) -> str:
        return f"<InstInfo {self.name}>"


class SlotRef:
    """A stack location named before the frame is laid out: an explicit IR stack slot
    (``area='explicit'``), a spill slot (``'spill'``), the outgoing-argument area
    (``'outgoing'``) or an incoming stack argument (``'incoming'``), plus a byte offset.
    The frame layout resolves it to an offset from the stack or frame pointer."""

    __slots__ = ("area", "index", "offset")

    def __init__(self, area: str, index: int, offset: int = 0) -> None:
        self.area = area
        self.index = index
        self.offset = offset

    def __repr__(self) -> str:
        return f"SlotRef({self.area}{self.index}+{self.offset})"


class SymbolRef:
    """A symbol (a function or data object named as in the IR, ``%g``) plus an addend,
    where code refers to something only the linker places: the label operand of a call
    (the label field becomes a relocation) or an immediate of an MInst with ``reloc``."""

    __slots__ = ("name", "addend")

    def __init__(self, name: str, addend: int = 0) -> None:
        self.name = name
        self.addend = addend

    def __repr__(self) -> str:
        return f"SymbolRef({self.name}{self.addend:+d})" if self.addend else f"SymbolRef({self.name})"


class MInst:
    """One machine instruction: its op and its args (see the module docstring).

    ``extra`` holds the variable fixed-register operands of calls and returns as
    ``(reg, preg, access)`` triples: argument registers used, result registers defined.
    ``reloc`` is ``(from_end, kind, SymbolRef)`` when an immediate of the instruction
    holds a symbol's address: the field of relocation ``kind`` ends ``from_end`` bytes
    before the end of the encoded instruction (the encoder writes 0 there).
    """

    __slots__ = ("op", "args", "extra", "reloc")

    def __init__(self, op: int, args: list[Any], extra: list[tuple[int, int, int]] | None = None) -> None:
        self.op = op
        self.args = args
        self.extra = extra
        self.reloc: tuple[int, str, SymbolRef] | None = None

    def __repr__(self) -> str:
        more = (f", extra={self.extra!r}" if self.extra else "") + (f", reloc={self.reloc!r}" if self.reloc else "")
        return f"MInst({self.op}, {self.args}{more})"


class VBlock:
    """A block of VCode: its label (= its index), instructions and successor labels."""

    __slots__ = ("label", "insts", "succs", "preds", "cold", "ir_block")

    def __init__(self, label: int, ir_block: int = -1, cold: bool = False) -> None:
        self.label = label
        self.insts: list[MInst] = []
        self.succs: list[int] = []
        self.preds: list[int] = []
        self.cold = cold
        self.ir_block = ir_block


class VCode:
    """The machine code of one function, over virtual registers until allocation."""

    __slots__ = ("class_names", "blocks", "vreg_class", "entry", "num_spill_slots", "meta")

    def __init__(self, class_names: list[str]) -> None:
        self.class_names = class_names
        self.blocks: list[VBlock] = []
        self.vreg_class: list[int] = []
        self.entry = 0
        self.num_spill_slots = 0
        self.meta: dict[str, Any] = {}  # frame facts and the like, filled by later phases

    def add_block(self, ir_block: int = -1, cold: bool = False) -> int:
        label = len(self.blocks)
        self.blocks.append(VBlock(label, ir_block, cold))
        return label

    def new_vreg(self, regclass: int) -> int:
        self.vreg_class.append(regclass)
        return VREG_BASE + len(self.vreg_class) - 1

    @property
    def num_vregs(self) -> int:
        return len(self.vreg_class)

    def compute_preds(self) -> None:
        for b in self.blocks:
            b.preds = []
        for b in self.blocks:
            for s in b.succs:
                self.blocks[s].preds.append(b.label)
