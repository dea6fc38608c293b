"""The CLIF lexer and the literal readers of its token stream."""

from __future__ import annotations

import pytest

from heron.errors import ParseError
from heron.ir.lexer import TokenStream, tokenize
from heron.ir.types import type_by_name


def kinds(text: str) -> list[tuple[str, str]]:
    tokens, _ = tokenize(text)
    return [(t.kind, t.text) for t in tokens[:-1]]


def stream(text: str) -> TokenStream:
    tokens, _ = tokenize(text)
    return TokenStream(tokens, text, "t.clif")


def test_punctuation_and_arrow() -> None:
    assert [k for k, _ in kinds("( ) { } [ ] , . : = ! * + @ ->")] == [
        "(", ")", "{", "}", "[", "]", ",", ".", ":", "=", "!", "*", "+", "@", "->",
    ]


def test_minus_alone_is_punctuation_but_starts_a_number() -> None:
    assert kinds("- 5 -5 -0x10") == [("-", "-"), ("int", "5"), ("int", "-5"), ("int", "-0x10")]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("0", "int"),
        ("2_000", "int"),
        ("0xff_00", "int"),
        ("+5", "int"),
        ("0.0", "float"),
        ("-0x1.8p3", "float"),
        ("0x0.4p-34", "float"),
        ("+Inf", "float"),
        ("-NaN", "float"),
        ("+NaN:0x1", "float"),
        ("-sNaN:0x1", "float"),
        ("NaN", "float"),      # unsigned NaN/Inf are numbers too, as in Cranelift
        ("Inf", "float"),
        ("NaN:0x3", "float"),
    ],
)
def test_numbers(text: str, kind: str) -> None:
    assert kinds(text) == [(kind, text)]


def test_number_stops_at_comma_and_bracket() -> None:
    assert kinds("[1 -2,3]") == [("[", "["), ("int", "1"), ("int", "-2"), (",", ","), ("int", "3"), ("]", "]")]


def test_entities_carry_their_number() -> None:
    tokens, _ = tokenize("v12 block3 ss0 gv1 dt2 sig4 fn5 const6 u7 exn0 tag1")
    assert [(t.kind, t.value) for t in tokens[:-1]] == [
        ("value", 12), ("block", 3), ("ss", 0), ("gv", 1), ("dt", 2), ("sig", 4),
        ("fn", 5), ("const", 6), ("user", 7), ("exn", 0), ("tag", 1),
    ]


@pytest.mark.parametrize("word", ["v01", "vx1", "v1x", "block", "function0", "v99999999999", "iadd", "user1"])
def test_non_canonical_entities_are_identifiers(word: str) -> None:
    assert kinds(word) == [("ident", word)]


def test_types() -> None:
    tokens, _ = tokenize("i8 i128 f16 f64 i32x4 f64x2 i8x16")
    assert [t.value for t in tokens[:-1]] == [type_by_name(n) for n in ("i8", "i128", "f16", "f64", "i32x4", "f64x2", "i8x16")]
    # Too wide, not a power of two, and dynamic vectors are not type tokens.
    assert [k for k, _ in kinds("i32x8 i32x3 i32x4xN")] == ["ident", "ident", "ident"]


def test_names_strings_hex_srcloc() -> None:
    assert kinds('%foo_1 %0 % "a b" #ff0 @00c7') == [
        ("name", "foo_1"), ("name", "0"), ("name", ""), ("string", "a b"), ("hex", "ff0"), ("srcloc", "00c7"),
    ]


def test_comments_are_kept_apart_with_lines() -> None:
    tokens, comments = tokenize("v1 ; first\n; second\nv2")
    assert [(t.kind, t.line) for t in tokens] == [("value", 1), ("value", 3), ("eof", 3)]
    assert [(c.text, c.line) for c in comments] == [("; first", 1), ("; second", 2)]


def test_positions_and_lines() -> None:
    text = "function %f() {\n  block0:\n}"
    tokens, _ = tokenize(text)
    block = tokens[5]
    assert (block.kind, block.line, text[block.pos:block.pos + 6]) == ("block", 2, "block0")


def test_lexing_a_slice_keeps_file_positions() -> None:
    text = "abc\n; run: %f(1)"
    start = text.index("run")
    tokens, _ = tokenize(text, "t.clif", start, len(text), 2)
    assert tokens[0].pos == start and tokens[0].line == 2


def test_invalid_character_is_located() -> None:
    with pytest.raises(ParseError) as info:
        tokenize("v1 = iadd v0,\n  v2 $ v3", "t.clif")
    assert str(info.value) == "t.clif:2:6: error: invalid character '$'\n  v2 $ v3\n     ^"


def test_unterminated_string() -> None:
    with pytest.raises(ParseError, match="unterminated string"):
        tokenize('feature "abc')


# -- literal readers --------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "bits", "value"),
    [("-1", 8, 0xFF), ("255", 8, 0xFF), ("-128", 8, 0x80), ("0x7fff", 16, 0x7FFF),
     ("-0x8000_0000", 32, 0x8000_0000), ("0xffff_ffff_ffff_ffff", 64, (1 << 64) - 1),
     ("-1", 128, (1 << 128) - 1)],
)
def test_int_literal(text: str, bits: int, value: int) -> None:
    ts = stream(text)
    assert ts.int_literal(bits, "an int") == value
    assert ts.at("eof")


@pytest.mark.parametrize(("text", "bits"), [("256", 8), ("-129", 8), ("0x1_0000", 16), ("4294967296", 32)])
def test_int_literal_out_of_range(text: str, bits: int) -> None:
    with pytest.raises(ParseError, match=f"does not fit in {bits} bits"):
        stream(text).int_literal(bits, "an int")


def test_int_literal_bad_digits_and_bools() -> None:
    with pytest.raises(ParseError, match="Invalid character in decimal number"):
        stream("12a").int_literal(32, "an int")
    with pytest.raises(ParseError, match="expected an int, found 'true'"):
        stream("true").int_literal(32, "an int")
    ts = stream("true false")
    assert (ts.int_literal(8, "x", allow_bool=True), ts.int_literal(8, "x", allow_bool=True)) == (1, 0)


def test_float_literal() -> None:
    ts = stream("0x1.8p1 -0.0 +NaN:0x1 -Inf")
    assert ts.float_literal(32, "f") == 0x40400000
    assert ts.float_literal(32, "f") == 0x80000000
    assert ts.float_literal(32, "f") == 0x7FC00001
    assert ts.float_literal(64, "f") == 0xFFF0000000000000


def test_float_literal_errors() -> None:
    with pytest.raises(ParseError, match="Too many significant bits"):
        stream("0x1.000001").float_literal(32, "an f32")
    with pytest.raises(ParseError, match="needs a radix point"):
        stream("0x1p3").float_literal(32, "an f32")
    with pytest.raises(ParseError, match="expected an f32, found '1'"):
        stream("1").float_literal(32, "an f32")


def test_vector_literal_lanes_and_hex() -> None:
    i32x4 = type_by_name("i32x4")
    assert stream("[1 2 3 -1]").vector_literal(i32x4, "v") == 0xFFFFFFFF_00000003_00000002_00000001
    assert stream("0x00000004_00000003_00000002_00000001").vector_literal(i32x4, "v") == 0x4_00000003_00000002_00000001
    f32x4 = type_by_name("f32x4")
    assert stream("[0x1.0p0 0.0 0.0 -0.0]").vector_literal(f32x4, "v") == (0x80000000 << 96) | 0x3F800000


def test_vector_literal_errors() -> None:
    i32x2 = type_by_name("i32x2")
    with pytest.raises(ParseError, match="expected ']' after the 2 lanes of i32x2"):
        stream("[1 2 3]").vector_literal(i32x2, "v")
    with pytest.raises(ParseError, match="has 16 bytes; i32x2 has 8"):
        stream("0x" + "00" * 16).vector_literal(i32x2, "v")
    with pytest.raises(ParseError, match="odd number of digits"):
        stream("0x123").vector_literal(i32x2, "v")
    with pytest.raises(ParseError, match="invalid hexadecimal constant"):
        stream("0x12zz").vector_literal(i32x2, "v")


def test_expect_reports_what_was_found() -> None:
    ts = stream("v1 v2")
    ts.advance()
    with pytest.raises(ParseError) as info:
        ts.expect(",", "expected ','")
    assert info.value.message == "expected ',', found 'v2'"
    assert (info.value.location.line, info.value.location.col) == (1, 4)
