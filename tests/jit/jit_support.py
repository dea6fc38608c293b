"""Shared pieces of the JIT tests: x86-64 facts the generated ISA module will supply
later (relocation appliers, calling-convention counts), and a builder of
CompiledCode from hand-assembled bytes.  Every code string carries its assembly
(GNU as, Intel syntax); the tests that run code skip elsewhere than x86-64 Linux.
"""

from __future__ import annotations

import platform
import sys

import pytest

from heron.backend.machbuffer import CompiledCode, MachBuffer
from heron.jit import HostCallConv, JITModule, abs_reloc, pcrel_reloc

X86_64_LINUX = sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64")
needs_x86_64 = pytest.mark.skipif(not X86_64_LINUX, reason="runs hand-assembled x86-64 code")

# x86-64: "abs8" is R_X86_64_64 (S + A), "pcrel4" is R_X86_64_PC32 (S + A - P).
X86_RELOCS = {"abs8": abs_reloc(8), "pcrel4": pcrel_reloc(4)}
# System V AMD64: rdi rsi rdx rcx r8 r9 / xmm0-7; returns rax rdx / xmm0 xmm1.
SYSV = HostCallConv(int_args=6, float_args=8, int_rets=2, float_rets=2)


def compiled(
    hex_code: str,
    relocs: tuple[tuple[int, str, str, int], ...] = (),
    traps: tuple[tuple[int, str], ...] = (),
    align: int = 1,
) -> CompiledCode:
    """CompiledCode of hand-assembled bytes, through a MachBuffer."""
    buf = MachBuffer({}, code_align=align)
    buf.put_bytes(bytes.fromhex(hex_code))
    for offset, kind, symbol, addend in relocs:
        buf.add_reloc(offset, kind, symbol, addend)
    for offset, code in traps:
        buf.add_trap(offset, code)
    return buf.finish()


def module() -> JITModule:
    return JITModule(X86_RELOCS, SYSV)


# The array-call entry trampoline of heron.jit's docstring, up to the signature-specific
# part: entry(rdi = callee, rsi = values, rdx = trap context).  A test appends the
# loads of parameters 1.., the call and the stores of the results.
ENTRY_PROLOGUE = (
    "55 53 4154 4155 4156 4157"  # push rbp, rbx, r12, r13, r14, r15
    " ff7210"  # push qword [rdx+16]         (the previous entry_sp)
    " 52"  # push rdx                   (the context)
    " e80f000000"  # call inner                 (inner starts 0x0f bytes after this call)
    " 5a"  # exit: pop rdx
    " 8f4210"  # pop qword [rdx+16]
    " 415f 415e 415d 415c 5b 5d c3"  # pop r15, r14, r13, r12, rbx, rbp; ret
    " 48896210"  # inner: mov [rdx+16], rsp  (points at the return address into exit)
    " 56 4883ec08"  # push rsi; sub rsp, 8       (values; 16-byte alignment at the call)
    " 4889f8 488b3e"  # mov rax, rdi; mov rdi, [rsi] (callee; parameter 0)
)
