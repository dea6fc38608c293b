"""CLIF tokens, and the token stream the CLIF parsers read.

The lexer follows Cranelift's ``cranelift/reader/src/lexer.rs``: words that
end in a number name entities (``v12``, ``block3``, ``ss0``, ``gv1``,
``sig0``, ``fn2``, ``dt0``, ``const1``, ``u1`` of ``u1:2``, ``exn0``,
``tag1``), types are words too (``i32``, ``f64x2``), numbers start with a
digit or a sign (``-10``, ``0xff_00``, ``0x1.8p3``, ``+NaN:0x1``, ``-Inf``);
a number is a float when it has a radix point or is an Inf or NaN.  ``%name``
is a function name.  ``;`` starts a comment to the end of the line; comments
are kept apart from the tokens because run commands (``; run: ...``) live in
them.

:class:`TokenStream` is the cursor both parsers (functions, run commands) use:
lookahead, ``expect``, and errors located at a token as
:class:`heron.errors.ParseError` (``file:line:col`` and a caret line).

Example::

    >>> toks, comments = tokenize("v2 = iadd.i32 v0, v1 ; sum")
    >>> [(t.kind, t.text) for t in toks]
    [('value', 'v2'), ('=', '='), ('ident', 'iadd'), ('.', '.'), ('type', 'i32'), ('value', 'v0'), (',', ','), ('value', 'v1'), ('eof', '')]
    >>> toks[0].value, comments[0].text
    (2, '; sum')
"""

from __future__ import annotations

import re

from heron.errors import ParseError
from heron.ir.immediates import parse_float, parse_int
from heron.ir.types import Type, type_by_name

__all__ = ["Token", "tokenize", "located_error", "describe", "TokenStream", "ENTITY_PREFIXES"]

# Word prefixes that make a numbered entity token, and the token kind of each.  ``u``
# is the namespace of a user external name (``u1:2``).
ENTITY_PREFIXES: dict[str, str] = {
    "v": "value",
    "block": "block",
    "ss": "ss",
    "dss": "dss",
    "gv": "gv",
    "dt": "dt",
    "jt": "jt",
    "mt": "mt",
    "const": "const",
    "fn": "fn",
    "sig": "sig",
    "u": "user",
    "exn": "exn",
    "ret": "ret",
    "tag": "tag",
}

_TOKEN_RE = re.compile(
    r"""
    [ \t\r\f\v]*
    (?:
     (?P<word>(?!NaN|Inf)[^\W\d]\w*)
    |(?P<srcloc>@[0-9A-Fa-f]+)
    |(?P<punct>->|[(){}\[\],.:=!*@]|[+\-](?![0-9.+\-]|NaN|Inf|sNaN))
    |(?P<nl>\n)
    |(?P<num>(?:[+-](?:s?NaN:|[0-9.+\-]|(?=NaN|Inf|sNaN))|NaN:|(?=NaN|Inf)|[0-9])[\w.\-]*)
    |(?P<comment>;[^\n]*)
    |(?P<name>%[A-Za-z0-9_]*)
    |(?P<string>"[^"]*")
    |(?P<hex>\#[0-9A-Fa-f]*)
    |(?P<end>$)
    )
    """,
    re.VERBOSE,
)
_ENTITY_RE = re.compile(r"([A-Za-z_]+?)(0|[1-9][0-9]*)")
_FLOAT_WORDS = ("NaN", "Inf", "sNaN")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_TYPE_LIKE = re.compile(r"[ifbr][0-9]+(?:x[0-9]+)*(?:xN)?")
_ENTITY_MAX = 1 << 31   # larger numbers do not name entities (as Cranelift's u32 entities)
_WORD_CACHE: dict[str, tuple[str, object]] = {}


class Token:
    """One token: its kind, its text, where it starts, and a decoded value.

    ``kind`` is ``value``/``block``/... for entities (``value`` holds the number),
    ``type`` (``value`` holds the :class:`Type`), ``int``, ``float``, ``ident``,
    ``name`` (text without the ``%``), ``string``, ``hex``, ``srcloc``, the
    punctuation itself (``(``, ``->``, ...), or ``eof``.
    """

    __slots__ = ("kind", "text", "pos", "line", "value")

    def __init__(self, kind: str, text: str, pos: int, line: int, value: object = None) -> None:
        self.kind = kind
        self.text = text
        self.pos = pos
        self.line = line
        self.value = value

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.text!r}, line {self.line})"


def _classify_word(text: str) -> tuple[str, object]:
    ty = type_by_name(text)
    if ty is not None and not ty.is_dynamic:
        return "type", ty
    m = _ENTITY_RE.fullmatch(text)
    if m is not None:
        kind = ENTITY_PREFIXES.get(m.group(1))
        if kind is not None:
            number = int(m.group(2))
            if number < _ENTITY_MAX:
                return kind, number
    return "ident", None


def tokenize(source: str, file: str = "<input>", start: int = 0, end: int | None = None,
             line: int = 1) -> tuple[list[Token], list[Token]]:
    """Split ``source[start:end]`` into tokens (ending with an ``eof`` token) and comments.

    Positions are offsets into ``source``; ``line`` is the line number at
    ``start``.  Lexing a piece of a file (a run command inside a comment)
    therefore reports errors where they are in the file.  Raises
    :class:`ParseError` at a character that starts no token.
    """
    tokens: list[Token] = []
    comments: list[Token] = []
    append = tokens.append
    pos = start
    n = len(source) if end is None else end
    word_cache = _WORD_CACHE
    match = _TOKEN_RE.match
    while pos < n:
        m = match(source, pos, n)
        group = m.lastgroup if m is not None else None
        if group is None or group == "end":
            bad = pos
            while bad < n and source[bad] in " \t\r\f\v":
                bad += 1
            if bad >= n:
                break
            ch = source[bad]
            what = "unterminated string" if ch == '"' else f"invalid character {ch!r}"
            raise located_error(what, source, file, bad)
        word = m.group(group)
        pos = m.end()
        tok_pos = pos - len(word)
        if group == "word":
            cls = word_cache.get(word)
            if cls is None:
                if len(word_cache) > 50_000:
                    word_cache.clear()
                cls = word_cache[word] = _classify_word(word)
            append(Token(cls[0], word, tok_pos, line, cls[1]))
        elif group == "punct":
            append(Token(word, word, tok_pos, line))
        elif group == "nl":
            line += 1
        elif group == "num":
            body = word.lstrip("+-")
            is_float = "." in word or body.startswith(_FLOAT_WORDS)
            append(Token("float" if is_float else "int", word, tok_pos, line))
        elif group == "comment":
            comments.append(Token("comment", word, tok_pos, line))
        elif group == "string":
            append(Token("string", word[1:-1], tok_pos, line))
            line += word.count("\n")
        else:  # name, hex, srcloc
            append(Token(group, word[1:], tok_pos, line))
    tokens.append(Token("eof", "", n, line))
    return tokens, comments


def located_error(message: str, source: str, file: str, pos: int) -> ParseError:
    """A :class:`ParseError` at offset ``pos`` of ``source``, quoting its line."""
    line_start = source.rfind("\n", 0, pos) + 1
    line_end = source.find("\n", pos)
    if line_end < 0:
        line_end = len(source)
    line = source.count("\n", 0, line_start) + 1
    return ParseError(message, file, line, pos - line_start + 1, source[line_start:line_end].rstrip("\r"))


class TokenStream:
    """A cursor over tokens with Cranelift-style matching helpers and located errors.

    ``source`` is the whole file text: errors quote the line of the token they
    point at.
    """

    __slots__ = ("tokens", "index", "tok", "file", "source")

    def __init__(self, tokens: list[Token], source: str, file: str = "<input>") -> None:
        self.tokens = tokens
        self.index = 0
        self.tok = tokens[0]
        self.file = file
        self.source = source

    # -- movement -----------------------------------------------------------
    def advance(self) -> Token:
        """Consume the current token and return it (``eof`` is never consumed)."""
        tok = self.tok
        if tok.kind != "eof":
            self.index += 1
            self.tok = self.tokens[self.index]
        return tok

    def at(self, kind: str) -> bool:
        return self.tok.kind == kind

    def at_ident(self, word: str) -> bool:
        return self.tok.kind == "ident" and self.tok.text == word

    def optional(self, kind: str) -> bool:
        """Consume the current token if it is of ``kind``."""
        if self.tok.kind == kind:
            self.advance()
            return True
        return False

    def expect(self, kind: str, message: str) -> Token:
        """Consume a token of ``kind`` or fail with ``message`` (plus what was found)."""
        if self.tok.kind != kind:
            raise self.error_expected(message)
        return self.advance()

    def peek(self, ahead: int = 1) -> Token:
        i = min(self.index + ahead, len(self.tokens) - 1)
        return self.tokens[i]

    # -- literals ---------------------------------------------------------------
    def int_literal(self, bits: int, what: str, allow_bool: bool = False) -> int:
        """An integer that fits ``bits`` bits, signed or unsigned; returns its bit pattern.

        As Cranelift's immediates: decimal or ``0x`` hex, an optional sign,
        ``_`` separators; ``-1`` and ``0xff`` are the same i8.  With
        ``allow_bool``, ``true``/``false`` read as 1/0.
        """
        tok = self.tok
        if tok.kind != "int":
            if allow_bool and tok.kind == "ident" and tok.text in ("true", "false"):
                self.advance()
                return 1 if tok.text == "true" else 0
            raise self.error_expected(f"expected {what}")
        try:
            value = parse_int(tok.text)
        except ValueError as err:
            raise self.error(str(err), tok) from None
        if not -(1 << (bits - 1)) <= value < (1 << bits):
            raise self.error(f"{tok.text} does not fit in {bits} bits ({what})", tok)
        self.advance()
        return value & ((1 << bits) - 1)

    def float_literal(self, bits: int, what: str) -> int:
        """A float literal (``0x1.8p3``, ``0.0``, ``-Inf``, ``+NaN:0x1``) as a ``bits``-bit pattern."""
        tok = self.tok
        if tok.kind != "float":
            if tok.kind == "int" and tok.text.lstrip("+-").startswith("0x"):
                raise self.error(f"expected {what}: a hexadecimal float needs a radix point "
                                 f"(0x1.0p3, not 0x1p3)", tok)
            raise self.error_expected(f"expected {what}")
        try:
            value = parse_float(bits, tok.text)
        except ValueError as err:
            raise self.error(str(err), tok) from None
        self.advance()
        return value

    def vector_literal(self, ty: Type, what: str, allow_bool: bool = False) -> int:
        """A vector as ``[lane lane ...]`` or one hex constant; lane 0 in the low bits."""
        if not self.optional("["):
            if self.tok.kind != "int":
                raise self.error_expected(f"expected {what}: [lanes] or a hexadecimal constant")
            return self.hex_constant(ty.bytes, str(ty))
        lane = ty.lane_type
        value = 0
        for i in range(ty.lanes):
            if lane.is_float:
                bits = self.float_literal(lane.bits, f"an {lane} lane of {ty}")
            else:
                bits = self.int_literal(lane.bits, f"an {lane} lane of {ty}", allow_bool)
            value |= bits << (i * lane.bits)
        self.expect("]", f"expected ']' after the {ty.lanes} lanes of {ty}")
        return value

    def hex_constant(self, size: int, what: str) -> int:
        """A ``0x...`` constant of at most ``size`` bytes (even digit count, ``_`` allowed)."""
        tok = self.tok
        if tok.kind != "int" or not tok.text.startswith("0x"):
            raise self.error_expected("expected a hexadecimal constant such as 0x0011")
        digits = tok.text[2:].replace("_", "")
        if not digits or any(c not in _HEX_DIGITS for c in digits):
            raise self.error(f"invalid hexadecimal constant {tok.text}", tok)
        if len(digits) % 2:
            raise self.error(f"hexadecimal constant {tok.text} has an odd number of digits", tok)
        if len(digits) // 2 > size:
            raise self.error(f"hexadecimal constant {tok.text} has {len(digits) // 2} bytes; "
                             f"{what} has {size}", tok)
        self.advance()
        return int(digits, 16)

    # -- errors ---------------------------------------------------------------
    def error(self, message: str, tok: Token | None = None) -> ParseError:
        """A :class:`ParseError` located at ``tok`` (default: the current token)."""
        return self.error_at(message, (tok or self.tok).pos)

    def error_expected(self, message: str, tok: Token | None = None) -> ParseError:
        """``message`` followed by a description of the token found instead.

        When the current token starts a later line than the one before it,
        the error points just after the previous token: "found end of line".
        """
        if tok is None:
            tok = self.tok
            if self.index > 0:
                prev = self.tokens[self.index - 1]
                if tok.line > prev.line:
                    found = "end of file" if tok.kind == "eof" else "end of line"
                    return self.error_at(f"{message}, found {found}", prev.pos + len(_source_text(prev)))
        return self.error(f"{message}, found {describe(tok)}", tok)

    def expect_type(self, message: str) -> Type:
        """A type token; a word that looks like a type but is none is an unknown type."""
        tok = self.tok
        if tok.kind != "type":
            if tok.kind == "ident" and _TYPE_LIKE.fullmatch(tok.text):
                raise self.error(f"unknown type '{tok.text}'", tok)
            raise self.error_expected(message)
        self.advance()
        return tok.value  # type: ignore[return-value]

    def error_at(self, message: str, pos: int) -> ParseError:
        return located_error(message, self.source, self.file, pos)


def _source_text(tok: Token) -> str:
    """The text a token spans in the source (names, strings... include their markers)."""
    if tok.kind == "name":
        return "%" + tok.text
    if tok.kind == "string":
        return f'"{tok.text}"'
    if tok.kind in ("hex", "srcloc"):
        return ("#" if tok.kind == "hex" else "@") + tok.text
    return tok.text


def describe(tok: Token) -> str:
    """How an error message names a token: ``'v1'``, ``end of file``."""
    if tok.kind == "eof":
        return "end of file"
    if tok.kind == "string":
        return f'"{tok.text}"'
    return f"'{_source_text(tok)}'"

