"""Malformed CLIF gives one located ParseError, and nothing else ever escapes the parser.

``parse_errors/NAME.clif`` holds one malformed input; ``NAME.err`` the full
rendered error (``NAME.clif:line:col: error: ...``, the source line and a
caret).  ``pytest --bless`` rewrites the ``.err`` files from the parser's
output; review the diff.

The fuzz test mutates functions of the CLIF corpus (deleting text, swapping
lines, replacing and inserting tokens, changing numbers) and asserts that the
parser either succeeds, and then its output parses back to the same text, or
raises ParseError.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from heron.errors import ParseError
from heron.ir.parser import parse_test_file
from heron.ir.printer import test_file_to_text as file_to_text

DATA = Path(__file__).parent / "parse_errors"
CASES = sorted(DATA.glob("*.clif"))


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_parse_error(case: Path, bless: bool) -> None:
    expected_file = case.with_suffix(".err")
    with pytest.raises(ParseError) as info:
        parse_test_file(case.read_text(), case.name)
    actual = str(info.value) + "\n"
    if bless:
        expected_file.write_text(actual)
        return
    assert expected_file.exists(), f"{expected_file.name} is missing; run pytest --bless and review it"
    assert actual == expected_file.read_text()


def test_every_err_file_has_a_case() -> None:
    assert sorted(p.stem for p in DATA.glob("*.err")) == [c.stem for c in CASES]


# -- fuzzing -------------------------------------------------------------------------------

_VOCAB = [
    "v0", "v1", "v99", "v999999", "block0", "block1", "block99999", "ss0", "ss7", "gv0", "gv3", "fn0",
    "fn9", "sig0", "sig4", "dt0", "dt2", "const0", "exn0", "ret0", "tag1", "u1", "(", ")", "[", "]", ",",
    "=", "->", ":", "!", "*", ".", "+", "-", "@01", "}", "{", "%f", "0", "-1", "255", "0x" + "f" * 40,
    "+NaN:0x1", "0x1.8p1", "0.0", "-Inf", "iadd", "iconst.i32", "call", "load.i64", "brif", "jump",
    "br_table", "return", "vconst.i8x16", "shuffle", "i8", "i32", "i128", "f32x4", "notrap", "little",
    "big", "heap", "user1", "cold", "; run", "; run: %f(1) == 2", "; print", "\n", "function", "stack_limit",
    "\u00b2", "\u0663", "\u00e9", "\r", "\t", "$", "user\u00b2", "u1:2\u00b2", "-sNaN", "NaN:0x1",
]


def _functions(corpus: Path) -> list[str]:
    chunks: list[str] = []
    for path in sorted(corpus.glob("*.clif"))[::7]:
        chunks += re.split(r"(?m)^(?=function )", path.read_text())[1:]
    return chunks


_mutation = st.tuples(st.integers(0, 4), st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(_VOCAB))


def _mutate(text: str, mutations: list[tuple[int, int, int, str]]) -> str:
    for kind, a, b, word in mutations:
        if not text:
            break
        if kind == 0:                                   # delete a span
            i = a % len(text)
            text = text[:i] + text[i + 1 + b % 12:]
        elif kind == 1:                                 # replace a word
            words = re.split(r"(\s+)", text)
            words[a % len(words)] = word
            text = "".join(words)
        elif kind == 2:                                 # insert a word
            i = a % (len(text) + 1)
            text = f"{text[:i]} {word} {text[i:]}"
        elif kind == 3:                                 # swap two lines
            lines = text.split("\n")
            i, j = a % len(lines), b % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        else:                                           # change a number
            numbers = list(re.finditer(r"\d+", text))
            if numbers:
                m = numbers[a % len(numbers)]
                new = str([0, 1, 7, 255, 256, 65535, 1 << 31, 1 << 32, 1 << 64, 99999][b % 10])
                text = text[:m.start()] + new + text[m.end():]
    return text


def test_mutated_corpus_raises_only_parse_errors(clif_corpus: Path, full: bool) -> None:
    functions = _functions(clif_corpus)

    @settings(max_examples=2000 if full else 300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(functions) - 1), st.lists(_mutation, min_size=1, max_size=4))
    def check(index: int, mutations: list[tuple[int, int, int, str]]) -> None:
        text = _mutate(functions[index], mutations)
        try:
            tf = parse_test_file(text, "mutated.clif")
        except ParseError:
            return
        printed = file_to_text(tf)
        assert file_to_text(parse_test_file(printed, "printed.clif")) == printed

    check()
