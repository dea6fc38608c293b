"""``heron meta verify``: prove every lowering rule equal to the IR semantics with Z3.

For each rule, each typing it claims and (when its pattern binds an IR enum immediate,
e.g. icmp's condition) each value of that enum, one query asks Z3 for inputs on which
the pattern's IR semantics and the emitted machine instructions' semantics differ:

- IR side: the pattern's leaf values are fresh bit-vectors of their IR widths, bound
  immediates fresh bit-vectors of their kinds' widths, constrained by the rule's
  ``when``; the semantics of the pattern's nodes are composed, producers first.
- Machine side: each leaf value sits in registers of its value class whose bits above
  the IR width are free (DESIGN.md §4); the machine state (flags) starts free; the
  emitted instructions' semantics run in order over an environment of virtual
  registers; state an instruction clobbers without assigning becomes free again;
  ``undef(w)`` is a fresh variable.  Memory is one array shared by both sides.
- The claim: the first trap to fire has the same code on both sides (or neither side
  traps; a hardware ``fault`` never equals an IR trap), and when nothing traps the
  results agree (the low ``w`` bits of ``out``; ``out.hi:out.lo`` for a register pair),
  memory agrees (at a free probe address), the machine code reads no byte the IR does
  not load or store (a wider load keeps the right bits but may fault past the end of a
  mapping), branches reach the same destination, and immediates with an explicit value
  set get a value of the set.

``unsat`` proves the rule at that typing; ``sat`` gives a counterexample (inputs, the
registers' free bits, the incoming flags, both results); ``unknown`` (a timeout) is
reported as unproven and fails the run like a refutation.  A rule whose spec says
``unproven: REASON`` (a query Z3 cannot finish, such as an f64 fused multiply-add) is not
sent to Z3: its queries count as *assumed*, listed with the reason before the summary
line, which says how many there are.

A root opcode flagged ``nan_any`` in ir.yaml (arithmetic whose NaN results may be any NaN)
has its float results compared as "the same bits, or both NaN"; all other results,
including those of the bitwise float operations (fneg, fabs, fcopysign, bitcast, loads,
stores, select), are compared bit for bit.

Proofs are cached in ``.heron-cache/verify/`` (or ``$HERON_CACHE_DIR``) under a hash
of everything the query reads: the rule's YAML, the YAML of the instructions it emits,
the ISA's state, enums, addressing forms and register classes, the value classes, the
IR opcodes (and formats and enums) of its pattern, the typing, the enum values and the
source of the verifier itself (this module, :mod:`heron.meta.smt`, the DSL, the spec
loaders).  Only proofs are cached; the cache is never needed (``--no-cache``).

This module and :mod:`heron.meta.smt` are the only ones importing z3; nothing but
``heron meta verify`` (and tests) imports them.

Example::

    >>> from heron.meta.isa import load_isa
    >>> isa = load_isa("x86_64")
    >>> q = queries_for(isa, isa.rules["iadd_rr"])[2]
    >>> q.label, check_query(q).status
    ('i32', 'proved')
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import z3

from heron.errors import HeronError
from heron.meta import smt
from heron.meta.dsl import typed as t
from heron.meta.dsl.check import BV, EnumImm, FlagsImm, TrapCodeImm
from heron.meta.isa.instructions import FAULT
from heron.meta.isa.rules import value_class
from heron.meta.isa.model import ISA, EnumArg, ImmArg, LabelArg, MemArg, RegArg, Rule, RuleInstance, TrapArg

__all__ = ["Query", "Outcome", "queries_for", "check_query", "verify", "run_verify", "cache_dir", "DEFAULT_TIMEOUT_MS"]

DEFAULT_TIMEOUT_MS = 30_000
_ROOT = Path(__file__).resolve().parent


# -- queries ---------------------------------------------------------------------------------


@dataclass
class Query:
    """One Z3 query: a rule instance (one typing) at one choice of its enum immediates."""

    isa: ISA
    instance: RuleInstance
    enum_values: dict[str, str]  # pattern variable -> IR enum value name

    @property
    def rule(self) -> Rule:
        return self.instance.rule

    @property
    def label(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.enum_values.items())
        return f"{self.instance.label}, {extra}" if extra else self.instance.label

    def cache_key(self) -> str:
        return _cache_key(self)


@dataclass
class Outcome:
    """``status``: 'proved', 'refuted' (``counterexample`` set) or 'unknown' (``reason``)."""

    status: str
    seconds: float = 0.0
    cached: bool = False
    reason: str = ""
    counterexample: dict[str, Any] | None = None

    def describe(self) -> str:
        if self.status == "refuted" and self.counterexample is not None:
            return format_counterexample(self.counterexample)
        return f"    {self.status}" + (f": {self.reason}" if self.reason else "")


def queries_for(isa: ISA, rule: Rule) -> list[Query]:
    out = []
    for inst in rule.instances:
        names = [v for v, _, _ in inst.enum_vars]
        choices = [values for _, _, values in inst.enum_vars]
        for combo in itertools.product(*choices):
            out.append(Query(isa, inst, dict(zip(names, combo))))
    return out


# -- building the claim ------------------------------------------------------------------------


def _fit(term: z3.BitVecRef, bits: int) -> z3.BitVecRef:
    n = term.size()
    if n == bits:
        return term
    return z3.Extract(bits - 1, 0, term) if n > bits else z3.ZeroExt(bits - n, term)


def _bit_of(b: z3.BoolRef) -> z3.BitVecRef:
    return z3.If(b, z3.BitVecVal(1, 1), z3.BitVecVal(0, 1))


def _is_true(v: z3.BitVecRef) -> z3.BoolRef:
    return v == z3.BitVecVal(1, 1)


class _Builder:
    """Builds the Z3 terms of one query; ``show`` collects what a counterexample prints."""

    def __init__(self, q: Query) -> None:
        self.q = q
        self.isa = q.isa
        self.inst = q.instance
        self.codes: dict[str, int] = {}
        self.show: dict[str, Any] = {"inputs": {}, "registers": {}, "state": {}, "ir": {}, "machine": {}}
        self.obligations: list[tuple[z3.BoolRef, str]] = []
        self.mem0 = z3.Array("mem", z3.BitVecSort(self.isa.pointer_bits), z3.BitVecSort(8))
        # Memory footprints: (address, bytes) the IR touches and the machine code reads.
        self.ir_touches: list[tuple[Any, int]] = []
        self.m_reads: list[tuple[Any, int]] = []

    def code_id(self, code: str) -> int:
        return self.codes.setdefault(code, len(self.codes) + 1)

    def first_trap(self, traps: list[tuple[z3.BoolRef, str]]) -> z3.BitVecRef:
        """The code of the first trap that fires (0: none), as a term."""
        term: Any = z3.BitVecVal(0, 16)
        for cond, code in reversed(traps):
            term = z3.If(cond, z3.BitVecVal(self.code_id(code), 16), term)
        return term

    def build(self) -> tuple[z3.BoolRef, dict[str, Any]]:
        """The claim (true for all inputs iff the rule is right here) and the terms to show."""
        leaves, imms = self.inputs()
        ir_out, ir_traps, mem_ir = self.ir_side(leaves, imms)
        imm_env = {n: v for n, v in imms.items() if z3.is_bv(v)}
        for name, value in self.inst.lets.items():
            if not isinstance(value, int):
                imm_env[name] = smt.smt_expr(value, imm_env)
        assume = z3.BoolVal(True) if self.inst.when is None else _is_true(smt.smt_expr(self.inst.when, imm_env))
        regs, m_traps, mem_m, branches = self.machine_side(leaves, imm_env)
        claim = self.claim(ir_out, ir_traps, mem_ir, regs, m_traps, mem_m, branches)
        same = _same_addresses(assume, _store_addresses(mem_ir), _store_addresses(mem_m))
        if same:
            claim = z3.substitute(claim, *same)
        return z3.Implies(assume, claim), self.show

    def inputs(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Fresh leaf values (IR widths) and bound immediates (their kinds)."""
        inst = self.inst
        leaves = {v: z3.BitVec(v, ty.bits) for v, ty in inst.value_vars.items()}
        imms: dict[str, Any] = {}
        for name, kind in inst.imm_vars.items():
            if isinstance(kind, BV):
                imms[name] = z3.BitVec(name, kind.width)
            elif isinstance(kind, EnumImm):
                imms[name] = [v[0] for v in kind.values].index(self.q.enum_values[name])
            elif isinstance(kind, FlagsImm):
                imms[name] = z3.Bool(f"{name}.big")
            elif isinstance(kind, TrapCodeImm):
                imms[name] = f"${name}"  # the same symbolic code on both sides
        for v, term in leaves.items():
            self.show["inputs"][v] = (term, inst.value_vars[v].bits)
        for name, term in imms.items():
            if z3.is_bv(term):
                self.show["inputs"][name] = (term, term.size())
        return leaves, imms

    def ir_side(self, leaves: dict[str, Any], imms: dict[str, Any]) -> tuple[dict[str, Any], list, Any]:
        """The pattern's nodes composed, producers first: root outputs, traps, memory."""
        mem = self.mem0
        traps: list[tuple[z3.BoolRef, str]] = []
        results: list[Any] = []
        outputs: dict[str, Any] = {}
        for node in self.inst.nodes:
            env: dict[str, Any] = {}
            for name, (src, value) in node.inputs.items():
                if src == "var":
                    env[name] = leaves[value] if value in leaves else imms[value]
                elif src == "node":
                    env[name] = results[value]
                elif src == "lit":
                    env[name] = value
                else:  # wild: a fresh variable
                    env[name] = None
            ev = smt.smt_eval(node.program, env, memory=mem, prefix=f"{node.opcode}{len(results)}.")
            mem = ev.memory if ev.memory is not None else mem
            self.ir_touches += ev.reads + ev.writes
            traps += ev.traps
            outputs = ev.outputs
            results.append(ev.outputs[node.program.outputs[0][0]] if node.program.outputs else None)
        return outputs, traps, mem

    def machine_side(self, leaves: dict[str, Any], imm_env: dict[str, Any]) -> tuple[dict[str, Any], list, Any, list]:
        """The emitted instructions run in order: registers, traps, memory, taken branches."""
        isa, inst = self.isa, self.inst
        regs: dict[str, Any] = {}
        for v, term in leaves.items():
            ty = inst.value_vars[v]
            bits = isa.classes[value_class(isa, ty)].bits  # type: ignore[index]
            if inst.parts[v] == 1:
                regs[v] = term if ty.bits == bits else z3.Concat(z3.BitVec(f"{v}.high", bits - ty.bits), term)
                if ty.bits != bits:
                    self.show["registers"][v] = (regs[v], bits)
            else:
                regs[f"{v}.lo"] = z3.Extract(bits - 1, 0, term)
                hi = z3.Extract(ty.bits - 1, bits, term)
                regs[f"{v}.hi"] = hi if hi.size() == bits else z3.Concat(z3.BitVec(f"{v}.hi.high", 2 * bits - ty.bits), hi)
        state = {n: z3.BitVec(f"{n}.in", s.bits) for n, s in isa.state.items()}
        self.show["state"] = dict(state)
        mem = self.mem0
        traps: list[tuple[z3.BoolRef, str]] = []
        branches: list[tuple[Any, str]] = []
        for em in inst.emits:
            v = em.variant
            inputs: dict[str, Any] = dict(state)
            for op in v.inst.operands:
                a = em.args[op.name]
                what = f"{v.name} {op.name}"
                if isinstance(a, RegArg):
                    if not op.is_def:
                        inputs[op.name] = regs[a.key]
                elif isinstance(a, ImmArg):
                    inputs[op.name] = self.imm_term(a, imm_env, op.imm, what)
                elif isinstance(a, MemArg):
                    inputs[op.name] = self.address(a, regs, imm_env, what)
                elif isinstance(a, EnumArg):
                    value = a.value if a.value is not None else inst.rule.maps[a.map][self.q.enum_values[a.var]]  # type: ignore[index]
                    inputs[op.name] = isa.enums[op.enum].index(value)  # type: ignore[index]
                elif isinstance(a, TrapArg):
                    inputs[op.name] = a.code if a.code is not None else f"${a.var}"
            ev = smt.smt_eval(v.program, inputs, memory=mem)
            mem = ev.memory if ev.memory is not None else mem
            self.m_reads += ev.reads
            traps += ev.traps
            for op in v.inst.operands:
                a = em.args[op.name]
                if op.kind == "reg" and op.is_def:
                    regs[a.key] = ev.outputs[op.name]  # type: ignore[union-attr]
                if isinstance(a, LabelArg):
                    branches.append((ev.outputs["taken"], a.target))
            for n in state:
                if n in ev.outputs:
                    state[n] = ev.outputs[n]
                elif n in v.inst.clobbers:
                    state[n] = z3.FreshConst(z3.BitVecSort(isa.state[n].bits), f"{n}.clobbered")
        return regs, traps, mem, branches

    def claim(self, ir_out: dict[str, Any], ir_traps: list, mem_ir: Any, regs: dict[str, Any], m_traps: list, mem_m: Any, branches: list) -> z3.BoolRef:
        """Same first trap; without a trap the same results, memory and destination."""
        inst = self.inst
        ir_code, m_code = self.first_trap(ir_traps), self.first_trap(m_traps)
        same: list[z3.BoolRef] = []
        # The root opcode says whether a NaN result may be any NaN (ir.yaml's `nan_any`);
        # everything else, bitwise float operations included, is compared bit for bit.
        nan_any = "nan_any" in self.isa.ir.spec.opcode(inst.nodes[-1].opcode).flags
        for out, ir_name, ty in inst.results:
            ir_val = ir_out[ir_name]
            if inst.parts[out] == 1:
                m_val = _fit(regs[out], ty.bits)
            else:
                lo, hi = regs[f"{out}.lo"], regs[f"{out}.hi"]
                m_val = z3.Concat(_fit(hi, ty.bits - lo.size()), lo)
            if nan_any and ty.is_float and not ty.is_vector:
                same.append(smt.same_or_both_nan(ir_val, m_val))
            else:
                same.append(ir_val == m_val)
            self.show["ir"][out] = (ir_val, ty.bits)
            self.show["machine"][out] = (m_val, ty.bits)
        if mem_ir is not self.mem0 or mem_m is not self.mem0:
            probe = z3.BitVec("probe", self.isa.pointer_bits)
            a, b = z3.Select(mem_ir, probe), z3.Select(mem_m, probe)
            same.append(a == b)
            self.show["memory"] = (probe, z3.Select(self.mem0, probe), a, b)
        if self.m_reads:
            # Every machine read lies within one access of the IR: a wider load would
            # agree on the bits it keeps yet fault past the end of a mapping.
            bits = self.isa.pointer_bits
            inside = []
            for addr, n in self.m_reads:
                a = _fit(addr, bits)
                fits = [z3.ULE(a - _fit(b, bits), m - n) for b, m in self.ir_touches if m >= n]
                ok = z3.Or(*fits) if fits else z3.BoolVal(False)
                inside.append(ok)
                self.show.setdefault("footprint", []).append((a, n, _bit_of(ok)))
            same.append(z3.And(*inside))
        if inst.is_branch:
            then, else_ = inst.destinations  # the IR branch: the first when taken
            ids = {then: 1, else_: 2}
            ir_dest: Any = z3.If(_is_true(ir_out["taken"]), z3.BitVecVal(1, 4), z3.BitVecVal(2, 4))
            m_dest: Any = z3.BitVecVal(0, 4)  # no branch taken: falls through, which no IR branch does
            for taken, target in reversed(branches):
                m_dest = z3.If(_is_true(taken), z3.BitVecVal(ids[target], 4), m_dest)
            same.append(ir_dest == m_dest)
            self.show["dest"] = (ir_dest, m_dest)
        self.show["trap"] = (ir_code, m_code)
        self.show["codes"] = {i: c for c, i in self.codes.items()}
        self.show["obligations"] = self.obligations
        return z3.And(*[c for c, _ in self.obligations], ir_code == m_code, z3.Implies(ir_code == 0, z3.And(*same)))

    def imm_term(self, a: ImmArg, env: dict[str, Any], kind: Any, what: str) -> z3.BitVecRef:
        """An immediate operand's value at the operand's width (a set kind adds an obligation)."""
        if isinstance(a.expr, int):
            return z3.BitVecVal(a.expr & ((1 << a.bits) - 1), a.bits)
        term = _fit(smt.smt_expr(a.expr, env), a.bits)
        if kind is not None and kind.values is not None:
            self.obligations.append((z3.Or(*[term == v for v in kind.values]), f"{what} in {list(kind.values)}"))
        return term

    def address(self, a: MemArg, regs: dict[str, Any], env: dict[str, Any], what: str) -> z3.BitVecRef:
        form = self.isa.addressing[a.form]
        fields: dict[str, Any] = {}
        for f in form.fields:
            value = dict(a.fields)[f.name]
            if f.kind == "reg":
                bits = self.isa.classes[f.regclass].bits  # type: ignore[index]
                fields[f.name] = regs[value.key] if value is not None else z3.BitVecVal(0, bits)
            else:
                fields[f.name] = self.imm_term(value, env, f.imm, f"{what}.{f.name}")
        return smt.smt_expr(form.address, fields)


# -- solving and counterexamples --------------------------------------------------------------


def _value(model: z3.ModelRef, term: Any) -> int | None:
    v = model.eval(term, model_completion=True)
    if z3.is_bv_value(v):
        return v.as_long()
    if z3.is_true(v):
        return 1
    if z3.is_false(v):
        return 0
    return None


_ADDRESS_PROOF_MS = 2_000


def _store_addresses(mem: Any) -> list[Any]:
    """The addresses a memory term was written at, in program order."""
    out = []
    while z3.is_store(mem):
        mem, at, _ = mem.children()
        out.append(at)
    return out[::-1]


def _same_addresses(assume: z3.BoolRef, ir_addrs: list[Any], m_addrs: list[Any]) -> list[tuple[Any, Any]]:
    """Pairs (machine address, IR address) of stores that write the same place computed
    two ways, each proven equal under ``assume`` by a small query of its own.

    The memory claim compares both memories at a free probe address; when the machine
    computes a store's address differently (``lui`` + ``addiw`` + ``add`` for
    ``p + sext(offset)``, or a displacement folded from ``iadd p (iconst k)``), Z3 must
    relate the two addresses inside the probe comparisons and does not finish, although
    the equality alone is instant.  Replacing each machine address by its proven IR twin
    (sound: they are equal wherever the claim is asked) leaves only identical addresses.
    """
    known = {a.get_id() for a in ir_addrs}
    pairs = []
    for i, b in enumerate(m_addrs):
        if b.get_id() in known:
            continue
        for j in sorted(range(len(ir_addrs)), key=lambda j: abs(j - i)):  # the same position first
            a = ir_addrs[j]
            if a.sort() != b.sort():
                continue
            solver = z3.Solver()
            solver.set(timeout=_ADDRESS_PROOF_MS)
            solver.add(assume, a != b)
            if solver.check() == z3.unsat:
                pairs.append((b, a))
                break
    return pairs


def _expand_memory(term: z3.ExprRef) -> z3.ExprRef:
    """Rewrite every read of a written memory, ``Select(Store(m, a, v), p)``, into
    ``If(p == a, v, Select(m, p))``: only reads of the initial memory remain.  Z3's array
    solver is slow when the two sides compute the same address differently; the
    bit-vector form it solves at once."""
    memo: dict[int, z3.ExprRef] = {}

    def read(mem: z3.ExprRef, index: z3.ExprRef) -> z3.ExprRef:
        if z3.is_store(mem):
            inner, at, value = mem.children()
            return z3.If(index == at, value, read(inner, index))
        return z3.Select(mem, index)

    def rebuild(e: z3.ExprRef) -> z3.ExprRef:
        key = e.get_id()
        if key not in memo:
            if not z3.is_app(e) or e.num_args() == 0:
                memo[key] = e
            else:
                kids = [rebuild(c) for c in e.children()]
                memo[key] = read(kids[0], kids[1]) if z3.is_select(e) else e.decl()(*kids)
        return memo[key]

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        return rebuild(term)
    finally:
        sys.setrecursionlimit(limit)


def check_query(q: Query, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Outcome:
    """Solve one query (no cache)."""
    start = time.perf_counter()
    claim, show = _Builder(q).build()
    if "memory" in show:  # something stores
        claim = _expand_memory(claim)
        show = _expand_show(show, _expand_memory)
    # QF_BV's tactic does not know the floating-point theory: with fpAdd & co. in the
    # claim it finds "counterexamples" that are none.  Float claims get the FP logics.
    floats = _has_floats(claim)
    logic = ("QF_ABVFP" if floats else "QF_ABV") if "memory" in show else ("QF_FPBV" if floats else "QF_BV")
    solver = z3.SolverFor(logic)
    solver.set(timeout=timeout_ms)
    solver.add(z3.Not(claim))
    result = solver.check()
    seconds = time.perf_counter() - start
    if result == z3.unsat:
        return Outcome("proved", seconds)
    if result == z3.unknown:
        return Outcome("unknown", seconds, reason=f"the solver gave up ({solver.reason_unknown()})")
    return Outcome("refuted", seconds, counterexample=_counterexample(q, solver.model(), show))


def _has_floats(term: z3.ExprRef) -> bool:
    """Whether ``term`` has a floating-point subterm (any node of an FP sort)."""
    seen: set[int] = set()
    todo = [term]
    while todo:
        e = todo.pop()
        if e.get_id() in seen:
            continue
        seen.add(e.get_id())
        if z3.is_fp(e):
            return True
        if z3.is_app(e):
            todo.extend(e.children())
    return False


def _expand_show(show: dict[str, Any], expand: Any) -> dict[str, Any]:
    """The counterexample terms, rewritten like the claim (so the model evaluates them)."""
    out = dict(show)
    for key in ("inputs", "registers", "ir", "machine"):
        out[key] = {k: (expand(t), b) for k, (t, b) in show[key].items()}
    if "memory" in show:
        out["memory"] = tuple(expand(t) for t in show["memory"])
    out["trap"] = tuple(expand(t) for t in show["trap"])
    if "dest" in show:
        out["dest"] = tuple(expand(t) for t in show["dest"])
    if "footprint" in show:
        out["footprint"] = [(expand(a), n, expand(ok)) for a, n, ok in show["footprint"]]
    out["obligations"] = [(expand(c), w) for c, w in show["obligations"]]
    return out


def _counterexample(q: Query, model: z3.ModelRef, show: dict[str, Any]) -> dict[str, Any]:
    codes = show["codes"]

    def code(term: Any) -> str | None:
        n = _value(model, term)
        return None if not n else codes[n].lstrip("$")

    cex: dict[str, Any] = {
        "rule": q.rule.name,
        "isa": q.isa.name,
        "label": q.label,
        "inputs": {k: (_value(model, t), bits) for k, (t, bits) in show["inputs"].items()},
        "registers": {k: (_value(model, t), bits) for k, (t, bits) in show["registers"].items()},
        "state": {k: _value(model, t) for k, t in show["state"].items()},
        "ir": {k: (_value(model, t), bits) for k, (t, bits) in show["ir"].items()},
        "machine": {k: (_value(model, t), bits) for k, (t, bits) in show["machine"].items()},
        "ir_trap": code(show["trap"][0]),
        "machine_trap": code(show["trap"][1]),
        "enum_values": dict(q.enum_values),
        "broken": [what for cond, what in show["obligations"] if not _value(model, cond)],
    }
    if "memory" in show:
        cex["memory"] = tuple(_value(model, term) for term in show["memory"])
    if "footprint" in show:
        cex["footprint"] = [(_value(model, a), n, _value(model, ok)) for a, n, ok in show["footprint"]]
    if "dest" in show:
        then, else_ = q.instance.destinations
        names = {0: "the next instruction (no branch taken)", 1: then, 2: else_}
        cex["dest"] = (names[_value(model, show["dest"][0])], names[_value(model, show["dest"][1])])
    return cex


def _num(value: int | None, bits: int) -> str:
    if value is None:
        return "?"
    digits = max(1, (bits + 3) // 4)
    text = f"{value:#0{digits + 2}x}"
    signed = value - (1 << bits) if bits > 1 and value >> (bits - 1) else value
    return f"{text} ({value})" if signed == value else f"{text} ({value}, signed {signed})"


def format_counterexample(cex: dict[str, Any]) -> str:
    """The text `heron meta verify` prints for a refuted query."""
    lines = []
    if cex["inputs"]:
        lines.append("    inputs:   " + ", ".join(f"{k} = {_num(v, b)}" for k, (v, b) in cex["inputs"].items()))
    if cex["registers"]:
        lines.append("    in registers (free high bits): " + ", ".join(f"{k} = {_num(v, b)}" for k, (v, b) in cex["registers"].items()))
    if cex["state"]:
        lines.append("    state in: " + " ".join(f"{k}={v}" for k, v in cex["state"].items()))
    trap_ir, trap_m = cex["ir_trap"], cex["machine_trap"]
    if trap_ir != trap_m:
        lines.append(f"    IR:       {'traps ' + trap_ir if trap_ir else 'does not trap'}")
        lines.append(f"    machine:  {('faults' if trap_m == FAULT else 'traps ' + trap_m) if trap_m else 'does not trap'}")
    else:
        if trap_ir:
            lines.append(f"    both trap {trap_ir}")
        for k, (v, b) in cex["ir"].items():
            mv, _ = cex["machine"][k]
            lines.append(f"    IR:       {k} = {_num(v, b)}")
            lines.append(f"    machine:  {k} = {_num(mv, b)}")
        if "dest" in cex:
            lines.append(f"    IR goes to {cex['dest'][0]}; machine goes to {cex['dest'][1]}")
        for addr, n, ok in cex.get("footprint", []):
            if not ok:
                lines.append(f"    the machine code reads {n} bytes at {addr:#x}, beyond what the IR loads or stores")
        if "memory" in cex:
            addr, before, a, b = cex["memory"]
            if a != b:
                lines.append(f"    memory at {addr:#x}: before {_num(before, 8)}, after the IR {_num(a, 8)}, after the machine code {_num(b, 8)}")
    for what in cex["broken"]:
        lines.append(f"    immediate out of its set: {what}")
    return "\n".join(lines)


# -- caching ---------------------------------------------------------------------------------------


def cache_dir() -> Path:
    env = os.environ.get("HERON_CACHE_DIR")
    return Path(env) / "verify" if env else _ROOT.parent / ".heron-cache" / "verify"


_VERSION: list[str] = []


def _verifier_version() -> str:
    """A hash of the verifier's own source: changing how proofs are built invalidates them."""
    if not _VERSION:
        h = hashlib.sha256()
        files = [_ROOT / "verify.py", _ROOT / "smt.py", _ROOT / "patterns.py", _ROOT / "irtypes.py"]
        files += sorted((_ROOT / "dsl").glob("*.py")) + sorted((_ROOT / "isa").glob("*.py"))
        for p in files:
            h.update(p.read_bytes())
        h.update(z3.get_version_string().encode())
        _VERSION.append(h.hexdigest())
    return _VERSION[0]


def _canon(x: Any) -> Any:
    if isinstance(x, dict):
        return [[repr(k), _canon(v)] for k, v in x.items()]
    if isinstance(x, list):
        return [_canon(v) for v in x]
    return repr(x)


def _cache_key(q: Query) -> str:
    isa, inst = q.isa, q.instance
    spec = isa.ir.spec
    isa_doc = isa.raw["isa.yaml"]
    used = sorted({em.variant.inst.name for em in inst.emits})
    opcodes = sorted({n.opcode for n in inst.nodes})
    parts = {
        "version": _verifier_version(),
        "isa": isa.name,
        "rule": _canon(inst.rule.raw),
        "instructions": [_canon(isa.raw["instructions.yaml"]["instructions"][n]) for n in used],
        "machine": [_canon(isa_doc[k]) for k in ("pointer_bits", "register_classes", "state", "enums", "addressing")],
        "value_classes": _canon(isa.raw["rules.yaml"]["value_classes"]),
        "ir": [[_canon(spec.opcode(o).raw), repr(spec.formats[spec.opcode(o).format])] for o in opcodes],
        "ir_enums": repr(spec.enums),
        "typing": q.label,
    }
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _cached(key: str) -> bool:
    return (cache_dir() / key[:2] / key).exists()


def _remember(key: str) -> None:
    path = cache_dir() / key[:2] / key
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("proved\n")
    except OSError:
        pass  # a read-only checkout still verifies; it just does not remember


# -- the run ------------------------------------------------------------------------------------------


class _Progress:
    """One updating line on a terminal; a plain line per rule otherwise (both on stderr)."""

    def __init__(self, total: int, stream: Any = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.done = 0

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def step(self, rule: str, label: str) -> None:
        if self.tty:
            text = f"[{self.done}/{self.total}] {rule} {label}  {self.elapsed():.1f} s"
            self.stream.write("\r" + text[:150] + "\x1b[K")
            self.stream.flush()

    def rule_done(self, rule: str, queries: int, bad: int) -> None:
        if not self.tty:
            status = "ok" if not bad else f"{bad} FAILED"
            self.stream.write(f"[{self.done}/{self.total}] {rule}: {queries} queries {status}  {self.elapsed():.1f} s\n")
            self.stream.flush()

    def clear(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


@dataclass
class Report:
    rules: int = 0
    queries: int = 0
    failed: int = 0
    unproven: int = 0
    seconds: float = 0.0
    results: list[tuple[Query, Outcome]] = field(default_factory=list)
    assumed: list[tuple[str, Rule, int]] = field(default_factory=list)  # (isa, rule, queries) not sent to Z3

    def summary(self) -> str:
        n = sum(q for _, _, q in self.assumed)
        extra = f", {n} assumed" if n else ""
        return (
            f"verified {self.rules} rules ({self.queries} queries), {self.failed} failed, "
            f"{self.unproven} unproven{extra} in {self.seconds:.1f} s"
        )

    def assumed_lines(self) -> list[str]:
        """One line per rule marked `unproven:` in its spec, with the reason it gives."""
        return [f"{isa}: {q} assumed: rule {r.name} ({r.file}:{r.line}) -- {r.unproven}" for isa, r, q in self.assumed]


def verify(
    isas: list[ISA],
    rule: str | None = None,
    use_cache: bool = True,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    out: Any = None,
    progress: Any = None,
) -> Report:
    """Verify the rules of ``isas`` (only ``rule`` if given); failures are printed to ``out``."""
    out = out if out is not None else sys.stdout
    selected = [(isa, r) for isa in isas for r in isa.rules.values() if rule is None or r.name == rule]
    if rule is not None and not selected:
        raise HeronError(f"heron meta verify: no rule named '{rule}'")
    work = [(isa, r, queries_for(isa, r)) for isa, r in selected]
    report = Report(rules=len(selected))
    bar = _Progress(sum(len(qs) for _, _, qs in work), progress)
    for isa, r, qs in work:
        bad = 0
        if r.unproven:  # the spec says why Z3 cannot prove it: counted and listed, not run
            report.assumed.append((isa.name, r, len(qs)))
            bar.done += len(qs)
            bar.rule_done(r.name, len(qs), 0)
            continue
        for q in qs:
            bar.step(r.name, q.label)
            key = q.cache_key() if use_cache else ""
            if use_cache and _cached(key):
                outcome = Outcome("proved", cached=True)
            else:
                outcome = check_query(q, timeout_ms)
                if use_cache and outcome.status == "proved":
                    _remember(key)
            bar.done += 1
            report.queries += 1
            report.results.append((q, outcome))
            if outcome.status != "proved":
                bad += 1
                if outcome.status == "refuted":
                    report.failed += 1
                else:
                    report.unproven += 1
                bar.clear()
                word = "REFUTED" if outcome.status == "refuted" else "UNPROVEN"
                print(f"{isa.name}: rule {r.name} at {q.label}: {word}", file=out)
                print(f"  {r.file}:{r.line}", file=out)
                print(outcome.describe(), file=out)
                out.flush()
        bar.rule_done(r.name, len(qs), bad)
    bar.clear()
    report.seconds = bar.elapsed()
    for line in report.assumed_lines():
        print(line, file=out)
    return report


def run_verify(args: Any) -> int:
    """The ``heron meta verify`` command: ``args`` has isa, rule, specs, no_cache, timeout."""
    from heron.meta.irspec import default_specs_dir
    from heron.meta.isa import ir_semantics, isa_folders, load_isa_folder

    specs = Path(args.specs) if args.specs is not None else default_specs_dir()
    if not specs.is_dir():
        raise HeronError(f"heron meta verify: no spec folder {specs}")
    ir_yaml = specs / "ir.yaml" if (specs / "ir.yaml").exists() else default_specs_dir() / "ir.yaml"
    ir = ir_semantics(ir_yaml)
    folders = isa_folders(specs)
    if not folders:
        raise HeronError(f"heron meta verify: no ISA folder (a folder with an isa.yaml) in {specs}")
    if args.isa is not None:
        folders = [f for f in folders if f.name == args.isa]
        if not folders:
            raise HeronError(f"heron meta verify: no ISA '{args.isa}' in {specs}")
    isas = [load_isa_folder(f, ir) for f in folders]
    timeout = args.timeout if args.timeout is not None else DEFAULT_TIMEOUT_MS
    report = verify(isas, args.rule, use_cache=not args.no_cache, timeout_ms=timeout)
    bad_templates = 0
    if args.rule is None:
        # The framework templates with a claim of their own (heron.meta.verify_templates).
        from heron.meta.verify_templates import verify_templates

        for isa in isas:
            results = verify_templates(isa, timeout)
            for label, result in results:
                if not result:
                    bad_templates += 1
                    print(f"{isa.name}: template {label}: {'REFUTED' if result.status == 'refuted' else 'UNPROVEN'}: {result}")
            if results:
                print(f"{isa.name}: {len(results) - bad_templates} of {len(results)} template claims proved", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed or report.unproven or bad_templates else 0
