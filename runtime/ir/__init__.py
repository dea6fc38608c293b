"""heron.ir: the CLIF-compatible SSA IR.

Modules, one concept each: ``types`` (value types), ``instructions`` (InstData,
OpcodeInfo), ``opcodes`` (opcode numbers), ``dfg`` (values and instructions),
``layout`` (block and instruction order), ``entities`` (signatures, stack slots,
global values), ``function``, ``builder`` (FunctionBuilder), ``parser`` and
``printer`` (CLIF text), ``verifier``, ``interpreter``.

This package module imports nothing, so importing ``heron.ir.types`` stays cheap.
"""
