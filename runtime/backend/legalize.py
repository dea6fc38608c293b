"""Legalization: rewrite IR forms that backends need not lower one by one.

Runs on the IR before instruction selection, in place, keeping every value
number (results stay where their users expect them):

- the ``_imm`` forms (``iadd_imm x, 5``) become an ``iconst`` plus the plain opcode,
  so lowering rules cover one opcode (and still fold the constant back where the
  rule allows an immediate);
- ``select_spectre_guard`` becomes ``select`` (Heron does not speculate past it: the
  lowered ``select`` is a conditional move, never a branch);
- ``stack_load``/``stack_store`` become ``stack_addr`` plus a ``load``/``store``
  (``notrap aligned``), so the load and store rules serve stack slots too;
- ``global_value`` of kind ``vmctx`` becomes an alias of the ``vmctx`` parameter,
  ``load`` a load from the (legalized) base, ``iadd_imm`` an addition to it; a
  ``symbol`` stays (the backend materializes its address with a relocation);
- a ``br_table`` index narrower than an address is zero-extended to the address type
  (the backend compares indexes at that width);
- ``imul`` and ``popcnt`` of i128 are split into 64-bit halves (``isplit``, i64 ops,
  ``iconcat``/``uextend``): one Z3 query over a 128-bit multiplier or bit count does not
  finish, while every piece has a proved rule;
- ``fcvt_to_sint_sat``/``fcvt_to_uint_sat`` to i8 and i16 become the i32 conversion
  clamped to the narrow range (``smax``/``smin`` or ``umin``) and ``ireduce``.

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

from heron.errors import CompileError
from heron.ir import opcodes as op
from heron.ir.function import Function
from heron.ir.instructions import InstData
from heron.ir.memflags import MemFlags
from heron.ir.types import I8, I16, I32, I64, I128, Type

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


def legalize_function(fn: Function, pointer_type: Type = I64) -> int:
    """Legalize ``fn`` in place; returns the number of instructions rewritten.
    ``pointer_type`` is the target's address type (``stack_addr`` results)."""
    dfg = fn.dfg
    layout = fn.layout
    changed = 0
    for block in layout.blocks:
        for inst in list(layout.block_insts(block)):
            data = dfg.insts[inst]
            opcode = data.opcode
            if opcode in _OTHER:
                changed += _OTHER[opcode](fn, inst, data, pointer_type)
                continue
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


def _insert(fn: Function, before: int, data: InstData, ty: Type | None) -> int:
    """A new instruction before ``before``; its first result (if any)."""
    dfg = fn.dfg
    inst = dfg.make_inst(data)
    results = dfg.make_inst_results(inst, ty)
    fn.layout.insert_inst_before(inst, before)
    return results[0] if results else -1


_STACK_FLAGS = MemFlags.parse_words(["notrap", "aligned"])


def _stack_load(fn: Function, inst: int, data: InstData, ptr: Type) -> int:
    addr = _insert(fn, inst, InstData(op.STACK_ADDR, ptr, [], data.imm, data.aux), ptr)
    data.opcode = op.LOAD
    data.args = [addr]
    data.imm = 0
    data.aux = _STACK_FLAGS
    return 1


def _stack_store(fn: Function, inst: int, data: InstData, ptr: Type) -> int:
    addr = _insert(fn, inst, InstData(op.STACK_ADDR, ptr, [], data.imm, data.aux), ptr)
    data.opcode = op.STORE
    data.args = [data.args[0], addr]
    data.imm = 0
    data.aux = _STACK_FLAGS
    return 1


def _global_value(fn: Function, inst: int, data: InstData, ptr: Type) -> int:
    gv = fn.global_values[data.aux]  # type: ignore[index]
    if gv is None:
        raise CompileError(f"{fn.name}: gv{data.aux} is not declared", opcode="global_value")
    ty = data.ctrl_type
    dfg = fn.dfg
    if gv.kind == "vmctx":
        params = dfg.block_params[fn.layout.entry_block()]  # type: ignore[index]
        index = next((i for i, p in enumerate(fn.signature.params) if p.purpose == "vmctx"), None)
        if index is None:
            raise CompileError(f"{fn.name}: gv{data.aux} = vmctx but the function has no vmctx parameter", opcode="global_value")
        [result] = dfg.results[inst]
        fn.layout.remove_inst(inst)
        dfg.change_to_alias(result, params[index])
        return 1
    if gv.kind in ("load", "iadd_imm"):
        base = _insert(fn, inst, InstData(op.GLOBAL_VALUE, ptr, [], None, gv.base), ptr)
        _global_value(fn, dfg.value_owner[base], dfg.insts[dfg.value_owner[base]], ptr)
        if gv.kind == "load":
            data.opcode = op.LOAD
            data.args = [base]
            data.imm = gv.offset
            data.aux = gv.flags if gv.flags is not None else MemFlags()
        else:
            assert ty is not None
            k = _insert(fn, inst, InstData(op.ICONST, ty, [], gv.offset & ty.mask), ty)
            data.opcode = op.IADD
            data.args = [base, k]
            data.aux = None
        return 1
    return 0  # symbol (and what the backend reports as unsupported)


def _br_table(fn: Function, inst: int, data: InstData, ptr: Type) -> int:
    dfg = fn.dfg
    ty = dfg.value_type[dfg.resolve_alias(data.args[0])]
    if ty is None or ty.bits >= ptr.bits:
        return 0
    data.args = [_insert(fn, inst, InstData(op.UEXTEND, ptr, [data.args[0]]), ptr)]
    return 1


def _halves(fn: Function, before: int, x: int) -> list[int]:
    """``isplit x`` before ``before``: the low and high i64 halves of an i128."""
    dfg = fn.dfg
    inst = dfg.make_inst(InstData(op.ISPLIT, I128, [x]))
    halves = dfg.make_inst_results(inst, I128)
    fn.layout.insert_inst_before(inst, before)
    return list(halves)


def _imul_i128(fn: Function, inst: int, data: InstData, ptr: Type) -> int:
    """``imul.i128`` on two 64-bit halves: lo = xl*yl, hi = umulhi(xl, yl) + xl*yh + xh*yl.
    (A single Z3 query over a 128-bit multiplier does not finish; these pieces each have a
    proved rule, and the identity is checked by the tests on the interpreter.)"""
    if data.ctrl_type is not I128:
        return 0
    xl, xh = _halves(fn, inst, data.args[0])
    yl, yh = _halves(fn, inst, data.args[1])
    lo = _insert(fn, inst, InstData(op.IMUL, I64, [xl, yl]), I64)
    h = _insert(fn, inst, InstData(op.UMULHI, I64, [xl, yl]), I64)
    c1 = _insert(fn, inst, InstData(op.IMUL, I64, [xl, yh]), I64)
    c2 = _insert(fn, inst, InstData(op.IMUL, I64, [xh, yl]), I64)
    s = _insert(fn, inst, InstData(op.IADD, I64, [h, c1]), I64)
    hi = _insert(fn, inst, InstData(op.IADD, I64, [s, c2]), I64)
    data.opcode = op.ICONCAT
    data.ctrl_type = I64
    data.args = [lo, hi]
    return 1


def _popcnt_i128(fn: Function, inst: int, data: InstData, ptr: Type) -> int:
    """``popcnt.i128`` as the sum of the halves' counts, zero-extended (see _imul_i128)."""
    if data.ctrl_type is not I128:
        return 0
    xl, xh = _halves(fn, inst, data.args[0])
    pl = _insert(fn, inst, InstData(op.POPCNT, I64, [xl]), I64)
    ph = _insert(fn, inst, InstData(op.POPCNT, I64, [xh]), I64)
    s = _insert(fn, inst, InstData(op.IADD, I64, [pl, ph]), I64)
    data.opcode = op.UEXTEND
    data.ctrl_type = I128
    data.args = [s]
    return 1


def _const(fn: Function, before: int, ty: Type, value: int) -> int:
    return _insert(fn, before, InstData(op.ICONST, ty, [], value & ty.mask), ty)


def _fcvt_sat_narrow(fn: Function, inst: int, data: InstData, ptr: Type) -> int:
    """``fcvt_to_{s,u}int_sat`` to i8/i16: the i32 saturating conversion, clamped to the
    narrow range and reduced (NaN is 0 either way; every finite value and infinity lands
    on the same side of the narrow bounds as of the i32 ones)."""
    ty = data.ctrl_type
    if ty is not I8 and ty is not I16:
        return 0
    x = data.args[0]
    wide = _insert(fn, inst, InstData(data.opcode, I32, [x]), I32)
    if data.opcode == op.FCVT_TO_SINT_SAT:
        lo = _const(fn, inst, I32, -(1 << (ty.bits - 1)))
        hi = _const(fn, inst, I32, (1 << (ty.bits - 1)) - 1)
        up = _insert(fn, inst, InstData(op.SMAX, I32, [wide, lo]), I32)
        clamped = _insert(fn, inst, InstData(op.SMIN, I32, [up, hi]), I32)
    else:
        hi = _const(fn, inst, I32, ty.mask)
        clamped = _insert(fn, inst, InstData(op.UMIN, I32, [wide, hi]), I32)
    data.opcode = op.IREDUCE
    data.ctrl_type = ty
    data.args = [clamped]
    return 1


_OTHER = {
    op.FCVT_TO_SINT_SAT: _fcvt_sat_narrow,
    op.FCVT_TO_UINT_SAT: _fcvt_sat_narrow,
    op.IMUL: _imul_i128,
    op.POPCNT: _popcnt_i128,
    op.STACK_LOAD: _stack_load,
    op.STACK_STORE: _stack_store,
    op.GLOBAL_VALUE: _global_value,
    op.BR_TABLE: _br_table,
}
