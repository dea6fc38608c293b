"""JITModule: layout, relocations (abs8, pcrel4), data, imports, trap lookup, free."""

from __future__ import annotations

import ctypes
import gc
from pathlib import Path

import pytest
from jit_support import SYSV, X86_RELOCS, compiled, module, needs_x86_64

from heron.backend.machbuffer import Reloc
from heron.errors import HeronError
from heron.ir.entities import AbiParam, Signature
from heron.ir.types import I64
from heron.jit import TRAP_CONTEXT_SYMBOL, JITModule

pytestmark = needs_x86_64

SIG_II_I = Signature([AbiParam(I64), AbiParam(I64)], [AbiParam(I64)])
SIG_I_I = Signature([AbiParam(I64)], [AbiParam(I64)])
SIG_III_I = Signature([AbiParam(I64)] * 3, [AbiParam(I64)])
SIG_V_I = Signature([], [AbiParam(I64)])

ADD = "48 8d 04 37  c3"  # lea rax, [rdi+rsi]; ret


def maps_perms(address: int) -> str | None:
    for line in Path("/proc/self/maps").read_text().splitlines():
        span, perms = line.split()[:2]
        lo, hi = (int(x, 16) for x in span.split("-"))
        if lo <= address < hi:
            return perms[:3]
    return None


def test_define_finalize_call() -> None:
    m = module()
    m.declare_function("add", SIG_II_I)
    m.define_function("add", compiled(ADD))
    m.finalize()
    addr = m.function_address("add")
    raw = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)(addr)
    assert raw(2, 3) == 5
    assert m.get_function("add")(40, 2) == 42
    assert maps_perms(addr) == "r-x"
    assert maps_perms(m.data_address(TRAP_CONTEXT_SYMBOL)) == "rw-"
    m.free()


def test_code_and_data_protections_never_rwx() -> None:
    m = module()
    m.declare_function("add", SIG_II_I)
    m.define_function("add", compiled(ADD))
    m.declare_data("rw", 8)
    m.declare_data("ro", b"constant", writable=False)
    m.finalize()
    assert maps_perms(m.function_address("add")) == "r-x"
    assert maps_perms(m.data_address("rw")) == "rw-"
    assert maps_perms(m.data_address("ro")) == "r--"
    assert ctypes.string_at(m.data_address("ro"), 8) == b"constant"
    m.free()


def test_call_libc_memcpy_through_abs8() -> None:
    m = module()
    m.declare_import("memcpy")
    m.declare_function("copy", SIG_III_I)
    # 53                push rbx                 (keeps the stack 16-aligned at the call)
    # 48 B8 <abs8>      movabs rax, memcpy       (relocation at offset 3)
    # FF D0             call rax
    # 5B C3             pop rbx; ret
    m.define_function("copy", compiled("53 48b8 0000000000000000 ffd0 5b c3", relocs=((3, "abs8", "memcpy", 0),)))
    m.finalize()
    src = ctypes.create_string_buffer(b"heron jit", 10)
    dst = ctypes.create_string_buffer(10)
    copy = m.get_function("copy")
    assert copy(ctypes.addressof(dst), ctypes.addressof(src), 10) == ctypes.addressof(dst)
    assert dst.value == b"heron jit"
    m.free()


def test_call_between_functions_through_pcrel4() -> None:
    m = module()
    m.declare_function("plus1", SIG_II_I)  # declaration order is layout order
    m.declare_function("add", SIG_II_I)
    # 53                push rbx
    # E8 <pcrel4>       call add                 (relocation at offset 2, addend -4)
    # 5B                pop rbx
    # 48 83 C0 01       add rax, 1
    # C3                ret
    m.define_function("plus1", compiled("53 e8 00000000 5b 4883c001 c3", relocs=((2, "pcrel4", "add", -4),)))
    m.define_function("add", compiled(ADD))
    m.finalize()
    assert m.get_function("plus1")(20, 21) == 42
    assert m.function_address("plus1") < m.function_address("add")  # a forward call
    m.free()


def test_pcrel4_to_writable_data() -> None:
    m = module()
    m.declare_data("counter", (41).to_bytes(8, "little"), align=8)
    m.declare_function("bump", SIG_V_I)
    # 48 8B 05 <pcrel4>   mov rax, [rip + counter]   (relocation at 3, addend -4)
    # 48 83 C0 01         add rax, 1
    # 48 89 05 <pcrel4>   mov [rip + counter], rax   (relocation at 14, addend -4)
    # C3                  ret
    code = "488b05 00000000 4883c001 488905 00000000 c3"
    m.define_function("bump", compiled(code, relocs=((3, "pcrel4", "counter", -4), (14, "pcrel4", "counter", -4))))
    m.finalize()
    bump = m.get_function("bump")
    assert bump() == 42 and bump() == 43
    assert ctypes.c_int64.from_address(m.data_address("counter")).value == 43
    m.free()


def test_relocations_inside_data() -> None:
    m = module()
    m.declare_function("add", SIG_II_I)
    m.define_function("add", compiled(ADD))
    m.declare_data("table", 16, writable=False, align=8)
    m.define_data("table", bytes(16), relocs=[Reloc(0, "abs8", "add", 0), Reloc(8, "abs8", "table", 8)])
    m.declare_function("loadptr", SIG_V_I)
    # 48 8B 05 <pcrel4>   mov rax, [rip + table]; C3 ret
    m.define_function("loadptr", compiled("488b05 00000000 c3", relocs=((3, "pcrel4", "table", -4),)))
    m.finalize()
    table = m.data_address("table")
    assert ctypes.c_uint64.from_address(table).value == m.function_address("add")
    assert ctypes.c_uint64.from_address(table + 8).value == table + 8
    assert m.get_function("loadptr")() == m.function_address("add")
    m.free()


def test_call_back_into_python() -> None:
    calls = []

    def triple(x: int) -> int:
        calls.append(x)
        return 3 * x

    m = module()
    m.declare_import("triple", ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64)(triple))
    gc.collect()  # the module keeps the callback alive
    m.declare_function("f", SIG_I_I)
    # 53                push rbx
    # 48 B8 <abs8>      movabs rax, triple       (relocation at offset 3)
    # FF D0             call rax
    # 5B                pop rbx
    # 48 83 C0 01       add rax, 1
    # C3                ret
    m.define_function("f", compiled("53 48b8 0000000000000000 ffd0 5b 4883c001 c3", relocs=((3, "abs8", "triple", 0),)))
    m.finalize()
    assert m.get_function("f")(5) == 16
    assert calls == [5]
    m.free()


def test_function_alignment() -> None:
    m = JITModule(X86_RELOCS, SYSV, function_align=16)
    for name in ("a", "b", "c"):
        m.declare_function(name, SIG_II_I)
    m.define_function("a", compiled("c3"))  # ret
    m.define_function("b", compiled(ADD, align=64))
    m.define_function("c", compiled("c3"))
    m.finalize()
    assert m.function_address("a") % 4096 == 0
    assert m.function_address("b") % 64 == 0
    assert m.function_address("c") == m.function_address("b") + 16
    m.free()


def test_lookup_trap() -> None:
    m = module()
    m.declare_function("add", SIG_II_I)
    m.declare_function("trapper", SIG_I_I)
    m.define_function("add", compiled(ADD))
    # 8B 07     mov eax, [rdi]     (heap_oob at 0)
    # 0F 0B     ud2                (user7 at 2)
    # C3        ret
    m.define_function("trapper", compiled("8b07 0f0b c3", traps=((0, "heap_oob"), (2, "user7"))))
    m.finalize()
    base = m.function_address("trapper")
    assert m.lookup_trap(base) == ("trapper", "heap_oob")
    assert m.lookup_trap(base + 2) == ("trapper", "user7")
    assert m.lookup_trap(base + 1) is None
    assert m.lookup_trap(base + 4) is None
    assert m.lookup_trap(m.function_address("add")) is None
    assert m.lookup_trap(0) is None
    m.free()


def test_free_then_use_is_an_error() -> None:
    with module() as m:
        m.declare_function("add", SIG_II_I)
        m.define_function("add", compiled(ADD))
        m.finalize()
        add = m.get_function("add")
        addr = m.function_address("add")
    assert m.freed and maps_perms(addr) is None
    for use in (lambda: m.function_address("add"), lambda: add(1, 2), lambda: m.lookup_trap(addr),
                lambda: m.declare_data("x", 1), m.finalize):
        with pytest.raises(HeronError, match="freed"):
            use()
    m.free()  # twice is fine


def test_declaration_errors() -> None:
    m = module()
    m.declare_function("f", SIG_II_I)
    m.declare_function("f", SIG_II_I)  # same signature: fine
    with pytest.raises(HeronError, match="redeclared"):
        m.declare_function("f", SIG_I_I)
    with pytest.raises(HeronError, match="already declared as function"):
        m.declare_data("f", 8)
    with pytest.raises(HeronError, match="not declared"):
        m.define_function("g", compiled("c3"))
    m.define_function("f", compiled(ADD))
    with pytest.raises(HeronError, match="already defined"):
        m.define_function("f", compiled(ADD))
    m.declare_data("d", 8)
    with pytest.raises(HeronError, match="declared with 8 bytes, defined with 4"):
        m.define_data("d", bytes(4))
    with pytest.raises(HeronError, match="no symbol 'no_such_symbol_anywhere'"):
        m.declare_import("no_such_symbol_anywhere")
    with pytest.raises(HeronError, match="not a power of two"):
        m.declare_data("e", 8, align=12)
    with pytest.raises(HeronError, match="not finalized"):
        m.function_address("f")
    m.finalize()
    with pytest.raises(HeronError, match="already finalized"):
        m.declare_function("h", SIG_II_I)
    with pytest.raises(HeronError, match="no data 'f'"):
        m.data_address("f")
    m.free()


@pytest.mark.parametrize(
    "reloc, message",
    [
        ((1, "abs8", "nowhere", 0), "undeclared symbol 'nowhere'"),
        ((1, "abs4", "far", 0), "unknown relocation kind 'abs4'"),
        ((1, "pcrel4", "far", -4), "function 'f': relocation pcrel4 to 'far' at offset 1: PC-relative distance"),
    ],
)
def test_link_errors(reloc: tuple[int, str, str, int], message: str) -> None:
    m = module()
    m.declare_import("far", 0x1000)  # never called: only its distance matters
    m.declare_function("f", SIG_V_I)
    m.define_function("f", compiled("e8 00000000 c3", relocs=(reloc,)))  # call far; ret
    with pytest.raises(HeronError, match=message):
        m.finalize()
    assert not m.finalized


def test_undefined_function_is_an_error() -> None:
    m = module()
    m.declare_function("f", SIG_V_I)
    with pytest.raises(HeronError, match="declared but never defined: f"):
        m.finalize()
