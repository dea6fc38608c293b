"""The mutation operators and the screens that exclude edits which cannot change a rule
(see :mod:`heron.meta.mutate` for what a mutant is and how it is run).

Each operator reads the loaded model of a rule (its YAML, its instances) and yields
:class:`Mutant` edits; :func:`mutants` collects them for an ISA.

Example::

    >>> from heron.meta.isa import load_isa
    >>> ms = mutants(load_isa("x86_64"))
    >>> len(ms) > 1000, sorted({m.operator for m in ms}) == sorted(OPERATORS)
    (True, True)
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field, fields, is_dataclass
from itertools import combinations
from typing import Any, Callable, Iterator

from heron.meta import smt, verify
from heron.meta.dsl import ast
from heron.meta.dsl import typed as t
from heron.meta.dsl.check import BV
from heron.meta.dsl.parser import parse_expression
from heron.meta.isa.model import ISA, ImmArg, PatNode, PatVar, Rule, RuleInstance, Variant
from heron.meta.mutate_text import _int_expr, _literals, _nth_literal, _replace_literal, pattern_text, unparse
from heron.meta.patterns import enum_of_kind, iter_nodes, literal_of, pattern_args
from heron.meta.yamlload import LDict, LList

__all__ = ["OPERATORS", "COUNTED", "STATUSES", "DEFAULT_TIMEOUT_MS", "SEED", "Mutant", "MutantResult", "MutationReport", "mutants"]

OPERATORS: dict[str, str] = {
    "swap_operands": "two register uses of an emitted instruction that do not commute trade places",
    "swap_pattern": "two value arguments of a non-commutative IR opcode in the match trade places",
    "sibling": "an emitted instruction becomes another of the same operand shape",
    "condition": "a fixed condition takes another value (an ISA enum operand, an IR enum literal of the match)",
    "param": "each emitted variant takes the next or previous value of a param (size, from)",
    "when_bound": "a literal of the when predicate moves by one, admitting more immediates",
    "immediate": "a constant of an emitted immediate, memory field or let moves by one or is negated",
    "drop_extension": "a zero/sign extension is removed and its output rewired to its input",
    "drop_instruction": "another instruction is removed where the data flow allows",
    "map_entry": "a map sends one IR enum value to a different ISA enum value",
}
# Statuses of a mutant; the score counts the first three.  A mutant is killed when the
# verifier rejects it: a refuted query, or an unproven one (the solver gave up, which
# fails `heron meta verify` as well; the report counts those apart).
COUNTED = ("killed", "unproven", "survived")
STATUSES = COUNTED + ("malformed", "unchanged", "excluded")
# Per query.  Below `heron meta verify`'s 30 s: a slow query only turns a refutation into
# an unproven query, which kills the mutant just the same.
DEFAULT_TIMEOUT_MS = 10_000
_SCREEN_TIMEOUT_MS = 2_000  # per proof of a screen; a timeout only means "verify it"
SEED = 20_250_501

_EXTENSION_OPS = frozenset({"zext", "sext", "extract"})
# Sibling instructions compute in the same family (and have the same operands).
_STRUCTURAL = frozenset({"zext", "sext", "extract", "concat", "ite", "undef"})
_FAMILIES = {
    **dict.fromkeys(("add", "sub", "neg"), "arithmetic"),
    **dict.fromkeys(("and", "or", "xor", "not"), "logic"),
    **dict.fromkeys(("shl", "lshr", "ashr", "rotl", "rotr"), "shift"),
    **dict.fromkeys(("mul", "umulhi", "smulhi"), "multiply"),
    **dict.fromkeys(("udiv", "sdiv", "urem", "srem"), "divide"),
    **dict.fromkeys(("eq", "ne", "ult", "ule", "ugt", "uge", "slt", "sle", "sgt", "sge", "land", "lor", "lnot"), "compare"),
    **dict.fromkeys(("umin", "umax", "smin", "smax"), "minmax"),
    **dict.fromkeys(("clz", "ctz", "cls", "popcnt", "bswap", "bitrev"), "bits"),
}

Screen = Callable[[RuleInstance, RuleInstance], "str | None"]


# -- mutants --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    """One edit of one rule.  ``edit`` changes a deep copy of the rule's YAML mapping;
    ``screen(original, mutated)`` gives a reason when, at that typing, the edit provably
    changes nothing the verifier could see (else None)."""

    isa: str
    rule: str
    operator: str
    site: str  # where and what, without spaces: 'emit1.jcc.cc:ne->a'
    edit: Callable[[LDict], None] = field(repr=False, compare=False)
    screen: Screen | None = field(default=None, repr=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.isa}/{self.rule}/{self.operator}/{self.site}"


@dataclass
class MutantResult:
    """``status`` is one of :data:`STATUSES`; ``detail`` the refuted query, the loader's
    error or the reason of an exclusion."""

    mutant: Mutant
    status: str
    detail: str = ""
    queries: int = 0
    seconds: float = 0.0
    sampled: bool = True


@dataclass
class MutationReport:
    results: list[MutantResult] = field(default_factory=list)
    candidates: int = 0
    seconds: float = 0.0

    def sampled(self) -> list[MutantResult]:
        return [r for r in self.results if r.sampled]

    def counted(self) -> list[MutantResult]:
        return [r for r in self.sampled() if r.status in COUNTED]

    def killed(self) -> list[MutantResult]:
        """The counted mutants the verifier rejects (refuted or unproven)."""
        return [r for r in self.counted() if r.status != "survived"]

    def unproven(self) -> list[MutantResult]:
        return [r for r in self.counted() if r.status == "unproven"]

    def survivors(self) -> list[MutantResult]:
        """Every mutant run (sampled or not) that the verifier proves."""
        return [r for r in self.results if r.status == "survived"]

    def score(self) -> float:
        n = len(self.counted())
        return 100.0 * len(self.killed()) / n if n else 100.0

    def score_line(self, explained: int) -> str:
        n, k = len(self.counted()), len(self.killed())
        return f"mutation score: {k}/{n} killed ({self.score():.1f}%), {explained} survivors explained"

    def unproven_line(self) -> str:
        u = self.unproven()
        return f"{len(u)} of the killed were unproven (solver timeout), not refuted" + (": " + ", ".join(r.mutant.id for r in u) if u else "")

    def table(self) -> str:
        """Counts per operator and status, for the sampled mutants."""
        rows = Counter((r.mutant.operator, r.status) for r in self.sampled())
        head = f"{'operator':18}" + "".join(f"{s:>10}" for s in STATUSES)
        lines = [head]
        for op in OPERATORS:
            lines.append(f"{op:18}" + "".join(f"{rows[(op, s)]:>10}" for s in STATUSES))
        lines.append(f"{'total':18}" + "".join(f"{sum(rows[(o, s)] for o in OPERATORS):>10}" for s in STATUSES))
        return "\n".join(lines)


# -- what the verifier reads of a query ----------------------------------------------------------------


def _key(x: Any) -> Any:
    """A complete, comparable description of a model value (typed expressions with their
    static attributes, which their repr leaves out)."""
    if isinstance(x, ImmArg):
        return ("imm", _key(x.expr), x.bits)
    if isinstance(x, Variant):
        return x.name
    if is_dataclass(x) and not isinstance(x, type):
        return (type(x).__name__,) + tuple(_key(getattr(x, f.name)) for f in fields(x))
    if isinstance(x, (list, tuple)):
        return tuple(_key(v) for v in x)
    if isinstance(x, dict):
        return tuple((k, _key(v)) for k, v in x.items())
    return x


def _instance_key(inst: RuleInstance) -> Any:
    return (
        tuple((n.opcode, _key(n.bindings), tuple(sorted(n.inputs.items()))) for n in inst.nodes),
        _key(inst.value_vars),
        tuple((k, type(v).__name__, getattr(v, "width", None), getattr(v, "enum", None)) for k, v in inst.imm_vars.items()),
        _key(inst.results),
        _key(inst.when),
        _key(inst.lets),
        tuple((e.variant.name, _key(e.args)) for e in inst.emits),
        tuple(sorted(inst.parts.items())),
        inst.is_branch,
        tuple(inst.destinations),
    )


def _query_key(q: verify.Query, memo: dict[int, Any]) -> Any:
    inst = q.instance
    if id(inst) not in memo:
        memo[id(inst)] = _instance_key(inst)
    maps = tuple(
        (a.map, q.rule.maps[a.map][q.enum_values[a.var]])
        for e in inst.emits
        for a in e.args.values()
        if getattr(a, "map", None) is not None
    )
    return memo[id(inst)], maps


# -- Z3 screens: edits that provably change nothing -------------------------------------------------------


_MEMO: dict[Any, bool] = {}


def _proved(result: smt.ProofResult) -> bool:
    return result.status == "proved"


def _same_runs(a: smt.SmtEval, b: smt.SmtEval, outputs: list[str]) -> bool:
    """The two runs trap alike and, when they do not, agree on ``outputs`` and memory."""
    if (a.memory is None) != (b.memory is None):
        return False
    if not _proved(smt.prove_equivalent(a, b, {n: n for n in outputs}, timeout_ms=_SCREEN_TIMEOUT_MS)):
        return False
    return a.memory is None or _proved(smt.prove_equal(a.memory, b.memory, timeout_ms=_SCREEN_TIMEOUT_MS))


def _commutes(prog: t.Program, x: str, y: str, fixed: dict[str, int] | None = None) -> bool:
    """Swapping inputs ``x`` and ``y`` changes no output, trap or store of ``prog`` (with
    the inputs of ``fixed`` given: ``icmp`` at ``eq`` commutes)."""
    fixed = fixed or {}
    key = ("commutes", id(prog), x, y, tuple(sorted(fixed.items())))
    if key not in _MEMO:
        kinds = dict(prog.inputs)
        if _key(kinds.get(x)) != _key(kinds.get(y)):
            _MEMO[key] = False
        else:
            a, b = smt.smt_eval(prog, fixed), smt.smt_eval(prog, {**fixed, x: y, y: x})
            _MEMO[key] = _same_runs(a, b, [n for n, _ in prog.outputs])
    return _MEMO[key]


def _same_effect(va: Variant, vb: Variant, consts: dict[str, int]) -> bool:
    """``vb`` writes what ``va`` writes, the same values, given the constant operands."""
    key = ("same", va.name, vb.name, tuple(sorted(consts.items())))
    if key not in _MEMO:
        out_a, out_b = {n for n, _ in va.program.outputs}, {n for n, _ in vb.program.outputs}
        if out_a != out_b or set(va.inst.clobbers) != set(vb.inst.clobbers) or dict(va.program.inputs).keys() != dict(vb.program.inputs).keys():
            _MEMO[key] = False
        else:
            a, b = smt.smt_eval(va.program, consts), smt.smt_eval(vb.program, consts)
            _MEMO[key] = _same_runs(a, b, sorted(out_a))
    return _MEMO[key]


def _admits_more(orig: RuleInstance, mut: RuleInstance) -> bool:
    """Some immediates satisfy the mutated ``when`` and not the original one."""
    one = t.Const(1, 1)
    w0, w1 = orig.when or one, mut.when or one
    wider = t.Op("land", (w1, t.Op("lnot", (w0,), 1)), 1)
    inputs = tuple((n, k) for n, k in mut.imm_vars.items() if isinstance(k, BV))
    prog = t.Program(inputs=inputs, outputs=(("wider", 1), ("none", 1)), stmts=(t.Assign("wider", wider, True), t.Assign("none", t.Const(0, 1), True)))
    ev = smt.smt_eval(prog)
    return not _proved(smt.prove_equal(ev.outputs["wider"], ev.outputs["none"], timeout_ms=_SCREEN_TIMEOUT_MS))


def _ir_side(inst: RuleInstance) -> Any:
    return _instance_key(inst)[:5] + (tuple(sorted(inst.parts.items())),)


def _machine_equivalent(qo: verify.Query, qm: verify.Query) -> bool:
    """The mutated instructions have the original's effect at this query: same trap,
    same result registers at their full width, same memory, same branches (for every
    register and flag content; an ``undef`` is never the same).  Valid only when the
    edit left the IR side and the predicate alone."""
    if _ir_side(qo.instance) != _ir_side(qm.instance) or qo.enum_values != qm.enum_values:
        return False
    bo, bm = verify._Builder(qo), verify._Builder(qm)  # the verifier's own two sides
    leaves, imms = bo.inputs()
    bm.inputs()
    runs = []
    for b in (bo, bm):
        env = {n: v for n, v in imms.items() if isinstance(b.inst.imm_vars[n], BV)}
        for name, value in b.inst.lets.items():
            if not isinstance(value, int):
                env[name] = smt.smt_expr(value, env)
        runs.append(b.machine_side(leaves, env))
    (ro, to, mo, bro), (rm, tm, mm, brm) = runs
    inst = qo.instance
    pairs = [(bo.first_trap(to), bo.first_trap(tm)), (mo, mm)]
    for out, _, _ in inst.results:
        for k in [out] if inst.parts[out] == 1 else [f"{out}.lo", f"{out}.hi"]:
            pairs.append((ro[k], rm[k]))
    if [d for _, d in bro] != [d for _, d in brm]:
        return False
    pairs += [(a, b) for (a, _), (b, _) in zip(bro, brm)]
    for a, b in pairs:
        if isinstance(a, int) or isinstance(b, int):
            if a != b:
                return False
        elif not _proved(smt.prove_equal(a, b, timeout_ms=_SCREEN_TIMEOUT_MS)):
            return False
    # An immediate with a value set must still get a value of the set.
    return all(_proved(smt.prove(cond, timeout_ms=_SCREEN_TIMEOUT_MS)) for cond, _ in bm.obligations)


# -- the operators -------------------------------------------------------------------------------------------


class _Sites:
    """The original rule and its YAML, read by the operators."""

    def __init__(self, isa: ISA, rule: Rule) -> None:
        self.isa, self.rule, self.body = isa, rule, rule.raw
        self.first = rule.instances[0]
        emit = self.body["emit"]
        self.emits: list[tuple[int, str, dict]] = []
        for i, entry in enumerate(emit):
            [(name, ops)] = entry.items()
            self.emits.append((i, name, ops if isinstance(ops, dict) else {}))
        self.leaves = set(self.first.value_vars)
        self.results = {o for o, _, _ in self.first.results}

    def mutant(self, operator: str, site: str, edit: Callable[[LDict], None], screen: Screen | None = None) -> Mutant:
        return Mutant(self.isa.name, self.rule.name, operator, site, edit, screen)

    def role(self, value: str) -> str:
        base = value.split(".")[0]
        return "leaf" if base in self.leaves else "result" if base in self.results else "temp"


def _entry(body: LDict, i: int) -> tuple[str, LDict]:
    [(name, ops)] = body["emit"][i].items()
    if ops is None:
        ops = LDict()
        body["emit"][i][name] = ops
    return name, ops


def _set_entry(body: LDict, i: int, name: str, ops: LDict) -> None:
    old = body["emit"][i]
    [(old_name, _)] = old.items()
    new = LDict({name: ops})
    new.file, new.line = old.file, old.line
    new.key_lines[name], new.value_lines[name] = old.key_line(old_name), old.value_line(old_name)
    body["emit"][i] = new


def _delete_entry(body: LDict, i: int) -> None:
    emit: LList = body["emit"]
    lines = list(emit.item_lines)
    del emit[i]
    emit.item_lines = lines[:i] + lines[i + 1 :]


def _rename_registers(body: LDict, isa: ISA, old: str, new: str, start: int = 0) -> None:
    """Every register operand (and memory register field) naming ``old`` from emit
    ``start`` on names ``new``."""
    for j in range(start, len(body["emit"])):
        name, ops = _entry(body, j)
        for o in isa.instructions[name].operands:
            v = ops.get(o.name)
            if o.kind == "reg" and v == old:
                ops[o.name] = new
            elif o.kind == "mem" and isinstance(v, dict):
                for f in isa.addressing[o.mem].fields:
                    if f.kind == "reg" and v.get(f.name) == old:
                        v[f.name] = new


def _swap_operands(s: _Sites) -> Iterator[Mutant]:
    for i, name, ops in s.emits:
        inst = s.isa.instructions[name]
        uses = [o for o in inst.operands if o.kind == "reg" and not o.is_def and o.name in ops]
        for a, b in combinations(uses, 2):
            if a.regclass != b.regclass or ops[a.name] == ops[b.name]:
                continue

            def edit(body: LDict, i: int = i, a: str = a.name, b: str = b.name) -> None:
                _, o = _entry(body, i)
                o[a], o[b] = o[b], o[a]

            def screen(orig: RuleInstance, mut: RuleInstance, i: int = i, a: str = a.name, b: str = b.name) -> str | None:
                v = orig.emits[i].variant
                return f"{v.name} commutes in {a} and {b}" if _commutes(v.program, a, b) else None

            yield s.mutant("swap_operands", f"emit{i}.{name}:{a.name}<->{b.name}", edit, screen)
        for o in inst.operands:
            m = ops.get(o.name)
            if o.kind != "mem" or not isinstance(m, dict):
                continue
            regs = [f.name for f in s.isa.addressing[o.mem].fields if f.kind == "reg" and m.get(f.name) is not None]
            for a, b in combinations(regs, 2):
                if m[a] == m[b]:
                    continue

                def edit_mem(body: LDict, i: int = i, op: str = o.name, a: str = a, b: str = b) -> None:
                    _, ops2 = _entry(body, i)
                    ops2[op][a], ops2[op][b] = ops2[op][b], ops2[op][a]

                yield s.mutant("swap_operands", f"emit{i}.{name}.{o.name}:{a}<->{b}", edit_mem)


def _swap_pattern(s: _Sites) -> Iterator[Mutant]:
    spec = s.isa.ir.spec
    for j, node in enumerate(iter_nodes(s.rule.pattern)):
        values = [(env, k, a) for k, (env, kind, a) in enumerate(pattern_args(node, spec)) if kind == "value"]
        for (e1, k1, a1), (e2, k2, a2) in combinations(values, 2):
            if pattern_text(a1) == pattern_text(a2):
                continue
            text = pattern_text(_swap_args(s.rule.pattern, node, k1, k2))
            names = (a1.name, a2.name) if isinstance(a1, PatVar) and isinstance(a2, PatVar) else None

            def edit(body: LDict, text: str = text, names: tuple[str, str] | None = names) -> None:
                body["match"] = text
                if names is not None and "types" in body:
                    # The types claimed for x are now claimed for y: the pattern still
                    # types, and only what the emitted code reads is wrong.
                    types = body["types"]
                    entries = [types] if isinstance(types, LDict) else [e for e in types if isinstance(e, LDict)]
                    for entry in entries:
                        _swap_keys(entry, *names)

            at = "".join(f" {pattern_text(a)}" for _, kind, a in pattern_args(node, spec) if kind != "value" and literal_of(a, kind, spec))

            def screen(orig: RuleInstance, mut: RuleInstance, node: PatNode = node, e1: str = e1, e2: str = e2, at: str = at) -> str | None:
                ni = next(n for n in orig.nodes if n.node is node)
                lits = {k: v for k, (src, v) in ni.inputs.items() if src == "lit" and isinstance(v, int)}
                return f"{node.opcode}{at} commutes in {e1} and {e2}" if _commutes(ni.program, e1, e2, lits) else None

            yield s.mutant("swap_pattern", f"match{j}.{node.opcode}:{e1}<->{e2}", edit, screen)


def _swap_keys(d: LDict, a: str, b: str) -> None:
    """Rename key ``a`` to ``b`` and ``b`` to ``a`` in place, keeping the order and lines."""
    if a not in d and b not in d:
        return
    swap = {a: b, b: a}
    items = [(swap.get(k, k), v) for k, v in d.items()]
    key_lines = {swap.get(k, k): n for k, n in d.key_lines.items()}
    value_lines = {swap.get(k, k): n for k, n in d.value_lines.items()}
    d.clear()
    d.update(items)
    d.key_lines, d.value_lines = key_lines, value_lines


def _replace_arg(p: Any, target: PatNode, k: int, new: Any) -> Any:
    if not isinstance(p, PatNode):
        return p
    args = [_replace_arg(a, target, k, new) for a in p.args]
    if p is target:
        args[k] = new
    return PatNode(p.opcode, tuple(args), p.col)


def _swap_args(p: Any, target: PatNode, k1: int, k2: int) -> Any:
    if not isinstance(p, PatNode):
        return p
    args = [_swap_args(a, target, k1, k2) for a in p.args]
    if p is target:
        args[k1], args[k2] = args[k2], args[k1]
    return PatNode(p.opcode, tuple(args), p.col)


def _shape(inst: Any) -> tuple:
    return tuple((o.name, o.kind, o.is_def, o.regclass, o.mem, o.enum) for o in inst.operands)


def _family(inst: Any) -> frozenset[str]:
    """What an instruction computes, as the families (:data:`_FAMILIES`) of the first
    operations below the width changes of its register defs (else of its other outputs):
    ``add``/``sub``/``adc`` are arithmetic, ``shl``/``sar``/``ror`` shifts, ``movzx``/``movsx``
    moves, ``div``/``idiv`` divisions."""
    out: set[str] = set()
    for v in inst.variants:
        prog = v.program
        local = {st.name: st.expr for st in prog.stmts if isinstance(st, t.Assign) and not st.is_output}
        defs = [o.name for o in inst.operands if o.kind == "reg" and o.is_def]
        names = defs or [n for n, _ in prog.outputs if n not in inst.isa_state] or ["(state)"]
        exprs = {st.name: st.expr for st in prog.stmts if isinstance(st, t.Assign) and st.is_output}

        def walk(e: t.TExpr) -> None:
            if isinstance(e, t.Var) and e.name in local:
                walk(local[e.name])
            elif isinstance(e, t.Op) and e.op in _STRUCTURAL:
                for a in e.args[1:] if e.op == "ite" else e.args:
                    walk(a)
            elif isinstance(e, t.Op):
                out.add(_FAMILIES.get(e.op, e.op))
            elif isinstance(e, t.EnumCall):
                out.add("condition")
            else:
                out.add("move")

        for n in names:
            if n in exprs:
                walk(exprs[n])
            else:
                out.add(n if n == "(state)" else "none")
    return frozenset(out)


def _immediates_fit(s: _Sites, i: int, other: Any) -> bool:
    """Every constant immediate of emit ``i`` fits ``other``'s operand (``slli`` by 56 has
    no ``slliw`` sibling: its shift amount is 5 bits)."""
    for inst in s.rule.instances:
        for name, a in inst.emits[i].args.items():
            op = other.operand(name)
            if isinstance(a, ImmArg) and isinstance(a.expr, int) and op is not None and op.imm is not None and not op.imm.fits(a.expr):
                return False
    return True


def _sibling(s: _Sites) -> Iterator[Mutant]:
    isa = s.isa
    for i, name, ops in s.emits:
        inst = isa.instructions[name]
        variant = s.first.emits[i].variant
        for other in isa.instructions.values():
            if other.name == name or _shape(other) != _shape(inst) or _family(other) != _family(inst):
                continue
            if not _immediates_fit(s, i, other):
                continue
            added: dict[str, int] = {}
            for p in other.params:
                if p not in ops:
                    best = max(other.variants, key=lambda v: sum(v.sizes.get(k) == n for k, n in variant.sizes.items()))
                    added[p] = best.params[p]

            def edit(body: LDict, i: int = i, other: Any = other, added: dict = added) -> None:
                _, old = _entry(body, i)
                new = copy.deepcopy(old)
                for p in list(new):
                    if p not in [o.name for o in other.operands] and p not in other.params:
                        del new[p]
                new.update(added)
                _set_entry(body, i, other.name, new)

            def screen(orig: RuleInstance, mut: RuleInstance, i: int = i) -> str | None:
                a, b = orig.emits[i], mut.emits[i]
                consts = {n: x.expr & ((1 << x.bits) - 1) for n, x in a.args.items() if isinstance(x, ImmArg) and isinstance(x.expr, int)}
                if _same_effect(a.variant, b.variant, consts):
                    shown = ", ".join(f"{n}={v}" for n, v in consts.items())
                    return f"{b.variant.name} does what {a.variant.name} does" + (f" with {shown}" if shown else "")
                return None

            yield s.mutant("sibling", f"emit{i}.{name}->{other.name}", edit, screen)


def _condition(s: _Sites) -> Iterator[Mutant]:
    spec = s.isa.ir.spec
    for j, node in enumerate(iter_nodes(s.rule.pattern)):
        for k, (env, kind, a) in enumerate(pattern_args(node, spec)):
            lit = literal_of(a, kind, spec)
            enum = enum_of_kind(kind)
            if lit is None or enum is None:
                continue
            for v in spec.enums[enum].values:
                if v.name == lit.value:
                    continue
                text = pattern_text(_replace_arg(s.rule.pattern, node, k, PatVar(v.name)))

                def edit_match(body: LDict, text: str = text) -> None:
                    body["match"] = text

                yield s.mutant("condition", f"match{j}.{node.opcode}.{env}:{lit.value}->{v.name}", edit_match)
    for i, name, ops in s.emits:
        for o in s.isa.instructions[name].operands:
            cur = ops.get(o.name)
            if o.kind != "enum" or not isinstance(cur, str):
                continue
            enum = s.isa.enums[o.enum]
            if enum.value(cur) is None:
                continue  # MAP[var]: map_entry's business
            for v in enum.values:
                if v.name == cur:
                    continue

                def edit(body: LDict, i: int = i, op: str = o.name, value: str = v.name) -> None:
                    _entry(body, i)[1][op] = value

                yield s.mutant("condition", f"emit{i}.{name}.{o.name}:{cur}->{v.name}", edit)


def _param(s: _Sites) -> Iterator[Mutant]:
    for i, name, ops in s.emits:
        for p, domain in s.isa.instructions[name].params.items():
            if len(domain) < 2 or p not in ops:
                continue
            text = str(ops[p])
            moves = [("next", 1)] + ([("prev", -1)] if len(domain) > 2 else [])
            for label, step in moves:
                # (P) == d0 ? d1 : ((P) == d1 ? d2 : ... d0): another value at every typing.
                chain = str(domain[(len(domain) - 1 + step) % len(domain)])
                for k in range(len(domain) - 2, -1, -1):
                    chain = f"({text}) == {domain[k]} ? {domain[(k + step) % len(domain)]} : ({chain})"

                def edit(body: LDict, i: int = i, p: str = p, chain: str = chain) -> None:
                    _entry(body, i)[1][p] = chain

                yield s.mutant("param", f"emit{i}.{name}.{p}:{label}", edit)


def _moves(n: int, negate: bool) -> list[tuple[str, int]]:
    out = [(f"{n}->{n + 1}", n + 1), (f"{n}->{n - 1}", n - 1)]
    if negate and n != 0:
        out.append((f"{n}->{-n}", -n))
    return out


def _when_bound(s: _Sites) -> Iterator[Mutant]:
    if not isinstance(s.rule.when, str):
        return
    expr, _ = parse_expression(s.rule.when)
    for j in _literals(expr, bounds=True):
        n = _nth_literal(expr, j)
        for label, new in _moves(n, negate=False):
            if new < 0:
                continue
            text = unparse(_replace_literal(expr, j, _int_expr(new)))

            def edit(body: LDict, text: str = text) -> None:
                body["when"] = text

            def screen(orig: RuleInstance, mut: RuleInstance) -> str | None:
                return None if _admits_more(orig, mut) else "the predicate admits no immediate the original rejects"

            yield s.mutant("when_bound", f"when.lit{j}:{label}", edit, screen)


def _expression_edits(text: Any, compile_time: bool, kind: Any = None, negate: bool = True) -> Iterator[tuple[str, str]]:
    """(site suffix, new text) for each edit of a constant of an immediate expression
    (of immediate ``kind``, which a lone literal must still fit)."""
    expr, _ = parse_expression(str(text))
    literals = _literals(expr, bounds=False, compared_only=compile_time)
    for j in literals:
        n = _nth_literal(expr, j)
        for label, new in _moves(n, negate=negate):
            if isinstance(expr, ast.Num) and kind is not None and not kind.fits(new):
                continue
            yield f"lit{j}:{label}", unparse(_replace_literal(expr, j, _int_expr(new)))
    if not literals and not compile_time:
        whole = unparse(expr)
        yield "+1", f"({whole}) + 1"
        yield "-1", f"({whole}) - 1"
        yield "neg", f"-({whole})"


def _immediate(s: _Sites) -> Iterator[Mutant]:
    isa = s.isa
    for i, name, ops in s.emits:
        for o in isa.instructions[name].operands:
            v = ops.get(o.name)
            if o.kind == "imm" and v is not None:
                # A compile-time amount of an unsigned kind (a shift, a size) has no negative.
                constant = all(isinstance(inst.emits[i].args[o.name].expr, int) for inst in s.rule.instances)
                for suffix, new in _expression_edits(v, False, o.imm, negate=not (constant and not o.imm.signed and o.imm.text != "imm64")):

                    def edit(body: LDict, i: int = i, op: str = o.name, new: str = new) -> None:
                        _entry(body, i)[1][op] = new

                    yield s.mutant("immediate", f"emit{i}.{name}.{o.name}:{suffix}", edit)
            elif o.kind == "mem" and isinstance(v, dict):
                for f in isa.addressing[o.mem].fields:
                    if f.kind != "imm" or f.name not in v:
                        continue
                    for suffix, new in _expression_edits(v[f.name], False, f.imm):

                        def edit_field(body: LDict, i: int = i, op: str = o.name, fld: str = f.name, new: str = new) -> None:
                            _entry(body, i)[1][op][fld] = new

                        yield s.mutant("immediate", f"emit{i}.{name}.{o.name}.{f.name}:{suffix}", edit_field)
    for let, text in s.rule.lets:
        compile_time = all(isinstance(inst.lets[let], int) for inst in s.rule.instances)
        for suffix, new in _expression_edits(text, compile_time):

            def edit_let(body: LDict, let: str = let, new: str = new) -> None:
                body["let"][let] = new

            yield s.mutant("immediate", f"let.{let}:{suffix}", edit_let)


def _is_extension(v: Variant) -> bool:
    """``v`` only writes one register: a zero/sign extension of part of one input."""
    prog = v.program
    regs = [o.name for o in v.inst.operands if o.kind == "reg"]
    if [n for n, _ in prog.outputs] != [o.name for o in v.inst.operands if o.kind == "reg" and o.is_def] or len(prog.outputs) != 1:
        return False
    if v.inst.clobbers or any(not isinstance(st, t.Assign) for st in prog.stmts):
        return False
    local = {st.name: st.expr for st in prog.stmts if isinstance(st, t.Assign) and not st.is_output}
    seen: set[str] = set()

    def walk(e: t.TExpr) -> bool:
        if isinstance(e, t.Var):
            if e.name in local:
                return walk(local[e.name])
            seen.add(e.name)
            return e.name in regs
        return isinstance(e, t.Op) and e.op in _EXTENSION_OPS and all(walk(a) for a in e.args)

    out = next(st.expr for st in prog.stmts if isinstance(st, t.Assign) and st.is_output)

    def extends(e: t.TExpr) -> bool:
        if isinstance(e, t.Var):
            return e.name in local and extends(local[e.name])
        return isinstance(e, t.Op) and ((e.op in ("zext", "sext") and e.args[0].width < e.width) or any(extends(a) for a in e.args))

    return walk(out) and len(seen) == 1 and extends(out)


def _drop(s: _Sites) -> Iterator[Mutant]:
    isa = s.isa
    if len(s.emits) < 2:
        return
    branches = [i for i, name, _ in s.emits if any(o.kind == "label" for o in isa.instructions[name].operands)]
    for i, name, ops in s.emits:
        inst = isa.instructions[name]
        if branches == [i] and s.first.is_branch:
            continue  # a branch rule must end with a branch
        defs = [o for o in inst.operands if o.kind == "reg" and o.is_def]
        if len(defs) > 1:
            continue
        if not defs:

            def edit(body: LDict, i: int = i) -> None:
                _delete_entry(body, i)

            yield s.mutant("drop_instruction", f"emit{i}.{name}", edit)
            continue
        out = ops.get(defs[0].name)
        uses = [o for o in inst.operands if o.kind == "reg" and not o.is_def and o.regclass == defs[0].regclass and ops.get(o.name) not in (None, out)]
        if not uses or not isinstance(out, str):
            continue
        src = ops[uses[0].name]
        if s.role(out) == "result":
            if s.role(src) != "temp":
                continue  # nothing left to define the result

            def edit(body: LDict, i: int = i, src: str = src, out: str = out) -> None:
                _delete_entry(body, i)
                _rename_registers(body, isa, src, out)

        else:

            def edit(body: LDict, i: int = i, src: str = src, out: str = out) -> None:
                _delete_entry(body, i)
                _rename_registers(body, isa, out, src, start=i)

        extension = all(_is_extension(inst_.emits[i].variant) for inst_ in s.rule.instances)
        yield s.mutant("drop_extension" if extension else "drop_instruction", f"emit{i}.{name}", edit)


def _map_entry(s: _Sites) -> Iterator[Mutant]:
    for mname, table in s.rule.maps.items():
        enum = next(
            (e.variant.inst.operand(op).enum for e in s.first.emits for op, a in e.args.items() if getattr(a, "map", None) == mname),
            None,
        )
        if enum is None:
            continue
        for k, cur in table.items():
            if cur is None:  # the rule does not apply to k: nothing to map wrongly
                continue
            for v in s.isa.enums[enum].values:
                if v.name == cur:
                    continue

                def edit(body: LDict, mname: str = mname, k: str = k, value: str = v.name) -> None:
                    table_doc = body["maps"][mname]
                    key = next(x for x in table_doc if str(x) == k)
                    table_doc[key] = value

                yield s.mutant("map_entry", f"maps.{mname}.{k}:{cur}->{v.name}", edit)


_GENERATORS = (_swap_operands, _swap_pattern, _sibling, _condition, _param, _when_bound, _immediate, _drop, _map_entry)


def mutants(isa: ISA) -> list[Mutant]:
    """Every mutant of every rule of ``isa``, sorted by id (ids are unique)."""
    out: dict[str, Mutant] = {}
    for rule in isa.rules.values():
        if not rule.instances or rule.unproven:  # an assumed rule is never proven, so never refuted
            continue
        sites = _Sites(isa, rule)
        for gen in _GENERATORS:
            for m in gen(sites):
                out.setdefault(m.id, m)
    return [out[k] for k in sorted(out)]
