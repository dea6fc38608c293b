"""The semantics of every RISC-V 64 instruction against execution (DESIGN.md §4, §8).

unicorn emulates RV64 in-process: for each variant of isa_specs/riscv64 and many random
inputs, the encoded instruction runs once (`count=1`) on random registers and memory, and
the Python back end of the variant's semantics (heron.meta.dsl.pyback, as the verifier's
counterexample replay uses it) must compute the same destination registers, memory, next
pc (taken or not, jalr's target) and traps (a branch to a trap stub is taken exactly when
the semantics trap; `unimp` raises an exception).

Inputs lean on the values where instructions differ: 0, +-1, the 32- and 64-bit extremes,
sign-extended 32-bit values, immediates at their bounds, shift amounts past the W width.
x0 is never an operand (isa.yaml reserves it; the aliases that read zero encode it).
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from dsl_support import compile_program
from encoding_support import Encoders

from heron.errors import Trap
from heron.meta.isa import ISA, load_isa

unicorn = pytest.importorskip("unicorn")
from unicorn import riscv_const as rv  # noqa: E402

CODE = 0x10000  # a 64 KiB code page; the instruction sits in its middle
AT = CODE + 0x8000
DATA = 0x40000  # a 4 KiB data page for loads and stores
DATA_SIZE = 0x1000
SAMPLES = 150
M64 = (1 << 64) - 1

_SPECIAL = [0, 1, 2, M64, M64 - 1, 1 << 63, (1 << 63) - 1, 1 << 31, (1 << 31) - 1, 0xFFFFFFFF, 0xFFFFFFFF80000000, 0x7F, 0x80, 0xFF, 0x8000, 0xFFFF, 31, 32, 63, 64]


def _value(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.1:
        return rng.choice([0, M64])  # division by zero, by -1
    if r < 0.3:
        return rng.choice(_SPECIAL)
    if r < 0.5:  # a sign-extended 32-bit value (what W instructions write)
        v = rng.getrandbits(32)
        return v | (0xFFFFFFFF00000000 if v >> 31 else 0)
    if r < 0.6:
        return rng.getrandbits(8)
    return rng.getrandbits(64)


def _imm(kind: Any, rng: random.Random) -> int:
    """An immediate as the unsigned pattern of its bits (what the Python back end takes)."""
    lo, hi = (-(1 << (kind.bits - 1)), (1 << (kind.bits - 1)) - 1) if kind.signed else (0, (1 << kind.bits) - 1)
    v = rng.choice([lo, hi, 0, 1, -1, rng.randint(lo, hi)]) if rng.random() < 0.4 else rng.randint(lo, hi)
    return max(lo, min(hi, v)) & ((1 << kind.bits) - 1)


def _sext(v: int, bits: int) -> int:
    return v - (1 << bits) if v >> (bits - 1) else v


class PageMemory:
    """The data page as the Python back end's memory (little-endian loads and stores)."""

    def __init__(self, data: bytes) -> None:
        self.data = bytearray(data)

    def _at(self, addr: int, size: int) -> int:
        off = addr - DATA
        assert 0 <= off and off + size <= DATA_SIZE, hex(addr)
        return off

    def load(self, addr: int, size: int) -> int:
        off = self._at(addr, size)
        return int.from_bytes(self.data[off:off + size], "little")

    def store(self, addr: int, size: int, value: int) -> None:
        off = self._at(addr, size)
        self.data[off:off + size] = value.to_bytes(size, "little")


@pytest.fixture(scope="module")
def isa() -> ISA:
    return load_isa("riscv64")


@pytest.fixture(scope="module")
def emu() -> Any:
    uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV64)
    uc.mem_map(CODE, 0x10000)
    uc.mem_map(DATA, DATA_SIZE)
    return uc


class Case:
    """One random run of one variant: the MInst args, the semantics' inputs and the machine state."""

    def __init__(self, isa: ISA, v: Any, rng: random.Random) -> None:
        self.v = v
        gprs = [r for r in isa.registers.values() if r.regclass == "gpr" and r.encoding != 0]
        picks = rng.sample(gprs, 4)
        self.regs = {r.encoding: _value(rng) for r in gprs}  # every register random
        self.args: list[Any] = []
        self.inputs: dict[str, Any] = {"PC": AT}
        self.defs: dict[str, int] = {}  # def operand -> hardware register
        self.disp: int | None = None
        self.data = rng.randbytes(DATA_SIZE)
        n = 0
        for o in v.inst.operands:
            if o.kind == "reg":
                r = picks[n]
                n += 1
                self.args.append(r.index)
                if o.is_def:
                    self.defs[o.name] = r.encoding
                else:
                    self.inputs[o.name] = self.regs[r.encoding]
            elif o.kind == "imm":
                self.args.append(_imm(o.imm, rng))
                self.inputs[o.name] = self.args[-1]
            elif o.kind == "mem":
                base = picks[n]
                n += 1
                disp = _imm(next(f.imm for f in isa.addressing[o.mem].fields if f.kind == "imm"), rng)
                addr = DATA + rng.randrange(0, DATA_SIZE - 8)
                self.regs[base.encoding] = (addr - _sext(disp, 12)) & M64
                self.args += [base.index, disp]
                self.inputs[o.name] = addr
            elif o.kind == "label":
                self.disp = rng.randrange(-0x1000, 0x1000, 2)
                self.args.append(0)
            else:  # a trap code: a branch to its stub, or a trap-table entry
                self.args.append("int_divz")
                self.inputs[o.name] = "int_divz"
                if v.form.label is not None:
                    self.disp = rng.randrange(-0x1000, 0x1000, 2)
        if v.inst.name == "jalr":  # land in the code page (bit 0 of the sum is cleared)
            rs1 = next(r for r in picks[:2] if r.encoding not in self.defs.values())
            target = AT + rng.randrange(-0x1000, 0x1000, 2) + rng.getrandbits(1)
            self.regs[rs1.encoding] = (target - _sext(self.inputs["imm"], 12)) & M64
            self.inputs["rs1"] = self.regs[rs1.encoding]

    def semantics(self) -> tuple[dict[str, int], str | None, PageMemory]:
        """The outputs of the Python back end, the trap code it raises, the memory after."""
        prog = self.v.program
        fn = _semantics_function(self.v)
        mem = PageMemory(self.data)
        args = [self.inputs[name] for name, _ in prog.inputs]
        if prog.uses_memory:
            args.append(mem)
        try:
            return dict(zip([n for n, _ in prog.outputs], fn(*args))), None, mem
        except Trap as trap:
            return {}, trap.code, mem


_FUNCTIONS: dict[str, Any] = {}


def _semantics_function(v: Any) -> Any:
    if v.name not in _FUNCTIONS:
        _FUNCTIONS[v.name] = compile_program(v.program, f"sem_{v.py_name}")  # "or", "and" are keywords
    return _FUNCTIONS[v.name]


def _run(uc: Any, enc: Encoders, case: Case) -> tuple[dict[int, int], int, bytes, str | None]:
    """Registers, pc and data page after one instruction (or the exception it raised)."""
    buf = enc.encode(case.v, case.args)
    code = bytearray(buf.data)
    if case.disp is not None:
        [(offset, _label, kind)] = buf.fixups
        enc.patch(kind, code, offset, case.disp)
    uc.mem_write(AT, bytes(code))
    uc.ctl_remove_cache(AT, AT + len(code))
    uc.mem_write(DATA, case.data)
    for enc_no, value in case.regs.items():
        uc.reg_write(rv.UC_RISCV_REG_X0 + enc_no, value)
    uc.reg_write(rv.UC_RISCV_REG_PC, AT)
    fault = None
    try:
        uc.emu_start(AT, AT + len(code), count=1)
    except unicorn.UcError as e:
        fault = str(e)
    regs = {n: uc.reg_read(rv.UC_RISCV_REG_X0 + n) for n in range(32)}
    return regs, uc.reg_read(rv.UC_RISCV_REG_PC), bytes(uc.mem_read(DATA, DATA_SIZE)), fault


def _compare(case: Case, regs: dict[int, int], pc: int, data: bytes, fault: str | None) -> str | None:
    outputs, trap, mem = case.semantics()
    v = case.v
    if v.inst.name == "unimp":
        return None if trap and fault else f"unimp: semantics trap {trap}, unicorn {fault or 'ran on'}"
    if fault:
        return f"unicorn faulted: {fault}"
    if v.form.label is not None:  # a branch (to a label or to a trap stub)
        taken = bool(trap) if "taken" not in outputs else bool(outputs["taken"])
        want = AT + case.disp if taken else AT + 4
        if pc != want:
            return f"taken={taken} says pc {want:#x}, unicorn is at {pc:#x}"
    elif "PC" in outputs:
        if pc != outputs["PC"]:
            return f"the semantics jump to {outputs['PC']:#x}, unicorn to {pc:#x}"
    elif pc != AT + 4:
        return f"unicorn is at {pc:#x}, not the next instruction"
    for name, hw in case.defs.items():
        if regs[hw] != outputs[name]:
            return f"{name} (x{hw}): semantics {outputs[name]:#x}, unicorn {regs[hw]:#x}"
    if bytes(mem.data) != data:
        first = next(i for i in range(DATA_SIZE) if mem.data[i] != data[i])
        return f"memory at {DATA + first:#x}: semantics {mem.data[first]:#04x}, unicorn {data[first]:#04x}"
    return None


def test_every_instruction_computes_what_its_semantics_say(isa: ISA, emu: Any) -> None:
    enc = Encoders(isa)
    rng = random.Random(64)
    failures: list[str] = []
    runs = 0
    for v in isa.variants:
        for _ in range(SAMPLES):
            case = Case(isa, v, rng)
            problem = _compare(case, *_run(emu, enc, case))
            runs += 1
            if problem:
                shown = {k: hex(x) if isinstance(x, int) else x for k, x in case.inputs.items()}
                failures.append(f"{v.name} {shown}: {problem}")
                break
    assert runs == SAMPLES * len(isa.variants)
    assert not failures, "\n".join(failures)


def test_the_emulator_sees_a_changed_instruction(isa: ISA, emu: Any) -> None:
    """Rewriting the code must drop unicorn's translation cache (DESIGN.md §8): the same
    address runs add, then sub."""
    enc = Encoders(isa)
    x = {n: isa.registers[f"x{n}"].index for n in (10, 11, 12)}
    for name, want in (("add", 7 + 5), ("sub", 7 - 5)):
        case = Case(isa, isa.variant(name), random.Random(1))
        case.args = [x[10], x[11], x[12]]
        case.regs.update({11: 7, 12: 5})
        regs, *_ = _run(emu, enc, case)
        assert regs[10] == want, name
