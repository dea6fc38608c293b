"""The `heron` command line: every verb on good input, and every bad-input path.

A user's mistake gives one clear message on stderr and a non-zero exit status,
never a traceback; run failures are reported and counted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from heron.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "fib.clif"

GOOD = """test interpret

function %add(i32, i32) -> i32 {
block0(v0: i32, v1: i32):
    v2 = iadd v0, v1
    return v2
}
; run: %add(1, 2) == 3
; run: %add(-1, 1) == 0
"""


def _write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_cat_prints_canonical_text(tmp_path: Path, capsys) -> None:
    assert main(["cat", _write(tmp_path, "a.clif", GOOD)]) == 0
    out = capsys.readouterr().out
    assert "function %add(i32, i32) -> i32 fast {" in out
    assert "; run: %add(1, 2) == 3" in out
    # cat's output is a fixed point
    assert main(["cat", _write(tmp_path, "b.clif", out)]) == 0
    assert capsys.readouterr().out == out


def test_interpret_the_example(capsys) -> None:
    assert main(["interpret", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "6 passed, 0 failed"


def test_failures_are_reported_with_function_arguments_expected_and_actual(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, "f.clif", GOOD.replace("== 3", "== 4"))
    assert main(["test", "--interpret", path]) == 1
    out = capsys.readouterr().out
    assert "FAIL f.clif:8: run: %add(1, 2) == 4: got 3" in out
    assert out.strip().splitlines()[-1] == "1 passed, 1 failed"


def test_trap_is_a_failure_not_a_crash(tmp_path: Path, capsys) -> None:
    text = """function %d(i32, i32) -> i32 {
block0(v0: i32, v1: i32):
    v2 = udiv v0, v1
    return v2
}
; run: %d(1, 0) == 0
; run: %d(6, 3) == 2
"""
    assert main(["test", _write(tmp_path, "d.clif", text)]) == 1
    out = capsys.readouterr().out
    assert "trapped: int_divz" in out
    assert out.strip().splitlines()[-1] == "1 passed, 1 failed"


def test_directory_is_walked(tmp_path: Path, capsys) -> None:
    _write(tmp_path, "a.clif", GOOD)
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub", "b.clif", GOOD)
    assert main(["test", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "4 passed, 0 failed"


def test_expected_failure_list(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, "f.clif", GOOD.replace("== 3", "== 4"))
    xfail = _write(tmp_path, "xfail.txt", "# comment\nf.clif:8  deliberately wrong expectation\n")
    assert main(["test", "--expect-fail", xfail, path]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "1 passed, 0 failed"
    # An expected failure that passes is an error.
    fixed = _write(tmp_path, "f.clif", GOOD)
    assert main(["test", "--expect-fail", xfail, fixed]) == 1
    out = capsys.readouterr().out
    assert "UNEXPECTED PASS f.clif:8" in out
    assert out.strip().splitlines()[-1] == "1 passed, 1 failed"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["cat", "/no/such/file.clif"], "heron: error: cannot read /no/such/file.clif: no such file"),
        (["test", "/no/such/dir"], "heron: error: no such file or folder: /no/such/dir"),
        (["frob"], "invalid choice: 'frob'"),
        (["test"], "the following arguments are required: paths"),
        (["cat"], "the following arguments are required: files"),
        (["meta", "frob"], "invalid choice: 'frob'"),
        (["test", "--expect-fail", "/no/list.txt", "x.clif"], "heron: error:"),
        (["compile", "--target", "vax", "x.clif"], "heron: error: unknown target 'vax'"),
        (["compile", "/no/such/file.clif"], "heron: error: cannot read /no/such/file.clif"),
        (["run", "/no/such/dir"], "heron: error: no such file or folder: /no/such/dir"),
        (["compile"], "the following arguments are required: files"),
    ],
)
def test_bad_arguments_give_one_message(argv: list[str], message: str, capsys) -> None:
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_bad_clif_file_gives_located_message(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, "bad.clif", "function %f( {\n")
    assert main(["cat", path]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:1:14: error: expected a parameter type, found '{{'")
    assert err.rstrip().endswith("^")


def test_bad_file_in_test_run_is_counted_and_fails(tmp_path: Path, capsys) -> None:
    _write(tmp_path, "bad.clif", "function %f( {\n")
    _write(tmp_path, "good.clif", GOOD)
    assert main(["test", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ERROR" in out and "1 files with errors" in out
    assert out.strip().splitlines()[-1] == "2 passed, 0 failed"


def test_non_utf8_file(tmp_path: Path, capsys) -> None:
    p = tmp_path / "bin.clif"
    p.write_bytes(b"\xff\xfe\x00")
    assert main(["cat", str(p)]) == 1
    assert "not UTF-8 text" in capsys.readouterr().err


def test_bad_expected_failure_list(tmp_path: Path, capsys) -> None:
    lst = _write(tmp_path, "x.txt", "f.clif:abc reason\n")
    assert main(["test", "--expect-fail", lst, _write(tmp_path, "f.clif", GOOD)]) == 1
    assert "expected FILE:LINE" in capsys.readouterr().err
    lst = _write(tmp_path, "y.txt", "f.clif:3\n")
    assert main(["test", "--expect-fail", lst, _write(tmp_path, "f.clif", GOOD)]) == 1
    assert "needs a reason" in capsys.readouterr().err


def test_console_script_runs_as_a_process() -> None:
    proc = subprocess.run([sys.executable, "-m", "heron.cli", "interpret", str(EXAMPLE)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("6 passed, 0 failed")


NATIVE = """test run
target x86_64

function %div(i64, i64) -> i64 {
block0(v0: i64, v1: i64):
    v2 = udiv v0, v1
    return v2
}
; run: %div(7, 2) == 3
; run: %div(7, 0) == 3
"""

on_x86_64 = pytest.mark.skipif(
    not (sys.platform == "linux" and __import__("platform").machine() == "x86_64"), reason="runs x86-64 code"
)


@on_x86_64
def test_test_runs_run_files_natively_and_reports_traps(tmp_path: Path, capsys) -> None:
    f = _write(tmp_path, "div.clif", NATIVE)
    assert main(["test", "-v", f]) == 1
    out = capsys.readouterr().out
    assert "ok   div.clif:9: run: %div(7, 2) == 3 (native)" in out
    assert "FAIL div.clif:10: run: %div(7, 0) == 3: trapped: int_divz (native)" in out
    assert out.strip().splitlines()[-1] == "1 passed, 1 failed"
    assert main(["test", "--interpret", "-v", f]) == 1
    assert "(interpret)" in capsys.readouterr().out


@on_x86_64
def test_run_compiles_whatever_the_header(tmp_path: Path, capsys) -> None:
    f = _write(tmp_path, "add.clif", GOOD)  # `test interpret`, no target: heron run still compiles it
    assert main(["run", "-v", f]) == 0
    out = capsys.readouterr().out
    assert "(native)" in out and out.strip().splitlines()[-1] == "2 passed, 0 failed"


@on_x86_64
def test_a_function_that_does_not_compile_fails_its_own_lines(tmp_path: Path, capsys) -> None:
    text = NATIVE + """
function %vec(i32x4) -> i32x4 {
block0(v0: i32x4):
    v1 = iadd v0, v0
    return v1
}
; run: %vec([1 2 3 4]) == [2 4 6 8]
"""
    f = _write(tmp_path, "mixed.clif", text)
    assert main(["test", f]) == 1
    out = capsys.readouterr().out
    assert "%vec: x86_64: no lowering rule for iadd.i32x4" in out
    assert out.strip().splitlines()[-1] == "1 passed, 2 failed"


def test_compile_prints_vcode_and_disassembly(tmp_path: Path, capsys) -> None:
    f = _write(tmp_path, "div.clif", NATIVE)
    assert main(["compile", "--target", "x86_64", "--disasm", "--timings", f]) == 0
    out = capsys.readouterr().out
    assert out.startswith("; %div: x86_64, ")
    assert "    div rsi" in out  # VCode, the spec's asm syntax
    assert "48 f7 f6" in out and "div rsi" in out.split("; disassembly")[1]  # capstone
    assert "trap int_divz" in out and "reloc abs8 __heron_trap_context" in out
    assert "; timings (ms): verify " in out


def test_compile_reports_what_it_cannot_compile(tmp_path: Path, capsys) -> None:
    f = _write(tmp_path, "v.clif", "function %v(i8x16) -> i8x16 {\nblock0(v0: i8x16):\n    v1 = bnot v0\n    return v1\n}\n")
    assert main(["compile", "--target", "x86_64", f]) == 1
    out = capsys.readouterr().out
    assert "; %v: error: " in out and "no lowering rule for bnot.i8x16" in out and "Traceback" not in out


def test_dynamic_vectors_are_a_clear_interpreter_error(tmp_path: Path, capsys) -> None:
    text = """test interpret
function %f(i16) -> i16x8 {
  gv0 = dyn_scale_target_const.i16x8
  dt0 = i16x8*gv0
block0(v0: i16):
  v1 = splat.dt0 v0
  v2 = extract_vector v1, 0
  return v2
}
; run: %f(1) == [1 1 1 1 1 1 1 1]
"""
    f = _write(tmp_path, "dyn.clif", text)
    assert main(["test", "--interpret", f]) == 1
    out = capsys.readouterr().out
    assert "the interpreter does not run dynamic vector types ('splat' on i16x8xN)" in out
    assert "internal error" not in out
