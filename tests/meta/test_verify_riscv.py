"""The verifier on isa_specs/riscv64: the spec is proven, and wrong variants of its rules
are refuted with counterexamples that replay (without Z3) to different IR and machine
behaviour: a missing overflow check, a zero test on a narrow value's free high bits,
swapped compare operands, a mis-folded store address (which the verifier's address
rewrite must not hide), a right shift without the zero-extension, addi for addiw.

Each case edits one rule of a copy of the spec (the first occurrence of `old` after the
rule's key) and lists the query labels that must be refuted.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from verify_support import replay

from heron.meta import verify as v
from heron.meta.irspec import default_specs_dir
from heron.meta.isa import ISA, load_isa, load_isa_folder


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_CACHE_DIR", str(tmp_path / "cache"))


def test_the_riscv64_spec_is_proven() -> None:
    isa = load_isa("riscv64")
    report = v.verify([isa], use_cache=False, out=sys.stdout)
    assert (report.failed, report.unproven) == (0, 0)
    assert report.rules == len(isa.rules) >= 150
    assert report.queries >= 450


def _edited(tmp_path: Path, rule: str, old: str, new: str) -> ISA:
    folder = tmp_path / "riscv64"
    shutil.copytree(default_specs_dir() / "riscv64", folder)
    path = folder / "rules.yaml"
    text = path.read_text()
    start = text.index(f"\n  {rule}:\n")
    at = text.index(old, start)
    path.write_text(text[:at] + new + text[at + len(old):])
    return load_isa_folder(folder)


CASES = [
    ("sdiv_i64", "      - beqz_trap: {rs1: both, code: int_ovf}\n", "", {"i64"}),
    ("udiv_i32", "beqz_trap: {rs1: ys", "beqz_trap: {rs1: y", {"i32"}),
    ("brif_icmp_sgt_narrow", "blt: {rs1: ys, rs2: xs", "blt: {rs1: xs, rs2: ys", {"x=i8", "x=i16", "x=i32"}),
    ("store_i64_iadd", 'disp: "trunc(k + sext(offset, 64), 12)"', 'disp: "trunc(k + sext(offset, 64) + 8, 12)"', {"x=i64, p=i64"}),
    ("ushr_narrow", "srli: {rd: xe", "srai: {rd: xe", {f"out={o}, y={y}" for o in ("i8", "i16") for y in ("i8", "i16", "i32", "i64")}),
    ("iconst_s32", "addiw: {rd: out", "addi: {rd: out", {"i64"}),
]


@pytest.mark.parametrize("rule, old, new, expected", CASES, ids=[c[0] for c in CASES])
def test_wrong_rules_are_refuted_with_true_counterexamples(tmp_path: Path, rule: str, old: str, new: str, expected: set[str]) -> None:
    isa = _edited(tmp_path, rule, old, new)
    report = v.verify([isa], rule=rule, use_cache=False, out=open("/dev/null", "w"))
    refuted = {q.label for q, o in report.results if o.status == "refuted"}
    assert refuted == expected
    assert report.unproven == 0
    for q, o in report.results:
        if o.status != "refuted":
            continue
        cex = o.counterexample
        seen = replay(q, cex)
        assert seen["ir_trap"] == cex["ir_trap"] and seen["machine_trap"] == cex["machine_trap"]
        differs = (
            seen["ir_trap"] != seen["machine_trap"]
            or seen["ir"] != seen["machine"]
            or seen.get("ir_dest") != seen.get("machine_dest")
            or seen["ir_memory"] != seen["machine_memory"]
        )
        assert differs, f"{q.label}: the counterexample does not tell the sides apart: {seen}"
