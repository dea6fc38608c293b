"""The verifier: the seed x86-64 spec and the small ISAs are proven; wrong rules are
refuted with counterexamples that replay (without Z3) to different IR and machine
results; timeouts are unproven; proofs are cached by what they read; the command line
prints its summary line and exit code.

Each file in verify_fail/ is a rules.yaml for isa_specs/x86_64 with a wrong rule; its
``# refuted:`` line lists the query labels that must be refuted (``;``-separated).
"""

from __future__ import annotations

import io
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from verify_support import replay

from heron.cli import main as heron_main
from heron.meta import smt
from heron.meta import verify as v
from heron.meta.irspec import default_specs_dir
from heron.meta.isa import ISA, isa_folders, load_isa, load_isa_folder

HERE = Path(__file__).parent
SUMMARY = re.compile(r"^verified (\d+) rules \((\d+) queries\), (\d+) failed, (\d+) unproven(?:, (\d+) assumed)? in \d+\.\d s$")


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HERON_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "verify"


QUICK_RULES = 40  # rules of the x86-64 spec proven in CI (``--full``: every rule, ~10 min)


def test_the_x86_spec_is_proven(full: bool) -> None:
    """Every rule (``--full``) or a seeded sample of rules (CI), without the cache."""
    isa = load_isa("x86_64")
    if full:
        report = v.verify([isa], use_cache=False, out=sys.stdout)
        assert report.rules == len(isa.rules) >= 300
        assert report.queries >= 2000
    else:
        names = random.Random(len(isa.rules)).sample(sorted(isa.rules), QUICK_RULES)
        reports = [v.verify([isa], rule=name, use_cache=False, out=sys.stdout) for name in names]
        report = reports[0]
        for r in reports[1:]:
            report.results += r.results
            report.rules += r.rules
            report.queries += r.queries
            report.failed += r.failed
            report.unproven += r.unproven
        assert report.rules == QUICK_RULES
    assert (report.failed, report.unproven) == (0, 0)
    assert SUMMARY.match(report.summary())


@pytest.mark.parametrize("folder", [f for f in isa_folders(HERE / "isa_pass")], ids=lambda p: p.name)
def test_small_isas_are_proven(folder: Path) -> None:
    report = v.verify([load_isa_folder(folder)], use_cache=False)
    assert (report.failed, report.unproven) == (0, 0) and report.queries > 0


def _wrong_isa(case: Path, tmp_path: Path) -> ISA:
    folder = tmp_path / "x86_64"
    shutil.copytree(default_specs_dir() / "x86_64", folder)
    (folder / "rules.yaml").write_text(case.read_text())
    return load_isa_folder(folder)


@pytest.mark.parametrize("case", sorted((HERE / "verify_fail").glob("*.yaml")), ids=lambda p: p.stem)
def test_wrong_rules_are_refuted_with_true_counterexamples(case: Path, tmp_path: Path) -> None:
    header = next(ln for ln in case.read_text().splitlines() if ln.startswith("# refuted:"))
    expected = {s.strip() for s in header.split(":", 1)[1].split(";")}
    isa = _wrong_isa(case, tmp_path)
    report = v.verify([isa], use_cache=False, out=open("/dev/null", "w"))
    refuted = {q.label for q, o in report.results if o.status == "refuted"}
    assert refuted == expected
    assert report.unproven == 0
    for q, o in report.results:
        if o.status != "refuted":
            continue
        cex = o.counterexample
        seen = replay(q, cex)
        # The replay agrees with what the verifier reports...
        assert seen["ir_trap"] == cex["ir_trap"] and seen["machine_trap"] == cex["machine_trap"]
        if not cex["ir_trap"] and not cex["machine_trap"]:
            assert seen["ir"] == {k: val for k, (val, _) in cex["ir"].items()}
            assert seen["machine"] == {k: val for k, (val, _) in cex["machine"].items()}
            if "dest" in cex:
                assert (seen["ir_dest"], seen["machine_dest"]) == cex["dest"]
        # ...and the two sides really differ.
        differs = (
            seen["ir_trap"] != seen["machine_trap"]
            or seen["ir"] != seen["machine"]
            or seen.get("ir_dest") != seen.get("machine_dest")
            or seen["ir_memory"] != seen["machine_memory"]
            or seen["reads_beyond"]
        )
        assert differs, f"{q.label}: the counterexample does not tell the sides apart: {seen}"


def test_counterexample_text(tmp_path: Path) -> None:
    isa = _wrong_isa(HERE / "verify_fail" / "ishl_unmasked_count.yaml", tmp_path)
    [(q, outcome)] = v.verify([isa], use_cache=False, out=open("/dev/null", "w")).results
    text = outcome.describe()
    assert text.splitlines()[0].startswith("    inputs:   x = 0x")
    assert "in registers (free high bits): x = 0x" in text
    assert "    IR:       out = 0x" in text and "    machine:  out = 0x" in text
    isa = _wrong_isa(HERE / "verify_fail" / "udiv_without_zero_check.yaml", tmp_path / "b")
    [(q, outcome)] = v.verify([isa], use_cache=False, out=open("/dev/null", "w")).results
    assert "y = 0x0000000000000000 (0)" in outcome.describe()
    assert "    IR:       traps int_divz\n    machine:  faults" in outcome.describe()


def test_a_timeout_is_unproven_not_proven() -> None:
    isa = load_isa("x86_64")
    [q] = [q for q in v.queries_for(isa, isa.rules["udiv"]) if q.label == "i64"]
    outcome = v.check_query(q, timeout_ms=1)
    assert outcome.status == "unknown" and "gave up" in outcome.reason


def test_proofs_are_cached_by_what_they_read(tmp_path: Path, private_cache: Path) -> None:
    folder = tmp_path / "x86_64"
    shutil.copytree(default_specs_dir() / "x86_64", folder)
    isa = load_isa_folder(folder)
    first = v.verify([isa], rule="iadd_rr", out=sys.stdout)
    assert first.queries == 4 and not any(o.cached for _, o in first.results)
    assert len(list(private_cache.rglob("*"))) > 4
    again = v.verify([isa], rule="iadd_rr")
    assert all(o.cached for _, o in again.results)
    fresh = v.verify([isa], rule="iadd_rr", use_cache=False)
    assert not any(o.cached for _, o in fresh.results)
    # Editing an instruction the rule emits invalidates its proofs, not the others'.
    text = (folder / "instructions.yaml").read_text().replace("CF = ult(r, a)\n", "CF = ule(r, a)\n", 1)
    (folder / "instructions.yaml").write_text(text)
    edited = load_isa_folder(folder)
    assert not any(o.cached for _, o in v.verify([edited], rule="iadd_rr").results)
    v.verify([isa], rule="ineg")
    assert all(o.cached for _, o in v.verify([edited], rule="ineg").results)


def test_cli_verify_one_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert heron_main(["meta", "verify", "--isa", "x86_64", "--rule", "icmp_rr", "--no-cache"]) == 0
    out, err = capsys.readouterr()
    m = SUMMARY.match(out.strip().splitlines()[-1])
    assert m and m.groups()[:4] == ("1", "40", "0", "0")
    assert "icmp_rr: 40 queries ok" in err  # not a terminal: one plain line per rule


def test_cli_verify_fails_on_a_wrong_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    _wrong_isa(HERE / "verify_fail" / "icmp_slt_as_b.yaml", specs)
    assert heron_main(["meta", "verify", "--specs", str(specs)]) == 1
    out, _ = capsys.readouterr()
    assert "x86_64: rule icmp_rr at i32, cond=slt: REFUTED" in out
    assert out.strip().splitlines()[-1].startswith("verified 1 rules (10 queries), 1 failed, 0 unproven in ")


def test_cli_verify_unknown_rule_or_isa(capsys: pytest.CaptureFixture[str]) -> None:
    assert heron_main(["meta", "verify", "--rule", "no_such_rule"]) != 0
    assert "no rule named 'no_such_rule'" in capsys.readouterr().err
    assert heron_main(["meta", "verify", "--isa", "pdp11"]) != 0
    assert "no ISA 'pdp11'" in capsys.readouterr().err
    assert heron_main(["meta", "verify", "--specs", str(HERE / "isa_pass" / "mini_x86")]) != 0
    assert "no ISA folder" in capsys.readouterr().err


def test_progress_updates_one_line_on_a_terminal() -> None:
    class Tty:
        def __init__(self) -> None:
            self.text = ""

        def isatty(self) -> bool:
            return True

        def write(self, s: str) -> None:
            self.text += s

        def flush(self) -> None:
            pass

    tty = Tty()
    isa = load_isa("x86_64")
    v.verify([isa], rule="bnot", use_cache=False, progress=tty)
    assert "\n" not in tty.text and "\r[0/4] bnot i8" in tty.text and tty.text.endswith("\r\x1b[K")


def test_heron_command_exits_non_zero(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    _wrong_isa(HERE / "verify_fail" / "brif_inverted.yaml", specs)
    run = subprocess.run([sys.executable, "-m", "heron.cli", "meta", "verify", "--specs", str(specs), "--no-cache"], capture_output=True, text=True)
    assert run.returncode == 1 and SUMMARY.match(run.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- floats


def test_nan_any_results_are_compared_up_to_the_payload(tmp_path: Path) -> None:
    """addsd gives a quieted input NaN or the default NaN (sign set), the IR semantics the
    canonical NaN: fadd is flagged nan_any, so the rule is proven; without the flag the
    verifier compares bits and refutes it with a NaN counterexample.  fneg (no flag) is
    compared bit for bit, NaN payloads included."""
    from heron.meta.isa import ir_semantics

    isa = load_isa("x86_64")
    assert (v.verify([isa], rule="fadd", use_cache=False).failed, v.verify([isa], rule="fneg", use_cache=False).failed) == (0, 0)
    text = (default_specs_dir() / "ir.yaml").read_text()
    head, tail = text.split("\n  fadd:\n", 1)
    body, rest = tail.split("\n  fsub:\n", 1)
    assert "    flags: [nan_any]\n" in body + "\n"
    (tmp_path / "ir.yaml").write_text(head + "\n  fadd:\n" + body.replace("\n    flags: [nan_any]", "") + "\n  fsub:\n" + rest)
    strict = load_isa_folder(default_specs_dir() / "x86_64", ir_semantics(tmp_path / "ir.yaml"))
    report = v.verify([strict], rule="fadd", use_cache=False, out=open("/dev/null", "w"))
    assert report.failed == 2
    for q, o in report.results:
        ir_val, bits = o.counterexample["ir"]["out"]
        assert ir_val == smt.canonical_nan(bits) and o.counterexample["machine"]["out"][0] != ir_val


def test_partial_maps_verify_and_match_only_the_values_they_map() -> None:
    from heron.meta.lowergen import MatcherWriter

    isa = load_isa("x86_64")
    labels = [q.label for q in v.queries_for(isa, isa.rules["fcmp_swapped"])]
    assert labels == [f"{t}, cond={c}" for t in ("f32", "f64") for c in ("lt", "le", "ugt", "uge")]
    source = MatcherWriter(isa).rule_source(isa.rules["fcmp_swapped"])
    assert "if _FCMP_SWAPPED_CC[cond] is None:\n            return False" in source


def test_a_rule_marked_unproven_is_assumed_and_listed(tmp_path: Path) -> None:
    folder = tmp_path / "x86_64"
    shutil.copytree(default_specs_dir() / "x86_64", folder)
    text = (folder / "rules.yaml").read_text()
    text = text.replace("  fma_f64:\n    doc: vfmadd213sd (FMA3).\n", '  fma_f64:\n    doc: vfmadd213sd (FMA3).\n    unproven: "a test of the mechanism"\n', 1)
    (folder / "rules.yaml").write_text(text)
    isa = load_isa_folder(folder)
    assert isa.rules["fma_f64"].unproven == "a test of the mechanism"
    out = io.StringIO()
    report = v.verify([isa], rule="fma_f64", use_cache=False, out=out)
    assert (report.queries, report.failed, report.unproven, report.results) == (0, 0, 0, [])
    assert "x86_64: 1 assumed: rule fma_f64 (" in out.getvalue() and "-- a test of the mechanism" in out.getvalue()
    m = SUMMARY.match(report.summary())
    assert m and m.group(5) == "1"
