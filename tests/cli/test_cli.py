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
