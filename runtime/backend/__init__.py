"""heron.backend: the machinery every ISA shares, driven by the generated ISA module.

The pipeline (``compile.py`` runs it; one module per step, DESIGN.md §5)::

    ir.Function
      ── verify (heron.ir.verifier)
      ── legalize (legalize.py): _imm forms, stack_load/store, global values, narrow
         br_table indexes ──► ir.Function
      ── isel (lower.py): blocks in lowering order, instructions backwards; the generated
         matcher of each IR opcode tries its rules by priority, merging single-use
         producers; abi.py lowers parameters, returns, calls and the framework opcodes
         ──► VCode: MInsts over virtual registers, block params as edge moves
      ── regalloc (regalloc/): liveness, linear scan with splitting and spilling,
         fixed-register and reuse constraints ──► physical registers, spill slots, moves
      ── frame (frame.py): frame layout, SlotRef resolution, prologue and epilogues
      ── emit (emit.py + machbuffer.py): encoders write bytes; labels, fixups, branch
         simplification, relocations, trap stubs, trap table ──► CompiledCode
      ──► heron.jit (W^X pages, linking, Python callables) or heron.object (ELF .o)

``isa.py`` finds a backend: ``lookup_isa("x86_64")`` is the module
``heron.generated.x86_64``, rendered by ``heron meta build`` (heron.meta.render_isa,
meta/templates/isa.py.j2) from ``isa_specs/x86_64/`` alone.

The generated module (the contract between this package and ``heron.generated.<isa>``)
--------------------------------------------------------------------------------------

Everything ISA-specific comes from the spec; this package holds no register number,
opcode byte or condition code.  A generated module defines:

Target facts
    ``NAME``, ``POINTER_BITS``, ``ENDIANNESS``; ``CLASS_NAMES``, ``CLASS_BITS`` and one
    constant per class (``CLASS_GPR``).
Registers
    Physical registers are small ints ``0 .. NUM_REGS-1`` (one constant each, ``RAX``),
    virtual registers ints ``>= VREG_BASE``.  Tables by register number: ``REG_NAMES``,
    ``REG_ENCODINGS`` (hardware numbers, the encoders' ``regs``), ``REG_CLASSES``,
    ``REG_ASM`` (size in bits -> names); ``asm_reg(reg, bits)`` names any register.
    ``REGINFO`` (:class:`heron.backend.regs.RegInfo`): per class the allocatable
    registers, caller-saved first, one scratch register (abi.yaml ``scratch``), and the
    callee-saved registers of the default calling convention.
Instructions
    ``INSTS``: one :class:`~heron.backend.vcode.InstInfo` per variant of
    instructions.yaml (index = op, one constant each: ``OP_ADD_RR_64``), then the
    framework's pseudo-ops ``OP_ABI_ARGS`` (defines the incoming argument registers
    through its ``extra``) and ``OP_ABI_RETURN`` (uses the return registers; replaced by
    the epilogue), both in ``PSEUDO_OPS``.  Per op: argument kinds (``ARG_SLOT`` where a
    template puts a stack location), register operand constraints, clobbers,
    ``is_branch`` (a label operand), ``is_terminator`` (the ``jump`` template's
    instruction), ``is_call`` (the call templates'), ``is_move`` (the ``move``
    template's), ``encode(buf, args, regs)`` (``heron.meta.encoding``'s encoder) and
    ``text(args, reg, label)`` (the asm syntax capstone prints).  ``BRANCHES``: per
    branch op, its label argument and how to invert its condition (or that it is an
    unconditional jump).
Selection
    ``LOWER``: IR opcode -> ``matcher(ctx, inst, data) -> bool`` trying the opcode's
    rules by priority (``rule_<name>`` functions: pattern through ``ctx.producer``,
    type checks, ``when``, lets, then ``ctx.reg/regs/out/outs/temp/target/sink/emit``;
    see :class:`heron.backend.lower.LowerCtx`).  ``value_class(ty)`` -> (class, number of
    registers): an i128 is two gpr.
Templates
    ``templates``: builders of the MInsts the framework emits (abi.yaml ``templates``;
    the README of isa_specs lists them): ``move``, ``spill``, ``reload`` and ``jump``
    return one MInst (what the allocator and the isel driver insert), the others lists
    (``load``, ``store``, ``call``, ``call_indirect``, ``symbol_address``,
    ``stack_address``, ``push_frame``, ``save``, ``sp_sub``, ``stack_check``,
    ``trap_stub``...).
ABI
    ``CALL_CONVS`` (name -> :class:`heron.backend.abi.CallConv`), ``DEFAULT_CALL_CONV``,
    ``HOST_CALL_CONV`` (register counts for ``heron.jit``), ``FRAME_HEADER`` and
    ``SAVE_BYTES`` (frame geometry), and ``abi`` (:class:`heron.backend.abi.Abi`: the
    lowering of parameters, returns, calls and of the IR opcodes without rules).
Emission and linking
    ``FUNCTION_ALIGN``; ``PATCHERS`` (label fixup kind -> patcher, built with
    machbuffer's helpers from the notation's label fields); ``SYMBOL_FIXUPS`` (label
    field -> relocation kind and addend when a call's label is a symbol); ``RELOCS``
    (relocation kind -> applier for ``heron.jit.JITModule``).

A spec without abi.yaml's framework section renders ``REGINFO``, ``templates`` and
``abi`` as None: instruction selection tables only; compiling raises CompileError.

Data model (vcode.py)
---------------------

MInst
    ``op`` and ``args``, the operand values in the instruction's operand order: a
    register number, an int for an immediate or enum value, a label number for a label
    (a :class:`~heron.backend.vcode.SymbolRef` for a call's target), a str for a trap
    code, a memory operand's fields flattened (x86 ``amode``: base, index (NO_REG when
    absent), scale, disp), a SlotRef in an ``ARG_SLOT`` position until emission.  Calls
    and the ABI pseudo-ops carry ``extra``: fixed-register uses and defs as
    ``(vreg, preg, access)``.  ``reloc``: ``(from_end, kind, SymbolRef)`` when an
    immediate is a relocated symbol address.
Register allocation input: VCode (blocks in final order, each a list of MInsts, branch
    successors, block parameters already turned into moves on edges; critical edges
    split) and ``REGINFO``; it rewrites registers in place, inserts moves, spills and
    reloads through ``templates`` (spill slots are ``SlotRef('spill', k)``).
"""
