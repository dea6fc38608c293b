"""heron.jit: run compiled functions in this process (DESIGN.md §6).

The short way: ``heron.jit.compile_functions(functions)`` compiles IR functions for this
machine, links them with their entry trampolines and returns a module whose
``get_function("%name")`` is a Python callable (see :mod:`heron.jit.compiler`).

One module per concern::

    compiler.py  compile_functions: backend + trampolines + imports + JITModule
    entry.py     the entry trampoline, written in IR

    memory.py    Pages: libc mmap/mprotect/munmap through ctypes; W^X
    module.py    JITModule: declare/define functions, data and imports; finalize lays
                 them out in one mapping, applies relocations, protects the pages
    callable.py  JitFunction: a Python callable from an address and a heron Signature
    trap.py      the trap context block and trap-code numbering

Usage, once the backend produces a ``CompiledCode`` for each function (the ISA's
generated module supplies the relocation appliers and the calling-convention
counts)::

    module = JITModule(isa.RELOCS, isa.HOST_CALL_CONV)
    module.declare_function("%add", sig)
    module.define_function("%add", compiled)
    module.finalize()
    add = module.get_function("%add")
    add(1, 2)                 # 3; add.call_bits(1, 2) == [3]
    module.free()

Traps (the design; the Python half is implemented, the machine-code half will be
generated from the ISA spec)
---------------------------------------------------------------------------------

A trap must come back to Python as ``heron.Trap(code, function)`` and never kill the
process.  Generated code checks trap conditions explicitly (no signal handlers):

1. **Trap context.**  Each ``JITModule`` declares a writable data block under
   ``trap.TRAP_CONTEXT_SYMBOL`` (layout in ``heron.jit.trap``: ``trap_code``,
   ``trap_pc``, ``entry_sp``, ``stack_limit``; u64 fields).  Generated code reaches
   it through an ordinary relocation (``abs8`` or ``pcrel4`` on x86-64), like any
   data symbol.
2. **Entry trampoline** (generated per signature, "array call"):
   ``void entry(void *callee, uint8_t *values, void *ctx)`` in the host C
   convention.  ``values`` holds 16-byte slots: parameter *i* in slot *i* on entry,
   result *i* in slot *i* on return (little-endian bit patterns).  The trampoline

   - pushes the callee-saved registers, the previous ``ctx.entry_sp`` (so nested
     entries, e.g. JIT -> Python callback -> JIT, restore it) and ``ctx``;
   - calls an inner part that stores the stack pointer (pointing at the return
     address into the trampoline's exit sequence) into ``ctx.entry_sp``, loads the
     parameters from ``values`` into the argument registers/stack, passes a return
     area if the signature needs one, calls ``callee``, stores the results into
     ``values`` and returns;
   - exit sequence: pops ``ctx``, restores the previous ``entry_sp``, pops the
     callee-saved registers, returns to Python.

   The callee-saved registers live on the trampoline's stack, not in the context
   block, so the block has the same layout on every ISA and nesting needs no
   bookkeeping beyond the saved ``entry_sp``.  The array form handles every
   signature (i128, f16/f128, vectors, any number of results), which ctypes alone
   cannot.  Most of it can be compiled from IR (loads, ``call_indirect``, stores);
   only the stack-pointer capture is ISA code.
3. **Trap stub.**  An explicit check (``trapz``, a division by zero test, a stack
   check against ``ctx.stack_limit`` in the prologue) branches to a per-function
   out-of-line stub that stores the trap code number (``trap.trap_code_number``:
   Cranelift's numbering) into ``ctx.trap_code`` and the trap site's address into
   ``ctx.trap_pc``, loads ``ctx.entry_sp`` into the stack pointer and returns: into
   the trampoline's exit sequence, which restores the callee-saved registers.  The
   frames in between are simply abandoned (they own no host resources).
4. **Python.**  After every call ``JitFunction`` reads ``ctx.trap_code``; when it is
   not 0 it resets the context, names the function through
   ``JITModule.lookup_trap(trap_pc)`` (the trap tables of ``CompiledCode``), and
   raises ``heron.Trap``.  Without a trampoline (direct ctypes calls) the same check
   runs, so code that stores a code and returns normally is reported too.

The context block is per module: a module is called from one thread at a time.
``stack_limit`` 0 means "no check"; the outermost trampoline is the natural place
to set it (its own stack pointer minus a budget).

What the ISA's generated module must provide to the JIT: the relocation appliers
(``RELOCS``: kind -> ``abs_reloc``/``pcrel_reloc``/custom), the label patchers of its
``MachBuffer`` fixups, the register counts of its calling convention
(``HostCallConv``), and the entry trampoline and trap stub generators.
"""

from heron.jit.callable import HostCallConv, JitFunction, ReturnPlan
from heron.jit.compiler import CompiledModule, compile_functions
from heron.jit.memory import Pages
from heron.jit.module import JITModule, abs_reloc, pcrel_reloc
from heron.jit.trap import TRAP_CONTEXT_SYMBOL, TrapContext, trap_code_name, trap_code_number

__all__ = [
    "compile_functions",
    "CompiledModule",
    "JITModule",
    "JitFunction",
    "HostCallConv",
    "ReturnPlan",
    "Pages",
    "TrapContext",
    "TRAP_CONTEXT_SYMBOL",
    "abs_reloc",
    "pcrel_reloc",
    "trap_code_name",
    "trap_code_number",
]
