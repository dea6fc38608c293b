"""Pages for JIT code and data: libc ``mmap``/``mprotect``/``munmap`` through ctypes.

A :class:`Pages` is one anonymous private mapping, created read-write.  Code is
written while its pages are read-write and then flipped to read-execute: a page is
never writable and executable at once (W^X), and :meth:`Pages.protect` refuses to
make it so.  Writes check the protection first, so writing to sealed pages is a
:class:`HeronError`, not a crash.  Every libc failure becomes a ``HeronError`` that
quotes ``errno``.  The ``PROT_*``/``MAP_*`` numbers are Linux's (the same on
x86-64, AArch64 and RISC-V): facts of the OS, not of an ISA.

Example::

    >>> pages = Pages(100)                      # rounded up to whole pages
    >>> pages.size == PAGE_SIZE, pages.protection(0) == READ_WRITE
    (True, True)
    >>> pages.write(0, b"\\xc3")
    >>> pages.protect(0, pages.size, READ_EXECUTE)
    >>> pages.read(0, 1)
    b'\\xc3'
    >>> pages.write(0, b"\\x90")
    Traceback (most recent call last):
    ...
    heron.errors.HeronError: cannot write 1 bytes at offset 0: the page is r-x, not writable
    >>> pages.free()
"""

from __future__ import annotations

import ctypes
import mmap
import os
import platform

from heron.errors import HeronError

__all__ = [
    "PAGE_SIZE",
    "PROT_NONE",
    "PROT_READ",
    "PROT_WRITE",
    "PROT_EXEC",
    "READ_WRITE",
    "READ_EXECUTE",
    "READ_ONLY",
    "Pages",
    "page_align",
    "protection_text",
]

PAGE_SIZE: int = mmap.PAGESIZE

# Linux <sys/mman.h>.
PROT_NONE = 0x0
PROT_READ = 0x1
PROT_WRITE = 0x2
PROT_EXEC = 0x4
MAP_PRIVATE = 0x02
MAP_ANONYMOUS = 0x20

READ_WRITE = PROT_READ | PROT_WRITE
READ_EXECUTE = PROT_READ | PROT_EXEC
READ_ONLY = PROT_READ

_libc = ctypes.CDLL(None, use_errno=True)
_mmap = _libc.mmap
_mmap.restype = ctypes.c_void_p
_mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)
_mprotect = _libc.mprotect
_mprotect.restype = ctypes.c_int
_mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
_munmap = _libc.munmap
_munmap.restype = ctypes.c_int
_munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
_MAP_FAILED = ctypes.c_void_p(-1).value


_COHERENT_ICACHE_HOSTS = ("x86_64", "AMD64", "i386", "i686")


def _clear_icache_function() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """libgcc's ``__clear_cache`` where the instruction cache does not see data writes
    (everywhere but x86); None where nothing needs flushing or no flush was found."""
    if platform.machine() in _COHERENT_ICACHE_HOSTS:
        return None
    for name in ("libgcc_s.so.1", None):
        try:
            fn = getattr(ctypes.CDLL(name), "__clear_cache")
        except (OSError, AttributeError):
            continue
        fn.restype = None
        fn.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
        return fn
    return None


_clear_icache = _clear_icache_function()
_needs_icache_flush = platform.machine() not in _COHERENT_ICACHE_HOSTS


def page_align(size: int) -> int:
    """``size`` rounded up to a whole number of pages."""
    return (size + PAGE_SIZE - 1) & -PAGE_SIZE


def protection_text(prot: int) -> str:
    """``rwx`` letters as /proc/self/maps prints them (``r-x``)."""
    return (
        ("r" if prot & PROT_READ else "-")
        + ("w" if prot & PROT_WRITE else "-")
        + ("x" if prot & PROT_EXEC else "-")
    )


def _libc_error(what: str) -> HeronError:
    err = ctypes.get_errno()
    return HeronError(f"{what} failed: {os.strerror(err)} (errno {err})")


class Pages:
    """One anonymous read-write mapping of whole pages (see the module docstring)."""

    __slots__ = ("address", "size", "_prot")

    def __init__(self, size: int) -> None:
        if size <= 0:
            raise HeronError(f"cannot map {size} bytes")
        size = page_align(size)
        addr = _mmap(None, size, READ_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        if addr is None or addr == _MAP_FAILED:
            raise _libc_error(f"mmap of {size} bytes")
        self.address: int = addr
        self.size: int = size
        self._prot = bytearray([READ_WRITE]) * (size // PAGE_SIZE)  # per page

    @property
    def freed(self) -> bool:
        return self.size == 0

    def _check_range(self, offset: int, size: int, what: str) -> None:
        if self.size == 0:
            raise HeronError(f"cannot {what}: the pages were freed")
        if offset < 0 or size < 0 or offset + size > self.size:
            raise HeronError(f"cannot {what}: bytes {offset}..{offset + size} are outside the {self.size}-byte mapping")

    def protection(self, offset: int) -> int:
        """The ``PROT_*`` bits of the page holding byte ``offset``."""
        self._check_range(offset, 1, "query a protection")
        return self._prot[offset // PAGE_SIZE]

    def write(self, offset: int, data: bytes | bytearray) -> None:
        """Copy ``data`` to ``offset``; every page written must be writable."""
        n = len(data)
        self._check_range(offset, n, f"write {n} bytes at offset {offset}")
        if n == 0:
            return
        for page in range(offset // PAGE_SIZE, (offset + n - 1) // PAGE_SIZE + 1):
            prot = self._prot[page]
            if not prot & PROT_WRITE:
                raise HeronError(
                    f"cannot write {n} bytes at offset {offset}: the page is {protection_text(prot)}, not writable"
                )
        ctypes.memmove(self.address + offset, bytes(data), n)

    def read(self, offset: int, size: int) -> bytes:
        """``size`` bytes from ``offset`` (the pages must be readable)."""
        self._check_range(offset, size, f"read {size} bytes at offset {offset}")
        for page in range(offset // PAGE_SIZE, (offset + max(size, 1) - 1) // PAGE_SIZE + 1):
            if not self._prot[page] & PROT_READ:
                raise HeronError(f"cannot read at offset {offset}: the page is not readable")
        return ctypes.string_at(self.address + offset, size)

    def protect(self, offset: int, size: int, prot: int) -> None:
        """Set the protection of the pages ``[offset, offset + size)`` (page-aligned).

        Writable and executable together is refused (W^X).  Pages made executable are
        flushed from the instruction cache where the host needs it.
        """
        self._check_range(offset, size, "change a protection")
        if offset % PAGE_SIZE or size % PAGE_SIZE:
            raise HeronError(f"protection change at {offset}+{size} is not page-aligned")
        if prot & PROT_WRITE and prot & PROT_EXEC:
            raise HeronError("refusing to map pages writable and executable at once (W^X)")
        if size == 0:
            return
        if prot & PROT_EXEC and _needs_icache_flush and _clear_icache is None:
            raise HeronError(f"no __clear_cache on this {platform.machine()} host: cannot make code executable safely")
        if _mprotect(self.address + offset, size, prot) != 0:
            raise _libc_error(f"mprotect({protection_text(prot)}) of {size} bytes")
        first = offset // PAGE_SIZE
        self._prot[first : first + size // PAGE_SIZE] = bytes([prot]) * (size // PAGE_SIZE)
        if prot & PROT_EXEC and _clear_icache is not None:
            _clear_icache(self.address + offset, self.address + offset + size)

    def free(self) -> None:
        """Unmap the pages; freeing twice is harmless."""
        if self.size == 0:
            return
        if _munmap(self.address, self.size) != 0:
            raise _libc_error(f"munmap of {self.size} bytes")
        self.size = 0
        self._prot = bytearray()

    def __repr__(self) -> str:
        if self.size == 0:
            return "<Pages freed>"
        return f"<Pages {self.address:#x}+{self.size:#x}>"
