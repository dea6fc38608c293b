"""The interpreter's memory: stack frames as byte regions in a 64-bit address space.

Each call allocates its stack slots in one region; loads and stores are checked
against the live regions and trap with ``heap_oob`` outside them.  Function
addresses (``func_addr``) are tokens in a separate, unmapped range.

Example::

    >>> mem = Memory()
    >>> base = mem.allocate(16)
    >>> mem.store(base + 4, 4, 0xDEADBEEF)
    >>> hex(mem.load(base + 4, 4)), hex(mem.load(base + 4, 2, big_endian=True))
    ('0xdeadbeef', '0xefbe')
    >>> mem.free(base)
"""

from __future__ import annotations

from heron.errors import Trap

__all__ = ["Memory", "FUNC_ADDR_BASE"]

# Function "addresses" handed out by func_addr; never mapped, so a load from one traps.
FUNC_ADDR_BASE = 0x7F00_0000_0000_0000
_STACK_BASE = 0x1000_0000
_GUARD = 64  # bytes between regions, so off-by-one accesses trap


class Memory:
    """Live regions (base address -> bytearray), allocated and freed in stack order."""

    __slots__ = ("_bases", "_regions", "_next")

    def __init__(self) -> None:
        self._bases: list[int] = []
        self._regions: list[bytearray] = []
        self._next = _STACK_BASE

    def allocate(self, size: int, align: int = 16) -> int:
        """A new zero-filled region of ``size`` bytes; returns its base address."""
        base = (self._next + align - 1) & ~(align - 1)
        self._bases.append(base)
        self._regions.append(bytearray(size))
        self._next = base + size + _GUARD
        return base

    def free(self, base: int) -> None:
        """Release the region at ``base`` (and, as stack memory is LIFO, reuse its space)."""
        i = self._bases.index(base)
        del self._bases[i]
        del self._regions[i]
        if i == len(self._bases):
            self._next = (self._bases[-1] + len(self._regions[-1]) + _GUARD) if self._bases else _STACK_BASE

    def _find(self, addr: int, size: int) -> tuple[bytearray, int]:
        bases = self._bases
        for i in range(len(bases) - 1, -1, -1):
            off = addr - bases[i]
            if off >= 0:
                region = self._regions[i]
                if off + size <= len(region):
                    return region, off
                break
        raise Trap("heap_oob", detail=f"access of {size} bytes at {addr:#x} is outside every live stack slot")

    def load(self, addr: int, size: int, big_endian: bool = False) -> int:
        region, off = self._find(addr, size)
        return int.from_bytes(region[off : off + size], "big" if big_endian else "little")

    def store(self, addr: int, size: int, value: int, big_endian: bool = False) -> None:
        region, off = self._find(addr, size)
        region[off : off + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "big" if big_endian else "little")
