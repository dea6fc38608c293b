"""Frame layout, stack locations and the prologue/epilogue, after register allocation.

The frame of a function, from high addresses to low (every ISA; the sizes come from
the generated module: ``FRAME_HEADER``, ``SAVE_BYTES``, the call conv's alignment)::

    caller's frame   incoming stack arguments        SlotRef('incoming', 0, off)
                     -------------------------------  <- caller's SP at the call (aligned)
    header           return address, saved FP         FRAME_HEADER bytes
                     -------------------------------  <- frame pointer
    saves            callee-saved registers the allocation used (save/restore templates)
    locals           explicit stack slots             SlotRef('explicit', slot, off)
                     spill slots                      SlotRef('spill', k, off)
                     the return area of calls         SlotRef('retarea', 0, off)
                     outgoing stack arguments         SlotRef('outgoing', 0, off)
                     -------------------------------  <- SP in the body (aligned)

Every stack location is addressed from the stack pointer, which does not move in the
body (outgoing arguments are stored, not pushed), so ``resolve`` turns a SlotRef into
a displacement from SP.  ``locals`` is padded so that header + saves + locals is a
multiple of the stack alignment: the stack pointer is aligned at every call.

The prologue: the stack check (when enabled), ``push_frame`` (save and set the frame
pointer), one ``save`` per callee-saved register, ``sp_sub`` of the locals; the
epilogue before every return undoes it in reverse and ends with the ``return``
template.

Example::

    >>> from heron.backend.isa import lookup_isa
    >>> from heron.backend.regalloc import Allocation, AllocStats
    >>> from heron.backend.vcode import VCode
    >>> from heron.ir.function import Function
    >>> from heron.ir.entities import StackSlotData
    >>> isa = lookup_isa("x86_64")
    >>> fn = Function("%f"); _ = fn.create_stack_slot(StackSlotData(12))
    >>> vc = VCode(list(isa.CLASS_NAMES)); vc.meta["outgoing"] = 8
    >>> frame = layout_frame(fn, vc, Allocation([8, 16], [isa.RBX], AllocStats()), isa)
    >>> frame.resolve(SlotRef("outgoing", 0, 0)), frame.resolve(SlotRef("spill", 1, 0)), frame.resolve(SlotRef("explicit", 0, 4))
    (0, 16, 36)
    >>> frame.locals_size, frame.resolve(SlotRef("incoming", 0, 0))
    (56, 80)
"""

from __future__ import annotations

from typing import Any

from heron.backend.vcode import MInst, SlotRef, SymbolRef, VCode
from heron.errors import CompileError
from heron.ir.function import Function
from heron.jit.trap import STACK_LIMIT, TRAP_CONTEXT_SYMBOL

__all__ = ["FrameLayout", "layout_frame", "insert_prologue_epilogue"]

# A leaf function's frame below this size goes without a stack check ("auto").
_LEAF_CHECK_BYTES = 4096


def _align(n: int, a: int) -> int:
    return (n + a - 1) & -a


class FrameLayout:
    """Where everything of one frame is (see the module docstring); offsets from SP."""

    __slots__ = (
        "outgoing_size",
        "retarea_offset",
        "spill_offsets",
        "explicit_offsets",
        "locals_size",
        "saves",
        "save_size",
        "header",
        "incoming_base",
        "stack_check",
    )

    def __init__(self) -> None:
        self.outgoing_size = 0
        self.retarea_offset = 0
        self.spill_offsets: list[int] = []
        self.explicit_offsets: list[int] = []
        self.locals_size = 0
        self.saves: list[tuple[int, int]] = []  # (class, register) in save order
        self.save_size = 0
        self.header = 0
        self.incoming_base = 0
        self.stack_check = False

    @property
    def frame_size(self) -> int:
        """Bytes from the caller's stack pointer down to this function's."""
        return self.header + self.save_size + self.locals_size

    def resolve(self, slot: SlotRef) -> int:
        """The displacement from the stack pointer of a stack location."""
        area = slot.area
        if area == "spill":
            return self.spill_offsets[slot.index] + slot.offset
        if area == "explicit":
            return self.explicit_offsets[slot.index] + slot.offset
        if area == "outgoing":
            return slot.offset
        if area == "incoming":
            return self.incoming_base + slot.offset
        if area == "retarea":
            return self.retarea_offset + slot.offset
        raise CompileError(f"unknown stack area {area!r}")

    def facts(self) -> dict[str, Any]:
        """The layout as plain data (CompiledFunction.frame)."""
        return {
            "frame_size": self.frame_size,
            "locals_size": self.locals_size,
            "outgoing_size": self.outgoing_size,
            "spill_slots": len(self.spill_offsets),
            "saves": [r for _, r in self.saves],
            "stack_check": self.stack_check,
        }

    def __repr__(self) -> str:
        return f"<FrameLayout {self.facts()}>"


def layout_frame(fn: Function, vcode: VCode, alloc: Any, isa: Any, stack_check: bool | str = "auto") -> FrameLayout:
    """Lay out the frame of ``fn`` after allocation (``alloc``: spill slots, saves)."""
    conv = isa.abi.conv(fn.signature.call_conv)
    align = conv.stack_align
    f = FrameLayout()
    f.header = isa.FRAME_HEADER
    reg_class = isa.REGINFO.reg_class
    for r in alloc.callee_saved_used:
        if r == conv.frame_pointer or r == conv.stack_pointer:
            continue
        cls = reg_class[r]
        f.saves.append((cls, r))
        f.save_size += isa.SAVE_BYTES[cls]
    meta = vcode.meta
    off = _align(meta.get("outgoing", 0), isa.POINTER_BITS // 8)
    f.outgoing_size = off
    if meta.get("retarea"):
        off = _align(off, 16)
        f.retarea_offset = off
        off += meta["retarea"]
    for size in alloc.spill_slot_sizes:
        off = _align(off, min(size, align))
        f.spill_offsets.append(off)
        off += size
    for k, slot in enumerate(fn.stack_slots):
        if slot is None:
            f.explicit_offsets.append(0)
            continue
        a = 1 << slot.align_shift if slot.align_shift is not None else min(16, 1 << max(0, (slot.size - 1).bit_length()))
        if a > align:
            raise CompileError(f"{fn.name}: ss{k} asks for {a}-byte alignment; the stack is {align}-byte aligned", target=isa.NAME)
        off = _align(off, a)
        f.explicit_offsets.append(off)
        off += slot.size
    f.locals_size = _align(f.header + f.save_size + off, align) - f.header - f.save_size
    f.incoming_base = f.locals_size + f.save_size + f.header
    if stack_check == "auto":
        f.stack_check = bool(meta.get("calls")) or f.frame_size > _LEAF_CHECK_BYTES
    else:
        f.stack_check = bool(stack_check)
    return f


def prologue(frame: FrameLayout, isa: Any) -> list[MInst]:
    t = isa.templates
    out: list[MInst] = []
    if frame.stack_check:
        out += t.stack_check(SymbolRef(TRAP_CONTEXT_SYMBOL), STACK_LIMIT, -frame.frame_size)
    out += t.push_frame()
    for cls, r in frame.saves:
        out += t.save(cls, r)
    if frame.locals_size:
        out += t.sp_sub(frame.locals_size)
    return out


def epilogue(frame: FrameLayout, isa: Any) -> list[MInst]:
    t = isa.templates
    out: list[MInst] = []
    if frame.locals_size:
        out += t.sp_add(frame.locals_size)
    for cls, r in reversed(frame.saves):
        out += t.restore(cls, r)
    out += t.pop_frame()
    out += t.ret()
    return out


def insert_prologue_epilogue(vcode: VCode, frame: FrameLayout, isa: Any) -> None:
    """Put the prologue at the top of the entry block and replace every ``abi_return``
    pseudo-op by the epilogue."""
    ret_op = isa.OP_ABI_RETURN
    entry = vcode.blocks[vcode.entry]
    entry.insts[0:0] = prologue(frame, isa)
    for blk in vcode.blocks:
        insts = blk.insts
        if insts and insts[-1].op == ret_op:
            insts[-1:] = epilogue(frame, isa)
