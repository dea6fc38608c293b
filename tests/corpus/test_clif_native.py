"""Cranelift's run-tests compiled for this machine and run natively, through `heron test`.

Every corpus file that `heron test` runs natively runs here: ``test run`` files whose
target lines name the host ISA (or that have none), compiled by the backend and run
through the JIT, each in a forked child (tests/corpus/test_clif_interpret.py covers the
interpreter).  The failures must be
exactly the checked-in expected failures (native_xfail.txt, each with its reason), and
an expected failure that passes fails this test.  ``--bless`` rewrites the list from
the failures of this run (review the reasons it writes before committing).

The acceptance of the x86-64 issue is checked over the *scalar* files with a plain
``target x86_64`` line (INDEX.tsv ``x86_64_target`` = ``plain``): those in the int-only,
i128, float, memory or calls classes and in none of simd, atomics, f16/f128,
dynamic-simd or exceptions: at least 95% of their run lines pass natively.  Over the
whole corpus nothing crashes or hangs, and a native failure is a CompileError that
names opcode, type and target, or an entry in the list.
"""

from __future__ import annotations

import csv
import platform
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from heron.cli.common import collect_clif_files
from heron.cli.filetest import ExpectedFailures, collect_report, runner_for

XFAIL = Path(__file__).parent / "native_xfail.txt"
ON_X86_64 = sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64")
pytestmark = pytest.mark.skipif(not ON_X86_64, reason="runs x86-64 machine code on this CPU")

SCALAR = {"int-only", "i128", "float", "memory", "calls"}
NOT_SCALAR = {"simd", "atomics", "f16/f128", "dynamic-simd", "exceptions"}
_RULE = re.compile(r"no lowering rule for (\S+)")


def _index(corpus: Path) -> dict[str, dict[str, str]]:
    with open(corpus / "INDEX.tsv", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


def _reason(detail: str) -> str:
    """A short reason for an expected-failure entry, from a failure's detail."""
    m = _RULE.search(detail)
    if m:
        return f"no lowering rule for {m.group(1)}"
    detail = re.sub(r"\s+", " ", detail)
    return detail[:160]


def _bless(report, path: Path) -> None:  # type: ignore[no-untyped-def]
    by_file: dict[str, list[tuple[int, str]]] = defaultdict(list)
    passed_files = {name for (name, _), ok in report.results.items() if ok}
    for (name, line), detail in sorted(report.details.items()):
        by_file[name].append((line, _reason(detail)))
    out = [
        "# Run lines of ../shared/corpus/clif-runtests that fail natively on x86-64, with the reason.",
        "# FILE:LINE or FILE (every run line of it). Written by `pytest tests/corpus/test_clif_native.py --bless`",
        "# and reviewed by hand; an entry that passes fails the test, so the list only shrinks.",
    ]
    for name in sorted(by_file):
        entries = by_file[name]
        reasons = {r for _, r in entries}
        if name not in passed_files and len(reasons) == 1:
            out.append(f"{name}    {reasons.pop()}")
            continue
        out += [f"{name}:{line}    {reason}" for line, reason in entries]
    path.write_text("\n".join(out) + "\n")


def test_corpus_natively(clif_corpus: Path, bless: bool) -> None:
    files = [str(f) for f in collect_clif_files([str(clif_corpus)]) if runner_for(f) == "native"]
    assert len(files) > 200
    report = collect_report(files, expect_fail=None if bless else str(XFAIL))
    if bless:
        _bless(report, XFAIL)
        return
    crashed = [m for m in report.messages if m.startswith("ERROR")]
    assert not crashed, "\n".join(crashed[:50])
    failures = [m for m in report.messages if m.startswith(("FAIL", "UNEXPECTED PASS"))]
    assert not failures, "\n".join(failures[:50])
    expect = ExpectedFailures.load(XFAIL)
    stale = set(expect.lines) - set(report.results)
    assert not stale, f"expected-failure entries that name no run line: {sorted(stale)}"
    stale_files = set(expect.files) - {name for name, _ in report.results}
    assert not stale_files, f"expected-failure files that are not in the corpus: {sorted(stale_files)}"

    index = _index(clif_corpus)
    native = {name for name, runner in report.runners.items() if runner == "native"}
    per_class: dict[str, list[int]] = {}
    chosen = [0, 0]
    everything = [0, 0]
    for (name, _line), ok in report.results.items():
        if name not in native:
            continue
        everything[0] += ok
        everything[1] += 1
        row = index.get(name)
        if row is None or row["x86_64_target"] != "plain":
            continue
        classes = set(row["classes"].split(","))
        if not classes & SCALAR or classes & NOT_SCALAR:
            continue
        chosen[0] += ok
        chosen[1] += 1
        for c in classes:
            counts = per_class.setdefault(c, [0, 0])
            counts[0] += ok
            counts[1] += 1
    summary = ", ".join(f"{c} {p}/{n}" for c, (p, n) in sorted(per_class.items()))
    print(f"\nnative, plain x86_64 scalar files: {chosen[0]}/{chosen[1]} run lines pass ({summary}); "
          f"every native file: {everything[0]}/{everything[1]}")
    assert chosen[1] > 7000
    assert chosen[0] >= 0.95 * chosen[1]

    # Never a crash: a native failure is a compile error naming opcode, type and target,
    # or a wrong result/trap that the list names with its reason.
    for (name, line), detail in report.details.items():
        if name in native and "no lowering rule" in detail:
            assert re.search(r"x86_64: no lowering rule for [a-z_0-9]+\.\w+", detail), detail


def test_a_crashing_function_costs_its_file_only(tmp_path: Path) -> None:
    (tmp_path / "a_crash.clif").write_text(
        "test run\ntarget x86_64\n"
        "function %boom() -> i64 {\nblock0:\n    v0 = iconst.i64 0\n    v1 = load.i64 notrap v0\n    return v1\n}\n"
        "; run: %boom() == 0\n"
    )
    (tmp_path / "b_fine.clif").write_text(
        "test run\ntarget x86_64\n"
        "function %one() -> i64 {\nblock0:\n    v0 = iconst.i64 1\n    return v0\n}\n"
        "; run: %one() == 1\n"
    )
    report = collect_report([str(tmp_path)])
    assert report.results == {("a_crash.clif", 9): False, ("b_fine.clif", 8): True}
    assert report.details[("a_crash.clif", 9)] == "crashed: SIGSEGV"
    assert "ERROR a_crash.clif: crashed: SIGSEGV" in report.messages


def test_a_hanging_file_times_out(tmp_path: Path) -> None:
    from heron.cli.filetest import FiletestReport, run_file

    f = tmp_path / "hang.clif"
    f.write_text(
        "test run\ntarget x86_64\n"
        "function %spin() -> i64 {\nblock0:\n    jump block1\nblock1:\n    jump block1\n}\n"
        "; run: %spin() == 0\n"
    )
    report = FiletestReport()
    run_file(f, report, False, None, timeout=1.0)
    assert report.results == {("hang.clif", 9): False}
    assert report.details[("hang.clif", 9)] == "timed out after 1 s"
