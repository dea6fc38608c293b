"""Cranelift's run-tests on Heron's interpreter, through the `heron test` runner.

Every run line of every corpus file runs on the interpreter; the failures must be
exactly the checked-in expected failures (interpret_xfail.txt, each with its
reason), and an expected failure that passes fails this test.  The acceptance
thresholds of the foundation issue are checked over the files that carry
``test interpret``: 98% of run lines in files without vector types, 90% of all.
"""

from __future__ import annotations

import csv
from pathlib import Path

from heron.cli import main
from heron.cli.filetest import ExpectedFailures, collect_report

XFAIL = Path(__file__).parent / "interpret_xfail.txt"


def _index(corpus: Path) -> dict[str, dict[str, str]]:
    with open(corpus / "INDEX.tsv", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


def test_corpus_on_the_interpreter(clif_corpus: Path) -> None:
    report = collect_report([str(clif_corpus)], interpret=True, expect_fail=str(XFAIL))
    failures = [m for m in report.messages if m.startswith(("FAIL", "UNEXPECTED PASS", "ERROR"))]
    assert not failures, "\n".join(failures[:50])
    expect = ExpectedFailures.load(XFAIL)
    stale = set(expect.lines) - {(name, line) for (name, line) in report.results}
    assert not stale, f"expected-failure entries that name no run line: {sorted(stale)}"

    index = _index(clif_corpus)
    per_class: dict[str, list[int]] = {}
    total = [0, 0]
    scalar = [0, 0]
    for (name, _line), ok in report.results.items():
        row = index.get(name)
        if row is None or "interpret" not in row["tests"].split(","):
            continue
        classes = row["classes"].split(",")
        for counts in [total, *(per_class.setdefault(c, [0, 0]) for c in classes)]:
            counts[0] += ok
            counts[1] += 1
        if "simd" not in classes and "dynamic-simd" not in classes:
            scalar[0] += ok
            scalar[1] += 1
    summary = ", ".join(f"{c} {p}/{n}" for c, (p, n) in sorted(per_class.items()))
    print(f"\ninterpret files: {total[0]}/{total[1]} run lines pass; without vectors {scalar[0]}/{scalar[1]}; {summary}")
    assert total[1] > 9000
    assert scalar[0] >= 0.98 * scalar[1]
    assert total[0] >= 0.90 * total[1]


def test_cli_reports_counts_and_exit_status(clif_corpus: Path, capsys) -> None:
    status = main(["test", "--interpret", "--expect-fail", str(XFAIL), str(clif_corpus / "i128-conversion.clif")])
    out = capsys.readouterr().out.strip().splitlines()
    assert status == 0
    assert out[-1].endswith(" passed, 0 failed")
    status = main(["test", "--interpret", str(clif_corpus / "i128-conversion.clif")])
    out = capsys.readouterr().out
    assert status == 1
    assert "FAIL i128-conversion.clif:14: run: %fcvt_to_uint_i128(0x1.fffffep127) == " in out
    assert out.strip().splitlines()[-1].endswith(" passed, 3 failed")
