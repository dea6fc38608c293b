"""The register allocator's output: :class:`Allocation`, its statistics and its records.

The allocator rewrites the VCode in place; what is left to report is the frame's share
(spill slots and the callee-saved registers the code now writes), statistics, and, when
asked, *records*: per block, one entry for every step the checker must replay, in
order.  An entry is a tuple whose first field is its kind:

``(REC_INST, minst, orig_args, orig_extra)``
    an instruction of the input; ``orig_args``/``orig_extra`` are copies taken before
    its register operands were rewritten (the final ones are in ``minst``).
``(REC_MOVE, minst, dst_loc, src_loc)``
    a move, spill or reload the allocator inserted: it copies location ``src_loc`` to
    ``dst_loc``.  A location is a physical register, or ``SLOT_LOC_BASE + k`` for spill
    slot ``k``.
``(REC_COPY, None, dst, src, loc)``
    an input move ``dst = src`` the allocator removed because both sides live in
    ``loc`` (it is not in the final code).  ``dst``/``src`` are register numbers of the
    input (virtual, or physical for a pre-colored operand).

Every entry but ``REC_COPY`` corresponds, in order, to one instruction of the final block.

Example::

    >>> a = Allocation([8, 8, 16], [3], AllocStats())
    >>> a.num_spill_slots, a.spill_slots_by_size
    (3, {8: 2, 16: 1})
"""

from __future__ import annotations

from typing import Any

from heron.backend.vcode import VREG_BASE
from heron.errors import CompileError

__all__ = [
    "REC_INST",
    "REC_MOVE",
    "REC_COPY",
    "SLOT_LOC_BASE",
    "AllocStats",
    "Allocation",
    "RegAllocError",
]

REC_INST = 0
REC_MOVE = 1
REC_COPY = 2
SLOT_LOC_BASE = VREG_BASE  # locations below are physical registers, from here spill slots


class RegAllocError(CompileError):
    """The input cannot be allocated: over-constrained instruction, use before definition,
    a critical edge, or (from the checker) an allocation that breaks the program."""


class AllocStats:
    """Counts of what the allocator inserted or removed."""

    __slots__ = ("moves", "spills", "reloads", "moves_removed", "edge_moves")

    def __init__(self) -> None:
        self.moves = 0  # register-to-register moves inserted (edges included)
        self.spills = 0  # stores to spill slots
        self.reloads = 0  # loads from spill slots
        self.moves_removed = 0  # input moves deleted because both sides got one register
        self.edge_moves = 0  # of the above insertions, those placed on control-flow edges

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self) -> str:
        return "AllocStats(" + ", ".join(f"{k}={v}" for k, v in self.as_dict().items()) + ")"


class Allocation:
    """Result of :func:`heron.backend.regalloc.allocate`.

    ``spill_slot_sizes[k]`` is the size in bytes of spill slot ``k``
    (``SlotRef('spill', k)``); ``callee_saved_used`` lists, sorted, the callee-saved
    registers the allocated code writes (the prologue saves them); ``records`` is
    ``None`` unless requested (see the module docstring).
    """

    __slots__ = ("spill_slot_sizes", "callee_saved_used", "stats", "records")

    def __init__(
        self,
        spill_slot_sizes: list[int],
        callee_saved_used: list[int],
        stats: AllocStats,
        records: list[list[tuple[Any, ...]]] | None = None,
    ) -> None:
        self.spill_slot_sizes = spill_slot_sizes
        self.callee_saved_used = callee_saved_used
        self.stats = stats
        self.records = records

    @property
    def num_spill_slots(self) -> int:
        return len(self.spill_slot_sizes)

    @property
    def spill_slots_by_size(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for size in self.spill_slot_sizes:
            out[size] = out.get(size, 0) + 1
        return out

    def __repr__(self) -> str:
        return f"Allocation(spill_slots={self.spill_slot_sizes}, callee_saved_used={self.callee_saved_used}, {self.stats})"
