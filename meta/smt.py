"""Z3 back end of the semantics DSL, and the proof helpers (the only module importing z3).

:func:`smt_eval` turns a typed program (:mod:`heron.meta.dsl.typed`) into Z3 terms:
bit-vectors for every value (1-bit values are ``BitVec(1)``), memory as
``Array(BitVec(64), BitVec(8))`` threaded through stores, and each ``trap`` statement
as a Boolean condition.  Floats are bit patterns converted with ``fpBVToFP`` to
Float16/32/64/128, computed with round-to-nearest-even, and converted back; a NaN
result is the canonical quiet NaN (as ``heron.ir.softfloat`` does), so results are
deterministic bit patterns.  Float-to-int conversions out of range are unspecified
(``fpToSBV``'s own rule): pair them with a ``trap`` or use the ``_sat`` forms.

An enum-typed immediate (``cond`` of icmp) given as an int selects that value's body;
left symbolic it becomes an ``If`` chain over a fresh 8-bit variable.  ``undef(w)`` (a
value a machine instruction leaves unspecified) is a fresh variable each time it is
evaluated, so a proof holds for every value it may take.  A machine memory operand
(``MemAddr``) is given as its address.

z3 is imported here and in :mod:`heron.meta.verify` (which only ``heron meta verify``
loads), nowhere else.

Example::

    >>> from heron.meta.dsl import parse_semantics, instantiate, BV
    >>> prog = instantiate(parse_semantics("a = x + y"), {"x": BV(8), "y": BV(8)}, {"a": BV(8)})
    >>> e1, e2 = smt_eval(prog), smt_eval(prog, {"x": "y", "y": "x"})
    >>> prove_equal(e1.outputs["a"], e2.outputs["a"]).status
    'proved'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import z3

from heron.meta.dsl import typed as t
from heron.meta.dsl.check import BV, EnumImm, FlagsImm, MemAddr, TrapCodeImm

__all__ = [
    "SmtEval",
    "smt_eval",
    "smt_expr",
    "evaluate",
    "ProofResult",
    "prove",
    "prove_equal",
    "prove_equivalent",
    "fp_sort",
    "canonical_nan",
    "same_or_both_nan",
]

_ONE = z3.BitVecVal(1, 1)
_ZERO = z3.BitVecVal(0, 1)
_FP_SORTS = {16: (5, 11), 32: (8, 24), 64: (11, 53), 128: (15, 113)}


def fp_sort(w: int) -> z3.FPSortRef:
    return z3.FPSort(*_FP_SORTS[w])


def canonical_nan(w: int) -> int:
    """Sign 0, exponent all ones, only the top significand bit set (f32 ``0x7fc00000``)."""
    ebits, sbits = _FP_SORTS[w]
    return (((1 << ebits) - 1) << (sbits - 1)) | (1 << (sbits - 2))


def _bit(b: z3.BoolRef) -> z3.BitVecRef:
    return z3.If(b, _ONE, _ZERO)


def _true(v: z3.BitVecRef) -> z3.BoolRef:
    """The Boolean of a 1-bit value (``If(c, 1, 0)`` gives back ``c``)."""
    if z3.is_app_of(v, z3.Z3_OP_ITE):
        c, a, b = v.children()
        if z3.is_bv_value(a) and z3.is_bv_value(b) and a.as_long() == 1 and b.as_long() == 0:
            return c
    return v == _ONE


def _resize(v: z3.BitVecRef, w: int) -> z3.BitVecRef:
    """Zero-extend or truncate ``v`` to ``w`` bits."""
    n = v.size()
    if n == w:
        return v
    return z3.ZeroExt(w - n, v) if n < w else z3.Extract(w - 1, 0, v)


@dataclass
class SmtEval:
    """The Z3 meaning of one program run: outputs, traps (in order) and memory."""

    inputs: dict[str, object]
    outputs: dict[str, z3.BitVecRef]
    traps: list[tuple[z3.BoolRef, str]] = field(default_factory=list)
    memory: z3.ArrayRef | None = None
    # The memory footprint: (address, bytes) of every load and every store evaluated.
    reads: list[tuple[z3.BitVecRef, int]] = field(default_factory=list)
    writes: list[tuple[z3.BitVecRef, int]] = field(default_factory=list)

    @property
    def trapped(self) -> z3.BoolRef:
        """True when any trap fires."""
        return z3.Or(*[c for c, _ in self.traps]) if self.traps else z3.BoolVal(False)


class _Evaluator:
    def __init__(self, memory: z3.ArrayRef | None) -> None:
        self.memory = memory
        self.env: dict[str, object] = {}
        self.traps: list[tuple[z3.BoolRef, str]] = []
        self.reads: list[tuple[z3.BitVecRef, int]] = []
        self.writes: list[tuple[z3.BitVecRef, int]] = []

    def run(self, stmts: tuple[t.TStmt, ...]) -> None:
        for s in stmts:
            if isinstance(s, t.Assign):
                self.env[s.name] = self.expr(s.expr)
            elif isinstance(s, t.Trap):
                code = s.code
                if s.code_is_imm:
                    given = self.env.get(s.code)
                    code = given if isinstance(given, str) else f"<{s.code}>"
                self.traps.append((_true(self.expr(s.cond)), code))
            else:
                addr = _resize(self.expr(s.addr), 64)
                value = self.expr(s.value)
                mem = self.mem()
                self.writes.append((addr, value.size() // 8))
                for k in range(value.size() // 8):
                    mem = z3.Store(mem, addr + k, z3.Extract(8 * k + 7, 8 * k, value))
                self.memory = mem

    def mem(self) -> z3.ArrayRef:
        if self.memory is None:
            self.memory = z3.Array("mem", z3.BitVecSort(64), z3.BitVecSort(8))
        return self.memory

    def expr(self, e: t.TExpr) -> z3.BitVecRef:
        if isinstance(e, t.Const):
            return z3.BitVecVal(e.value, e.width)
        if isinstance(e, t.Var):
            return self.env[e.name]  # type: ignore[return-value]
        if isinstance(e, t.FlagTest):
            flags = self.env[e.imm]
            if isinstance(flags, z3.BoolRef):
                return _bit(flags)
            return _ONE if flags == e.flag else _ZERO
        if isinstance(e, t.EnumCall):
            return self.enum_call(e)
        return self.op(e)

    def enum_call(self, e: t.EnumCall) -> z3.BitVecRef:
        args = [self.expr(a) for a in e.args]

        def case(k: int) -> z3.BitVecRef:
            sub = _Evaluator(self.memory)
            sub.env = dict(zip(e.params, args))
            return sub.expr(e.cases[k])

        code = self.env[e.imm]
        if isinstance(code, int):
            return case(code)
        result = case(len(e.cases) - 1)
        for k in range(len(e.cases) - 2, -1, -1):
            result = z3.If(code == k, case(k), result)
        return result

    def op(self, e: t.Op) -> z3.BitVecRef:
        o, w = e.op, e.width
        if o == "undef":  # unspecified: a fresh variable each time it is evaluated
            return z3.FreshConst(z3.BitVecSort(w), "undef")
        a = [self.expr(x) for x in e.args]
        simple = _SIMPLE.get(o)
        if simple is not None:
            return simple(*a)
        if o in _CMP:
            return _bit(_CMP[o](*a))
        if o == "land":
            return _bit(z3.And(*[_true(x) for x in a]))
        if o == "lor":
            return _bit(z3.Or(*[_true(x) for x in a]))
        if o == "lnot":
            return _bit(z3.Not(_true(a[0])))
        if o in ("umulhi", "smulhi"):
            ext = z3.ZeroExt if o == "umulhi" else z3.SignExt
            return z3.Extract(2 * w - 1, w, ext(w, a[0]) * ext(w, a[1]))
        if o in ("shl", "lshr", "ashr"):
            return _shift(o, a[0], a[1])
        if o in ("rotl", "rotr"):
            n = _mod_width(a[1], w)
            left, right = (n, z3.BitVecVal(w, w) - n) if o == "rotl" else (z3.BitVecVal(w, w) - n, n)
            return (a[0] << left) | z3.LShR(a[0], right)
        if o == "ite":
            return z3.If(_true(a[0]), a[1], a[2])
        if o == "extract":
            return z3.Extract(e.attrs[0], e.attrs[1], a[0])
        if o == "concat":
            return z3.Concat(*a)
        if o == "sext":
            return z3.SignExt(w - a[0].size(), a[0])
        if o == "zext":
            return z3.ZeroExt(w - a[0].size(), a[0])
        if o == "lane_dyn":
            return _lane_dyn(a[0], a[1], e.attrs[0])
        if o == "load":
            addr = _resize(a[0], 64)
            mem = self.mem()
            self.reads.append((addr, max(1, w // 8)))
            return z3.Concat(*[z3.Select(mem, addr + k) for k in range(w // 8 - 1, -1, -1)]) if w > 8 else z3.Select(mem, addr)
        if o in ("clz", "ctz", "cls", "popcnt", "bswap", "bitrev"):
            return _BITS[o](a[0])
        return _float_op(e, a)


def _shift(o: str, x: z3.BitVecRef, n: z3.BitVecRef) -> z3.BitVecRef:
    """Shift with an amount of any width; amounts >= width give 0 (or the sign).

    A constant amount becomes extracts and extensions, which Z3's rewriter sees
    through: ``ashr(x << 48, 48)`` is then the sign extension of the low 16 bits (a
    shifter circuit it would have to bit-blast and cannot relate to ``sext`` inside a
    division)."""
    w, m = x.size(), max(x.size(), n.size())
    c = z3.simplify(n)
    if z3.is_bv_value(c):
        k = c.as_long()
        if k == 0:
            return x
        if k >= w:
            return z3.SignExt(w - 1, z3.Extract(w - 1, w - 1, x)) if o == "ashr" else z3.BitVecVal(0, w)
        if o == "shl":
            return z3.Concat(z3.Extract(w - 1 - k, 0, x), z3.BitVecVal(0, k))
        return (z3.SignExt if o == "ashr" else z3.ZeroExt)(k, z3.Extract(w - 1, k, x))
    xe = z3.SignExt(m - w, x) if o == "ashr" else z3.ZeroExt(m - w, x)
    ne = z3.ZeroExt(m - n.size(), n)
    r = xe << ne if o == "shl" else (xe >> ne if o == "ashr" else z3.LShR(xe, ne))
    return z3.Extract(w - 1, 0, r) if m > w else r


def _mod_width(n: z3.BitVecRef, w: int) -> z3.BitVecRef:
    """``n mod w`` as a ``w``-bit value."""
    m = max(n.size(), w.bit_length() + 1)
    return _resize(z3.URem(z3.ZeroExt(m - n.size(), n), z3.BitVecVal(w, m)), w)


def _lane_dyn(v: z3.BitVecRef, idx: z3.BitVecRef, lb: int) -> z3.BitVecRef:
    m = max(v.size(), idx.size() + lb.bit_length() + 1)
    amount = z3.ZeroExt(m - idx.size(), idx) * z3.BitVecVal(lb, m)
    return z3.Extract(lb - 1, 0, z3.LShR(z3.ZeroExt(m - v.size(), v), amount))


def _clz(x: z3.BitVecRef) -> z3.BitVecRef:
    w = x.size()
    r = z3.BitVecVal(w, w)
    for i in range(w):  # from the lowest bit up, so the highest set bit decides
        r = z3.If(z3.Extract(i, i, x) == 1, z3.BitVecVal(w - 1 - i, w), r)
    return r


def _ctz(x: z3.BitVecRef) -> z3.BitVecRef:
    w = x.size()
    r = z3.BitVecVal(w, w)
    for i in range(w - 1, -1, -1):
        r = z3.If(z3.Extract(i, i, x) == 1, z3.BitVecVal(i, w), r)
    return r


def _cls(x: z3.BitVecRef) -> z3.BitVecRef:
    # Bit i of y says whether bits i and i+1 of x differ; the top bit of y is 0.
    return _clz(x ^ (x >> 1)) - 1


def _popcnt(x: z3.BitVecRef) -> z3.BitVecRef:
    w = x.size()
    bits = [z3.ZeroExt(w - 1, z3.Extract(i, i, x)) for i in range(w)]
    return z3.Sum(*bits) if w > 1 else x


def _bswap(x: z3.BitVecRef) -> z3.BitVecRef:
    n = x.size() // 8
    return z3.Concat(*[z3.Extract(8 * k + 7, 8 * k, x) for k in range(n)]) if n > 1 else x


def _bitrev(x: z3.BitVecRef) -> z3.BitVecRef:
    w = x.size()
    return z3.Concat(*[z3.Extract(i, i, x) for i in range(w)]) if w > 1 else x


_BITS = {"clz": _clz, "ctz": _ctz, "cls": _cls, "popcnt": _popcnt, "bswap": _bswap, "bitrev": _bitrev}
_SIMPLE = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "xor": lambda a, b: a ^ b,
    "neg": lambda a: -a,
    "not": lambda a: ~a,
    "udiv": z3.UDiv,
    "sdiv": lambda a, b: a / b,
    "urem": z3.URem,
    "srem": z3.SRem,
    "umin": lambda a, b: z3.If(z3.ULE(a, b), a, b),
    "umax": lambda a, b: z3.If(z3.UGE(a, b), a, b),
    "smin": lambda a, b: z3.If(a <= b, a, b),
    "smax": lambda a, b: z3.If(a >= b, a, b),
}
_CMP = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "ult": z3.ULT,
    "ule": z3.ULE,
    "ugt": z3.UGT,
    "uge": z3.UGE,
    "slt": lambda a, b: a < b,
    "sle": lambda a, b: a <= b,
    "sgt": lambda a, b: a > b,
    "sge": lambda a, b: a >= b,
}


# -- floats ----------------------------------------------------------------------

def _fp(x: z3.BitVecRef) -> z3.FPRef:
    return z3.fpBVToFP(x, fp_sort(x.size()))


def same_or_both_nan(a: z3.BitVecRef, b: z3.BitVecRef) -> z3.BoolRef:
    """``a`` and ``b`` (float bit patterns of one width) are the same bits or both NaN:
    how results of an opcode flagged ``nan_any`` are compared (its semantics give the
    canonical NaN, any NaN is right)."""
    return z3.Or(a == b, z3.And(z3.fpIsNaN(_fp(a)), z3.fpIsNaN(_fp(b))))


def _bits(r: z3.FPRef, w: int) -> z3.BitVecRef:
    return z3.If(z3.fpIsNaN(r), z3.BitVecVal(canonical_nan(w), w), z3.fpToIEEEBV(r))


def _int_bound(value: int, w_fp: int) -> z3.FPRef:
    """The integer ``value`` as a float of ``w_fp`` bits (rounded; huge values become inf)."""
    n = abs(value).bit_length() + 2
    return z3.fpSignedToFP(z3.RNE(), z3.BitVecVal(value, n), fp_sort(w_fp))


def _to_int(o: str, x: z3.BitVecRef, w: int) -> z3.BitVecRef | z3.BoolRef:
    fw = x.size()
    f = _fp(x)
    signed = o.startswith("fptosi")
    conv = (z3.fpToSBV if signed else z3.fpToUBV)(z3.RTZ(), f, z3.BitVecSort(w))
    if o in ("fptosi", "fptoui"):
        return conv
    tr = z3.fpRoundToIntegral(z3.RTZ(), f)
    lo = _int_bound(-(1 << (w - 1)) if signed else 0, fw)
    hi = _int_bound(1 << (w - 1) if signed else 1 << w, fw)
    inf = z3.fpIsInf(f)
    if o.endswith("_ok"):
        return z3.And(z3.Not(z3.fpIsNaN(f)), z3.Not(inf), z3.fpGEQ(tr, lo), z3.fpLT(tr, hi))
    low = z3.BitVecVal(1 << (w - 1) if signed else 0, w)
    high = z3.BitVecVal((1 << (w - 1)) - 1 if signed else (1 << w) - 1, w)
    below = z3.Or(z3.And(inf, z3.fpIsNegative(f)), z3.fpLT(tr, lo))
    above = z3.Or(z3.And(inf, z3.fpIsPositive(f)), z3.fpGEQ(tr, hi))
    return z3.If(z3.fpIsNaN(f), z3.BitVecVal(0, w), z3.If(below, low, z3.If(above, high, conv)))


def _minmax(o: str, x: z3.BitVecRef, y: z3.BitVecRef) -> z3.BitVecRef:
    w = x.size()
    a, b = _fp(x), _fp(y)
    nan = z3.Or(z3.fpIsNaN(a), z3.fpIsNaN(b))
    first, second = (z3.fpLT(a, b), z3.fpLT(b, a)) if o == "fmin" else (z3.fpGT(a, b), z3.fpGT(b, a))
    equal = x | y if o == "fmin" else x & y  # equal values: same bits, or +-0 where the sign decides
    return z3.If(nan, z3.BitVecVal(canonical_nan(w), w), z3.If(first, x, z3.If(second, y, equal)))


_ROUND = {"fceil": z3.RTP, "ffloor": z3.RTN, "ftrunc": z3.RTZ, "fnearest": z3.RNE}


def _float_op(e: t.Op, a: list[z3.BitVecRef]) -> z3.BitVecRef:
    o, w = e.op, e.width
    fw = a[0].size()
    rne = z3.RNE()
    sign = z3.BitVecVal(1 << (fw - 1), fw)
    if o in ("fadd", "fsub", "fmul", "fdiv"):
        fn = {"fadd": z3.fpAdd, "fsub": z3.fpSub, "fmul": z3.fpMul, "fdiv": z3.fpDiv}[o]
        return _bits(fn(rne, _fp(a[0]), _fp(a[1])), w)
    if o == "fsqrt":
        return _bits(z3.fpSqrt(rne, _fp(a[0])), w)
    if o == "ffma":
        return _bits(z3.fpFMA(rne, _fp(a[0]), _fp(a[1]), _fp(a[2])), w)
    if o in _ROUND:
        return _bits(z3.fpRoundToIntegral(_ROUND[o](), _fp(a[0])), w)
    if o == "fneg":
        return a[0] ^ sign
    if o == "fabs":
        return a[0] & ~sign
    if o == "fcopysign":
        return (a[0] & ~sign) | (a[1] & sign)
    if o in ("fmin", "fmax"):
        return _minmax(o, a[0], a[1])
    if o == "feq":
        return _bit(z3.fpEQ(_fp(a[0]), _fp(a[1])))
    if o == "flt":
        return _bit(z3.fpLT(_fp(a[0]), _fp(a[1])))
    if o == "fle":
        return _bit(z3.fpLEQ(_fp(a[0]), _fp(a[1])))
    if o == "funord":
        return _bit(z3.Or(z3.fpIsNaN(_fp(a[0])), z3.fpIsNaN(_fp(a[1]))))
    if o == "fisnan":
        return _bit(z3.fpIsNaN(_fp(a[0])))
    if o == "fcvt":
        return _bits(z3.fpFPToFP(rne, _fp(a[0]), fp_sort(w)), w)
    if o == "sitofp":
        return _bits(z3.fpSignedToFP(rne, a[0], fp_sort(w)), w)
    if o == "uitofp":
        return _bits(z3.fpUnsignedToFP(rne, a[0], fp_sort(w)), w)
    if o in ("fptosi_ok", "fptoui_ok"):
        return _bit(_to_int(o, a[0], e.attrs[0]))  # type: ignore[arg-type]
    if o in ("fptosi", "fptoui", "fptosi_sat", "fptoui_sat"):
        return _to_int(o, a[0], w)  # type: ignore[return-value]
    raise AssertionError(f"no Z3 term for op {o}")


# -- programs -----------------------------------------------------------------------

def _input_term(name: str, kind: object, given: object, prefix: str, whole: int | None) -> object:
    if isinstance(kind, BV):
        width = whole or kind.width
        if given is None:
            return z3.BitVec(prefix + name, width)
        if isinstance(given, int):
            return z3.BitVecVal(given, width)
        if isinstance(given, str):
            return z3.BitVec(given, width)
        return given
    if isinstance(kind, EnumImm):
        if given is None or isinstance(given, str):
            return z3.BitVec(given or prefix + name, 8)
        return given
    if isinstance(kind, MemAddr):
        return _input_term(name, BV(kind.bits), given, prefix, None)
    if isinstance(kind, FlagsImm):
        return z3.Bool(prefix + name + "_big") if given is None else given
    if isinstance(kind, TrapCodeImm):
        return given if isinstance(given, str) else None
    raise TypeError(f"unknown input kind {kind!r}")


def smt_eval(
    prog: t.Program,
    inputs: Mapping[str, object] | None = None,
    *,
    memory: z3.ArrayRef | None = None,
    prefix: str = "",
) -> SmtEval:
    """The Z3 terms of ``prog``.

    ``inputs`` may give each input as a Z3 term, an int (a constant), or a str (the name
    of a fresh variable, so two programs can share inputs); missing inputs become fresh
    variables named ``prefix + name``.  For a lanewise program the split inputs and all
    outputs are whole vectors (lane 0 in the low bits).  A memory-flags input is a Z3
    Bool "is big-endian" or a string ``'big'``/``'little'``; a trap-code input a str.
    """
    given = dict(inputs or {})
    terms: dict[str, object] = {}
    for name, kind in prog.inputs:
        whole = kind.width * prog.lanes if name in prog.split and isinstance(kind, BV) else None
        terms[name] = _input_term(name, kind, given.get(name), prefix, whole)
    traps: list[tuple[z3.BoolRef, str]] = []
    outputs: dict[str, list[z3.BitVecRef]] = {n: [] for n, _ in prog.outputs}
    reads: list[tuple[z3.BitVecRef, int]] = []
    writes: list[tuple[z3.BitVecRef, int]] = []
    for lane in range(prog.lanes):
        ev = _Evaluator(memory)
        for name, kind in prog.inputs:
            term = terms[name]
            if name in prog.split and isinstance(kind, BV):
                term = z3.Extract(kind.width * (lane + 1) - 1, kind.width * lane, term)  # type: ignore[arg-type]
            ev.env[name] = term
        ev.run(prog.stmts)
        memory = ev.memory
        traps.extend(ev.traps)
        reads += ev.reads
        writes += ev.writes
        for name, _ in prog.outputs:
            outputs[name].append(ev.env[name])  # type: ignore[arg-type]
    joined = {n: (z3.Concat(*reversed(v)) if len(v) > 1 else v[0]) for n, v in outputs.items()}
    return SmtEval(terms, joined, traps, memory, reads, writes)


def smt_expr(e: t.TExpr, env: Mapping[str, object]) -> z3.BitVecRef:
    """The Z3 term of one typed expression (a rule's predicate or immediate) over ``env``,
    a mapping from the expression's names to Z3 terms (or ints for enum immediates)."""
    ev = _Evaluator(None)
    ev.env = dict(env)
    return ev.expr(e)


def evaluate(prog: t.Program, inputs: Mapping[str, object]) -> tuple[dict[str, int | None], str | None]:
    """Evaluate ``prog`` on concrete inputs with Z3's simplifier.

    Returns (outputs, trap code or None); an output Z3 cannot reduce to a constant
    (an unspecified float conversion) is None.
    """
    ev = smt_eval(prog, inputs)
    for cond, code in ev.traps:
        c = z3.simplify(cond)
        if z3.is_true(c):
            return {}, code
        if not z3.is_false(c):
            raise ValueError(f"trap condition is not constant: {c}")
    out: dict[str, int | None] = {}
    for name, term in ev.outputs.items():
        v = z3.simplify(term)
        out[name] = v.as_long() if z3.is_bv_value(v) else None
    return out, None


# -- proofs --------------------------------------------------------------------------

@dataclass(frozen=True)
class ProofResult:
    """``status`` is 'proved', 'refuted' (with a counterexample) or 'unknown' (timeout...)."""

    status: str
    counterexample: dict[str, int] | None = None
    reason: str = ""

    def __bool__(self) -> bool:
        return self.status == "proved"

    def __str__(self) -> str:
        if self.status == "refuted" and self.counterexample is not None:
            return "refuted: " + ", ".join(f"{k} = {v:#x}" for k, v in self.counterexample.items())
        return self.status + (f" ({self.reason})" if self.reason else "")


def _free_constants(term: z3.ExprRef) -> list[z3.ExprRef]:
    seen: dict[int, z3.ExprRef] = {}
    out: dict[str, z3.ExprRef] = {}
    todo = [term]
    while todo:
        e = todo.pop()
        if e.get_id() in seen:
            continue
        seen[e.get_id()] = e
        if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            out[str(e)] = e
        elif z3.is_app(e):
            todo.extend(e.children())
    return [out[k] for k in sorted(out)]


def _as_int(v: z3.ExprRef) -> int | None:
    if z3.is_bv_value(v):
        return v.as_long()
    if z3.is_true(v):
        return 1
    if z3.is_false(v):
        return 0
    return None


def prove(claim: z3.BoolRef, timeout_ms: int = 5000, show: Mapping[str, z3.ExprRef] | None = None) -> ProofResult:
    """Prove ``claim`` for all values of its free variables.

    A counterexample maps every free bit-vector/Boolean variable of the claim, and each
    term of ``show``, to its value in the refuting model.
    """
    solver = z3.Solver()
    solver.set(timeout=timeout_ms)
    solver.add(z3.Not(claim))
    result = solver.check()
    if result == z3.unsat:
        return ProofResult("proved")
    if result == z3.unknown:
        return ProofResult("unknown", reason=solver.reason_unknown())
    model = solver.model()
    cex: dict[str, int] = {}
    for c in _free_constants(claim):
        v = _as_int(model.eval(c, model_completion=True))
        if v is not None:
            cex[str(c)] = v
    for name, term in (show or {}).items():
        v = _as_int(model.eval(term, model_completion=True))
        if v is not None:
            cex[name] = v
    return ProofResult("refuted", cex)


def prove_equal(
    lhs: z3.ExprRef, rhs: z3.ExprRef, timeout_ms: int = 5000, assuming: z3.BoolRef | None = None
) -> ProofResult:
    """Prove ``lhs == rhs`` (under ``assuming``); a counterexample shows both sides."""
    claim = lhs == rhs if assuming is None else z3.Implies(assuming, lhs == rhs)
    return prove(claim, timeout_ms, {"lhs": lhs, "rhs": rhs})


def prove_equivalent(
    a: SmtEval, b: SmtEval, outputs: Mapping[str, str] | None = None, timeout_ms: int = 5000
) -> ProofResult:
    """Prove that ``a`` and ``b`` trap on the same inputs and, when neither traps, agree on
    ``outputs`` (a's output name -> b's; default: every output of ``a``, same names)."""
    pairs = dict(outputs) if outputs is not None else {n: n for n in a.outputs}
    same = [a.outputs[x] == b.outputs[y] for x, y in pairs.items()]
    claim = z3.And(a.trapped == b.trapped, z3.Implies(z3.Not(a.trapped), z3.And(*same)))
    show: dict[str, z3.ExprRef] = {"traps(a)": a.trapped, "traps(b)": b.trapped}
    for x, y in pairs.items():
        show[f"a.{x}"] = a.outputs[x]
        show[f"b.{y}"] = b.outputs[y]
    return prove(claim, timeout_ms, show)
