"""A toy ISA for the register allocator's tests and benchmark.

Two classes (``gpr``, ``fpr``), a handful of registers each (few on purpose: spilling
must happen), a non-allocatable stack pointer, and ops that exercise every constraint
kind: plain ALU ops, a two-address op (reuse), an early def, a division with fixed
uses and defs, a shift whose count is fixed, calls that clobber the caller-saved
registers and take/return fixed registers through ``MInst.extra``, a three-input
select, moves, branches and an ``out`` op whose operand is appended to a trace.

Every op has a semantics, so a program runs before allocation (on virtual registers)
and after (on physical registers and spill slots): :func:`execute`.  A call overwrites
every clobbered register it does not define with junk, so a value wrongly kept in a
caller-saved register across a call changes the output.

:func:`generate` builds random structured programs (straight-line code, diamonds,
counted loops with values live around the back edge, calls in two styles, non-SSA
redefinitions) from any ``choose(n) -> 0..n-1`` function: hypothesis draws in the
tests, ``random.Random`` in ``bench/regalloc_throughput.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from heron.backend.regs import RegInfo
from heron.backend.vcode import (
    ARG_IMM,
    ARG_LABEL,
    ARG_REG,
    ARG_SLOT,
    DEF,
    EARLY_DEF,
    NO_REG,
    USE,
    InstInfo,
    MInst,
    OperandInfo,
    SlotRef,
    VCode,
)

G, F = 0, 1
MASK = (1 << 64) - 1
SP_VALUE = 0x7FF0_0000

# Op numbers (indexes into ToyISA.insts).
(
    ICONST, ADD, SUB, ADDI, XOR2, MULE, DIVREM, SHL, MOV, FMOV, FCONST, FADD, I2F, F2I,
    CALL, RET, JMP, BRNZ, OUT, FOUT, SPILL_G, RELOAD_G, SPILL_F, RELOAD_F, LEA_SP, SEL, LDX,
) = range(27)


class ToyISA:
    """Registers r0..r{n-1} (+ scratch), f0..f{m-1} (+ scratch), sp; and the op table.

    The first half (rounded up) of each class is caller-saved, the rest callee-saved.
    Calls take integer arguments in r0, r1 and a float one in f0, return in r0 (and f0).
    """

    def __init__(self, ngpr: int = 4, nfpr: int = 3) -> None:
        assert ngpr >= 2 and nfpr >= 1
        self.R = list(range(ngpr + 1))  # R[ngpr] is the scratch register
        self.Fr = list(range(ngpr + 1, ngpr + nfpr + 2))
        self.SP = ngpr + nfpr + 2
        names = [f"r{i}" for i in range(ngpr + 1)] + [f"f{i}" for i in range(nfpr + 1)] + ["sp"]
        classes = [G] * (ngpr + 1) + [F] * (nfpr + 1) + [G]
        gcaller = self.R[: (ngpr + 1) // 2]
        fcaller = self.Fr[: (nfpr + 1) // 2]
        self.caller_saved = gcaller + fcaller
        self.reginfo = RegInfo(
            class_names=["gpr", "fpr"],
            class_bits=[64, 64],
            allocatable=[self.R[:ngpr], self.Fr[:nfpr]],
            scratch=[self.R[ngpr], self.Fr[nfpr]],
            callee_saved=[r for r in self.R[:ngpr] + self.Fr[:nfpr] if r not in self.caller_saved],
            reg_class=classes,
            reg_names=names,
        )
        r0, r1 = self.R[0], self.R[1]
        R, I, L, S = ARG_REG, ARG_IMM, ARG_LABEL, ARG_SLOT

        def o(i: int, acc: int, cls: int = G, fixed: int = -1, reuse: int = -1) -> OperandInfo:
            return OperandInfo(i, acc, cls, fixed, reuse)

        self.insts = [
            InstInfo("iconst", (R, I), (o(0, DEF),)),
            InstInfo("add", (R, R, R), (o(0, DEF), o(1, USE), o(2, USE))),
            InstInfo("sub", (R, R, R), (o(0, DEF), o(1, USE), o(2, USE))),
            InstInfo("addi", (R, R, I), (o(0, DEF), o(1, USE))),
            InstInfo("xor2", (R, R, R), (o(0, DEF, reuse=1), o(1, USE), o(2, USE))),
            InstInfo("mule", (R, R, R), (o(0, EARLY_DEF), o(1, USE), o(2, USE))),
            InstInfo("divrem", (R, R, R, R), (o(0, DEF, fixed=r0), o(1, DEF, fixed=r1), o(2, USE, fixed=r0), o(3, USE))),
            InstInfo("shl", (R, R, R), (o(0, DEF, reuse=1), o(1, USE), o(2, USE, fixed=r1))),
            InstInfo("mov", (R, R), (o(0, DEF), o(1, USE)), is_move=True),
            InstInfo("fmov", (R, R), (o(0, DEF, F), o(1, USE, F)), is_move=True),
            InstInfo("fconst", (R, I), (o(0, DEF, F),)),
            InstInfo("fadd", (R, R, R), (o(0, DEF, F), o(1, USE, F), o(2, USE, F))),
            InstInfo("i2f", (R, R), (o(0, DEF, F), o(1, USE))),
            InstInfo("f2i", (R, R), (o(0, DEF), o(1, USE, F))),
            InstInfo("call", (I,), (), clobbers=tuple(self.caller_saved), is_call=True),
            InstInfo("ret", (), (), is_terminator=True, is_return=True),
            InstInfo("jmp", (L,), (), is_branch=True, is_terminator=True),
            InstInfo("brnz", (R, L, L), (o(0, USE),), is_branch=True, is_terminator=True),
            InstInfo("out", (R,), (o(0, USE),)),
            InstInfo("fout", (R,), (o(0, USE, F),)),
            InstInfo("spill_g", (S, R), (o(1, USE),)),
            InstInfo("reload_g", (R, S), (o(0, DEF),)),
            InstInfo("spill_f", (S, R), (o(1, USE, F),)),
            InstInfo("reload_f", (R, S), (o(0, DEF, F),)),
            InstInfo("lea_sp", (R, R, I), (o(0, DEF), o(1, USE))),
            InstInfo("sel", (R, R, R, R), (o(0, DEF), o(1, USE), o(2, USE), o(3, USE))),
            # An address with an optional index register (NO_REG when absent), x86 style.
            InstInfo("ldx", (R, R, R, I), (o(0, DEF), o(1, USE), o(2, USE))),
        ]
        self.templates = ToyTemplates()

    def new_vcode(self) -> VCode:
        return VCode(["gpr", "fpr"])

    def format(self, vc: VCode) -> str:
        """Assembly-like text of a VCode (before or after allocation)."""
        lines = []
        name = self.reginfo.name
        for blk in vc.blocks:
            lines.append(f"block{blk.label}:  ; succs {blk.succs}")
            for mi in blk.insts:
                info = self.insts[mi.op]
                args = []
                for a, k in zip(mi.args, info.arg_kinds):
                    args.append(name(a) if k == ARG_REG and a != NO_REG else "-" if k == ARG_REG else f"block{a}" if k == ARG_LABEL else repr(a))
                if mi.extra:
                    args.append("[" + ", ".join(f"{name(r)}@{name(p)}{'' if acc == USE else '!'}" for r, p, acc in mi.extra) + "]")
                lines.append(f"    {info.name} {', '.join(args)}")
        return "\n".join(lines)


class ToyTemplates:
    """The allocator's move/spill/reload builders for the toy ISA."""

    def move(self, cls: int, dst: int, src: int) -> MInst:
        return MInst(MOV if cls == G else FMOV, [dst, src])

    def spill(self, cls: int, slot: SlotRef, src: int) -> MInst:
        return MInst(SPILL_G if cls == G else SPILL_F, [slot, src])

    def reload(self, cls: int, dst: int, slot: SlotRef) -> MInst:
        return MInst(RELOAD_G if cls == G else RELOAD_F, [dst, slot])


# ---------------------------------------------------------------------------- execution


class ExecutionLimit(Exception):
    pass


def execute(isa: ToyISA, vc: VCode, inputs: tuple[int, int], max_steps: int = 200_000) -> list[tuple[str, int]]:
    """Run ``vc`` (allocated or not) with ``inputs`` in r0, r1; return the trace of outputs."""
    regs: dict[int, int] = {isa.R[0]: inputs[0] & MASK, isa.R[1]: inputs[1] & MASK, isa.SP: SP_VALUE}
    slots: dict[int, int] = {}
    trace: list[tuple[str, int]] = []
    junk = 0xBAD0_0000
    b = vc.entry
    steps = 0
    while True:
        nxt = -1
        for mi in vc.blocks[b].insts:
            steps += 1
            if steps > max_steps:
                raise ExecutionLimit
            op = mi.op
            a = mi.args
            if op == ICONST or op == FCONST:
                regs[a[0]] = a[1] & MASK
            elif op == ADD or op == FADD:
                regs[a[0]] = (regs[a[1]] + regs[a[2]]) & MASK
            elif op == SUB:
                regs[a[0]] = (regs[a[1]] - regs[a[2]]) & MASK
            elif op == ADDI:
                regs[a[0]] = (regs[a[1]] + a[2]) & MASK
            elif op == XOR2:
                regs[a[0]] = regs[a[1]] ^ regs[a[2]]
            elif op == MULE:
                regs[a[0]] = (regs[a[1]] * regs[a[2]] + 1) & MASK
            elif op == DIVREM:
                x, y = regs[a[2]], regs[a[3]] | 1
                regs[a[0]], regs[a[1]] = x // y, x % y
            elif op == SHL:
                regs[a[0]] = (regs[a[1]] << (regs[a[2]] & 7)) & MASK
            elif op == MOV or op == FMOV:
                regs[a[0]] = regs[a[1]]
            elif op == I2F:
                regs[a[0]] = (regs[a[1]] * 5) & MASK
            elif op == F2I:
                regs[a[0]] = (regs[a[1]] + 11) & MASK
            elif op == LEA_SP:
                regs[a[0]] = (regs[a[1]] + a[2]) & MASK
            elif op == LDX:
                idx = regs[a[2]] if a[2] != NO_REG else 0
                regs[a[0]] = (regs[a[1]] + idx * a[3]) & MASK
            elif op == SEL:
                regs[a[0]] = regs[a[2]] if regs[a[1]] & 1 else regs[a[3]]
            elif op == CALL:
                extra = mi.extra or []
                acc_in = a[0]
                for r, _p, acc in extra:
                    if acc == USE:
                        acc_in = (acc_in * 31 + regs[r]) & MASK
                defined = set()
                for r, p, acc in extra:
                    if acc != USE:
                        regs[r] = (acc_in + p * 7) & MASK
                        defined.add(r)
                for c in isa.insts[CALL].clobbers:
                    if c not in defined:
                        junk += 1
                        regs[c] = junk
            elif op == OUT or op == FOUT:
                trace.append(("out", regs[a[0]]))
            elif op == SPILL_G or op == SPILL_F:
                slots[a[0].index] = regs[a[1]]
            elif op == RELOAD_G or op == RELOAD_F:
                regs[a[0]] = slots[a[1].index]
            elif op == RET:
                for r, _p, _acc in mi.extra or []:
                    trace.append(("ret", regs[r]))
                return trace
            elif op == JMP:
                nxt = a[0]
                break
            elif op == BRNZ:
                nxt = a[1] if regs[a[0]] else a[2]
                break
            else:
                raise AssertionError(f"unknown op {op}")
        if nxt < 0:
            raise AssertionError(f"block{b} falls off its end")
        b = nxt


# ---------------------------------------------------------------------------- generation


class _Gen:
    """Random structured programs; every decision goes through ``choose``."""

    def __init__(self, isa: ToyISA, choose: Callable[[int], int], budget: int, max_depth: int, window: int, straight: int) -> None:
        self.window = window
        self.straight = straight
        self.isa = isa
        self.choose = choose
        self.budget = budget
        self.max_depth = max_depth
        self.vc = isa.new_vcode()

    def pick(self, seq: list[int]) -> int:
        n = len(seq)
        if self.window and n > self.window:
            return seq[n - 1 - self.choose(self.window)]
        return seq[self.choose(n)]

    def emit(self, b: int, op: int, args: list, extra: list | None = None) -> MInst:
        mi = MInst(op, args, extra)
        self.vc.blocks[b].insts.append(mi)
        self.budget -= 1
        return mi

    def gdst(self, gpool: list[int]) -> int:
        if len(gpool) > 2 and self.choose(5) == 0:
            return self.pick(gpool)  # redefinition: the code is not SSA
        v = self.vc.new_vreg(G)
        gpool.append(v)
        return v

    def fval(self, b: int, fpool: list[int]) -> int:
        if not fpool:
            v = self.vc.new_vreg(F)
            self.emit(b, FCONST, [v, self.choose(100)])
            fpool.append(v)
        return self.pick(fpool)

    def program(self) -> VCode:
        isa = self.isa
        vc = self.vc
        b = vc.add_block()
        a0, a1 = vc.new_vreg(G), vc.new_vreg(G)
        self.emit(b, MOV, [a0, isa.R[0]])  # incoming arguments: pre-colored uses
        self.emit(b, MOV, [a1, isa.R[1]])
        gpool = [a0, a1]
        fpool: list[int] = []
        b = self.stmts(b, gpool, fpool, 0, 1 << 30)
        for v in gpool[-8:]:
            self.emit(b, OUT, [v])
        for v in fpool[-3:]:
            self.emit(b, FOUT, [v])
        extra = [(self.pick(gpool), isa.R[0], USE)]
        if fpool:
            extra.append((self.pick(fpool), isa.Fr[0], USE))
        self.emit(b, RET, [], extra)
        return vc

    def stmts(self, b: int, gpool: list[int], fpool: list[int], depth: int, count: int) -> int:
        isa = self.isa
        while self.budget > 0 and count > 0:
            count -= 1
            kind = self.choose(20 + self.straight)
            if kind >= 20:
                kind = self.choose(6)
            if kind <= 5:
                op = (ADD, SUB, ADDI, XOR2, MULE, SEL)[kind]
                srcs = [self.pick(gpool) for _ in range(3)]
                d = self.gdst(gpool)
                if op == ADDI:
                    self.emit(b, op, [d, srcs[0], self.choose(9) - 4])
                elif op == SEL:
                    self.emit(b, op, [d] + srcs)
                else:
                    self.emit(b, op, [d, srcs[0], srcs[1]])
            elif kind == 6:
                self.emit(b, ICONST, [self.gdst(gpool), self.choose(1000)])
            elif kind == 7:
                x, y = self.pick(gpool), self.pick(gpool)
                q = self.gdst(gpool)
                r = self.vc.new_vreg(G)
                if self.choose(2):
                    gpool.append(r)
                self.emit(b, DIVREM, [q, r, x, y])
            elif kind == 8:
                x, c = self.pick(gpool), self.pick(gpool)
                self.emit(b, SHL, [self.gdst(gpool), x, c])
            elif kind == 9:
                x = self.fval(b, fpool)
                y = self.fval(b, fpool)
                v = self.vc.new_vreg(F)
                fpool.append(v)
                self.emit(b, FADD, [v, x, y])
            elif kind == 10:
                if self.choose(2):
                    v = self.vc.new_vreg(F)
                    fpool.append(v)
                    self.emit(b, I2F, [v, self.pick(gpool)])
                else:
                    x = self.fval(b, fpool)
                    self.emit(b, F2I, [self.gdst(gpool), x])
            elif kind == 11:
                self.emit(b, OUT, [self.pick(gpool)])
            elif kind == 12:
                self.call(b, gpool, fpool)
            elif kind == 13:
                if self.choose(2):
                    x = self.pick(gpool)
                    self.emit(b, MOV, [self.gdst(gpool), x])
                else:
                    x = self.fval(b, fpool)
                    v = self.vc.new_vreg(F)
                    fpool.append(v)
                    self.emit(b, FMOV, [v, x])
            elif kind == 14:
                if self.choose(2):
                    self.emit(b, LEA_SP, [self.gdst(gpool), isa.SP, 16])
                else:
                    base, idx = self.pick(gpool), self.pick(gpool) if self.choose(2) else NO_REG
                    self.emit(b, LDX, [self.gdst(gpool), base, idx, 8])
            elif kind <= 17 and depth < self.max_depth:
                b = self.diamond(b, gpool, fpool, depth)
            elif kind <= 19 and depth < self.max_depth:
                b = self.loop(b, gpool, fpool, depth)
        return b

    def call(self, b: int, gpool: list[int], fpool: list[int]) -> None:
        isa = self.isa
        r0, r1, f0 = isa.R[0], isa.R[1], isa.Fr[0]
        nargs = self.choose(3)
        args = [self.pick(gpool) for _ in range(nargs)]
        fret = self.choose(3) == 0
        if self.choose(2):
            # Fixed-register operands on the call itself.
            extra = [(v, p, USE) for v, p in zip(args, (r0, r1))]
            if fpool and self.choose(2):
                extra.append((self.pick(fpool), f0, USE))
            res = self.gdst(gpool)
            extra.append((res, r0, DEF))
            if fret:
                fv = self.vc.new_vreg(F)
                fpool.append(fv)
                extra.append((fv, f0, DEF))
            self.emit(b, CALL, [self.choose(50)], extra)
        else:
            # ABI style: moves into argument registers, pre-colored call operands, a move out.
            extra = []
            for v, p in zip(args, (r0, r1)):
                self.emit(b, MOV, [p, v])
                extra.append((p, p, USE))
            extra.append((r0, r0, DEF))
            self.emit(b, CALL, [self.choose(50)], extra)
            self.emit(b, MOV, [self.gdst(gpool), r0])

    def diamond(self, b: int, gpool: list[int], fpool: list[int], depth: int) -> int:
        vc = self.vc
        br = self.emit(b, BRNZ, [self.pick(gpool), -1, -1])
        merged = vc.new_vreg(G)
        ends = []
        for side in (1, 2):
            arm = vc.add_block()
            br.args[side] = arm
            vc.blocks[b].succs.append(arm)
            gp, fp = list(gpool), list(fpool)
            end = self.stmts(arm, gp, fp, depth + 1, self.choose(6))
            self.emit(end, MOV, [merged, self.pick(gp)])
            ends.append(end)
        join = vc.add_block()
        for end in ends:
            self.emit(end, JMP, [join])
            vc.blocks[end].succs.append(join)
        gpool.append(merged)
        return join

    def loop(self, b: int, gpool: list[int], fpool: list[int], depth: int) -> int:
        vc = self.vc
        cnt = vc.new_vreg(G)
        self.emit(b, ICONST, [cnt, 1 + self.choose(3)])
        header = vc.add_block()
        self.emit(b, JMP, [header])
        vc.blocks[b].succs.append(header)
        body = vc.add_block()
        br = self.emit(header, BRNZ, [cnt, body, -1])
        gp, fp = list(gpool), list(fpool)
        end = self.stmts(body, gp, fp, depth + 1, 1 + self.choose(8))
        # Loop-carried redefinition of an outer value, then the counter.
        outer = self.pick(gpool)
        self.emit(end, ADD, [outer, outer, self.pick(gp)])
        self.emit(end, ADDI, [cnt, cnt, -1])
        self.emit(end, JMP, [header])
        vc.blocks[end].succs.append(header)
        exit_ = vc.add_block()
        br.args[2] = exit_
        vc.blocks[header].succs += [body, exit_]
        return exit_


def generate(
    isa: ToyISA,
    choose: Callable[[int], int],
    budget: int = 60,
    max_depth: int = 2,
    window: int = 0,
    straight: int = 0,
) -> VCode:
    """A random program of about ``budget`` instructions (see the module docstring).

    ``window`` > 0 draws operands from the most recent ``window`` values only (the
    benchmark's realistic register pressure); 0 draws from every value in scope.
    ``straight`` adds weight to plain ALU ops (fewer, longer blocks).
    """
    return _Gen(isa, choose, budget, max_depth, window, straight).program()


def copy_vcode(vc: VCode) -> VCode:
    """A deep copy of the blocks and instructions (allocation rewrites in place)."""
    out = VCode(list(vc.class_names))
    out.vreg_class = list(vc.vreg_class)
    out.entry = vc.entry
    for blk in vc.blocks:
        nb = out.blocks[out.add_block(blk.ir_block, blk.cold)]
        nb.succs = list(blk.succs)
        nb.insts = [MInst(mi.op, list(mi.args), list(mi.extra) if mi.extra else None) for mi in blk.insts]
    return out


def relayout(vc: VCode, order: list[int]) -> VCode:
    """``vc`` with its blocks laid out in ``order`` (a permutation keeping the entry first)."""
    assert order[0] == vc.entry and sorted(order) == list(range(len(vc.blocks)))
    new_label = {old: new for new, old in enumerate(order)}
    out = VCode(list(vc.class_names))
    out.vreg_class = list(vc.vreg_class)
    for old in order:
        blk = vc.blocks[old]
        nb = out.blocks[out.add_block()]
        nb.succs = [new_label[s] for s in blk.succs]
        for mi in blk.insts:
            args = list(mi.args)
            if mi.op == JMP:
                args[0] = new_label[args[0]]
            elif mi.op == BRNZ:
                args[1] = new_label[args[1]]
                args[2] = new_label[args[2]]
            nb.insts.append(MInst(mi.op, args, list(mi.extra) if mi.extra else None))
    return out
