"""Traps come back as heron.Trap: the trap context, its codes, and (with hand-made
x86-64 code) both a function that stores a code and returns, and a real unwind
through the entry trampoline from deep inside recursive calls."""

from __future__ import annotations

import ctypes

import pytest
from jit_support import ENTRY_PROLOGUE, compiled, module, needs_x86_64

from heron.errors import HeronError, Trap
from heron.ir.entities import AbiParam, Signature
from heron.ir.trapcode import TRAP_CODE_NAMES
from heron.ir.types import I64
from heron.jit import TRAP_CONTEXT_SYMBOL, TrapContext, trap_code_name, trap_code_number
from heron.jit.trap import ENTRY_SP, TRAP_CODE, TRAP_CONTEXT_SIZE, TRAP_PC

SIG_V_I = Signature([], [AbiParam(I64)])
SIG_I_I = Signature([AbiParam(I64)], [AbiParam(I64)])


def test_trap_code_numbers_round_trip() -> None:
    names = sorted(TRAP_CODE_NAMES) + [f"user{n}" for n in range(1, 251)]
    numbers = [trap_code_number(n) for n in names]
    assert len(set(numbers)) == len(names) and all(1 <= n <= 255 for n in numbers)
    assert [trap_code_name(n) for n in numbers] == names
    assert trap_code_number("user007") == 7
    assert trap_code_name(0x1234) == "trap4660"
    with pytest.raises(HeronError, match="'user0' is not a trap code"):
        trap_code_number("user0")


def test_context_raise_and_reset() -> None:
    block = (ctypes.c_uint64 * (TRAP_CONTEXT_SIZE // 8))()
    ctx = TrapContext(ctypes.addressof(block))
    ctx.raise_pending("%f")  # nothing pending: no error
    block[TRAP_CODE // 8] = trap_code_number("heap_oob")
    block[TRAP_PC // 8] = 0x1000
    block[ENTRY_SP // 8] = 0x7777
    with pytest.raises(Trap) as info:
        ctx.raise_pending("%f", lambda pc: ("%g", "heap_oob") if pc == 0x1000 else None)
    assert (info.value.code, info.value.function) == ("heap_oob", "%g")
    assert list(block) == [0, 0, 0x7777, 0]  # the trampoline's fields are kept


@needs_x86_64
def test_function_storing_a_trap_code_and_returning_a_sentinel() -> None:
    m = module()
    m.declare_function("f", SIG_V_I)
    # 48 B8 <abs8>            movabs rax, trap_context      (relocation at offset 2)
    # 48 C7 00 03 00 00 00    mov qword [rax], 3            (trap_code = user3)
    # B8 AD DE 00 00          mov eax, 0xDEAD               (the sentinel)
    # C3                      ret
    assert trap_code_number("user3") == 3
    code = "48b8 0000000000000000 48c70003000000 b8adde0000 c3"
    m.define_function("f", compiled(code, relocs=((2, "abs8", TRAP_CONTEXT_SYMBOL, 0),)))
    m.finalize()
    f = m.get_function("f")
    with pytest.raises(Trap, match="trap user3 in f"):
        f()
    with pytest.raises(Trap):
        f.call_bits()
    assert ctypes.string_at(m.trap_context_address, TRAP_CONTEXT_SIZE) == bytes(TRAP_CONTEXT_SIZE)
    m.free()


@needs_x86_64
def test_trap_pc_names_the_function_through_the_trap_table() -> None:
    m = module()
    m.declare_function("caller", SIG_V_I)
    m.declare_function("g", SIG_V_I)
    # 53                      push rbx
    # E8 <pcrel4>             call g                        (relocation at 2, addend -4)
    # 5B C3                   pop rbx; ret
    m.define_function("caller", compiled("53 e8 00000000 5b c3", relocs=((2, "pcrel4", "g", -4),)))
    # 48 B8 <abs8>            movabs rax, trap_context      (relocation at 2)
    # 48 C7 00 03 00 00 00    mov qword [rax], 3            (user3)
    # 48 8D 0D E8 FF FF FF    lea rcx, [rip - 24]           (= g + 0: the trap site)
    # 48 89 48 08             mov [rax+8], rcx              (trap_pc)
    # B8 AD DE 00 00          mov eax, 0xDEAD
    # C3                      ret
    code = "48b8 0000000000000000 48c70003000000 488d0de8ffffff 48894808 b8adde0000 c3"
    m.define_function("g", compiled(code, relocs=((2, "abs8", TRAP_CONTEXT_SYMBOL, 0),), traps=((0, "user3"),)))
    m.finalize()
    with pytest.raises(Trap) as info:
        m.get_function("caller")()
    assert (info.value.code, info.value.function) == ("user3", "g")
    assert f"at {m.function_address('g'):#x}" in str(info.value)
    m.free()


# deep(n): n == 0 -> 0; n == 13 -> trap int_divz; else deep(n - 1) + 1.  So deep(n) is
# n below 13 and traps n - 13 calls deep otherwise.  The stub stores the code and the
# trap site, reloads the entry trampoline's stack pointer and returns into its exit.
DEEP = (
    "4885ff"  # 00: test rdi, rdi
    " 7418"  # 03: je zero (+0x18)
    " 4883ff0d"  # 05: cmp rdi, 13
    " 7415"  # 09: site: je stub (+0x15)            (trap int_divz)
    " 53 48ffcf 4889fb"  # 0b: push rbx; dec rdi; mov rbx, rdi  (dirty a callee-saved register)
    " e8e9ffffff"  # 12: call deep
    " 4883c001 5b c3"  # 17: add rax, 1; pop rbx; ret
    " 31c0 c3"  # 1d: zero: xor eax, eax; ret
    " 48b8 0000000000000000"  # 20: stub: movabs rax, trap_context  (relocation at 0x22)
    " 48c700fe000000"  # 2a: mov qword [rax], 254       (trap_code = int_divz)
    " 488d0dd1ffffff"  # 31: lea rcx, [rip - 0x2f]       (= site)
    " 48894808"  # 38: mov [rax+8], rcx             (trap_pc)
    " 488b6010"  # 3c: mov rsp, [rax+16]            (entry_sp)
    " c3"  # 40: ret                           (into the trampoline's exit)
)
# outer(n): dirties rbx and r12, then deep(n).
# 53; BB 5A5A0000; 41 54; 49 C7 C4 FFFFFFFF   push rbx; mov ebx, 0x5a5a; push r12; mov r12, -1
# E8 <pcrel4>                                  call deep     (relocation at 0x10, addend -4)
# 41 5C; 5B; C3                                pop r12; pop rbx; ret
OUTER = "53 bb5a5a0000 4154 49c7c4ffffffff e800000000 415c 5b c3"
# Entry trampoline for (i64) -> i64: call rax; add rsp, 8; pop rsi; mov [rsi], rax; ret.
ENTRY_I_I = ENTRY_PROLOGUE + " ffd0 4883c408 5e 488906 c3"


@needs_x86_64
def test_trap_unwinds_through_the_entry_trampoline() -> None:
    assert trap_code_number("int_divz") == 0xFE
    m = module()
    for name in ("outer", "deep", "entry"):
        m.declare_function(name, SIG_I_I)
    m.define_function("outer", compiled(OUTER, relocs=((0x10, "pcrel4", "deep", -4),)))
    m.define_function(
        "deep", compiled(DEEP, relocs=((0x22, "abs8", TRAP_CONTEXT_SYMBOL, 0),), traps=((0x09, "int_divz"),))
    )
    m.define_function("entry", compiled(ENTRY_I_I))
    m.finalize()
    outer = m.get_function("outer", entry="entry")
    context = m.trap_context_address
    assert outer(12) == 12
    for n in (13, 14, 1013):
        with pytest.raises(Trap) as info:
            outer(n)
        assert (info.value.code, info.value.function) == ("int_divz", "deep")
        assert ctypes.string_at(context, TRAP_CONTEXT_SIZE) == bytes(TRAP_CONTEXT_SIZE)
    # The process survives: stack and callee-saved registers were restored every time.
    for i in range(300):
        if i % 3:
            assert outer(i % 13) == i % 13
        else:
            with pytest.raises(Trap):
                outer(13 + i)
    m.free()
