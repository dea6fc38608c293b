"""The layout: the order of blocks in a function and of instructions in each block.

The data-flow graph says what instructions compute; the layout says where they
are.  Blocks form one ordered list; each block holds a Python list of its
instructions, and every instruction knows its block.  Iteration (the common
case in passes) is a plain ``for`` over lists.

Example::

    >>> lay = Layout()
    >>> lay.append_block(0); lay.append_block(1)
    >>> lay.append_inst(7, 0); lay.append_inst(8, 0); lay.append_inst(9, 1)
    >>> lay.blocks, lay.block_insts(0), lay.inst_block(9)
    ([0, 1], [7, 8], 1)
"""

from __future__ import annotations

__all__ = ["Layout"]


class Layout:
    """Block order and per-block instruction order."""

    __slots__ = ("blocks", "_insts", "_inst_block", "_cold")

    def __init__(self) -> None:
        self.blocks: list[int] = []
        self._insts: dict[int, list[int]] = {}
        self._inst_block: dict[int, int] = {}
        self._cold: set[int] = set()

    # -- blocks -------------------------------------------------------------
    def append_block(self, block: int) -> None:
        if block in self._insts:
            raise ValueError(f"block{block} is already in the layout")
        self.blocks.append(block)
        self._insts[block] = []

    def insert_block_after(self, block: int, after: int) -> None:
        if block in self._insts:
            raise ValueError(f"block{block} is already in the layout")
        self.blocks.insert(self.blocks.index(after) + 1, block)
        self._insts[block] = []

    def remove_block(self, block: int) -> None:
        """Remove an (empty or not) block; its instructions leave the layout too."""
        for inst in self._insts.pop(block):
            del self._inst_block[inst]
        self.blocks.remove(block)
        self._cold.discard(block)

    def is_block_inserted(self, block: int) -> bool:
        return block in self._insts

    def entry_block(self) -> int | None:
        return self.blocks[0] if self.blocks else None

    def set_cold(self, block: int, cold: bool = True) -> None:
        if cold:
            self._cold.add(block)
        else:
            self._cold.discard(block)

    def is_cold(self, block: int) -> bool:
        return block in self._cold

    # -- instructions ---------------------------------------------------------
    def block_insts(self, block: int) -> list[int]:
        """The instructions of ``block`` in order (the live list; do not mutate)."""
        return self._insts[block]

    def append_inst(self, inst: int, block: int) -> None:
        self._insts[block].append(inst)
        self._inst_block[inst] = block

    def insert_inst_before(self, inst: int, before: int) -> None:
        block = self._inst_block[before]
        lst = self._insts[block]
        lst.insert(lst.index(before), inst)
        self._inst_block[inst] = block

    def insert_inst_after(self, inst: int, after: int) -> None:
        block = self._inst_block[after]
        lst = self._insts[block]
        lst.insert(lst.index(after) + 1, inst)
        self._inst_block[inst] = block

    def remove_inst(self, inst: int) -> None:
        block = self._inst_block.pop(inst)
        self._insts[block].remove(inst)

    def inst_block(self, inst: int) -> int | None:
        """The block holding ``inst``, or None if it is not in the layout."""
        return self._inst_block.get(inst)

    def is_inst_inserted(self, inst: int) -> bool:
        return inst in self._inst_block

    def first_inst(self, block: int) -> int | None:
        lst = self._insts[block]
        return lst[0] if lst else None

    def last_inst(self, block: int) -> int | None:
        lst = self._insts[block]
        return lst[-1] if lst else None

    def insts(self):
        """All instructions in layout order, as ``(block, inst)`` pairs."""
        for b in self.blocks:
            for i in self._insts[b]:
                yield b, i

    def num_insts(self) -> int:
        return len(self._inst_block)
