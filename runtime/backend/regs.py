"""RegInfo: what the register allocator must know about a target's registers.

One ``RegInfo`` per ISA (rendered from its spec into the generated module): the register
classes, and per class the allocatable physical registers in preference order, one
reserved scratch register (never allocated: the allocator uses it to break cycles of
parallel moves), the callee-saved set, and for every physical register its class and
name.  Physical registers are the small ints ``0 .. num_regs-1`` of the ISA's register
table; anything ``>= VREG_BASE`` is a virtual register (see :mod:`heron.backend.vcode`).

The allocator prefers registers in the listed order, except for a value that lives
across a call: it tries the callee-saved registers first (a caller-saved one would be
clobbered, and a callee-saved one costs only one save in the prologue).

Example (a toy target: four integer registers, r2 and r3 callee-saved, r4 scratch)::

    >>> ri = RegInfo(
    ...     class_names=["gpr"], class_bits=[64],
    ...     allocatable=[[0, 1, 2, 3]], scratch=[4], callee_saved=[2, 3],
    ...     reg_class=[0, 0, 0, 0, 0], reg_names=["r0", "r1", "r2", "r3", "r4"])
    >>> ri.cross_call_order[0], ri.spill_size(0), ri.name(VREG_BASE + 7), ri.name(3)
    ((2, 3, 0, 1), 8, 'v7', 'r3')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from heron.backend.vcode import NO_REG, VREG_BASE

__all__ = ["RegInfo"]


class RegInfo:
    """Register classes, allocatable/scratch/callee-saved registers and names of one ISA.

    Fields (all read-only after construction):

    - ``class_names[c]``, ``class_bits[c]`` (a spill slot of class ``c`` is
      ``class_bits[c] // 8`` bytes),
    - ``allocatable[c]``: the allocatable registers of class ``c`` in preference order
      (conventionally caller-saved first), ``cross_call_order[c]`` the same with the
      callee-saved ones first,
    - ``scratch[c]``: the class's reserved scratch register (not allocatable),
    - ``callee_saved``: frozenset of physical registers a callee must preserve,
    - ``reg_class[r]``, ``reg_names[r]`` for every physical register ``r``,
    - ``num_regs``, ``allocatable_mask`` (bit ``r`` set for every allocatable ``r``).
    """

    __slots__ = (
        "class_names",
        "class_bits",
        "allocatable",
        "cross_call_order",
        "scratch",
        "callee_saved",
        "reg_class",
        "reg_names",
        "num_regs",
        "allocatable_mask",
    )

    def __init__(
        self,
        class_names: Sequence[str],
        class_bits: Sequence[int],
        allocatable: Sequence[Sequence[int]],
        scratch: Sequence[int],
        callee_saved: Iterable[int],
        reg_class: Sequence[int],
        reg_names: Sequence[str],
    ) -> None:
        n = len(class_names)
        if not (len(class_bits) == len(allocatable) == len(scratch) == n):
            raise ValueError("RegInfo: class_bits, allocatable and scratch need one entry per class")
        if len(reg_class) != len(reg_names):
            raise ValueError("RegInfo: reg_class and reg_names differ in length")
        if len(reg_class) > VREG_BASE:
            raise ValueError(f"RegInfo: more than {VREG_BASE} physical registers")
        self.class_names = list(class_names)
        self.class_bits = list(class_bits)
        self.allocatable = [tuple(regs) for regs in allocatable]
        self.scratch = list(scratch)
        self.callee_saved = frozenset(callee_saved)
        self.reg_class = list(reg_class)
        self.reg_names = list(reg_names)
        self.num_regs = len(reg_class)
        mask = 0
        for c, regs in enumerate(self.allocatable):
            for r in regs:
                if not 0 <= r < self.num_regs or self.reg_class[r] != c:
                    raise ValueError(f"RegInfo: register {r} listed as allocatable in class {class_names[c]}")
                if mask >> r & 1:
                    raise ValueError(f"RegInfo: register {self.reg_names[r]} is allocatable twice")
                mask |= 1 << r
            s = self.scratch[c]
            if not 0 <= s < self.num_regs or self.reg_class[s] != c or mask >> s & 1:
                raise ValueError(f"RegInfo: scratch register of class {class_names[c]} must be an unallocatable register of that class")
        self.allocatable_mask = mask
        cs = self.callee_saved
        self.cross_call_order = [
            tuple([r for r in regs if r in cs] + [r for r in regs if r not in cs]) for regs in self.allocatable
        ]

    def spill_size(self, regclass: int) -> int:
        """Bytes of a spill slot for a value of ``regclass``."""
        return self.class_bits[regclass] // 8

    def name(self, reg: int) -> str:
        """Printable name of a physical or virtual register."""
        if reg == NO_REG:
            return "-"
        if reg >= VREG_BASE:
            return f"v{reg - VREG_BASE}"
        return self.reg_names[reg]
