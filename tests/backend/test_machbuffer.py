"""MachBuffer: bytes, labels and fixups, branch simplification, constants, relocs, traps.

The patchers here are x86-64's (and, for bitfield_patcher, AArch64's and RISC-V's)
as the generated ISA modules will supply them; every golden byte string carries its
assembly.
"""

from __future__ import annotations

import pytest

from heron.backend.machbuffer import CompiledCode, MachBuffer, Reloc, TrapSite, bitfield_patcher, pcrel_patcher
from heron.errors import CompileError

# x86-64: rel32 / rel8 fields count from the end of the field (the end of the instruction).
X86 = {"rel32": pcrel_patcher(4, 4), "rel8": pcrel_patcher(1, 1)}


def jmp32(buf: MachBuffer, label: int, register: bool = True) -> None:
    """jmp rel32 (E9 cd)."""
    start = buf.offset
    buf.put1(0xE9)
    buf.use_label(buf.offset, "rel32", label)
    buf.put4(0)
    if register:
        buf.add_uncond_branch(start, buf.offset, label)


def jcc32(buf: MachBuffer, cc: int, label: int) -> None:
    """jcc rel32 (0F 80+cc cd), registered with its inverse (cc ^ 1)."""
    start = buf.offset
    buf.put_bytes(bytes([0x0F, 0x80 | cc]))
    buf.use_label(buf.offset, "rel32", label)
    buf.put4(0)
    buf.add_cond_branch(start, buf.offset, label, bytes([0x0F, 0x80 | (cc ^ 1), 0, 0, 0, 0]))


JE, JNE = 0x4, 0x5


def test_put_little_endian_and_masked() -> None:
    buf = MachBuffer({})
    buf.put1(0x1FF)
    buf.put2(-2)
    buf.put4(0x12345678)
    buf.put8(-1)
    buf.put_bytes(b"\xaa")
    assert buf.offset == 16
    assert buf.finish().code.hex() == "ff" "feff" "78563412" "ffffffffffffffff" "aa"


def test_label_bound_after_use() -> None:
    buf = MachBuffer(X86)
    target = buf.get_label()
    jmp32(buf, target, register=False)  # jmp target
    buf.put1(0x90)  # nop
    buf.bind_label(target)
    buf.put1(0xC3)  # ret
    code = buf.finish()
    # E9 01 00 00 00   jmp +1 (over the nop); 90 nop; C3 ret
    assert code.code == bytes.fromhex("e9 01000000 90 c3")
    assert code.label_offsets[target] == 6


def test_label_bound_before_use() -> None:
    buf = MachBuffer(X86)
    top = buf.get_label()
    buf.bind_label(top)
    buf.put1(0x90)  # nop
    jmp32(buf, top)  # jmp top
    code = buf.finish()
    # 90 nop; E9 FA FF FF FF   jmp -6 (back to the nop)
    assert code.code == bytes.fromhex("90 e9 faffffff")
    assert buf.label_offset(top) == 0


def test_multiple_fixups_to_one_label() -> None:
    buf = MachBuffer(X86)
    out = buf.get_label()
    jcc32(buf, JE, out)  # 0F 84 rel32: je out
    jcc32(buf, JNE, out)  # 0F 85 rel32: jne out
    buf.put1(0x90)  # nop: keeps the branches from being simplified away
    buf.bind_label(out)
    buf.put1(0xC3)
    code = buf.finish()
    # je +7 (over jne and nop), jne +1 (over the nop), nop, ret
    assert code.code == bytes.fromhex("0f84 07000000 0f85 01000000 90 c3")


def test_fixup_kind_leaves_addend_in_field() -> None:
    # A jump-table entry relative to the table start: the encoder leaves the entry's
    # distance from the table in the field, the patcher adds target - field.
    buf = MachBuffer({"jt4": pcrel_patcher(4, 0)})
    a, b = buf.get_label(), buf.get_label()
    buf.use_label(0, "jt4", a)
    buf.put4(0)  # entry 0 at table+0
    buf.use_label(4, "jt4", b)
    buf.put4(4)  # entry 1 at table+4
    buf.bind_label(a)
    buf.put1(0xC3)
    buf.bind_label(b)
    buf.put1(0xC3)
    code = buf.finish()
    assert code.code[:8] == (8).to_bytes(4, "little") + (9).to_bytes(4, "little")


def test_out_of_range_fixup_is_a_compile_error() -> None:
    buf = MachBuffer(X86)
    far = buf.get_label()
    buf.put1(0xEB)  # jmp rel8
    buf.use_label(buf.offset, "rel8", far)
    buf.put1(0)
    buf.put_bytes(b"\x90" * 200)
    buf.bind_label(far)
    with pytest.raises(CompileError, match="distance 200 does not fit a signed 8-bit field"):
        buf.finish()


def test_label_errors() -> None:
    buf = MachBuffer(X86)
    lab = buf.get_label()
    with pytest.raises(CompileError, match="unknown label fixup kind 'rel64'"):
        buf.use_label(0, "rel64", lab)
    with pytest.raises(CompileError, match="is not bound"):
        buf.label_offset(lab)
    jmp32(buf, lab, register=False)
    with pytest.raises(CompileError, match="never bound"):
        buf.finish()
    buf2 = MachBuffer(X86)
    buf2.bind_label(buf2.get_label())
    with pytest.raises(CompileError, match="bound twice"):
        buf2.bind_label(0)


def test_constant_pool_alignment_and_dedup() -> None:
    buf = MachBuffer(X86, code_align=16)
    c1 = buf.add_constant(bytes.fromhex("000000000000f03f"), align=8)  # f64 1.0
    c2 = buf.add_constant(bytes.fromhex("000000000000f03f"), align=8)
    c3 = buf.add_constant(bytes(range(16)), align=16)
    c4 = buf.add_constant(b"\x7f", align=1)
    assert c1 == c2 and len({c1, c3, c4}) == 3
    # F2 0F 10 05 rel32   movsd xmm0, [rip + c1]
    buf.put_bytes(bytes.fromhex("f20f1005"))
    buf.use_label(buf.offset, "rel32", c1)
    buf.put4(0)
    buf.put1(0xC3)  # ret
    code = buf.finish()
    assert code.code_size == 9
    # The 16-aligned constant first, then the 8-aligned, then the byte.
    assert code.label_offsets[c3] == 16
    assert code.label_offsets[c1] == 32
    assert code.label_offsets[c4] == 40
    assert code.code[16:32] == bytes(range(16))
    assert code.code[32:40] == bytes.fromhex("000000000000f03f")
    assert code.code[9:16] == bytes(7)
    assert code.alignment == 16
    assert code.code[4:8] == (32 - 8).to_bytes(4, "little")  # rip (= end of the field) + 24


def test_constant_alignment_grows_on_reuse() -> None:
    buf = MachBuffer({})
    buf.put1(0xC3)
    a = buf.add_constant(b"\x01\x02\x03\x04", align=1)
    assert buf.add_constant(b"\x01\x02\x03\x04", align=16) == a
    code = buf.finish()
    assert code.label_offsets[a] == 16 and code.alignment == 16
    with pytest.raises(CompileError, match="power of two"):
        MachBuffer({}).add_constant(b"x", align=3)


def test_relocations_and_traps_pass_through() -> None:
    buf = MachBuffer(X86)
    # 48 B8 imm64   movabs rax, memcpy
    buf.put_bytes(b"\x48\xb8")
    buf.add_reloc(buf.offset, "abs8", "memcpy", 0)
    buf.put8(0)
    buf.add_trap(buf.offset, "heap_oob")
    buf.put_bytes(b"\x8b\x00")  # mov eax, [rax]
    buf.add_trap(buf.offset, "user3")
    buf.put_bytes(b"\x0f\x0b")  # ud2
    code = buf.finish()
    assert code.relocs == (Reloc(2, "abs8", "memcpy", 0),)
    assert code.traps == (TrapSite(10, "heap_oob"), TrapSite(12, "user3"))
    assert isinstance(code, CompiledCode)
    with pytest.raises(AttributeError):
        code.code_size = 0  # type: ignore[misc]


def test_traps_are_sorted() -> None:
    buf = MachBuffer({})
    buf.put_bytes(bytes(8))
    buf.add_trap(6, "user2")
    buf.add_trap(2, "user1")
    assert [t.offset for t in buf.finish().traps] == [2, 6]


def test_block_offsets() -> None:
    buf = MachBuffer(X86, num_blocks=3)
    extra = buf.get_label()
    assert extra == 3
    buf.bind_label(0)
    buf.put1(0x90)
    buf.bind_label(2)  # blocks are bound in any order
    buf.put1(0x90)
    buf.bind_label(1)
    buf.put1(0xC3)
    assert buf.finish().block_offsets == (0, 2, 1)


# -- branch simplification ---------------------------------------------------------------


def test_jump_to_next_block_is_removed() -> None:
    buf = MachBuffer(X86, num_blocks=2)
    buf.bind_label(0)
    buf.put1(0x90)  # nop
    jmp32(buf, 1)  # jmp block1: falls through instead
    buf.bind_label(1)
    buf.put1(0xC3)
    code = buf.finish()
    assert code.code == bytes.fromhex("90 c3")
    assert code.block_offsets == (0, 1)


def test_removed_jump_takes_its_labels_along() -> None:
    # block1 is only `jmp block2`: both go, block1 now starts where block2 does.
    buf = MachBuffer(X86, num_blocks=3)
    buf.bind_label(0)
    jcc32(buf, JE, 2)  # je block2
    buf.put1(0x90)
    buf.bind_label(1)
    jmp32(buf, 2)  # jmp block2
    extra = buf.get_label()
    buf.bind_label(extra)  # bound after the jump: moves too
    buf.bind_label(2)
    buf.put1(0xC3)
    code = buf.finish()
    # 0F 84 01 00 00 00   je block2 (+1 over the nop); 90 nop; C3 ret
    assert code.code == bytes.fromhex("0f84 01000000 90 c3")
    assert code.block_offsets == (0, 7, 7)
    assert code.label_offsets[extra] == 7


def test_chain_of_removals_moves_labels_of_earlier_branches() -> None:
    # je L; B: jmp L; L:  ->  both branches go to the next instruction; B moves to L.
    buf = MachBuffer(X86, num_blocks=3)
    buf.bind_label(0)
    jcc32(buf, JE, 2)
    buf.bind_label(1)
    jmp32(buf, 2)
    buf.bind_label(2)
    buf.put1(0xC3)
    code = buf.finish()
    assert code.code == b"\xc3"
    assert code.block_offsets == (0, 0, 0)


def test_conditional_over_jump_is_inverted() -> None:
    # je block1; jmp block2; block1: nop; block2: ret  ->  jne block2; block1: nop; block2: ret
    buf = MachBuffer(X86, num_blocks=3)
    buf.bind_label(0)
    jcc32(buf, JE, 1)
    jmp32(buf, 2)
    buf.bind_label(1)
    buf.put1(0x90)
    buf.bind_label(2)
    buf.put1(0xC3)
    code = buf.finish()
    # 0F 85 01 00 00 00   jne +1 (block2); 90 nop; C3 ret
    assert code.code == bytes.fromhex("0f85 01000000 90 c3")
    assert code.block_offsets == (0, 6, 7)


def test_jump_with_its_own_label_is_not_merged_into_the_condition() -> None:
    # je L1; X: jmp L2; L1: ...  X is entered from elsewhere, so the jmp must stay.
    buf = MachBuffer(X86, num_blocks=3)
    buf.bind_label(0)
    jcc32(buf, JE, 1)
    x = buf.get_label()
    buf.bind_label(x)
    jmp32(buf, 2)
    buf.bind_label(1)
    buf.put1(0x90)
    buf.bind_label(2)
    jmp32(buf, x)  # a backward use of X
    code = buf.finish()
    # je +5 (over the jmp); X: jmp +1 (over the nop); nop; jmp X (-11: from 17 to 6)
    assert code.code == bytes.fromhex("0f84 05000000 e9 01000000 90 e9 f5ffffff")


def test_branch_not_at_tail_is_kept() -> None:
    buf = MachBuffer(X86, num_blocks=2)
    buf.bind_label(0)
    jmp32(buf, 1)
    buf.put1(0x90)  # something after the jump: not a jump to the next instruction
    buf.bind_label(1)
    buf.put1(0xC3)
    assert buf.finish().code == bytes.fromhex("e9 01000000 90 c3")


def test_branch_registration_is_checked() -> None:
    buf = MachBuffer(X86)
    buf.put1(0x90)
    with pytest.raises(CompileError, match="right after"):
        buf.add_uncond_branch(0, 1, buf.get_label())
    with pytest.raises(CompileError, match="inverted branch has 2 bytes, the branch 1"):
        buf.add_cond_branch(0, 1, 0, b"\x00\x00")


# -- patchers for instruction words ------------------------------------------------------


def test_bitfield_patcher_aarch64_b() -> None:
    # AArch64 B imm26 (bits 25..0, distance / 4): 14 00 00 00 is `b .` before patching.
    patch = bitfield_patcher(4, 4, ((25, 0, 0),))
    buf = MachBuffer({"b26": patch})
    target = buf.get_label()
    buf.use_label(0, "b26", target)
    buf.put4(0x1400_0000)
    buf.put4(0xD503_201F)  # nop
    buf.bind_label(target)
    buf.put4(0xD65F_03C0)  # ret
    code = buf.finish()
    assert code.code[:4] == (0x1400_0002).to_bytes(4, "little")  # b #8
    with pytest.raises(CompileError, match="not a multiple of 4"):
        patch(bytearray(4), 0, 2)
    with pytest.raises(CompileError, match="does not fit a signed 26-bit field"):
        patch(bytearray(4), 0, 4 << 25)


@pytest.mark.parametrize("distance, word", [(8, 0x0080_006F), (-4, 0xFFDF_F06F)])
def test_bitfield_patcher_riscv_jal(distance: int, word: int) -> None:
    # RISC-V JAL: imm[20|10:1|11|19:12] in bits 31..12; 6F is `jal x0, 0`.
    patch = bitfield_patcher(4, 1, ((20, 20, 31), (10, 1, 21), (11, 11, 20), (19, 12, 12)))
    buf = bytearray((0x6F).to_bytes(4, "little") * 3)
    at = 4
    patch(buf, at, at + distance)
    assert int.from_bytes(buf[4:8], "little") == word  # jal x0, distance


def test_finish_once() -> None:
    buf = MachBuffer({})
    buf.put1(0xC3)
    buf.finish()
    with pytest.raises(CompileError, match="finish called twice"):
        buf.finish()
