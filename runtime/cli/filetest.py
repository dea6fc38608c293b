"""``heron test`` / ``heron interpret``: run the ``; run:`` lines of CLIF filetests.

Every run line calls its function and compares the results bit for bit with
the expected values.  Each failure is reported with the file, line, function,
arguments, expected and actual values; the last line is ``N passed, M failed``
(counts of run lines).  With ``--expect-fail LIST``, run lines named in LIST
must fail: they are counted as expected failures, and one that passes is an
error (the list only ever shrinks).

The list is a text file, one entry a line, ``#`` comments allowed::

    simd-shuffle.clif:42    shuffle of i16x8 is not lowered yet
    atomic-128.clif         atomics on i128 are not supported (whole file)

Example::

    $ heron test --interpret tests/data/
    FAIL add.clif:9: %add(1, 2) == 4: got 3
    1 passed, 1 failed
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from heron.cli.common import collect_clif_files, read_text
from heron.errors import HeronError, Trap

__all__ = ["run_filetests", "ExpectedFailures", "FiletestReport", "run_file"]


@dataclass
class ExpectedFailures:
    """Run lines (``file:line``) and whole files that are expected to fail, with reasons."""

    lines: dict[tuple[str, int], str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    used: set[tuple[str, int]] = field(default_factory=set)

    @classmethod
    def load(cls, path: str | Path) -> ExpectedFailures:
        out = cls()
        for lineno, raw in enumerate(read_text(path).splitlines(), 1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            parts = text.split(None, 1)
            if len(parts) < 2:
                raise HeronError(f"{path}:{lineno}: an expected failure needs a reason: '{raw.strip()}'")
            where, reason = parts
            name, _, line = where.partition(":")
            if line:
                if not line.isdigit():
                    raise HeronError(f"{path}:{lineno}: expected FILE:LINE, found '{where}'")
                out.lines[(name, int(line))] = reason
            else:
                out.files[name] = reason
        return out

    def reason(self, file: str, line: int) -> str | None:
        name = Path(file).name
        if (name, line) in self.lines:
            self.used.add((name, line))
            return self.lines[(name, line)]
        return self.files.get(name)


@dataclass
class FiletestReport:
    passed: int = 0
    failed: int = 0
    expected_failures: int = 0
    unexpected_passes: int = 0
    bad_files: int = 0
    files: int = 0
    messages: list[str] = field(default_factory=list)
    # (file name, line) -> passed?, for every run line; used by the corpus tests.
    results: dict[tuple[str, int], bool] = field(default_factory=dict)


def _choose_runner(tests: list[str], interpret: bool) -> str:
    """Which engine runs a file: the interpreter, until the native backend lands for the host."""
    return "interpret"


def run_file(path: Path, report: FiletestReport, interpret: bool, expect: ExpectedFailures | None,
             verbose: bool = False) -> None:
    """Run every run line of one file, adding to ``report``."""
    from heron.ir.interpreter import Interpreter
    from heron.ir.parser import parse_test_file

    name = path.name
    report.files += 1
    try:
        tf = parse_test_file(read_text(path), str(path))
    except HeronError as err:
        report.bad_files += 1
        report.messages.append(f"ERROR {err}")
        return
    runner = _choose_runner(tf.tests, interpret)
    interp = Interpreter(tf.functions)
    for item in tf.items:
        for cmd in item.commands:
            if cmd.kind == "print":
                try:
                    out = interp.call(cmd.function, list(cmd.args))
                    from heron.ir.testfile import format_data_values

                    report.messages.append(f"{name}:{cmd.line}: {cmd.invocation_text()} -> {format_data_values(cmd.return_types, out)}")
                except HeronError as err:
                    report.messages.append(f"{name}:{cmd.line}: {cmd.invocation_text()} -> {err}")
                continue
            ok, detail = _run_command(interp, cmd)
            report.results[(name, cmd.line)] = ok
            xfail = expect.reason(str(path), cmd.line) if expect is not None else None
            text = str(cmd)
            if ok and xfail is None:
                report.passed += 1
                if verbose:
                    report.messages.append(f"ok   {name}:{cmd.line}: {text} ({runner})")
            elif ok:
                report.unexpected_passes += 1
                report.messages.append(f"UNEXPECTED PASS {name}:{cmd.line}: {text} (listed as expected failure: {xfail})")
            elif xfail is not None:
                report.expected_failures += 1
                if verbose:
                    report.messages.append(f"xfail {name}:{cmd.line}: {text}: {detail} ({xfail})")
            else:
                report.failed += 1
                report.messages.append(f"FAIL {name}:{cmd.line}: {text}: {detail} ({runner})")


def _run_command(interp: object, cmd: object) -> tuple[bool, str]:
    """Run one run line; (passed?, what happened)."""
    from heron.ir.testfile import format_data_values

    try:
        actual = interp.call(cmd.function, list(cmd.args))  # type: ignore[attr-defined]
    except Trap as trap:
        return False, f"trapped: {trap.code}"
    except HeronError as err:
        return False, f"error: {err}"
    except RecursionError:
        return False, "error: recursion too deep in the interpreter"
    except Exception as err:  # noqa: BLE001 - a bug in Heron must not stop the other run lines
        return False, f"internal error: {type(err).__name__}: {err}"
    if cmd.comparison is None:  # type: ignore[attr-defined]
        ok = len(actual) == 1 and actual[0] != 0
        return ok, "got " + (format_data_values(cmd.return_types, actual) if actual else "no result")  # type: ignore[attr-defined]
    same = actual == list(cmd.expected)  # type: ignore[attr-defined]
    ok = same if cmd.comparison == "==" else not same  # type: ignore[attr-defined]
    got = format_data_values(cmd.return_types, actual)  # type: ignore[attr-defined]
    return ok, f"got {got if len(actual) == 1 else '[' + got + ']'}"


def run_filetests(paths: list[str], interpret: bool = False, expect_fail: str | None = None,
                  verbose: bool = False, quiet: bool = False) -> int:
    """The ``heron test`` command; returns the exit status."""
    report = collect_report(paths, interpret, expect_fail, verbose)
    for msg in report.messages:
        print(msg)
    extra = []
    if report.expected_failures or expect_fail:
        extra.append(f"{report.expected_failures} expected failures")
    if report.unexpected_passes:
        extra.append(f"{report.unexpected_passes} unexpected passes")
    if report.bad_files:
        extra.append(f"{report.bad_files} files with errors")
    if extra:
        print(f"{report.files} files: " + ", ".join(extra))
    failed = report.failed + report.unexpected_passes
    print(f"{report.passed} passed, {failed} failed")
    sys.stdout.flush()
    return 1 if failed or report.bad_files else 0


def collect_report(paths: list[str], interpret: bool = False, expect_fail: str | None = None,
                   verbose: bool = False) -> FiletestReport:
    expect = ExpectedFailures.load(expect_fail) if expect_fail else None
    report = FiletestReport()
    for path in collect_clif_files(paths):
        run_file(path, report, interpret, expect, verbose)
    return report
