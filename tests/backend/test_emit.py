"""Emission: every instruction of the generated table encodes through the MachBuffer and
reads back (capstone) as its printer says; branch simplification; relocations of calls,
symbols and the trap context; trap stubs and the trap table; stack locations resolved."""

from __future__ import annotations

import importlib.util
import random
import re
from pathlib import Path

import capstone
import pytest

from heron.backend.compile import compile_function
from heron.backend.emit import emit_function
from heron.backend.frame import FrameLayout
from heron.backend.isa import lookup_isa
from heron.backend.vcode import MInst, SlotRef, VCode
from heron.ir.parser import parse_functions
from heron.jit.trap import TRAP_CONTEXT_SYMBOL
from heron.meta.encoding import encoders_source
from heron.meta.isa import load_isa

ISA = lookup_isa("x86_64")
SPEC = load_isa("x86_64")
CS = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
_support = importlib.util.spec_from_file_location("encoding_support_for_emit", Path(__file__).parent.parent / "meta" / "encoding_support.py")
assert _support is not None and _support.loader is not None
SUPPORT = importlib.util.module_from_spec(_support)
_support.loader.exec_module(SUPPORT)


def _disasm(code: bytes) -> list[tuple[int, str]]:
    return [(i.address, f"{i.mnemonic} {i.op_str}".strip()) for i in CS.disasm(code, 0)]


def _args(v, rng: random.Random) -> list:
    """Operands for one variant: registers of its classes, immediates in range, label 0."""
    out = []
    for op_name, fld in v.arg_layout:
        op = v.inst.operand(op_name)
        if fld is None and op.kind == "reg":
            regs = [r.index for r in SPEC.registers.values() if r.regclass == op.regclass]
            out.append(SPEC.registers[op.fixed].index if op.fixed else rng.choice(regs))
        elif fld is None and op.kind == "imm":
            k = op.imm
            lo, hi = (-(1 << (k.bits - 1)), (1 << (k.bits - 1)) - 1) if k.signed else (0, (1 << k.bits) - 1)
            out.append(rng.randint(lo, hi) if k.values is None else rng.choice(k.values))
        elif fld is None and op.kind == "enum":
            out.append(rng.choice(SPEC.enums[op.enum].values).encoding)
        elif fld is None and op.kind == "label":
            out.append(0)
        elif fld is None:
            out.append(rng.choice(["int_divz", "user3"]))
        elif fld == "base":
            out.append(rng.choice([r.index for r in SPEC.registers.values() if r.regclass == "gpr"]))
        elif fld == "index":
            out.append(rng.choice([-1, 1, 9]))
        elif fld == "scale":
            out.append(rng.randint(0, 3))
        else:
            out.append(rng.choice([0, 16, -24, 0x12345]))
    return out


def test_every_instruction_encodes_through_the_machbuffer_and_reads_back() -> None:
    """One block holding every variant (several operand samples each), emitted like a
    function; capstone reads each instruction as the generated printer prints it."""
    rng = random.Random(11)
    vc = VCode(list(ISA.CLASS_NAMES))
    b = vc.add_block()
    minsts = []
    for v in SPEC.variants:
        op = getattr(ISA, "OP_" + v.py_name.upper())
        for _ in range(3):
            minsts.append(MInst(op, _args(v, rng)))
    vc.blocks[b].insts = list(minsts)
    code = emit_function(vc, ISA, FrameLayout(), "%all")
    seen = _disasm(code.code[: code.code_size])
    assert len(seen) >= len(minsts)
    trap_offsets = {t.code: t.offset for t in code.traps}

    def label(x: object) -> str:  # capstone prints targets as addresses: block 0 is at 0
        return str(0 if type(x) is int else trap_offsets[x])

    failures = []
    for mi, (_at, text) in zip(minsts, seen):
        want = ISA.INSTS[mi.op].text(mi.args, ISA.asm_reg, label)
        if not SUPPORT.same_asm(want, text):
            failures.append(f"{ISA.INSTS[mi.op].name} {mi.args}: printer '{want}', capstone '{text}'")
    assert not failures, "\n".join(failures[:10])


def test_the_generated_encoders_are_the_specs() -> None:
    """The module's encoders write what heron.meta.encoding's source writes."""
    ns: dict = {}
    exec(compile(encoders_source(SPEC), "<encoders>", "exec"), ns)  # noqa: S102
    rng = random.Random(2)
    for v in SPEC.variants:
        for _ in range(4):
            args = _args(v, rng)
            a, c = SUPPORT.RecordingBuffer(), SUPPORT.RecordingBuffer()
            ns[f"enc_{v.py_name}"](a, args, [r.encoding for r in SPEC.registers.values()])
            ISA.INSTS[getattr(ISA, "OP_" + v.py_name.upper())].encode(c, args, ISA.REG_ENCODINGS)
            assert (a.data, a.fixups, a.trap_sites) == (c.data, c.fixups, c.trap_sites), v.name


def test_pseudo_ops_emit_nothing() -> None:
    vc = VCode(list(ISA.CLASS_NAMES))
    vc.add_block()
    vc.blocks[0].insts = [MInst(ISA.OP_ABI_ARGS, [], [])]
    assert emit_function(vc, ISA, FrameLayout(), "%f").code == b""


# ---------------------------------------------------------------------------- whole functions
def _compiled(text: str):
    [fn] = parse_functions(text)
    return compile_function(fn, ISA)


def test_branches_to_the_next_block_disappear_and_conditions_invert() -> None:
    cf = _compiled(
        "function %f(i64, i64) -> i64 {\nblock0(v0: i64, v1: i64):\n    v2 = icmp ult v0, v1\n    brif v2, block1, block2\n"
        "block1:\n    v3 = iadd v0, v1\n    return v3\nblock2:\n    v4 = isub v0, v1\n    return v4\n}"
    )
    texts = [t for _a, t in _disasm(cf.code.code)]
    # cmp; jae block2 (the inverted jb block1 falling through to block1); no jmp at all.
    assert any(t.startswith("jae ") for t in texts) and not any(t.startswith("jmp") for t in texts)


def test_a_call_is_a_pcrel_relocation_against_the_callee() -> None:
    cf = _compiled(
        "function %f(i64) -> i64 {\n    fn0 = %g(i64) -> i64\nblock0(v0: i64):\n    v1 = call fn0(v0)\n    return v1\n}"
    )
    [call] = [r for r in cf.code.relocs if r.symbol == "%g"]
    assert (call.kind, call.addend) == ("pcrel4", -4)
    assert cf.code.code[call.offset - 1] == 0xE8 and cf.code.code[call.offset : call.offset + 4] == bytes(4)


def test_symbol_addresses_are_absolute_relocations() -> None:
    cf = _compiled("function %f() -> i64 {\n    gv0 = symbol %table+24\nblock0:\n    v0 = global_value.i64 gv0\n    return v0\n}")
    [r] = [r for r in cf.code.relocs if r.symbol == "%table"]
    assert (r.kind, r.addend) == ("abs8", 24)
    assert cf.code.code[r.offset - 2 : r.offset] in (b"\x48\xb8", b"\x49\xb8") or cf.code.code[r.offset - 1] & 0xF8 == 0xB8


def test_trap_stubs_come_after_the_code_once_per_code() -> None:
    cf = _compiled(
        "function %f(i64, i64) -> i64 {\nblock0(v0: i64, v1: i64):\n    v2 = udiv v0, v1\n    v3 = udiv v2, v1\n"
        "    trapz v3, user9\n    return v3\n}"
    )
    code = cf.code
    assert sorted(t.code for t in code.traps) == ["int_divz", "user9"]
    for t in code.traps:
        assert t.offset >= 0 and code.code[t.offset : t.offset + 2] in (b"\x49\xbb", b"\x48\xbb")  # movabs r11, ...
    context = [r for r in code.relocs if r.symbol == TRAP_CONTEXT_SYMBOL]
    own = [r for r in code.relocs if r.symbol == "%f"]
    assert len(context) == 2 and sorted(r.addend for r in own) == sorted(t.offset for t in code.traps)
    texts = [t for _a, t in _disasm(code.code)]
    assert texts.count("ret") == 3  # the function's and one per stub
    assert sum(1 for t in texts if t.startswith("je ")) == 3


def test_stack_locations_become_stack_pointer_displacements() -> None:
    cf = _compiled(
        "function %f(i64) -> i64 {\n    ss0 = explicit_slot 8\n    ss1 = explicit_slot 8\nblock0(v0: i64):\n"
        "    stack_store v0, ss1\n    v1 = stack_addr.i64 ss1\n    return v1\n}"
    )
    texts = [t for _a, t in _disasm(cf.code.code)]
    assert "lea rax, [rsp + 8]" in texts or any(re.fullmatch(r"lea r\w+, \[rsp \+ 8\]", t) for t in texts)


def test_the_stack_check_compares_against_the_context_limit() -> None:
    cf = _compiled(
        "function %f(i64) -> i64 {\n    fn0 = %f(i64) -> i64\nblock0(v0: i64):\n    v1 = call fn0(v0)\n    return v1\n}"
    )
    texts = [t for _a, t in _disasm(cf.code.code)]
    assert texts[:5] == ["movabs r11, 0", "mov r11, qword ptr [r11 + 0x18]", "lea r10, [rsp - 0x10]", "cmp r10, r11", texts[4]]
    assert texts[4].startswith("jb ")
    assert "stk_ovf" in {t.code for t in cf.code.traps}


@pytest.mark.parametrize("area", ["spill", "explicit", "outgoing", "incoming", "retarea"])
def test_every_slot_area_resolves(area: str) -> None:
    f = FrameLayout()
    f.spill_offsets, f.explicit_offsets, f.incoming_base, f.retarea_offset = [8], [16], 64, 32
    expected = {"spill": 12, "explicit": 20, "outgoing": 4, "incoming": 68, "retarea": 36}[area]
    assert f.resolve(SlotRef(area, 0, 4)) == expected
