"""JitFunction: argument and result conversion for every scalar type, multiple
results, the return area, and calls through an array-call entry trampoline."""

from __future__ import annotations

import ctypes
import math
import struct

import pytest
from jit_support import ENTRY_PROLOGUE, SYSV, compiled, module, needs_x86_64

from heron.errors import HeronError
from heron.ir.entities import AbiParam, Signature
from heron.ir.types import F16, F32, F64, F128, I8, I16, I32, I64, I128, Type, type_by_name
from heron.jit import JitFunction, JITModule, ReturnPlan

pytestmark = needs_x86_64

ADD = "48 8d 04 37  c3"  # lea rax, [rdi+rsi]; ret
RET = "c3"  # ret


def sig(params: list[Type], returns: list[Type]) -> Signature:
    return Signature([AbiParam(t) for t in params], [AbiParam(t) for t in returns])


def load(code: str, signature: Signature, entry: tuple[str, Signature] | None = None) -> tuple[JITModule, JitFunction]:
    """A module holding ``code`` as function "f" (and optionally an entry trampoline)."""
    m = module()
    m.declare_function("f", signature)
    m.define_function("f", compiled(code))
    if entry is not None:
        m.declare_function("entry", Signature([]))
        m.define_function("entry", compiled(entry[0]))
    m.finalize()
    return m, m.get_function("f", entry="entry" if entry else None)


@pytest.mark.parametrize("ty", [I8, I16, I32, I64])
def test_integers_of_every_width(ty: Type) -> None:
    m, add = load(ADD, sig([ty, ty], [ty]))
    top = 1 << (ty.bits - 1)
    assert add(2, 3) == 5
    assert add(-1, -1) == -2  # __call__ results are signed
    assert add(top - 1, 1) == -top  # wraps at the width
    assert add.call_bits(ty.mask, ty.mask) == [ty.mask - 1]  # call_bits results are unsigned
    assert add.call_bits(ty.mask + 2, 0) == [1]  # arguments are masked
    m.free()


def test_i128_in_two_registers_and_rax_rdx() -> None:
    # 48 89 F8    mov rax, rdi      (a.lo)
    # 48 01 D0    add rax, rdx      (+ b.lo)
    # 48 89 F2    mov rdx, rsi      (a.hi)
    # 48 11 CA    adc rdx, rcx      (+ b.hi + carry)
    # C3          ret               (result in rax:rdx)
    m, add = load("4889f8 4801d0 4889f2 4811ca c3", sig([I128, I128], [I128]))
    assert add(2**64 - 1, 1) == 2**64
    assert add(-1, -1) == -2
    assert add(2**127 - 1, 1) == -(2**127)
    assert add.call_bits(I128.mask, 2) == [1]
    m.free()


def test_two_integer_results() -> None:
    # 48 8D 04 37   lea rax, [rdi+rsi]
    # 48 89 FA      mov rdx, rdi
    # 48 29 F2      sub rdx, rsi
    # C3            ret
    m, f = load("488d0437 4889fa 4829f2 c3", sig([I64, I64], [I64, I64]))
    assert f(10, 3) == (13, 7)
    assert f.call_bits(0, 1) == [1, 2**64 - 1]
    m.free()


def test_f64_add_and_f32_add() -> None:
    m, fadd = load("f20f58c1 c3", sig([F64, F64], [F64]))  # addsd xmm0, xmm1; ret
    assert fadd(1.5, 2.25) == 3.75
    assert fadd.call_bits(0x3FF0000000000000, 0x3FF0000000000000) == [0x4000000000000000]  # 1 + 1 = 2
    m.free()
    m, faddf = load("f30f58c1 c3", sig([F32, F32], [F32]))  # addss xmm0, xmm1; ret
    assert faddf(1.5, 2.25) == 3.75
    assert faddf(0.1, 0) == struct.unpack("<f", struct.pack("<f", 0.1))[0]  # rounded to f32
    assert faddf.call_bits(0x3F800000, 0x3F800000) == [0x40000000]
    assert math.isinf(faddf(1e300, 0))  # rounds as C does
    m.free()


@pytest.mark.parametrize("ty, snan", [(F32, 0x7F80_0001), (F64, 0x7FF0_0000_0000_0001), (F32, 0xFFA0_0000)])
def test_float_bits_are_exact(ty: Type, snan: int) -> None:
    # C3: ret, the identity on xmm0: a signalling NaN comes back untouched, so no
    # Python float (which would quiet it) is involved.
    m, ident = load(RET, sig([ty], [ty]))
    assert ident.call_bits(snan) == [snan]
    m.free()


def test_mixed_float_and_integer_results() -> None:
    # F2 0F 58 C1   addsd xmm0, xmm1
    # 48 89 F8      mov rax, rdi
    # C3            ret              (results: xmm0, rax)
    m, f = load("f20f58c1 4889f8 c3", sig([I64, F64, F64], [F64, I64]))
    assert f(7, 0.5, 0.25) == (0.75, 7)
    m.free()


def test_two_f32_results_in_xmm0_and_xmm1() -> None:
    # 0F 28 D0   movaps xmm2, xmm0
    # 0F 28 C1   movaps xmm0, xmm1
    # 0F 28 CA   movaps xmm1, xmm2
    # C3         ret
    m, swap = load("0f28d0 0f28c1 0f28ca c3", sig([F32, F32], [F32, F32]))
    assert swap(1.0, 2.0) == (2.0, 1.0)
    assert swap.call_bits(0x7F800001, 0x3F800000) == [0x3F800000, 0x7F800001]
    m.free()


def test_no_result_is_none() -> None:
    m, f = load(RET, sig([], []))
    assert f() is None and f.call_bits() == []
    m.free()


def test_third_integer_result_goes_to_the_return_area() -> None:
    # The return-area pointer comes first (rdi), the formal argument after it (rsi).
    # 48 89 F0      mov rax, rsi
    # 48 8D 56 01   lea rdx, [rsi+1]
    # 48 8D 4E 02   lea rcx, [rsi+2]
    # 48 89 0F      mov [rdi], rcx
    # C3            ret
    signature = sig([I64], [I64, I64, I64])
    assert ReturnPlan(signature, SYSV).area_offsets == {2: 0}
    m, f = load("4889f0 488d5601 488d4e02 48890f c3", signature)
    assert f(10) == (10, 11, 12)
    assert f.call_bits(2**64 - 1) == [2**64 - 1, 0, 1]
    m.free()


def test_i128_result_that_no_longer_fits_goes_to_the_return_area() -> None:
    # i64 takes rax; the i128 needs two registers, one is left: memory.
    # 48 89 37               mov [rdi], rsi          (low half)
    # 48 C7 47 08 07000000   mov qword [rdi+8], 7    (high half)
    # 48 89 F0               mov rax, rsi
    # C3                     ret
    signature = sig([I64], [I64, I128])
    plan = ReturnPlan(signature, SYSV)
    assert (plan.in_registers, plan.area_offsets, plan.area_size) == ([0], {1: 0}, 16)
    m, f = load("488937 48c7470807000000 4889f0 c3", signature)
    assert f(5) == (5, 7 << 64 | 5)
    m.free()


def test_return_plan_layout() -> None:
    signature = sig([], [F64, F64, F32, I8, I64, I64, I16, F64])
    plan = ReturnPlan(signature, SYSV)
    assert plan.in_registers == [0, 1, 3, 4]
    # f32 at 0, i64 at 8, i16 at 16, f64 at 24; 32 bytes.
    assert (plan.area_offsets, plan.area_size) == ({2: 0, 5: 8, 6: 16, 7: 24}, 32)


@pytest.mark.parametrize(
    "params, returns, message",
    [
        ([I64, I64], [I64, I64, F64, F64], "4 results in registers need the entry trampoline"),
        ([I128], [I128, F64], "2 results in registers need the entry trampoline"),
        ([F128], [], "a f128 parameter needs the entry trampoline"),
        ([], [F16], "a f16 result needs the entry trampoline"),
        (["i32x4"], [], "a i32x4 parameter needs the entry trampoline"),
        ([I64] * 5 + [I128], [], "an i128 parameter not wholly in registers"),
    ],
)
def test_direct_path_limits(params: list, returns: list, message: str) -> None:
    types = [type_by_name(t) if isinstance(t, str) else t for t in params]
    with pytest.raises(HeronError, match=message):
        JitFunction(0x1000, sig(types, returns), SYSV)


def test_argument_errors() -> None:
    m, add = load(ADD, sig([I64, F64], [I64]))
    with pytest.raises(HeronError, match="takes 2 arguments, 1 given"):
        add(1)
    with pytest.raises(HeronError, match="takes 2 arguments, 3 given"):
        add.call_bits(1, 2, 3)
    with pytest.raises(HeronError, match="expected an int for i64, got float"):
        add(1.5, 2.0)
    with pytest.raises(HeronError, match="expected a number for f64, got str"):
        add(1, "2")
    m.free()
    with pytest.raises(HeronError, match="without the host calling convention"):
        JitFunction(0x1000, sig([], []), None, name="g")


# -- the array-call entry trampoline (the shape heron.jit's docstring describes) -----------

# Signature (i64, i64) -> (i64, i64, f64, f64): four results in registers.
ENTRY_II_IIFF = ENTRY_PROLOGUE + (
    " 488b7610"  # mov rsi, [rsi+16]          (parameter 1)
    " ffd0 4883c408 5e"  # call rax; add rsp, 8; pop rsi
    " 488906 48895610"  # mov [rsi], rax; mov [rsi+16], rdx
    " f20f114620 f20f114e30"  # movsd [rsi+32], xmm0; movsd [rsi+48], xmm1
    " c3"  # ret (to exit)
)


def test_entry_trampoline_calls_any_signature() -> None:
    # 48 8D 04 37       lea rax, [rdi+rsi]
    # 48 89 FA          mov rdx, rdi
    # 48 29 F2          sub rdx, rsi
    # F2 48 0F 2A C7    cvtsi2sd xmm0, rdi
    # F2 48 0F 2A CE    cvtsi2sd xmm1, rsi
    # C3                ret
    signature = sig([I64, I64], [I64, I64, F64, F64])
    m, f = load("488d0437 4889fa 4829f2 f2480f2ac7 f2480f2ace c3", signature, entry=(ENTRY_II_IIFF, signature))
    assert f(10, 3) == (13, 7, 10.0, 3.0)
    assert f(-2, 3) == (1, -5, -2.0, 3.0)
    assert f.call_bits(1, 2) == [3, 2**64 - 1, 0x3FF0000000000000, 0x4000000000000000]
    assert ctypes.string_at(m.trap_context_address, 32) == bytes(32)  # entry_sp restored, no trap
    m.free()
