"""heron.backend: the machinery every ISA shares, driven by the generated ISA module.

The pipeline, one module per step (DESIGN.md §5)::

    ir.Function
      ── legalize (expand *_imm, ...) ──► ir.Function
      ── isel (lower.py): blocks in lowering order, instructions backwards; the generated
         matcher of each IR opcode tries its rules by priority, merging single-use producers
         ──► VCode: MInsts over virtual registers, block params as edge moves
      ── regalloc (regalloc/): liveness, linear scan with splitting and spilling,
         fixed-register and reuse constraints ──► physical registers, spill slots, moves
      ── abi (abi.py): frame layout, prologue/epilogue, callee-saved saves
      ── emit (machbuffer.py): encoders write bytes; labels, fixups, branch simplification,
         constant pool, relocations, trap table ──► CompiledCode
      ──► heron.jit (W^X pages, linking, Python callables) or heron.object (ELF .o)

Interfaces (the contract between this package and ``heron.generated.<isa>``):

Registers
    Physical registers are small ints ``0 .. NUM_REGS-1`` (indexes into the generated
    register table, which gives name, class, hardware encoding); virtual registers are
    ints ``>= VREG_BASE``.  Every register has a class (``gpr``, ``xmm``...), a class is
    an index into the generated class table.

MInst
    One machine instruction: ``op`` (index into the generated instruction table; every
    combination of an instruction's compile-time params is its own op, e.g.
    ``add_rr.64``) and ``args``, the operand values in the instruction's operand order:
    a register number for a register operand, an int for an immediate or enum value, a
    label number for a label, a str for a trap code, and for a memory operand its fields
    flattened in the order of the addressing form (x86 ``amode``: base, index (NO_REG when
    absent), scale, disp).  A call or return carries ``extra``: its variable fixed-register
    uses and defs as ``(vreg, preg, is_def)`` triples.

Instruction table (generated), per op: name, operand kinds and, for register operands,
    the constraint: use / def / early def, class, fixed physical register, reuse-input
    index; clobbered physical registers; whether it is a branch (and which args are
    labels), a terminator, a call, a return; the encoder ``encode(buf, args)`` and the
    printer ``text(args, reg_name)``.

Register allocation input: VCode (blocks in final order, each a list of MInsts, branch
    successors, block parameters already turned into moves on edges; critical edges
    split) and the register info of the target (allocatable registers per class in
    preference order, callee-saved set, scratch registers).  Output: every register
    operand rewritten to a physical register, plus inserted moves, spills and reloads
    (built through the ISA's move/spill/reload templates), plus the spill-slot count.

Framework templates (from ``isa_specs/<isa>/abi.yaml``, rendered into the generated module):
    register move per class, spill store and reload per class, unconditional jump,
    return, prologue and epilogue pieces, stack-pointer adjustment, call to a register
    or symbol.  The framework never spells an ISA instruction itself.
"""
