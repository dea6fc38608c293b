"""``heron test`` / ``heron interpret`` / ``heron run``: run the ``; run:`` lines of CLIF files.

Engines: ``heron test`` compiles a ``test run`` file for this machine and runs it
natively (heron.jit) when one of its ``target`` lines names the host ISA or it has
none; other files, and every file under ``--interpret``, run on the interpreter.
``heron run`` runs every file natively whatever its header.  A native file runs in a
forked child: a crash or a hang (``FILE_TIMEOUT``) fails that file's run lines and
the run goes on.  A function that does not compile fails its own run lines with the
CompileError (opcode, type and target).

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

import faulthandler
import os
import pickle
import select
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heron.cli.common import collect_clif_files, read_text
from heron.errors import HeronError, Trap
from heron.ir.testfile import TestFile

# A native file that runs longer than this is killed and its run lines fail.
FILE_TIMEOUT = 120.0

__all__ = ["run_filetests", "ExpectedFailures", "FiletestReport", "run_file", "runner_for", "host_target"]


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
    # (file name, line) -> what happened, for every failing run line; and the engine
    # ("native" or "interpret") each file ran on.
    details: dict[tuple[str, int], str] = field(default_factory=dict)
    runners: dict[str, str] = field(default_factory=dict)


def host_target() -> str | None:
    """The backend name of this machine, or None when Heron has none for it."""
    from heron.backend.isa import host_isa
    from heron.errors import CompileError

    try:
        return str(host_isa().NAME)
    except CompileError:
        return None


def _choose_runner(tf: TestFile, interpret: bool, native: bool = False) -> str:
    """Which engine runs a file.

    ``native`` when the file is a ``test run`` file, not forced to the interpreter, and
    one of its ``target`` lines names this machine's ISA (or it has none: Cranelift
    runs such files on the host), or when ``native`` forces it (``heron run``); the
    interpreter otherwise, and always when Heron has no backend for this machine."""
    if interpret:
        return "interpret"
    host = host_target()
    if host is None:
        return "interpret"
    if native:
        return "native"
    if not any(t.split()[0] == "run" for t in tf.tests if t):
        return "interpret"
    targets = tf.targets
    if targets and not any(_canonical_target(isa) == host for isa, _ in targets):
        return "interpret"
    return "native"


def runner_for(path: str | Path, interpret: bool = False) -> str:
    """``native`` or ``interpret``: how ``heron test`` runs the file at ``path``."""
    from heron.ir.parser import parse_test_file

    return _choose_runner(parse_test_file(read_text(path), str(path)), interpret)


def _canonical_target(name: str) -> str:
    from heron.backend.isa import lookup_isa
    from heron.errors import CompileError

    try:
        return str(lookup_isa(name).NAME)
    except CompileError:
        return name


class _NativeEngine:
    """Runs a file's functions compiled for this machine (``heron.jit``): the same
    ``call(name, args) -> results`` as the interpreter.  A function that does not
    compile fails its run lines with the CompileError (opcode, type, target)."""

    def __init__(self, tf: TestFile) -> None:
        from heron.jit import compile_functions

        self.errors: dict[str, HeronError] = {}
        self.module = compile_functions(tf.functions, errors=self.errors)

    def call(self, name: str, args: list[int]) -> list[int]:
        err = self.errors.get(name)
        if err is not None:
            raise err
        return self.module.get_function(name).call_bits(*args)

    def close(self) -> None:
        self.module.free()


def run_file(path: Path, report: FiletestReport, interpret: bool, expect: ExpectedFailures | None,
             verbose: bool = False, timeout: float = FILE_TIMEOUT, native: bool = False) -> None:
    """Run every run line of one file, adding to ``report``.

    Native files run in a forked child (where ``os.fork`` exists): machine code that
    crashes or hangs costs that file's run lines, never the process or the rest."""
    from heron.ir.parser import parse_test_file

    report.files += 1
    try:
        tf = parse_test_file(read_text(path), str(path))
    except HeronError as err:
        report.bad_files += 1
        report.messages.append(f"ERROR {err}")
        return
    runner = _choose_runner(tf, interpret, native)
    if runner == "native" and hasattr(os, "fork"):
        _run_isolated(path, tf, report, expect, verbose, timeout)
    else:
        _run_items(path, tf, runner, report, expect, verbose)


def _run_isolated(path: Path, tf: TestFile, report: FiletestReport, expect: ExpectedFailures | None,
                  verbose: bool, timeout: float) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, send the report, leave without cleanup
        status = 0
        try:
            faulthandler.disable()  # a crash is reported by the parent, in one line
            os.close(rfd)
            part = FiletestReport()
            _run_items(path, tf, "native", part, expect, verbose)
            data = pickle.dumps((part, expect.used if expect is not None else set()))
            with os.fdopen(wfd, "wb") as out:
                out.write(data)
        except BaseException:  # noqa: BLE001 - the parent reports the missing result
            status = 3
        os._exit(status)
    os.close(wfd)
    chunks = []
    deadline = time.monotonic() + timeout
    timed_out = False
    with os.fdopen(rfd, "rb") as inp:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([inp], [], [], left)[0]:
                timed_out = True
                os.kill(pid, signal.SIGKILL)
                break
            chunk = os.read(inp.fileno(), 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if not timed_out and chunks:
        try:
            part, used = pickle.loads(b"".join(chunks))
        except Exception:  # noqa: BLE001
            part = None
        if part is not None:
            _merge(report, part)
            if expect is not None:
                expect.used |= used
            return
    if timed_out:
        why = f"timed out after {timeout:g} s"
    elif os.WIFSIGNALED(status):
        why = f"crashed: {signal.Signals(os.WTERMSIG(status)).name}"
    else:
        why = f"the native run ended without a report (exit status {os.waitstatus_to_exitcode(status)})"
    _fail_all(path, tf, report, expect, why)


def _merge(report: FiletestReport, part: FiletestReport) -> None:
    report.passed += part.passed
    report.failed += part.failed
    report.expected_failures += part.expected_failures
    report.unexpected_passes += part.unexpected_passes
    report.messages += part.messages
    report.results.update(part.results)
    report.details.update(part.details)
    report.runners.update(part.runners)


def _fail_all(path: Path, tf: TestFile, report: FiletestReport, expect: ExpectedFailures | None, why: str) -> None:
    """Every run line of a file whose native run crashed or hung fails with ``why``."""
    name = path.name
    report.messages.append(f"ERROR {name}: {why}")
    for item in tf.items:
        for cmd in item.commands:
            if cmd.kind == "print":
                continue
            _record(report, expect, path, cmd, False, why, "native", False)


def _run_items(path: Path, tf: TestFile, runner: str, report: FiletestReport, expect: ExpectedFailures | None,
               verbose: bool) -> None:
    from heron.ir.interpreter import Interpreter

    name = path.name
    engine: Any
    if runner == "native":
        try:
            engine = _NativeEngine(tf)
        except HeronError as err:
            _fail_all(path, tf, report, expect, f"error: {err}")
            return
    else:
        engine = Interpreter(tf.functions)
    try:
        for item in tf.items:
            for cmd in item.commands:
                if cmd.kind == "print":
                    try:
                        out = engine.call(cmd.function, list(cmd.args))
                        from heron.ir.testfile import format_data_values

                        report.messages.append(f"{name}:{cmd.line}: {cmd.invocation_text()} -> {format_data_values(cmd.return_types, out)}")
                    except HeronError as err:
                        report.messages.append(f"{name}:{cmd.line}: {cmd.invocation_text()} -> {err}")
                    continue
                ok, detail = _run_command(engine, cmd)
                _record(report, expect, path, cmd, ok, detail, runner, verbose)
    finally:
        if runner == "native":
            engine.close()


def _record(report: FiletestReport, expect: ExpectedFailures | None, path: Path, cmd: Any, ok: bool, detail: str,
            runner: str, verbose: bool) -> None:
    name = path.name
    report.results[(name, cmd.line)] = ok
    report.runners[name] = runner
    if not ok:
        report.details[(name, cmd.line)] = detail
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
                  verbose: bool = False, quiet: bool = False, native: bool = False) -> int:
    """The ``heron test`` command (``native``: ``heron run``); returns the exit status."""
    report = collect_report(paths, interpret, expect_fail, verbose, native)
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
                   verbose: bool = False, native: bool = False) -> FiletestReport:
    expect = ExpectedFailures.load(expect_fail) if expect_fail else None
    report = FiletestReport()
    for path in collect_clif_files(paths):
        run_file(path, report, interpret, expect, verbose, native=native)
    return report
