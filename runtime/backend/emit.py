"""Emission: allocated VCode with its prologue and epilogues -> CompiledCode.

One pass over the blocks in layout order, binding each block's label and running each
MInst's encoder (``InstInfo.encode(buf, args, regs)``, ``regs`` the ISA's hardware
register encodings) into a :class:`~heron.backend.machbuffer.MachBuffer`:

- stack locations: an ``ARG_SLOT`` argument still holding a SlotRef is replaced by its
  displacement from the stack pointer (``FrameLayout.resolve``);
- branches (the ISA's ``BRANCHES``): an unconditional jump and a conditional branch
  whose condition the spec can invert are registered with the buffer, which deletes a
  jump to the next block and turns ``jcc L; jmp M; L:`` into ``jncc M; L:`` (the
  inverted bytes come from encoding the branch again with the inverse condition);
- relocations: a call's label field naming a symbol becomes a relocation in the
  buffer (``SYMBOL_FIXUPS``); an MInst with ``reloc`` records one at the end of its
  bytes minus ``from_end``;
- tail duplication: a jump to a short block that returns (the epilogue after a move
  or two) becomes a copy of that block;
- traps: after the code, one stub per trap code used (``trap_stub`` template: store
  the code and the stub's own address into the JIT's trap context, relocated against
  ``__heron_trap_context`` and the function's own symbol, then return to the entry
  trampoline), each recorded in the trap table at its first byte; an instruction
  that traps in place (``ud2``) records itself.

Example: see :func:`heron.backend.compile.compile_function`.
"""

from __future__ import annotations

from typing import Any

from heron.backend.frame import FrameLayout
from heron.backend.machbuffer import CompiledCode, MachBuffer
from heron.backend.vcode import ARG_SLOT, SlotRef, SymbolRef, VCode
from heron.jit.trap import ENTRY_SP, TRAP_CODE, TRAP_CONTEXT_SYMBOL, TRAP_PC, trap_code_number

__all__ = ["emit_function", "EmitPlan"]


class _Sink:
    """Bytes of an encoding done only to learn them (an inverted branch)."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data = bytearray()

    def put1(self, v: int) -> None:
        self.data.append(v)

    def put2(self, v: int) -> None:
        self.data += v.to_bytes(2, "little")

    def put4(self, v: int) -> None:
        self.data += v.to_bytes(4, "little")

    def put8(self, v: int) -> None:
        self.data += v.to_bytes(8, "little")

    def fixup(self, label: Any, kind: str) -> None:
        pass

    def trap_label(self, code: str) -> int:
        return 0

    def trap_site(self, code: str) -> None:
        pass


class EmitPlan:
    """Per-op facts of one ISA the emitter reads in its loop (built once per ISA)."""

    __slots__ = ("encode", "slots", "branch", "ret_op")

    def __init__(self, isa: Any) -> None:
        self.encode = [info.encode for info in isa.INSTS]
        rets = isa.templates.ret() if isa.templates is not None else []
        self.ret_op = rets[-1].op if rets else -1
        self.slots = [tuple(i for i, k in enumerate(info.arg_kinds) if k == ARG_SLOT) for info in isa.INSTS]
        branch: list[Any] = [None] * len(isa.INSTS)
        for op, (label, cond) in isa.BRANCHES.items():
            branch[op] = (label, cond)
        self.branch = branch


_PLANS: dict[int, EmitPlan] = {}


def _plan(isa: Any) -> EmitPlan:
    plan = _PLANS.get(id(isa))
    if plan is None:
        plan = _PLANS[id(isa)] = EmitPlan(isa)
    return plan


def emit_function(vcode: VCode, isa: Any, frame: FrameLayout, name: str) -> CompiledCode:
    """The machine code of ``vcode`` (allocated, prologue and epilogues in place);
    ``name`` is the function's symbol (its trap stubs refer to their own address)."""
    plan = _plan(isa)
    encode, slots, branches = plan.encode, plan.slots, plan.branch
    regs = isa.REG_ENCODINGS
    resolve = frame.resolve
    buf = MachBuffer(isa.PATCHERS, len(vcode.blocks), isa.FUNCTION_ALIGN, isa.SYMBOL_FIXUPS)
    data = buf.data
    tails = _return_tails(vcode, plan)
    blocks = vcode.blocks
    for n, blk in enumerate(blocks):
        buf.bind_label(blk.label)
        after_cond = False  # the previous instruction is a conditional branch
        for mi in blk.insts:
            op = mi.op
            args = mi.args
            for i in slots[op]:
                if type(args[i]) is SlotRef:
                    args[i] = resolve(args[i])
            br = branches[op]
            if br is None:
                encode[op](buf, args, regs)
                after_cond = False
            else:
                label, cond = br
                target = args[label]
                # Not after a conditional branch: `jcc L; jmp M; L:` inverts to `jncc M`.
                tail = tails.get(target) if cond is None and not after_cond else None
                after_cond = cond is not None
                if tail is not None and (n + 1 == len(blocks) or blocks[n + 1].label != target):
                    # A jump to a short block that returns: emit a copy of that block
                    # (no branch or relocation in it; its stack slots are resolved the
                    # first time either copy is emitted, the encoding is the same).
                    for t in tail:
                        for i in slots[t.op]:
                            if type(t.args[i]) is SlotRef:
                                t.args[i] = resolve(t.args[i])
                        encode[t.op](buf, t.args, regs)
                    continue
                start = len(data)
                encode[op](buf, args, regs)
                if cond is None:
                    buf.add_uncond_branch(start, len(data), target)
                else:
                    k, inverse = cond
                    flipped = list(args)
                    flipped[k] = inverse[args[k]]
                    sink = _Sink()
                    encode[op](sink, flipped, regs)
                    buf.add_cond_branch(start, len(data), target, sink.data)
            if mi.reloc is not None:
                from_end, kind, sym = mi.reloc
                buf.add_reloc(len(data) - from_end, kind, sym.name, sym.addend)
    _trap_stubs(buf, isa, name)
    return buf.finish()


# A block of at most this many instructions that ends in a return is copied in place of
# a jump to it (tail duplication of the epilogue: one jump less on that path).
_TAIL_INSTS = 8


def _return_tails(vcode: VCode, plan: EmitPlan) -> dict[Any, list[Any]]:
    """Label -> instructions of each short block that returns and has no branch,
    relocation or trap site of its own (safe to emit twice)."""
    out: dict[Any, list[Any]] = {}
    ret_op, branch = plan.ret_op, plan.branch
    for blk in vcode.blocks:
        insts = blk.insts
        if not insts or len(insts) > _TAIL_INSTS or insts[-1].op != ret_op:
            continue
        if all(branch[mi.op] is None and mi.reloc is None for mi in insts):
            out[blk.label] = insts
    return out


def _trap_stubs(buf: MachBuffer, isa: Any, name: str) -> None:
    plan = _plan(isa)
    regs = isa.REG_ENCODINGS
    context = SymbolRef(TRAP_CONTEXT_SYMBOL)
    for code, label in list(buf.trap_labels.items()):
        buf.bind_label(label)
        at = len(buf.data)
        buf.add_trap(at, code)
        for mi in isa.templates.trap_stub(context, trap_code_number(code), SymbolRef(name, at), TRAP_CODE, TRAP_PC, ENTRY_SP):
            plan.encode[mi.op](buf, mi.args, regs)
            if mi.reloc is not None:
                from_end, kind, sym = mi.reloc
                buf.add_reloc(len(buf.data) - from_end, kind, sym.name, sym.addend)
