"""Mutation testing of the lowering rules: the verifier must refute wrong variants of the
real rules (meta-compiler issue, item 5).

Every ISA folder under isa_specs/ with rules is loaded, :mod:`heron.meta.mutate` derives
its mutants (edits of the rules in memory), and each mutant is verified in-process on the
queries it changes.  CI runs a seeded sample of ``CI_SAMPLE`` counted mutants spread over
all operators; ``--full`` runs every mutant.  The score must be at least ``MIN_SCORE``;
every mutant that survives must be listed in ``mutation_survivors.txt`` (by its id, or by
an fnmatch pattern naming a family such as ``x86_64/icmp_*/sibling/emit*.movzx_rr->mov_rr``)
with the reason it is equivalent (or, marked ``HOLE:``, the gap in the proofs that lets it through), and a
listed mutant that is killed (or no longer exists) fails too.  A listed mutant may also
time out (unproven) on a slow machine: the verifier rejects it, but that proves nothing.
"""

from __future__ import annotations

import ast
import copy
import fnmatch
import re
import time
from pathlib import Path

import pytest

from heron.meta import mutate as mu
from heron.meta.dsl.parser import parse_expression
from heron.meta.irspec import default_specs_dir
from heron.meta.isa import ISA, isa_folders, load_isa_folder

HERE = Path(__file__).parent
SURVIVORS = HERE / "mutation_survivors.txt"
CI_SAMPLE = 150
MIN_MUTANTS = 100
MIN_SCORE = 95.0
HOLE = "HOLE:"  # a survivor the verifier should reject, not an equivalent rule
_ID = re.compile(r"^[A-Za-z0-9_]+/[A-Za-z0-9_*]+/[a-z_*]+/\S+$")


def read_survivors(path: Path = SURVIVORS) -> dict[str, str]:
    """Mutant id (or fnmatch pattern) -> reason, from lines ``ID  reason`` (``#`` comments,
    blank lines)."""
    out: dict[str, str] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(None, 1)
        assert _ID.match(parts[0]), f"{path.name}:{n}: '{parts[0]}' is not a mutant id (ISA/rule/operator/site)"
        assert len(parts) == 2 and parts[1].strip(), f"{path.name}:{n}: {parts[0]} needs the reason it survives"
        assert parts[0] not in out, f"{path.name}:{n}: {parts[0]} is listed twice"
        out[parts[0]] = parts[1].strip()
    return out


@pytest.fixture(scope="module")
def isas() -> list[ISA]:
    loaded = [load_isa_folder(f) for f in isa_folders(default_specs_dir())]
    return [isa for isa in loaded if isa.rules]


@pytest.fixture(scope="module")
def candidates(isas: list[ISA]) -> list[mu.Mutant]:
    return [m for isa in isas for m in mu.mutants(isa)]


def test_every_operator_has_mutants(candidates: list[mu.Mutant]) -> None:
    assert len(candidates) >= MIN_MUTANTS
    assert len({m.id for m in candidates}) == len(candidates)
    missing = set(mu.OPERATORS) - {m.operator for m in candidates}
    assert not missing, f"operators without a site in any ISA: {sorted(missing)}"


def test_expressions_print_back_to_what_they_parse_to(isas: list[ISA]) -> None:
    texts = []
    for isa in isas:
        for rule in isa.rules.values():
            texts += [rule.when] if isinstance(rule.when, str) else []
            texts += [str(text) for _, text in rule.lets]
            for entry in rule.raw["emit"]:
                [(name, ops)] = entry.items()
                inst = isa.instructions[name]
                for k, v in (ops or {}).items():
                    op = inst.operand(k)
                    if k in inst.params or (op is not None and op.kind == "imm"):
                        texts.append(str(v))
                    elif op is not None and op.kind == "mem" and isinstance(v, dict):
                        imm_fields = {f.name for f in isa.addressing[op.mem].fields if f.kind == "imm"}
                        texts += [str(x) for f, x in v.items() if f in imm_fields]
    assert texts
    for text in texts:
        expr, _ = parse_expression(text)
        assert parse_expression(mu.unparse(expr))[0] == expr, text


def test_mutants_edit_copies_only(isas: list[ISA], candidates: list[mu.Mutant]) -> None:
    isa = isas[0]
    before = copy.deepcopy(isa.raw["rules.yaml"])
    for m in [m for m in candidates if m.isa == isa.name][:40]:
        mu.run_mutant(isa, m)
    assert isa.raw["rules.yaml"] == before
    assert all(r.instances for r in isa.rules.values())


def test_a_mutant_the_loader_rejects_is_not_counted(isas: list[ISA]) -> None:
    isa = isas[0]
    rule = next(r for r in isa.rules.values() if r.instances)

    def edit(body: dict) -> None:
        [(name, ops)] = body["emit"][0].items()
        ops["no_such_operand"] = "x"

    r = mu.run_mutant(isa, mu.Mutant(isa.name, rule.name, "sibling", "emit0:bogus", edit))
    assert r.status == "malformed" and "has no operand or param 'no_such_operand'" in r.detail
    report = mu.MutationReport(results=[r])
    assert report.counted() == [] and report.score_line(0) == "mutation score: 0/0 killed (100.0%), 0 survivors explained"


def test_the_mutator_reaches_z3_only_through_the_verifier() -> None:
    tree = ast.parse(Path(mu.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(m.split(".")[0] == "z3" for m in imported), imported


def _paste(results: list[mu.MutantResult]) -> str:
    return "\n".join(f"{r.mutant.id}  ({r.status}: {r.detail}) REASON" for r in results)


def test_the_verifier_kills_the_mutants(isas: list[ISA], candidates: list[mu.Mutant], full: bool, capsys: pytest.CaptureFixture[str]) -> None:
    entries = read_survivors()
    ids = {m.id for m in candidates}
    stale = sorted(e for e in entries if not fnmatch.filter(ids, e))
    assert not stale, "mutation_survivors.txt lists mutants that no longer exist (drop them):\n" + "\n".join(stale)

    listed = {i: reason for e, reason in entries.items() for i in fnmatch.filter(ids, e)}
    start = time.perf_counter()
    report = mu.run_mutation(isas, limit=None if full else CI_SAMPLE)
    elapsed = time.perf_counter() - start
    sampled = report.sampled()
    survivors = [r for r in report.survivors() if r.sampled]
    unlisted = [r for r in survivors if r.mutant.id not in listed]
    # A listed survivor may time out (unproven) on a slow machine; refuted, it is no survivor.
    revived = [r for r in sampled if r.mutant.id in listed and r.status not in ("survived", "unproven", "excluded")]
    line = report.score_line(len(survivors) - len(unlisted))
    holes = [r for r in survivors if listed.get(r.mutant.id, "").startswith(HOLE)]
    with capsys.disabled():
        print(f"\n{'all' if full else 'sample of'} {len(sampled)} of {report.candidates} mutants ({', '.join(i.name for i in isas)}), {elapsed:.1f} s")
        print(report.table())
        print(report.unproven_line())
        print(f"{len(holes)} of the survivors show a hole in the verifier (listed as {HOLE})")
        print(line)

    assert len(report.counted()) >= MIN_MUTANTS
    assert not unlisted, (
        "mutants the verifier did not refute; list each in mutation_survivors.txt with the reason "
        "it is equivalent (or strengthen the proofs):\n" + _paste(unlisted)
    )
    assert not revived, "listed survivors that no longer survive (drop them from mutation_survivors.txt):\n" + _paste(revived)
    assert report.score() >= MIN_SCORE, line
