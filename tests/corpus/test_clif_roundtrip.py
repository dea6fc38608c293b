"""Every file of the CLIF corpus parses, and print -> parse -> print is the identity.

The corpus is Cranelift's run-tests (``../shared/corpus/clif-runtests``); the
test skips without it.  It prints how many files and functions it checked.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from heron.errors import ParseError
from heron.ir.parser import parse_test_file
from heron.ir.printer import function_to_text
from heron.ir.printer import test_file_to_text as file_to_text


def test_corpus_round_trip(clif_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(clif_corpus.glob("*.clif"))
    assert len(files) >= 274
    failures: list[str] = []
    functions = commands = 0
    for path in files:
        try:
            tf = parse_test_file(path.read_text(), path.name)
        except ParseError as err:
            failures.append(f"{path.name}: does not parse:\n{err}")
            continue
        printed = file_to_text(tf)
        try:
            again = parse_test_file(printed, f"{path.name} (printed)")
        except ParseError as err:
            failures.append(f"{path.name}: the printed text does not parse:\n{err}")
            continue
        functions += len(tf.items)
        commands += sum(len(item.commands) for item in tf.items)
        for before, after in zip(tf.items, again.items):
            first, second = function_to_text(before.function), function_to_text(after.function)
            if first != second:
                diff = "".join(difflib.unified_diff(first.splitlines(True), second.splitlines(True), n=1))
                failures.append(f"{path.name}: {before.function.name} (line {before.line}) changes:\n{diff}")
        if file_to_text(again) != printed:
            failures.append(f"{path.name}: the printed test file is not a fixed point")
    with capsys.disabled():
        print(f"\nCLIF corpus: {len(files)} files, {functions} functions, {commands} run commands; "
              f"{len(failures)} failures")
    assert not failures, "\n\n".join(failures[:10])
