"""Legalization: rewrite IR forms that backends need not lower one by one.

Runs on the IR before instruction selection, in place, keeping every value
number (results stay where their users expect them):

- the ``_imm`` forms (``iadd_imm x, 5``) become an ``iconst`` plus the plain opcode,
  so lowering rules cover one opcode (and still fold the constant back where the
  rule allows an immediate);
- ``select_spectre_guard`` becomes ``select`` (Heron does not speculate past it: the
  lowered ``select`` is a conditional move, never a branch).

Example::

    >>> from heron.ir.parser import parse_functions
    >>> [fn] = parse_functions('''
    ... function %f(i32) -> i32 {
    ... block0(v0: i32):
    ...     v1 = iadd_imm v0, 5
    ...     return v1
    ... }''')
    >>> legalize_function(fn)
    1
    >>> print(fn)                                   # doctest: +NORMALIZE_WHITESPACE
    function %f(i32) -> i32 fast {
    block0(v0: i32):
        v2 = iconst.i32 5
        v1 = iadd v0, v2
        return v1
    }
    <BLANKLINE>
"""

from __future__ import annotations

from heron.ir import opcodes as op
from heron.ir.function import Function
from heron.ir.instructions import InstData

__all__ = ["legalize_function"]

# `_imm` opcode -> (plain opcode, whether the immediate is the first operand).
_IMM_FORMS: dict[int, tuple[int, bool]] = {
    op.IADD_IMM: (op.IADD, False),
    op.IMUL_IMM: (op.IMUL, False),
    op.UDIV_IMM: (op.UDIV, False),
    op.SDIV_IMM: (op.SDIV, False),
    op.UREM_IMM: (op.UREM, False),
    op.SREM_IMM: (op.SREM, False),
    op.IRSUB_IMM: (op.ISUB, True),
    op.BAND_IMM: (op.BAND, False),
    op.BOR_IMM: (op.BOR, False),
    op.BXOR_IMM: (op.BXOR, False),
    op.ISHL_IMM: (op.ISHL, False),
    op.USHR_IMM: (op.USHR, False),
    op.SSHR_IMM: (op.SSHR, False),
    op.ROTL_IMM: (op.ROTL, False),
    op.ROTR_IMM: (op.ROTR, False),
}


def legalize_function(fn: Function) -> int:
    """Legalize ``fn`` in place; returns the number of instructions rewritten."""
    dfg = fn.dfg
    layout = fn.layout
    changed = 0
    for block in layout.blocks:
        for inst in list(layout.block_insts(block)):
            data = dfg.insts[inst]
            opcode = data.opcode
            form = _IMM_FORMS.get(opcode)
            if form is not None:
                plain, reversed_operands = form
                x = data.args[0]
                ty = dfg.value_type[x]
                assert ty is not None
                imm: int = data.imm  # type: ignore[assignment]  # a 64-bit pattern
                if ty.bits > 64 and imm >> 63:
                    value = imm | (ty.mask ^ ((1 << 64) - 1))  # sign-extend to i128
                else:
                    value = imm & ty.mask
                k_inst = dfg.make_inst(InstData(op.ICONST, ty, [], value))
                [k] = dfg.make_inst_results(k_inst, ty)
                layout.insert_inst_before(k_inst, inst)
                data.opcode = plain
                data.imm = None
                data.args = [k, x] if reversed_operands else [x, k]
                data.ctrl_type = ty
                changed += 1
            elif opcode == op.SELECT_SPECTRE_GUARD:
                data.opcode = op.SELECT
                changed += 1
    return changed
