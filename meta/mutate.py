"""Mutation testing of the lowering rules: small wrong edits that ``heron meta verify`` must refute.

A *mutant* is one rule of a real ISA folder with one edit applied to its YAML in memory
(the files are never touched).  The mutated rule goes through the same loader as the
specs (:func:`heron.meta.isa.rules.load_rules`), so a mutant that no longer type-checks
is *malformed*: the loader rejects it, and it counts apart from the verifier's score.
A well-formed mutant is verified in-process with the verifier's own routine
(:func:`heron.meta.verify.check_query`, no cache) on the queries it changes only (the
typings and enum values whose instantiated rule differs from the original's); the
first refuted query *kills* it.  A mutant that survives is equivalent to the rule or a
hole in the proofs: ``tests/meta/mutation_survivors.txt`` explains every one.

The operators (:data:`OPERATORS`) read the loaded model to find their sites, so they
apply to any ISA folder:

- ``swap_operands``: two register uses of an emitted instruction (or a memory
  operand's two registers) trade places;
- ``swap_pattern``: two value arguments of an IR opcode in ``match`` trade places;
- ``sibling``: an emitted instruction becomes another with the same operands
  (``add_rr`` -> ``sub_rr``, ``movzx_rr`` -> ``movsx_rr``, ``shl_rcl`` -> ``sar_rcl``);
- ``condition``: a fixed enum operand (``setcc``/``jcc``/``trap_if`` ``cc``) or an enum literal
  of the match (``(icmp slt x y)``) takes another value;
- ``param``: every emitted variant takes the next (or previous) value of a param
  (``size``, ``from``);
- ``when_bound``: a literal of the ``when`` predicate moves by one;
- ``immediate``: a constant of an emitted immediate, a memory field or a ``let`` moves by
  one or is negated (an expression without a constant: the whole expression);
- ``drop_extension``: a zero/sign extension is removed and its output rewired to its input;
- ``drop_instruction``: any other instruction is removed where the data flow allows;
- ``map_entry``: one IR enum value maps to another ISA enum value (``slt: l`` -> ``slt: b``).

Some edits cannot change what the rule computes, whatever the rule: swapping the
operands of a commutative instruction, a sibling with the same semantics on the
operands given, a predicate edit that admits no immediate the original rejected.  Each
such edit is checked (with :mod:`heron.meta.smt`, instruction by instruction or
predicate by predicate, never the rule) and *excluded*, with the reason; the others are
mutants.

Example::

    >>> from heron.meta.isa import load_isa
    >>> isa = load_isa("x86_64")
    >>> byid = {m.id: m for m in mutants(isa)}
    >>> r = run_mutant(isa, byid["x86_64/isub_rr/swap_operands/emit0.sub_rr:src<->rhs"])
    >>> r.status, r.detail
    ('killed', 'refuted at i8')
    >>> run_mutant(isa, byid["x86_64/iadd_rr/swap_operands/emit0.add_rr:src<->rhs"]).status
    'excluded'
"""

from __future__ import annotations

import copy
import random
import time
from typing import Any, Callable

from heron.errors import SpecError
from heron.meta import verify
from heron.meta.isa.model import ISA, Rule
from heron.meta.isa.rules import load_rules
from heron.meta.mutate_ops import (
    COUNTED,
    DEFAULT_TIMEOUT_MS,
    OPERATORS,
    SEED,
    STATUSES,
    Mutant,
    MutantResult,
    MutationReport,
    _machine_equivalent,
    _query_key,
    mutants,
)
from heron.meta.mutate_text import unparse
from heron.meta.yamlload import LDict

__all__ = [
    "OPERATORS",
    "COUNTED",
    "DEFAULT_TIMEOUT_MS",
    "Mutant",
    "MutantResult",
    "MutationReport",
    "mutants",
    "run_mutant",
    "sample_order",
    "run_mutation",
    "unparse",
]


# -- running a mutant -------------------------------------------------------------------------------------


class _Originals:
    """The original rules' queries and their keys, computed once per ISA."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], dict[str, Any]] = {}
        self.memo: dict[int, Any] = {}

    def of(self, isa: ISA, rule: Rule) -> dict[str, Any]:
        k = (isa.name, rule.name)
        if k not in self.keys:
            self.keys[k] = {q.label: _query_key(q, self.memo) for q in verify.queries_for(isa, rule)}
        return self.keys[k]


_ORIGINALS = _Originals()


def load_mutated_rule(isa: ISA, name: str, body: LDict) -> Rule:
    """Load one rule from ``body`` as ``rules.yaml`` would (SpecError if it is wrong)."""
    doc = isa.raw["rules.yaml"]
    rules = LDict({name: body})
    rules.file, rules.line = doc["rules"].file, doc["rules"].line
    rules.key_lines[name] = doc["rules"].key_line(name)
    mini = LDict({"value_classes": doc["value_classes"], "rules": rules})
    mini.file, mini.line = doc.file, doc.line
    mini.key_lines, mini.value_lines = dict(doc.key_lines), dict(doc.value_lines)
    scratch = copy.copy(isa)
    scratch.rules, scratch.value_classes = {}, {}
    load_rules(mini, scratch, isa.ir)
    return scratch.rules[name]


def run_mutant(isa: ISA, m: Mutant, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> MutantResult:
    """Load the mutant and verify the queries it changes; stop at the first refutation."""
    start = time.perf_counter()

    def done(status: str, detail: str = "", queries: int = 0) -> MutantResult:
        return MutantResult(m, status, detail, queries, time.perf_counter() - start)

    rule = isa.rules[m.rule]
    body = copy.deepcopy(rule.raw)
    m.edit(body)
    try:
        mutated = load_mutated_rule(isa, m.rule, body)
    except SpecError as err:
        return done("malformed", err.message.splitlines()[0])
    original = _ORIGINALS.of(isa, rule)
    memo: dict[int, Any] = {}
    touched = [q for q in verify.queries_for(isa, mutated) if original.get(q.label) != _query_key(q, memo)]
    if not touched:
        return done("unchanged", "every query is the original's")
    # The original of each mutated typing: the same position (a swap of pattern variables
    # renames the typings' labels, not their order), else the same label.
    if len(mutated.instances) == len(rule.instances):
        original_of = {id(mi): oi for mi, oi in zip(mutated.instances, rule.instances)}
    else:
        by_label = {inst.label: inst for inst in rule.instances}
        original_of = {id(mi): by_label[mi.label] for mi in mutated.instances if mi.label in by_label}
    reasons: dict[int, str | None] = {}
    todo = []
    for q in touched:
        key = id(q.instance)
        if key not in reasons:
            orig = original_of.get(key)
            reasons[key] = m.screen(orig, q.instance) if m.screen is not None and orig is not None else None
        if reasons[key] is None:
            todo.append(q)
    if not todo:
        return done("excluded", next(r for r in reasons.values() if r))
    for n, q in enumerate(todo):
        outcome = verify.check_query(q, timeout_ms)
        if outcome.status == "refuted":
            return done("killed", f"refuted at {q.label}", n + 1)
        if outcome.status == "unknown":
            return done("unproven", f"unproven at {q.label} ({timeout_ms} ms)", n + 1)
        if n == 0 and _same_machine_effect(isa, rule, todo):
            return done("excluded", "the mutated instructions have the same effect (results at full width, traps, memory, branches)", 1)
    return done("survived", f"proved at {len(todo)} queries", len(todo))


def _same_machine_effect(isa: ISA, rule: Rule, todo: list[verify.Query]) -> bool:
    """Every changed query's instructions have the original's effect.  Asked once the
    first query is not refuted: quick where the rule's own query may be slow (a div
    that became an idiv on zero-extended operands)."""
    originals = {q.label: q for q in verify.queries_for(isa, rule)}
    return all(q.label in originals and _machine_equivalent(originals[q.label], q) for q in todo)


def sample_order(candidates: list[Mutant], seed: int = SEED) -> list[Mutant]:
    """The candidates in a reproducible order that spreads every operator over the whole
    list in proportion to its size (each operator shuffled with ``seed``)."""
    groups: dict[str, list[Mutant]] = {}
    for m in candidates:
        groups.setdefault(m.operator, []).append(m)
    ranked = []
    for op in sorted(groups):
        group = groups[op]
        random.Random(f"{seed}/{op}").shuffle(group)
        ranked += [((k + 0.5) / len(group), op, m.id, m) for k, m in enumerate(group)]
    return [m for *_, m in sorted(ranked, key=lambda r: r[:3])]


def run_mutation(
    isas: list[ISA],
    limit: int | None = None,
    seed: int = SEED,
    also: set[str] | frozenset[str] = frozenset(),
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    progress: Callable[[MutantResult], None] | None = None,
) -> MutationReport:
    """Run every mutant of ``isas`` (or, with ``limit``, mutants in :func:`sample_order`
    until ``limit`` of them are counted), then the mutants of ``also`` not run yet
    (``sampled`` False: they do not enter the score)."""
    start = time.perf_counter()
    by_isa = {isa.name: isa for isa in isas}
    candidates = [m for isa in isas for m in mutants(isa)]
    report = MutationReport(candidates=len(candidates))
    order = sample_order(candidates, seed) if limit is not None else candidates
    ran: set[str] = set()
    counted = 0
    for m in order:
        if limit is not None and counted >= limit:
            break
        r = run_mutant(by_isa[m.isa], m, timeout_ms)
        report.results.append(r)
        ran.add(m.id)
        counted += r.status in COUNTED
        if progress is not None:
            progress(r)
    for m in candidates:
        if m.id in also and m.id not in ran:
            r = run_mutant(by_isa[m.isa], m, timeout_ms)
            r.sampled = False
            report.results.append(r)
            if progress is not None:
                progress(r)
    report.seconds = time.perf_counter() - start
    return report
