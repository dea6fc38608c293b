"""JIT pages: mmap/mprotect/munmap, W^X as the kernel reports it in /proc/self/maps."""

from __future__ import annotations

import ctypes
import platform
from pathlib import Path

import pytest

from heron.errors import HeronError
from heron.jit.memory import PAGE_SIZE, PROT_EXEC, PROT_WRITE, READ_EXECUTE, READ_ONLY, READ_WRITE, Pages

pytestmark = pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc/self/maps")

X86_64 = platform.machine() in ("x86_64", "AMD64")


def kernel_protections(address: int, size: int) -> list[str]:
    """The permission strings of the /proc/self/maps lines covering [address, address+size)."""
    found = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        span, perms = line.split()[:2]
        lo, hi = (int(x, 16) for x in span.split("-"))
        if lo < address + size and address < hi:
            found.append(perms[:3])
    return found


def test_pages_start_read_write() -> None:
    pages = Pages(1)
    try:
        assert pages.size == PAGE_SIZE and pages.address % PAGE_SIZE == 0
        assert kernel_protections(pages.address, pages.size) == ["rw-"]
        pages.write(10, b"abc")
        assert pages.read(9, 5) == b"\0abc\0"
    finally:
        pages.free()


def test_code_pages_become_read_execute_never_rwx() -> None:
    pages = Pages(3 * PAGE_SIZE)
    try:
        pages.write(0, b"\xc3")  # ret
        assert "rwx" not in kernel_protections(pages.address, pages.size)
        pages.protect(0, PAGE_SIZE, READ_EXECUTE)
        pages.protect(2 * PAGE_SIZE, PAGE_SIZE, READ_ONLY)
        assert kernel_protections(pages.address, PAGE_SIZE) == ["r-x"]
        assert kernel_protections(pages.address + PAGE_SIZE, PAGE_SIZE) == ["rw-"]
        assert kernel_protections(pages.address + 2 * PAGE_SIZE, PAGE_SIZE) == ["r--"]
        assert "rwx" not in kernel_protections(pages.address, pages.size)
        assert [pages.protection(i * PAGE_SIZE) for i in range(3)] == [READ_EXECUTE, READ_WRITE, READ_ONLY]
        if X86_64:
            ctypes.CFUNCTYPE(None)(pages.address)()  # C3: ret, runs from the r-x page
    finally:
        pages.free()


def test_write_and_execute_together_is_refused() -> None:
    pages = Pages(PAGE_SIZE)
    try:
        with pytest.raises(HeronError, match="W\\^X"):
            pages.protect(0, PAGE_SIZE, PROT_WRITE | PROT_EXEC | 1)
        assert kernel_protections(pages.address, pages.size) == ["rw-"]
    finally:
        pages.free()


def test_sealed_pages_refuse_writes_instead_of_crashing() -> None:
    pages = Pages(2 * PAGE_SIZE)
    try:
        pages.protect(PAGE_SIZE, PAGE_SIZE, READ_EXECUTE)
        pages.write(PAGE_SIZE - 2, b"ok")
        with pytest.raises(HeronError, match="the page is r-x, not writable"):
            pages.write(PAGE_SIZE - 1, b"no")  # straddles into the sealed page
        with pytest.raises(HeronError, match="outside the"):
            pages.write(2 * PAGE_SIZE, b"x")
        with pytest.raises(HeronError, match="not page-aligned"):
            pages.protect(1, PAGE_SIZE, READ_ONLY)
    finally:
        pages.free()


def test_free_unmaps_and_is_idempotent() -> None:
    pages = Pages(PAGE_SIZE)
    address = pages.address
    pages.free()
    assert pages.freed and kernel_protections(address, PAGE_SIZE) == []
    pages.free()
    with pytest.raises(HeronError, match="freed"):
        pages.write(0, b"x")


def test_libc_errors_become_heron_errors() -> None:
    with pytest.raises(HeronError, match=r"mmap of \d+ bytes failed: Cannot allocate memory \(errno 12\)"):
        Pages(1 << 62)
    with pytest.raises(HeronError, match="cannot map 0 bytes"):
        Pages(0)
