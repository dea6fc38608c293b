"""Random valid, terminating IR modules: input for differential fuzzing and benchmarks.

A module is a list of functions ``%f0 .. %f{n-1}``.  Function *i* calls only
functions *j > i*, so the call graph is a DAG and nothing recurses.  Bodies are
built with :class:`heron.ir.builder.FunctionBuilder` over *variables*: a
statement computes one operation from variables (``use_var``) and constants and
writes a variable (``def_var``); the builder constructs SSA, so loop headers and
merge points get block parameters carrying several variables.  Structured
statements nest up to ``max_depth``: if/else diamonds (some one-armed, some
merging through an explicit block parameter), counted loops (top- or
bottom-tested, the counter a variable or an explicit header parameter),
``br_table`` switches (entries may repeat a block and pass arguments) and early
returns; plain statements are arithmetic, stack stores and calls.

Every generated module verifies, prints and parses back to the same text, and
runs deterministically, which is what a differential test needs:

- Termination: a loop counts a dedicated counter (never assigned by the body)
  from 0 up to a constant of at most ``max_trips``; calls follow the DAG.  A
  cost model (worst-case executed instructions, callees included, both arms of a
  branch added) keeps one call of any function under about ``dynamic_budget``
  instructions, so the interpreter stays fast.
- Memory: stack slots are fully initialized in the entry block, and every access
  is in bounds, so compiled code reads the bytes the interpreter reads.
- NaNs: float bits reach integers only through ``fcmp`` and
  ``fcvt_to_sint_sat`` (no bitcast; a float slot holds floats of one type only),
  so the payload of a NaN, which the IR leaves unspecified, never decides an
  integer.  Float results may still be NaN: compare them as "both NaN".
- Traps: a division is guarded (a zero divisor, and MIN / -1, replaced by 1)
  unless ``trapping_div`` says otherwise; an unguarded one may trap with
  ``int_divz`` or ``int_ovf``.  Nothing else traps.

Two drivers share one generator: :func:`generate_module` takes a seeded
``random.Random`` (reproducible by seed), :func:`modules` is a hypothesis
strategy whose draws shrink towards smaller programs.  :func:`random_args`
draws edge-biased arguments for a signature.

Example::

    >>> import random
    >>> from heron.ir.interpreter import Interpreter
    >>> fns = generate_module(random.Random(7), GenConfig(functions=2, insts=12, trapping_div=0.0))
    >>> [fn.name for fn in fns]
    ['%f0', '%f1']
    >>> args = random_args(random.Random(1), fns[0].signature)
    >>> out = Interpreter(fns).call("%f0", args)
    >>> len(out) == len(fns[0].signature.returns)
    True
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from heron.ir.builder import FunctionBuilder
from heron.ir.entities import AbiParam, ExtFuncData, Signature, StackSlotData
from heron.ir.function import Function
from heron.ir.types import F32, F64, I8, I16, I32, I64, I128, Type

__all__ = ["GROUPS", "GenConfig", "generate_module", "modules", "random_args", "module_to_text"]

T = TypeVar("T")

# Opcode groups and structures a config can enable.  Constants and returns need no group.
# A group's opcodes appear only when it is enabled, but for what two structures bring
# along: a loop its counter's icmp and iadd (iadd_imm with "imm"), a guarded division
# icmp, select, band and bor (and ishl for an i128 MIN).
GROUPS: frozenset[str] = frozenset(
    {
        "arith",  # iadd isub imul ineg
        "bitwise",  # band bor bxor bnot
        "shift",  # ishl ushr sshr rotl rotr (amounts of any integer type, past the width too)
        "bitcount",  # clz ctz popcnt
        "minmax",  # smin smax umin umax
        "imm",  # iadd_imm imul_imm irsub_imm band_imm bor_imm bxor_imm ishl_imm ushr_imm sshr_imm rotl_imm rotr_imm
        "extend",  # uextend sextend ireduce
        "div",  # udiv sdiv urem srem (and udiv_imm sdiv_imm urem_imm srem_imm with "imm")
        "compare",  # icmp select (without it, branches test a raw integer)
        "float",  # f32/f64 values: f32const f64const fadd fsub fmul fdiv fneg fabs sqrt fmin fmax fcmp
        # fcvt_from_sint fcvt_to_sint_sat fpromote fdemote
        "diamond",  # if/else, nested
        "loop",  # counted loops
        "br_table",
        "early_return",
        "stack",  # stack slots: stack_load/stack_store, stack_addr + load/store, extending loads, narrow stores
        "call",  # calls down the DAG
    }
)


@dataclass(frozen=True)
class GenConfig:
    """What to generate.  The defaults suit a fuzzer; see ``bench/gen_module.py`` for another use."""

    functions: int = 3  # functions per module
    insts: int = 30  # approximate instructions per function
    max_depth: int = 3  # nesting of diamonds, loops and switches
    max_params: int = 6
    max_results: int = 3
    i128: bool = False  # i128 values (iconst, arithmetic, extends, compares, ...)
    groups: frozenset[str] = GROUPS
    trapping_div: float = 0.25  # chance that a division is left unguarded (0: nothing ever traps)
    max_trips: int = 4  # a loop runs at most this many times
    dynamic_budget: int = 4000  # about the most instructions one call may execute (callees included)

    def __post_init__(self) -> None:
        unknown = set(self.groups) - GROUPS
        if unknown:
            raise ValueError(f"unknown generator groups: {', '.join(sorted(unknown))}")
        if self.functions < 1 or self.insts < 1 or self.max_depth < 0:
            raise ValueError("functions and insts must be positive and max_depth non-negative")
        if not 0 <= self.max_params <= 16 or not 1 <= self.max_results <= 8:
            raise ValueError("max_params must be 0..16 and max_results 1..8")
        if not 1 <= self.max_trips <= 100:
            raise ValueError("max_trips must be 1..100 (an i8 counter must not wrap)")
        if not 0.0 <= self.trapping_div <= 1.0:
            raise ValueError("trapping_div is a probability")

    @property
    def int_types(self) -> list[Type]:
        return [I8, I16, I32, I64, I128] if self.i128 else [I8, I16, I32, I64]

    @property
    def float_types(self) -> list[Type]:
        return [F32, F64] if "float" in self.groups else []


# ---------------------------------------------------------------------------- choices
class _Source:
    """Where the generator's decisions come from; every decision goes through ``below``.

    Hypothesis shrinks a draw towards 0, so choices list their simplest option first
    and ``chance`` is False at 0 (do less).
    """

    def below(self, n: int) -> int:
        raise NotImplementedError

    def bits(self, k: int) -> int:
        raise NotImplementedError

    def chance(self, p: float) -> bool:
        if p <= 0.0:
            return False
        if p >= 1.0:
            return True
        return self.below(1000) >= round(1000 * (1.0 - p))

    def pick(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def weighted(self, items: Sequence[tuple[T, int]]) -> T:
        r = self.below(sum(w for _, w in items))
        for item, w in items:
            if r < w:
                return item
            r -= w
        raise AssertionError("unreachable")

    def shuffled(self, items: Sequence[T]) -> list[T]:
        out = list(items)
        for i in range(len(out) - 1, 0, -1):
            j = self.below(i + 1)
            out[i], out[j] = out[j], out[i]
        return out


class _RandomSource(_Source):
    __slots__ = ("rng",)

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def below(self, n: int) -> int:
        return self.rng.randrange(n) if n > 1 else 0

    def bits(self, k: int) -> int:
        return self.rng.getrandbits(k)


class _DrawSource(_Source):
    __slots__ = ("draw", "_st", "_cache")

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        from hypothesis import strategies as st

        self.draw = draw
        self._st = st
        self._cache: dict[int, Any] = {}

    def _ints(self, n: int) -> Any:
        s = self._cache.get(n)
        if s is None:
            s = self._cache[n] = self._st.integers(0, n - 1)
        return s

    def below(self, n: int) -> int:
        return self.draw(self._ints(n)) if n > 1 else 0

    def bits(self, k: int) -> int:
        return self.draw(self._ints(1 << k))


# ---------------------------------------------------------------------------- public API
def generate_module(rng: random.Random, config: GenConfig = GenConfig()) -> list[Function]:
    """A module of ``config.functions`` finalized, verified functions, deterministic in ``rng``'s seed."""
    return _generate(_RandomSource(rng), config, vary_sizes=False)


def modules(config: GenConfig = GenConfig()) -> Any:
    """A hypothesis strategy for modules (lists of functions) of ``config``.

    Here ``config.functions`` and ``config.insts`` are maxima: the function count
    and each function's instruction target are drawn first, so a failing example
    shrinks to a few small functions.
    """
    from hypothesis import strategies as st

    @st.composite
    def module(draw: Callable[[Any], Any]) -> list[Function]:
        return _generate(_DrawSource(draw), config, vary_sizes=True)

    return module()


def module_to_text(functions: Sequence[Function]) -> str:
    """The CLIF text of a module: its functions separated by blank lines."""
    return "\n".join(str(fn) for fn in functions)


def random_args(rng: random.Random, signature: Signature) -> list[int]:
    """Edge-biased bit-pattern arguments for ``signature`` (what ``Interpreter.call`` takes)."""
    src = _RandomSource(rng)
    return [_random_bits(src, p.type) for p in signature.params]


# ---------------------------------------------------------------------------- constants
_F32_SPECIAL = (
    0x0000_0000, 0x8000_0000, 0x3F80_0000, 0xBF80_0000, 0x3F00_0000, 0x4049_0FDB,  # +0 -0 1 -1 0.5 pi
    0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0xFFC0_0000, 0x7FC0_0001, 0x7F80_0001,  # inf -inf NaN -NaN payload sNaN
    0x0000_0001, 0x007F_FFFF, 0x0080_0000, 0x7F7F_FFFF, 0xFF7F_FFFF,  # subnormals, min normal, max finite
    0x4F00_0000, 0xCF00_0000, 0x5F00_0000, 0xDF00_0000, 0x4EFF_FFFF,  # 2**31, -2**31, 2**63, -2**63, below 2**31
)  # fmt: skip
_F64_SPECIAL = (
    0x0000_0000_0000_0000, 0x8000_0000_0000_0000, 0x3FF0_0000_0000_0000, 0xBFF0_0000_0000_0000,
    0x3FE0_0000_0000_0000, 0x4009_21FB_5444_2D18,
    0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000, 0x7FF8_0000_0000_0000, 0xFFF8_0000_0000_0000,
    0x7FF8_0000_0000_0001, 0x7FF0_0000_0000_0001,
    0x0000_0000_0000_0001, 0x000F_FFFF_FFFF_FFFF, 0x0010_0000_0000_0000, 0x7FEF_FFFF_FFFF_FFFF,
    0xFFEF_FFFF_FFFF_FFFF,
    0x41E0_0000_0000_0000, 0xC1E0_0000_0000_0000, 0x43E0_0000_0000_0000, 0xC3E0_0000_0000_0000,
    0x41DF_FFFF_FFC0_0000,  # 2**31 - 1
)  # fmt: skip
_FLOAT_SPECIAL = {F32: _F32_SPECIAL, F64: _F64_SPECIAL}
_FLOAT_PACK = {F32: ("<f", "<I"), F64: ("<d", "<Q")}


def _edge_int(src: _Source, bits: int) -> int:
    """An edge-biased signed value of ``bits`` bits."""
    k = src.below(9)
    if k == 0:
        return 0
    if k == 1:
        return 1
    if k == 2:
        return -1
    if k == 3:
        return -(1 << (bits - 1))  # MIN
    if k == 4:
        return (1 << (bits - 1)) - 1  # MAX
    if k == 5:
        return src.below(33) - 16
    if k == 6:
        return 1 << src.below(bits - 1)
    if k == 7:
        return (1 << src.below(bits)) - 1
    x = src.bits(bits)
    return x - (1 << bits) if x >> (bits - 1) else x


def _int_bits(src: _Source, ty: Type) -> int:
    if ty.bits > 64 and src.chance(0.5):
        return src.bits(ty.bits)
    return _edge_int(src, ty.bits) & ty.mask


def _float_bits(src: _Source, ty: Type) -> int:
    k = src.below(10)
    if k < 4:
        return src.pick(_FLOAT_SPECIAL[ty])
    pack, unpack = _FLOAT_PACK[ty]
    if k < 8:
        # A "nice" value: a small integer, or a fraction of a moderate magnitude.
        value = float(src.below(201) - 100) if k < 6 else (src.below(2_000_001) - 1_000_000) / 1024.0
        return struct.unpack(unpack, struct.pack(pack, value))[0]
    return src.bits(ty.bits)


def _random_bits(src: _Source, ty: Type) -> int:
    return _float_bits(src, ty) if ty.is_float else _int_bits(src, ty)


# ---------------------------------------------------------------------------- modules
def _generate(src: _Source, config: GenConfig, vary_sizes: bool) -> list[Function]:
    n = 1 + src.below(config.functions) if vary_sizes else config.functions
    names = [f"%f{i}" for i in range(n)]
    sigs = [_signature(src, config) for _ in range(n)]
    costs = [0] * n
    functions: list[Function | None] = [None] * n
    # Callees first, so each caller knows what a call costs.
    for i in reversed(range(n)):
        insts = 1 + src.below(config.insts) if vary_sizes else config.insts
        gen = _FunctionGen(src, config, i, names, sigs, costs, insts)
        functions[i] = gen.build()
        costs[i] = gen.cost
    return functions  # type: ignore[return-value]


def _value_types(config: GenConfig) -> list[tuple[Type, int]]:
    weights = [(I8, 2), (I16, 2), (I32, 4), (I64, 4)]
    if config.i128:
        weights.append((I128, 1))
    if "float" in config.groups:
        weights += [(F32, 2), (F64, 2)]
    return weights


def _signature(src: _Source, config: GenConfig) -> Signature:
    types = _value_types(config)
    params = [AbiParam(src.weighted(types)) for _ in range(src.below(config.max_params + 1))]
    returns = [AbiParam(src.weighted(types)) for _ in range(1 + src.below(config.max_results))]
    return Signature(params, returns)


class _Slot:
    """A stack slot the generator declared: ``elem`` is None for bytes, else its one float type."""

    __slots__ = ("index", "size", "elem", "aligned8")

    def __init__(self, index: int, size: int, elem: Type | None, aligned8: bool) -> None:
        self.index = index
        self.size = size
        self.elem = elem
        self.aligned8 = aligned8  # declared with align = 8


_INT_CC = ("eq", "ne", "slt", "sge", "sgt", "sle", "ult", "uge", "ugt", "ule")
_FLOAT_CC = ("eq", "ne", "lt", "le", "gt", "ge", "ord", "uno", "one", "ueq", "ult", "ule", "ugt", "uge")
# Loop-continue tests, all equivalent for a counter running 0, 1, ..., trips: (cond, counter on the right).
_LOOP_TESTS = (("ult", False), ("slt", False), ("ne", False), ("ugt", True), ("sgt", True), ("ne", True))
_MEM_FLAGS = ("", "notrap")
_EXTENDING_LOADS = {  # opcode: (bytes, result types)
    "uload8": (1, (I16, I32, I64)),
    "sload8": (1, (I16, I32, I64)),
    "uload16": (2, (I32, I64)),
    "sload16": (2, (I32, I64)),
    "uload32": (4, (I64,)),
    "sload32": (4, (I64,)),
}
_NARROW_STORES = {"istore8": (1, (I16, I32, I64)), "istore16": (2, (I32, I64)), "istore32": (4, (I64,))}


class _FunctionGen:
    """Generates one function of a module; ``cost`` is its worst-case executed instructions."""

    def __init__(
        self, src: _Source, config: GenConfig, index: int, names: list[str], sigs: list[Signature], costs: list[int], insts: int
    ) -> None:
        self.src = src
        self.cfg = config
        self.insts = insts
        self.index = index
        self.names = names
        self.sigs = sigs
        self.costs = costs
        self.groups = config.groups
        self.fn = Function(names[index], sigs[index])
        self.fb = FunctionBuilder(self.fn)
        self.ins = self.fb.ins
        self.int_types = config.int_types
        self.narrow_ints = [t for t in self.int_types if t.bits <= 64]  # br_table indexes, loop counters
        self.float_types = config.float_types
        self.value_types = _value_types(config)
        self.vars: dict[Type, list[int]] = {}  # variables statements may assign
        self.var_types: dict[int, Type] = {}
        self.recent: list[int] = []  # assignable variables, the most recently assigned last
        self.readonly: dict[Type, list[int]] = {}  # loop counters: read anywhere, written only by their loop
        self.scoped: list[tuple[Type, int]] = []  # explicit loop-counter parameters, usable inside their loop
        self.slots: list[_Slot] = []
        self.func_refs: dict[int, int] = {}
        self.depth = 0
        self.mult = 1  # how many times the current position runs, at most
        self.cost = 0
        self._counted = 0
        self._int_ops = self._ops_for_ints()
        self._float_ops = self._ops_for_floats()

    # -- driver -----------------------------------------------------------------------
    def build(self) -> Function:
        fb = self.fb
        entry = fb.create_block()
        fb.append_block_params_for_function_params(entry)
        fb.switch_to_block(entry)
        fb.seal_block(entry)
        for value, param in zip(fb.block_params(entry), self.fn.signature.params):
            self._define(self._new_var(param.type), value)
        if "stack" in self.groups:
            self._declare_slots()
        returns = self.fn.signature.returns
        self._body(self.insts - len(returns) - 2 * sum(r.type.is_int for r in returns) - 1)
        self._return()
        self._flush_cost()
        fb.finalize()
        return self.fn

    def _flush_cost(self) -> None:
        n = self.fn.num_insts()
        self.cost += (n - self._counted) * self.mult
        self._counted = n

    def _room(self, until: int) -> int:
        return until - self.fn.num_insts()

    def _body(self, until: int) -> None:
        """Statements until the function has ``until`` instructions (at least one statement)."""
        for attempt in range(4 * self.insts + 4):
            if attempt and self.fn.num_insts() >= until:
                return
            self._statement(until)

    def _statement(self, until: int) -> None:
        src = self.src
        g = self.groups
        room = self._room(until)
        nested = self.depth < self.cfg.max_depth and room >= 6
        kinds: list[tuple[str, int]] = [("assign", 20)]
        if self.slots:
            kinds.append(("store", 3))
        if "call" in g and self.index + 1 < len(self.names):
            kinds.append(("call", 3))
        if nested and "diamond" in g:
            kinds.append(("diamond", 4))
        if nested and "loop" in g:
            kinds.append(("loop", 2))
        if nested and "br_table" in g:
            kinds.append(("br_table", 2))
        if "early_return" in g and room >= 4:
            kinds.append(("early_return", 1))
        kind = src.weighted(kinds)
        done = True
        if kind == "store":
            self._store()
        elif kind == "call":
            done = self._call()
        elif kind == "diamond":
            self._diamond(until)
        elif kind == "loop":
            done = self._loop(until)
        elif kind == "br_table":
            self._switch(until)
        elif kind == "early_return":
            self._early_return()
        else:
            done = False
        if not done:  # an assignment, or a call or loop the budget did not allow
            self._assign()

    def _share(self, until: int, parts: int) -> int:
        """Instructions for one of ``parts`` nested bodies of a statement that takes 30-70% of the room."""
        room = max(self._room(until), 2)
        return max(1, room * (3 + self.src.below(5)) // (10 * parts))

    # -- variables and operands -----------------------------------------------------------
    def _new_var(self, ty: Type) -> int:
        var = self.fb.declare_var(ty)
        self.vars.setdefault(ty, []).append(var)
        self.var_types[var] = ty
        return var

    def _target_var(self, ty: Type) -> int:
        """A variable of ``ty`` to assign: usually an existing one, sometimes a new one."""
        pool = self.vars.get(ty)
        if not pool or (len(pool) < 6 and self.src.chance(0.25)):
            return self._new_var(ty)
        return self.src.pick(pool)

    def _define(self, var: int, value: int) -> None:
        """``var = value``; the variable moves to the end of its pool (operands prefer recent ones)."""
        self.fb.def_var(var, value)
        for pool in (self.vars[self.var_types[var]], self.recent):
            if var in pool:
                pool.remove(var)
            pool.append(var)

    def _assign_to_var(self, value: int) -> None:
        self._define(self._target_var(self.fn.dfg.value_type[value]), value)  # type: ignore[arg-type]

    def _pick_var(self, pool: list[int]) -> int:
        """A variable of ``pool``, biased towards the recently assigned (so computations chain)."""
        n = len(pool)
        return pool[n - 1 - min(self.src.below(n), self.src.below(n))]

    def _operand(self, ty: Type) -> int:
        """A value of ``ty``: a variable, a constant, or a conversion of a variable of another type."""
        src = self.src
        pool = self.readonly.get(ty, []) + self.vars.get(ty, [])  # recent variables last
        scoped = [v for t, v in self.scoped if t is ty]
        if (pool or scoped) and src.chance(0.85):
            if scoped and (not pool or src.chance(0.3)):
                return src.pick(scoped)
            return self.fb.use_var(self._pick_var(pool))
        if src.chance(0.5):
            return self._const(ty)
        converted = self._convert_existing(ty)
        return converted if converted is not None else self._const(ty)

    def _convertible(self, from_ty: Type, ty: Type) -> bool:
        # Int <-> int needs the "extend" group; float values exist only with the "float" group.
        return from_ty is ty or not (from_ty.is_int and ty.is_int) or "extend" in self.groups

    def _convert(self, x: int, ty: Type) -> int:
        """``x`` as a ``ty``: extend, reduce, int <-> float (saturating), promote or demote."""
        src = self.src
        ins = self.ins
        from_ty: Type = self.fn.dfg.value_type[x]  # type: ignore[assignment]
        if from_ty is ty:
            return x
        if ty.is_int and from_ty.is_int:
            if from_ty.bits < ty.bits:
                return ins.sextend(ty, x) if src.chance(0.5) else ins.uextend(ty, x)
            return ins.ireduce(ty, x)
        if ty.is_int:
            if ty is I8 and "compare" in self.groups and src.chance(0.3):
                return ins.fcmp(src.pick(_FLOAT_CC), x, self._operand(from_ty))
            return ins.fcvt_to_sint_sat(ty, x)
        if from_ty.is_int:
            return ins.fcvt_from_sint(ty, x)
        return ins.fpromote(ty, x) if from_ty.bits < ty.bits else ins.fdemote(ty, x)

    def _convert_existing(self, ty: Type) -> int | None:
        """A variable of another type converted to ``ty``, or None if there is none."""
        src = self.src
        choices = [t for t in self.vars if t is not ty and self.vars[t] and self._convertible(t, ty)]
        if not choices:
            return None
        # Prefer a source of the same kind: int<->float conversions would crowd out the rest.
        from_ty = src.weighted([(t, 3 if t.is_int == ty.is_int else 1) for t in choices])
        return self._convert(self.fb.use_var(self._pick_var(self.vars[from_ty])), ty)

    def _recent_as(self, ty: Type) -> int:
        """A recently assigned variable (of the same kind, int or float, 3 times in 4), as a ``ty``."""
        same_kind = self.src.chance(0.75)
        pool = [v for v in self.recent if self._convertible(self.var_types[v], ty) and (self.var_types[v].is_int == ty.is_int or not same_kind)]
        if not pool:
            return self._operand(ty)
        return self._convert(self.fb.use_var(self._pick_var(pool)), ty)

    def _const(self, ty: Type) -> int:
        src = self.src
        if ty is F32:
            return self.ins.f32const(_float_bits(src, F32))
        if ty is F64:
            return self.ins.f64const(_float_bits(src, F64))
        if ty.bits > 64:
            return self.ins.iconst(ty, _edge_int(src, 64))  # an i128 immediate is a signed 64-bit value
        return self.ins.iconst(ty, _edge_int(src, ty.bits) & ty.mask)

    def _int_type(self) -> Type:
        return self.src.weighted([(t, w) for t, w in self.value_types if t.is_int])

    def _condition(self) -> int:
        """A value to branch on: usually a comparison, sometimes a raw integer."""
        src = self.src
        k = src.below(10)
        if k < 2 or "compare" not in self.groups:
            return self._operand(self._int_type())
        if k < 4 and self.float_types:
            ty = src.pick(self.float_types)
            return self.ins.fcmp(src.pick(_FLOAT_CC), self._operand(ty), self._operand(ty))
        ty = self._int_type()
        rhs = self._const(ty) if src.chance(0.4) else self._operand(ty)
        return self.ins.icmp(src.pick(_INT_CC), self._operand(ty), rhs)

    # -- expressions ----------------------------------------------------------------------
    def _ops_for_ints(self) -> list[tuple[Callable[[Type], int | None], int]]:
        g = self.groups
        table = [
            ("arith", self._arith, 6),
            ("bitwise", self._bitwise, 4),
            ("shift", self._shift, 3),
            ("bitcount", self._bitcount, 1),
            ("minmax", self._minmax, 1),
            ("imm", self._int_imm, 3),
            ("extend", self._extend, 2),
            ("div", self._div, 2),
            ("compare", self._icmp, 2),
            ("compare", self._select, 2),
            ("float", self._from_float, 1),
            ("stack", self._load_int, 5),
        ]
        return [(fn, w) for group, fn, w in table if group in g]

    def _ops_for_floats(self) -> list[tuple[Callable[[Type], int | None], int]]:
        g = self.groups
        table = [
            ("float", self._float_binary, 6),
            ("float", self._float_unary, 2),
            ("float", self._float_convert, 2),
            ("compare", self._select, 1),
            ("stack", self._load_float, 3),
        ]
        return [(fn, w) for group, fn, w in table if group in g]

    def _expr(self, ty: Type) -> int:
        ops = self._int_ops if ty.is_int else self._float_ops
        for _ in range(3):
            if not ops:
                break
            value = self.src.weighted(ops)(ty)
            if value is not None:
                return value
        return self._const(ty)

    def _assign(self) -> None:
        ty = self.src.weighted(self.value_types)
        self._assign_to_var(self._expr(ty))

    def _arith(self, ty: Type) -> int:
        ins = self.ins
        k = self.src.below(4)
        if k == 3:
            return ins.ineg(self._operand(ty))
        return (ins.iadd, ins.isub, ins.imul)[k](self._operand(ty), self._operand(ty))

    def _bitwise(self, ty: Type) -> int:
        ins = self.ins
        k = self.src.below(4)
        if k == 3:
            return ins.bnot(self._operand(ty))
        return (ins.band, ins.bor, ins.bxor)[k](self._operand(ty), self._operand(ty))

    def _shift(self, ty: Type) -> int:
        src = self.src
        op = src.pick((self.ins.ishl, self.ins.ushr, self.ins.sshr, self.ins.rotl, self.ins.rotr))
        amount_ty = self._int_type()
        if src.chance(0.5):
            # A constant amount: small, the width itself, or beyond it (the IR takes it modulo the width).
            k = src.pick((1, 2, 3, ty.bits - 1, ty.bits, ty.bits + 1, 255, src.below(ty.bits)))
            amount = self.ins.iconst(amount_ty, k & amount_ty.mask)
        else:
            amount = self._operand(amount_ty)
        return op(self._operand(ty), amount)

    def _bitcount(self, ty: Type) -> int:
        op = self.src.pick((self.ins.clz, self.ins.ctz, self.ins.popcnt))
        return op(self._operand(ty))

    def _minmax(self, ty: Type) -> int:
        op = self.src.pick((self.ins.smin, self.ins.smax, self.ins.umin, self.ins.umax))
        return op(self._operand(ty), self._operand(ty))

    def _int_imm(self, ty: Type) -> int | None:
        src = self.src
        ins = self.ins
        x = self._operand(ty)
        k = src.below(14 if "div" in self.groups else 11)
        if k < 6:
            op = (ins.iadd_imm, ins.imul_imm, ins.irsub_imm, ins.band_imm, ins.bor_imm, ins.bxor_imm)[k]
            return op(x, _edge_int(src, 64) & 0xFFFF_FFFF_FFFF_FFFF)
        if k < 11:
            op = (ins.ishl_imm, ins.ushr_imm, ins.sshr_imm, ins.rotl_imm, ins.rotr_imm)[k - 6]
            return op(x, src.below(ty.bits + 8))
        # Division by an immediate never traps here: the immediate, taken at the type's
        # width, is neither 0 nor (for sdiv_imm) -1.
        name = src.pick(("udiv_imm", "sdiv_imm", "urem_imm", "srem_imm"))
        bits = min(ty.bits, 64)
        imm = _edge_int(src, bits)
        width_value = imm & ((1 << bits) - 1)
        if width_value == 0 or (name == "sdiv_imm" and width_value == (1 << bits) - 1):
            imm = 7
        return getattr(ins, name)(x, imm & 0xFFFF_FFFF_FFFF_FFFF)

    def _extend(self, ty: Type) -> int | None:
        src = self.src
        narrower = [t for t in self.int_types if t.bits < ty.bits]
        wider = [t for t in self.int_types if t.bits > ty.bits]
        if narrower and (not wider or src.chance(0.6)):
            x = self._operand(src.pick(narrower))
            return self.ins.sextend(ty, x) if src.chance(0.5) else self.ins.uextend(ty, x)
        if wider:
            return self.ins.ireduce(ty, self._operand(src.pick(wider)))
        return None

    def _div(self, ty: Type) -> int:
        src = self.src
        ins = self.ins
        name = src.pick(("udiv", "sdiv", "urem", "srem"))
        x = self._operand(ty)
        y = self._operand(ty)
        trapping = src.chance(self.cfg.trapping_div)
        if trapping and name == "sdiv" and src.chance(0.3):
            # MIN / -1 overflows; x86's idiv faults on it as on a zero divisor, so a
            # backend must tell the two traps apart: make sure it happens.
            x = self._signed_min(ty)
            if src.chance(0.5):
                y = ins.iconst(ty, -1)
        if not trapping:
            # Guard: a zero divisor becomes 1, and so does -1 when x is MIN (sdiv overflows).
            zero = ins.icmp("eq", y, ins.iconst(ty, 0))
            one = ins.iconst(ty, 1)
            if name == "sdiv":
                overflow = ins.band(ins.icmp("eq", x, self._signed_min(ty)), ins.icmp("eq", y, ins.iconst(ty, -1)))
                zero = ins.bor(zero, overflow)
            y = ins.select(zero, one, y)
        return getattr(ins, name)(x, y)

    def _signed_min(self, ty: Type) -> int:
        if ty.bits <= 64:
            return self.ins.iconst(ty, -(1 << (ty.bits - 1)))
        # An i128 immediate is only 64 bits wide.
        return self.ins.ishl(self.ins.iconst(ty, 1), self.ins.iconst(ty, ty.bits - 1))

    def _icmp(self, ty: Type) -> int | None:
        if ty is not I8:
            return None
        src = self.src
        cmp_ty = self._int_type()
        return self.ins.icmp(src.pick(_INT_CC), self._operand(cmp_ty), self._operand(cmp_ty))

    def _select(self, ty: Type) -> int:
        return self.ins.select(self._condition(), self._operand(ty), self._operand(ty))

    def _from_float(self, ty: Type) -> int | None:
        src = self.src
        fty = src.pick(self.float_types)
        if ty is I8 and "compare" in self.groups and src.chance(0.5):
            return self.ins.fcmp(src.pick(_FLOAT_CC), self._operand(fty), self._operand(fty))
        return self.ins.fcvt_to_sint_sat(ty, self._operand(fty))

    def _float_binary(self, ty: Type) -> int:
        ins = self.ins
        op = self.src.pick((ins.fadd, ins.fsub, ins.fmul, ins.fdiv, ins.fmin, ins.fmax))
        return op(self._operand(ty), self._operand(ty))

    def _float_unary(self, ty: Type) -> int:
        ins = self.ins
        op = self.src.pick((ins.fneg, ins.fabs, ins.sqrt))
        return op(self._operand(ty))

    def _float_convert(self, ty: Type) -> int:
        if self.src.chance(0.6):
            return self.ins.fcvt_from_sint(ty, self._operand(self._int_type()))
        if ty is F64:
            return self.ins.fpromote(F64, self._operand(F32))
        return self.ins.fdemote(F32, self._operand(F64))

    # -- stack slots -----------------------------------------------------------------------
    def _declare_slots(self) -> None:
        """None, one or two small slots, each fully written before anything can read it."""
        src = self.src
        ins = self.ins
        count = src.weighted(((0, 2), (1, 5), (2, 2)))
        for _ in range(count):
            if self.float_types and src.chance(0.3):
                elem = src.pick(self.float_types)
                size = elem.bytes * (1 + src.below(3))
            else:
                elem = None
                size = 8 * src.weighted(((1, 4), (2, 3), (3, 1), (4, 1)))
            # Some slots state an alignment of 8; only their accesses may claim "aligned".
            align_shift = 3 if src.chance(0.5) else None
            index = self.fn.create_stack_slot(StackSlotData(size, align_shift=align_shift))
            self.slots.append(_Slot(index, size, elem, align_shift is not None))
            step = elem.bytes if elem is not None else 8
            for offset in range(0, size, step):
                ins.stack_store(self._operand(elem if elem is not None else I64), index, offset)

    def _address(self, slot: _Slot, offset: int) -> tuple[int, int]:
        """An i64 address of the slot and a remaining offset adding up to ``offset``."""
        base = self.src.below(offset + 1)
        return self.ins.stack_addr(I64, slot.index, base), offset - base

    def _flags(self, offset_in_slot: int, size: int, slot: _Slot) -> str:
        flags = self.src.pick(_MEM_FLAGS)
        # In a slot aligned to 8, an offset that is a multiple of the size is an aligned access.
        if slot.aligned8 and size <= 8 and offset_in_slot % size == 0 and self.src.chance(0.5):
            flags = (flags + " aligned").strip()
        return flags

    def _load_int(self, ty: Type) -> int | None:
        src = self.src
        ins = self.ins
        slots = [s for s in self.slots if s.elem is None and s.size >= ty.bytes]
        if not slots:
            return None
        slot = src.pick(slots)
        k = src.below(5)
        extending = [name for name, (_, types) in _EXTENDING_LOADS.items() if ty in types]
        if k >= 2 and extending:
            name = src.pick(extending)
            size = _EXTENDING_LOADS[name][0]
            offset = src.below(slot.size - size + 1)
            p, rest = self._address(slot, offset)
            flags = self._flags(offset, size, slot)
            if size == 4:  # uload32 and sload32 always give an i64
                return getattr(ins, name)(flags, p, rest)
            return getattr(ins, name)(ty, flags, p, rest)
        offset = src.below(slot.size - ty.bytes + 1)
        if k == 0:
            return ins.stack_load(ty, slot.index, offset)
        p, rest = self._address(slot, offset)
        return ins.load(ty, self._flags(offset, ty.bytes, slot), p, rest)

    def _load_float(self, ty: Type) -> int | None:
        slots = [s for s in self.slots if s.elem is ty]
        if not slots:
            return None
        slot = self.src.pick(slots)
        offset = ty.bytes * self.src.below(slot.size // ty.bytes)
        if self.src.chance(0.5):
            return self.ins.stack_load(ty, slot.index, offset)
        p, rest = self._address(slot, offset)
        return self.ins.load(ty, self._flags(offset, ty.bytes, slot), p, rest)

    def _store(self) -> None:
        src = self.src
        ins = self.ins
        slot = src.pick(self.slots)
        if slot.elem is not None:
            ty = slot.elem
            offset = ty.bytes * src.below(slot.size // ty.bytes)
        elif src.chance(0.35):
            # A narrow store (istore8/16/32) of a wider value.
            name = src.pick(tuple(_NARROW_STORES))
            size, types = _NARROW_STORES[name]
            ty = src.pick(types)
            offset = src.below(slot.size - size + 1)
            p, rest = self._address(slot, offset)
            getattr(ins, name)(self._flags(offset, size, slot), self._operand(ty), p, rest)
            return
        else:
            ty = src.pick([t for t in self.int_types if t.bytes <= slot.size])
            offset = src.below(slot.size - ty.bytes + 1)
        x = self._operand(ty)
        if src.chance(0.5):
            ins.stack_store(x, slot.index, offset)
        else:
            p, rest = self._address(slot, offset)
            ins.store(self._flags(offset, ty.bytes, slot), x, p, rest)

    # -- calls ------------------------------------------------------------------------------
    def _call(self) -> bool:
        """Call a later function whose cost still fits the budget; False if none does."""
        self._flush_cost()
        room = self.cfg.dynamic_budget - self.cost
        callees = [j for j in range(self.index + 1, len(self.names)) if self.mult * (self.costs[j] + 1) <= room]
        if not callees:
            return False
        j = self.src.pick(callees)
        ref = self.func_refs.get(j)
        if ref is None:
            sig = self.sigs[j]
            sig_ref = self.fn.import_signature(Signature(list(sig.params), list(sig.returns), sig.call_conv))
            ref = self.func_refs[j] = self.fn.import_function(ExtFuncData(self.names[j], sig_ref, colocated=True))
        args = [self._operand(p.type) for p in self.sigs[j].params]
        results = self.ins.call(ref, args)
        self.cost += self.mult * self.costs[j]
        for r in results:
            if self.src.chance(0.85):
                self._assign_to_var(r)
        return True

    # -- control flow -----------------------------------------------------------------------
    def _return(self) -> None:
        """Return values of the right types; an integer one usually folds in recent variables of
        any type, so that more of the computation is observable."""
        folds = [op for group, op in (("bitwise", self.ins.bxor), ("arith", self.ins.iadd)) if group in self.groups]
        values = []
        for r in self.fn.signature.returns:
            value = self._operand(r.type)
            if r.type.is_int and folds:
                for _ in range(1 + self.src.below(2)):
                    other = self._recent_as(r.type)
                    if other != value:  # x ^ x would erase what it should show
                        value = self.src.pick(folds)(value, other)
            values.append(value)
        self.ins.return_(*values)

    def _diamond(self, until: int) -> None:
        """if/else (or a one-armed if) whose merge block may take an explicit parameter."""
        src = self.src
        fb = self.fb
        ins = self.ins
        cond = self._condition()
        one_armed = src.chance(0.3)
        then_block = fb.create_block()
        else_block = None if one_armed else fb.create_block()
        merge = fb.create_block()
        param_ty = src.weighted(self.value_types) if src.chance(0.3) else None
        param = fb.append_block_param(merge, param_ty) if param_ty is not None else None

        def merge_args() -> list[int]:
            return [self._operand(param_ty)] if param_ty is not None else []

        share = self._share(until, 1 if one_armed else 2)
        if else_block is None:
            # The not-taken edge goes straight to the merge block (a critical edge when it has args).
            if src.chance(0.5):
                ins.brif(cond, then_block, [], merge, merge_args())
            else:
                ins.brif(cond, merge, merge_args(), then_block, [])
            arms = [then_block]
        else:
            ins.brif(cond, then_block, [], else_block, [])
            arms = [then_block, else_block]
        self.depth += 1
        for arm in arms:
            fb.seal_block(arm)
            fb.switch_to_block(arm)
            if arm == then_block or src.chance(0.7):
                self._body(self.fn.num_insts() + share)
            ins.jump(merge, merge_args())
        self.depth -= 1
        fb.seal_block(merge)
        fb.switch_to_block(merge)
        if param is not None:
            self._assign_to_var(param)

    def _loop(self, until: int) -> bool:
        """A counted loop of 1..max_trips iterations; False if even one trip would blow the budget."""
        src = self.src
        fb = self.fb
        ins = self.ins
        share = self._share(until, 1)
        self._flush_cost()
        room = self.cfg.dynamic_budget - self.cost
        trips = 1 + src.below(self.cfg.max_trips)
        per_trip = self.mult * (share + 6)
        trips = min(trips, room // per_trip) if per_trip > 0 else trips
        if trips < 1:
            return False
        counter_ty = src.pick(self.narrow_ints)
        explicit = src.chance(0.5)  # the counter as a header parameter rather than a variable
        top_test = src.chance(0.5)
        cond, swapped = src.pick(_LOOP_TESTS)
        header = fb.create_block()
        exit_block = fb.create_block()
        zero = ins.iconst(counter_ty, 0)
        counter_var = counter_param = -1
        if explicit:
            counter_param = fb.append_block_param(header, counter_ty)
            ins.jump(header, [zero])
        else:
            counter_var = fb.declare_var(counter_ty)
            fb.def_var(counter_var, zero)
            self.readonly.setdefault(counter_ty, []).append(counter_var)
            ins.jump(header, [])
        fb.switch_to_block(header)

        def count() -> int:
            return counter_param if explicit else fb.use_var(counter_var)

        def test(value: int) -> int:
            limit = ins.iconst(counter_ty, trips)
            return ins.icmp(cond, limit, value) if swapped else ins.icmp(cond, value, limit)

        if top_test:
            body = fb.create_block()
            ins.brif(test(count()), body, [], exit_block, [])
            fb.seal_block(body)
            fb.switch_to_block(body)
        self._flush_cost()
        self.mult *= trips + 1 if top_test else trips
        self.depth += 1
        if explicit:
            self.scoped.append((counter_ty, counter_param))
        self._body(self.fn.num_insts() + share)
        if explicit:
            self.scoped.pop()
        if "imm" in self.groups and src.chance(0.5):
            following = ins.iadd_imm(count(), 1)
        else:
            following = ins.iadd(count(), ins.iconst(counter_ty, 1))
        if not explicit:
            fb.def_var(counter_var, following)
        back_args = [following] if explicit else []
        if top_test:
            ins.jump(header, back_args)
        else:
            ins.brif(test(following), header, back_args, exit_block, [])
        self._flush_cost()
        self.depth -= 1
        self.mult //= trips + 1 if top_test else trips
        fb.seal_block(header)
        fb.seal_block(exit_block)
        fb.switch_to_block(exit_block)
        return True

    def _switch(self, until: int) -> None:
        """br_table over 1..4 target blocks; entries may repeat a block and pass it arguments."""
        src = self.src
        fb = self.fb
        ins = self.ins
        index_ty = src.pick(self.narrow_ints)
        index = self._operand(index_ty)
        if "bitwise" in self.groups and src.chance(0.6):
            # Keep the index mostly in range of the table.
            mask = ins.iconst(index_ty, src.pick((1, 3, 7)))
            index = ins.band(index, mask)
        targets = [fb.create_block() for _ in range(1 + src.below(4))]
        merge = fb.create_block()
        param_ty = src.weighted(self.value_types) if src.chance(0.3) else None
        params = [fb.append_block_param(t, param_ty) for t in targets] if param_ty is not None else []
        # Every target is reached: the default is the first, the table lists the others (and repeats).
        entries = src.shuffled(targets[1:] + [src.pick(targets) for _ in range(src.below(3))])

        def call(block: int) -> tuple[int, list[int]]:
            return (block, [self._operand(param_ty)] if param_ty is not None else [])

        ins.br_table(index, call(targets[0]), [call(b) for b in entries])
        share = self._share(until, len(targets))
        self.depth += 1
        for k, target in enumerate(targets):
            fb.seal_block(target)
            fb.switch_to_block(target)
            if params:
                self._assign_to_var(params[k])
            self._body(self.fn.num_insts() + share)
            ins.jump(merge)
        self.depth -= 1
        fb.seal_block(merge)
        fb.switch_to_block(merge)

    def _early_return(self) -> None:
        src = self.src
        fb = self.fb
        cond = self._condition()
        ret = fb.create_block()
        rest = fb.create_block()
        if src.chance(0.5):
            self.ins.brif(cond, ret, [], rest, [])
        else:
            self.ins.brif(cond, rest, [], ret, [])
        fb.seal_block(ret)
        fb.seal_block(rest)
        fb.switch_to_block(ret)
        self._return()
        fb.switch_to_block(rest)
