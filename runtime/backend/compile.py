"""The compile pipeline, in one place: an IR function -> machine code for a target.

::

    compile_function(fn, "x86_64")
      1. verify     heron.ir.verifier     the IR is well formed (VerifierError)
      2. legalize   heron.backend.legalize  _imm forms, stack_load/store, global values,
                                           narrow br_table indexes (fn changes in place)
      3. lower      heron.backend.lower     the generated rules and the ABI -> VCode
      4. regalloc   heron.backend.regalloc  physical registers, spills, moves
      5. frame      heron.backend.frame     frame layout, prologue and epilogues
      6. emit       heron.backend.emit      bytes, branch simplification, relocations,
                                           trap stubs -> CompiledCode

The result is a :class:`CompiledFunction`: the :class:`CompiledCode` (for
``heron.jit.JITModule.define_function`` or an object file), the frame facts and, with
``disasm=True``, the final machine code as text (``heron compile --disasm``).  Every
failure is a :class:`heron.HeronError` (CompileError names the opcode, type and target).

Example (a function the ABI alone lowers: its parameter moves to the result register)::

    >>> from heron.ir.parser import parse_functions
    >>> [fn] = parse_functions('''
    ... function %id(i64, i64) -> i64 {
    ... block0(v0: i64, v1: i64):
    ...     return v1
    ... }''')
    >>> cf = compile_function(fn, "x86_64", options=CompileOptions(disasm=True))
    >>> print(cf.text)
    block0:
        push rbp
        mov rbp, rsp
        ; abi_args: defs rsi
        mov rax, rsi
        pop rbp
        ret
    <BLANKLINE>
    >>> cf.code.code.hex(" ")
    '55 48 89 e5 48 89 f0 5d c3'
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from heron.backend.emit import emit_function
from heron.backend.frame import insert_prologue_epilogue, layout_frame
from heron.backend.isa import lookup_isa
from heron.backend.legalize import legalize_function
from heron.backend.lower import lower_function
from heron.backend.machbuffer import CompiledCode
from heron.backend.regalloc import allocate
from heron.backend.vcode import SymbolRef, VCode
from heron.ir.function import Function
from heron.ir.types import int_type
from heron.ir.verifier import verify_function

__all__ = ["CompileOptions", "CompiledFunction", "compile_function", "vcode_to_text", "PHASES"]

PHASES = ("verify", "legalize", "lower", "regalloc", "frame", "emit")


@dataclass
class CompileOptions:
    """``verify``: run the IR verifier first; ``stack_check``: True, False or "auto"
    (functions that call or have big frames check the JIT's stack limit);
    ``check_regalloc``: replay the allocation with the checker (slow); ``disasm``: keep
    the final code as text; ``timings``: record CPU seconds per phase;
    ``save_all_callee_saved``: save and restore every callee-saved register of the
    convention, used or not (the JIT's entry trampoline: a trap abandons the frames
    that would have restored them)."""

    verify: bool = True
    stack_check: bool | str = "auto"
    check_regalloc: bool = False
    disasm: bool = False
    timings: bool = False
    save_all_callee_saved: bool = False


@dataclass
class CompiledFunction:
    """A compiled function: its machine code, frame facts and (optionally) its text."""

    name: str
    code: CompiledCode
    frame: dict[str, Any]
    text: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)


def compile_function(fn: Function, isa: str | ModuleType, *, options: CompileOptions | None = None) -> CompiledFunction:
    """Compile ``fn`` for ``isa`` (a target name or a generated backend module).

    ``fn`` is legalized in place (as Cranelift's ``Context::compile`` rewrites its
    function); its semantics are unchanged."""
    opts = options if options is not None else CompileOptions()
    target = lookup_isa(isa) if isinstance(isa, str) else isa
    clock = time.process_time if opts.timings else None
    timings: dict[str, float] = {}

    def lap(phase: str, t0: float) -> float:
        if clock is None:
            return 0.0
        t1 = clock()
        timings[phase] = t1 - t0
        return t1

    t = clock() if clock else 0.0
    # 1. The IR must be well formed: lowering trusts types and dominance.
    if opts.verify:
        verify_function(fn)
    t = lap("verify", t)
    # 2. Rewrite what no backend lowers one by one.
    legalize_function(fn, int_type(target.POINTER_BITS))
    t = lap("legalize", t)
    # 3. Instruction selection: generated rules plus the ABI, over virtual registers.
    vcode = lower_function(fn, target)
    t = lap("lower", t)
    # 4. Register allocation (spill slots are SlotRefs until the frame is laid out).
    alloc = allocate(vcode, target.INSTS, target.REGINFO, target.templates, check=opts.check_regalloc)
    if opts.save_all_callee_saved:
        conv = target.abi.conv(fn.signature.call_conv)
        alloc.callee_saved_used = sorted(set(alloc.callee_saved_used) | set(conv.callee_saved))
    t = lap("regalloc", t)
    # 5. The frame: stack locations, callee-saved registers, prologue and epilogues.
    frame = layout_frame(fn, vcode, alloc, target, opts.stack_check)
    insert_prologue_epilogue(vcode, frame, target)
    t = lap("frame", t)
    # 6. Bytes: encoders, branch simplification, relocations, trap stubs.
    code = emit_function(vcode, target, frame, fn.name)
    lap("emit", t)
    text = vcode_to_text(vcode, target) if opts.disasm else None
    stats = alloc.stats.as_dict()
    stats["minsts"] = sum(len(b.insts) for b in vcode.blocks)
    return CompiledFunction(fn.name, code, frame.facts(), text, timings, stats)


def vcode_to_text(vcode: VCode, isa: ModuleType, resolve: Any = None) -> str:
    """VCode as assembly text, one block after the other: ``blockN:`` then one indented
    line per instruction (the spec's asm syntax), with the fixed registers of calls and
    returns and relocations as comments.  Before allocation, virtual registers print as
    ``v<n>`` and stack locations as ``SlotRef(...)``."""
    insts = isa.INSTS
    reg = isa.asm_reg
    names = isa.REG_NAMES

    def label(x: Any) -> str:
        if type(x) is int:
            return f"block{x}"
        if isinstance(x, SymbolRef):
            return x.name + (f"{x.addend:+d}" if x.addend else "")
        return f"trap({x})"

    lines = []
    for blk in vcode.blocks:
        lines.append(f"block{blk.label}:")
        for mi in blk.insts:
            info = insts[mi.op]
            text = info.text(mi.args, reg, label)
            if mi.op in isa.PSEUDO_OPS:  # a pseudo-op of the framework: no bytes
                notes = _notes(mi, reg, names)
                lines.append(f"    ; {text}" + (f": {'; '.join(notes)}" if notes else ""))
                continue
            notes = _notes(mi, reg, names)
            if mi.reloc is not None:
                _from_end, kind, sym = mi.reloc
                notes.append(f"{kind} {label(sym)}")
            lines.append("    " + text + (f"  ; {'; '.join(notes)}" if notes else ""))
    return "\n".join(lines) + "\n"


def _notes(mi: Any, reg: Any, names: Any) -> list[str]:
    """The fixed registers of a call, the parameters or a return, as comments."""
    notes = []
    if mi.extra:
        uses = [names[p] if r == p else f"{reg(r, 0)}={names[p]}" for r, p, acc in mi.extra if acc == 0]
        defs = [names[p] if r == p else f"{reg(r, 0)}={names[p]}" for r, p, acc in mi.extra if acc != 0]
        if uses:
            notes.append("uses " + ", ".join(uses))
        if defs:
            notes.append("defs " + ", ".join(defs))
    return notes
