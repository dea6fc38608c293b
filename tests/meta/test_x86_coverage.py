"""The x86-64 rules cover the integer corpus: every (opcode, type) that occurs has a rule.

The pairs come from the corpus itself: every instruction of every function of the files
of ``clif-runtests/INDEX.tsv`` whose classes include ``int-only`` or ``i128``, read with
:mod:`heron.ir.parser`, keeping the integer opcodes this backend owns (:data:`OPCODES`)
at integer types, paired with the instruction's controlling type (``icmp.i32`` is
``("icmp", "i32")``: the type compared, not the i8 result; ``store.i128`` the type
stored).  A pair is covered when rules of ``isa_specs/x86_64/rules.yaml`` lower *every*
instruction of that opcode and type: a rule whose root is the opcode, that claims the type
for the root's controlling type (one of its instances, :func:`heron.meta.isa.load_isa`),
has no ``when`` and merges no producer into the root (``(imul (uextend x) (uextend y))``
only lowers some i128 products); rules that fix an enum immediate (``(icmp eq x y)``)
count together when they fix every value of the enum.  Whether the rules are *proven* is
``heron meta verify``'s business, not this test's.

A pair no rule claims must be in :data:`EXCLUDED` with its reason; an exclusion that a
rule now covers, or that no longer occurs in the corpus, fails the test, so the list
stays exact.

Example: ``clz.i128`` occurs in ``i128-bitops-count.clif`` and ``clz_i128`` claims it::

    >>> ("clz", "i128") in corpus_pairs(CORPUS / "clif-runtests")   # doctest: +SKIP
    True
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from heron.ir.instructions import opcode_info
from heron.ir.parser import parse_test_file
from heron.meta.isa import ISA, load_isa
from heron.meta.isa.model import PatLit, PatNode
from heron.meta.patterns import enum_of_kind, pattern_args

# The integer opcodes of the x86-64 integer backend (the meta-compiler issue, item 7).
OPCODES = frozenset(
    """
    iconst iadd isub ineg iabs imul umulhi smulhi udiv sdiv urem srem
    band bor bxor bnot band_not bor_not bxor_not bmask bitselect
    ishl ushr sshr rotl rotr clz cls ctz popcnt bitrev bswap
    icmp select select_spectre_guard brif trap trapz trapnz
    uextend sextend ireduce iconcat isplit smin smax umin umax
    sadd_overflow uadd_overflow ssub_overflow usub_overflow smul_overflow umul_overflow
    ssub_overflow_bin usub_overflow_bin uadd_sat sadd_sat usub_sat ssub_sat avg_round
    load store uload8 sload8 uload16 sload16 uload32 sload32 istore8 istore16 istore32
    """.split()
)
INT_TYPES = frozenset({"i8", "i16", "i32", "i64", "i128"})
CLASSES = frozenset({"int-only", "i128"})

# (opcode, controlling type) -> why no rule claims it.
EXCLUDED: dict[tuple[str, str], str] = {
    ("sdiv", "i128"): (
        "128-bit division is only in interpreter-only corpus files (sdiv-i128.clif targets s390x); "
        "x86-64 has no 128-bit divide, it needs a libcall (__divti3)"
    ),
    ("srem", "i128"): (
        "128-bit remainder is only in interpreter-only corpus files (i128-srem.clif has no target); "
        "x86-64 has no 128-bit divide, it needs a libcall (__modti3)"
    ),
    ("imul", "i128"): (
        "the general 128-bit product (mul + two imul + adds) is a multiplier equivalence Z3 does not "
        "prove within minutes; the widening forms (imul (uextend x) (uextend y)) and the sextend one "
        "are rules; the general case wants an i128 -> i64 legalization (isplit, imul, umulhi, iadd, iconcat)"
    ),
    ("popcnt", "i128"): (
        "the SWAR sequence over both halves does not verify within minutes (the i64 one takes about "
        "ten seconds); it wants an i128 -> i64 legalization (isplit, popcnt.i64 twice, iadd, uextend)"
    ),
}


def corpus_pairs(corpus: Path) -> dict[tuple[str, str], set[str]]:
    """(opcode, controlling type) -> the corpus files it occurs in (integer opcodes of OPCODES)."""
    with open(corpus / "INDEX.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        if not CLASSES & set(row["classes"].split(",")):
            continue
        test = parse_test_file((corpus / row["file"]).read_text(), row["file"])
        for fn in test.functions:
            for data in fn.dfg.insts:
                if data is None:
                    continue
                name = opcode_info(data.opcode).name
                if name not in OPCODES:
                    continue
                ty = data.ctrl_type.name if data.ctrl_type is not None else "-"
                if ty == "-" or ty in INT_TYPES:
                    pairs[(name, ty)].add(row["file"])
    return pairs


def claimed_pairs(isa: ISA) -> dict[tuple[str, str], set[str]]:
    """(root opcode, controlling type) -> the rules lowering every such instruction
    (``-``: an untyped root), by the rules of the module docstring."""
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    fixed: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for rule in isa.rules.values():
        root = rule.pattern
        if rule.when is not None or any(isinstance(a, PatNode) for a in root.args):
            continue
        op = root.opcode
        ctrl = isa.ir.ops[op].ctrl
        literals = [(kind, a) for _, kind, a in pattern_args(root, isa.ir.spec) if isinstance(a, PatLit)]
        for inst in rule.instances:
            ty = inst.nodes[-1].bindings[ctrl].name if ctrl else "-"
            if not literals:
                out[(op, ty)].add(rule.name)
            for kind, lit in literals:
                fixed[(op, ty)][kind].add(str(lit.value))
    for pair, kinds in fixed.items():
        for kind, values in kinds.items():
            enum = enum_of_kind(kind)
            if enum and values >= {v.name for v in isa.ir.spec.enums[enum].values}:
                out[pair].add(f"one rule per {enum} value")
    return out


@pytest.fixture(scope="module")
def isa() -> ISA:
    return load_isa("x86_64")


@pytest.fixture(scope="module")
def pairs(clif_corpus: Path) -> dict[tuple[str, str], set[str]]:
    return corpus_pairs(clif_corpus)


def test_every_corpus_pair_has_a_rule(isa: ISA, pairs: dict[tuple[str, str], set[str]]) -> None:
    claimed = claimed_pairs(isa)
    missing = sorted(p for p in pairs if p not in claimed and p not in EXCLUDED)
    covered = sum(1 for p in pairs if p in claimed)
    print(f"\nx86-64 integer coverage: {covered} of {len(pairs)} (opcode, type) pairs of the corpus "
          f"have rules, {len(EXCLUDED)} excluded", file=sys.stderr)
    lines = [f"{op}.{ty} (in {', '.join(sorted(pairs[(op, ty)])[:3])})" for op, ty in missing]
    assert not missing, "no rule claims these corpus pairs (add a rule or a reasoned exclusion):\n" + "\n".join(lines)


def test_exclusions_are_exact(isa: ISA, pairs: dict[tuple[str, str], set[str]]) -> None:
    claimed = claimed_pairs(isa)
    now_covered = sorted(p for p in EXCLUDED if p in claimed)
    assert not now_covered, f"excluded pairs that rules now claim (drop them from EXCLUDED): {now_covered}"
    gone = sorted(p for p in EXCLUDED if p not in pairs)
    assert not gone, f"excluded pairs that no longer occur in the corpus: {gone}"


def test_opcodes_are_ir_opcodes(isa: ISA) -> None:
    unknown = sorted(op for op in OPCODES if op not in isa.ir.ops)
    assert not unknown, f"not IR opcodes: {unknown}"


def test_the_corpus_has_the_expected_shape(pairs: dict[tuple[str, str], set[str]]) -> None:
    """A guard against reading nothing (a renamed class, an empty index)."""
    assert ("iadd", "i128") in pairs and ("icmp", "i8") in pairs and ("brif", "i64") in pairs
    assert len(pairs) > 150
