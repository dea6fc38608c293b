"""Test files: header lines, functions, and the run commands that follow each function.

A CLIF test file (Cranelift's filetest format) opens with header lines, then
holds functions; comments after a function (or inside it) that start with
``run`` or ``print`` are commands for that function::

    test interpret
    test run
    set opt_level=speed
    target x86_64 has_avx

    function %add(i32, i32) -> i32 {
    block0(v0: i32, v1: i32):
        v2 = iadd v0, v1
        return v2
    }
    ; run: %add(1, 2) == 3
    ; run: %add(-1, 1) != 1
    ; print: %add(0x7fff_ffff, 1)

A command calls the function it follows, as in Cranelift, whose test runner
ignores the name an invocation writes (the corpus has commands naming a
function that does not exist, or another one with other parameter types);
the printer writes the name of the function called.  Run-line values are
typed by that function's signature: integers (``-1``,
``0xff``, ``true``), floats in CLIF syntax (``0x1.8p3``, ``+NaN:0x1``,
``-Inf``), vectors as ``[1 2 3 4]`` or one hex constant.  Every value is kept
as its raw bit pattern: an unsigned int of the type's width, vector lane 0 in
the low bits.  ``== [a, b]`` compares several results; a bare ``; run`` calls
a function without parameters and expects a non-zero integer.

Example::

    >>> from heron.ir.types import I32, type_by_name
    >>> format_data_value(I32, 0xFFFFFFFF), format_data_value(type_by_name("i8x4"), 0x80FF0201)
    ('-1', '[1 2 -1 -128]')
    >>> format_data_value(type_by_name("f32"), 0x3FC00000)
    '0x1.800000p0'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from heron.ir.immediates import format_float
from heron.ir.lexer import Token, TokenStream, tokenize
from heron.ir.types import Type

if TYPE_CHECKING:
    from heron.ir.function import Function

__all__ = [
    "HeaderLine",
    "RunCommand",
    "TestItem",
    "TestFile",
    "format_data_value",
    "format_data_values",
    "is_run_comment",
    "parse_run_command",
]


class HeaderLine:
    """One header line: ``kind`` is ``test``, ``set``, ``target`` or ``feature``; ``words`` follow it."""

    __slots__ = ("kind", "words", "line")

    def __init__(self, kind: str, words: list[str], line: int = 0) -> None:
        self.kind = kind
        self.words = words
        self.line = line

    def __str__(self) -> str:
        return " ".join((self.kind, *self.words))

    def __repr__(self) -> str:
        return f"HeaderLine({str(self)!r})"


class RunCommand:
    """A ``; run:`` or ``; print:`` command.

    - ``kind``: ``'run'`` or ``'print'``
    - ``function``: the name of the function to call (``'%add'``)
    - ``args``: argument bit patterns; ``arg_types``: their types (the callee's parameters)
    - ``comparison``: ``'=='``, ``'!='``, or None for a print and a bare ``; run``
    - ``expected``: expected result bit patterns; ``return_types``: the callee's returns
    - ``line``: the source line of the command

    A bare ``; run`` (``comparison`` None, ``kind`` 'run') expects one non-zero result.
    """

    __slots__ = ("kind", "function", "args", "comparison", "expected", "arg_types", "return_types", "line")

    def __init__(
        self,
        kind: str,
        function: str,
        args: list[int],
        comparison: str | None,
        expected: list[int],
        arg_types: list[Type],
        return_types: list[Type],
        line: int = 0,
    ) -> None:
        self.kind = kind
        self.function = function
        self.args = args
        self.comparison = comparison
        self.expected = expected
        self.arg_types = arg_types
        self.return_types = return_types
        self.line = line

    @property
    def is_bare(self) -> bool:
        """A ``; run`` without an invocation: the result must be non-zero."""
        return self.kind == "run" and self.comparison is None

    def invocation_text(self) -> str:
        """``%f(1, 2)``: the call this command makes, in run-line syntax."""
        return f"{self.function}({format_data_values(self.arg_types, self.args)})"

    def __str__(self) -> str:
        """The canonical text, without the leading ``; ``."""
        if self.kind == "print":
            return f"print: {self.invocation_text()}"
        if self.comparison is None:
            return "run"
        if len(self.return_types) == 1:
            expected = format_data_value(self.return_types[0], self.expected[0])
        else:
            expected = f"[{format_data_values(self.return_types, self.expected)}]"
        return f"run: {self.invocation_text()} {self.comparison} {expected}"

    def __repr__(self) -> str:
        return f"RunCommand({str(self)!r}, line {self.line})"


class TestItem:
    """A function of a test file, its source line and its run commands."""

    __test__ = False  # not a pytest test class
    __slots__ = ("function", "line", "commands")

    def __init__(self, function: Function, line: int, commands: list[RunCommand] | None = None) -> None:
        self.function = function
        self.line = line
        self.commands = commands if commands is not None else []


class TestFile:
    """A parsed test file: header lines and items (function + run commands) in source order."""

    __test__ = False  # not a pytest test class
    __slots__ = ("file", "header", "items")

    def __init__(self, file: str, header: list[HeaderLine], items: list[TestItem]) -> None:
        self.file = file
        self.header = header
        self.items = items

    @property
    def functions(self) -> list[Function]:
        return [item.function for item in self.items]

    @property
    def tests(self) -> list[str]:
        """The test commands (``['interpret', 'run']``)."""
        return [" ".join(h.words) for h in self.header if h.kind == "test"]

    @property
    def targets(self) -> list[tuple[str, list[str]]]:
        """``(isa, flags)`` of each ``target`` line: ``('x86_64', ['has_avx'])``."""
        return [(h.words[0], h.words[1:]) for h in self.header if h.kind == "target"]

    @property
    def settings(self) -> dict[str, str]:
        """The ``set`` options, later lines overriding earlier ones; a bare flag reads ``'true'``."""
        out: dict[str, str] = {}
        for h in self.header:
            if h.kind == "set":
                for word in h.words:
                    name, eq, value = word.partition("=")
                    out[name] = value if eq else "true"
        return out

    def function(self, name: str) -> Function | None:
        """The first function called ``name`` (``'%add'``), or None."""
        for item in self.items:
            if item.function.name == name:
                return item.function
        return None


# -- values ---------------------------------------------------------------------

def format_data_value(ty: Type, bits: int) -> str:
    """A bit pattern of type ``ty`` in run-line syntax: signed decimal ints, CLIF floats, ``[lanes]``."""
    if ty.is_vector:
        lane = ty.lane_type
        mask = lane.mask
        lanes = (format_data_value(lane, (bits >> (i * lane.bits)) & mask) for i in range(ty.lanes))
        return "[" + " ".join(lanes) + "]"
    if ty.is_float:
        return format_float(ty.bits, bits & ty.mask)
    bits &= ty.mask
    if bits >> (ty.bits - 1):
        bits -= 1 << ty.bits
    return str(bits)


def format_data_values(types: list[Type], values: list[int]) -> str:
    """Comma-separated values: ``1, 2.0, [1 2 3 4]``."""
    return ", ".join(format_data_value(t, v) for t, v in zip(types, values))


def read_data_value(ts: TokenStream, ty: Type) -> int:
    """Read one run-line value of type ``ty``; returns its bit pattern."""
    if ty.is_vector:
        return ts.vector_literal(ty, f"an {ty} value", allow_bool=True)
    if ty.is_float:
        return ts.float_literal(ty.bits, f"an {ty} value")
    return ts.int_literal(ty.bits, f"an {ty} value", allow_bool=True)


# -- run commands -----------------------------------------------------------------

_RUN_COMMENT = re.compile(r"[; ]*(run|print)(?![\w])")


def is_run_comment(text: str) -> bool:
    """Whether a comment (``; run: ...``) is a run command (as Cranelift decides it)."""
    return _RUN_COMMENT.match(text) is not None


def parse_run_command(comment: Token, source: str, file: str, owner: Function) -> RunCommand:
    """Parse the run command in ``comment``, a comment token of ``source``.

    ``owner`` is the function the comment follows: the function the command
    calls, whose signature types the values.  Raises
    :class:`heron.errors.ParseError`.
    """
    m = _RUN_COMMENT.match(comment.text)
    assert m is not None
    start = comment.pos + m.start(1)
    tokens, _ = tokenize(source, file, start, comment.pos + len(comment.text), comment.line)
    ts = TokenStream(tokens, source, file)
    kind_tok = ts.advance()
    kind = kind_tok.text
    if not ts.optional(":"):
        cmd = _bare_command(ts, kind_tok, owner, comment.line)
    else:
        callee, args = _invocation(ts, owner)
        sig = callee.signature
        arg_types = [p.type for p in sig.params]
        return_types = [r.type for r in sig.returns]
        if kind == "print":
            cmd = RunCommand("print", callee.name, args, None, [], arg_types, return_types, comment.line)
        else:
            comparison = _comparison(ts)
            expected = _expected(ts, callee, return_types)
            cmd = RunCommand("run", callee.name, args, comparison, expected, arg_types, return_types, comment.line)
    if not ts.at("eof"):
        raise ts.error_expected(f"unexpected text after the {kind} command")
    return cmd


def _bare_command(ts: TokenStream, kind_tok: Token, owner: Function, line: int) -> RunCommand:
    sig = owner.signature
    kind = kind_tok.text
    if not ts.at("eof"):
        raise ts.error_expected(f"expected ':' after '{kind}'")
    if sig.params:
        raise ts.error(f"a bare '; {kind}' needs a function without parameters; "
                       f"{owner.name} takes {len(sig.params)} (write '{kind}: {owner.name}(...)')", kind_tok)
    return_types = [r.type for r in sig.returns]
    if kind == "print":
        return RunCommand("print", owner.name, [], None, [], [], return_types, line)
    if len(return_types) != 1 or not return_types[0].is_int or return_types[0].is_vector:
        raise ts.error(f"a bare '; run' needs a function returning one integer; {owner.name} returns "
                       f"({', '.join(map(str, return_types))})", kind_tok)
    return RunCommand("run", owner.name, [], None, [], [], return_types, line)


def _invocation(ts: TokenStream, callee: Function) -> tuple[Function, list[int]]:
    ts.expect("name", "expected a function name, e.g. %my_fn")
    ts.expect("(", "expected '(' after the function name")
    types = [p.type for p in callee.signature.params]
    args: list[int] = []
    while not ts.at(")"):
        if args:
            ts.expect(",", "expected ',' between arguments")
        if len(args) == len(types):
            raise ts.error(f"too many arguments: {callee.name} takes {len(types)}")
        args.append(read_data_value(ts, types[len(args)]))
    if len(args) != len(types):
        raise ts.error(f"too few arguments: {callee.name} takes {len(types)}, {len(args)} given")
    ts.advance()
    return callee, args


def _comparison(ts: TokenStream) -> str:
    if ts.optional("="):
        if ts.optional("="):
            return "=="
    elif ts.optional("!") and ts.optional("="):
        return "!="
    raise ts.error_expected("expected a comparison '==' or '!='")


def _expected(ts: TokenStream, callee: Function, types: list[Type]) -> list[int]:
    if len(types) == 1:
        return [read_data_value(ts, types[0])]
    ts.expect("[", f"expected '[' before the {len(types)} results of {callee.name}")
    values: list[int] = []
    while not ts.at("]"):
        if values:
            ts.expect(",", "expected ',' between results")
        if len(values) == len(types):
            raise ts.error(f"too many results: {callee.name} returns {len(types)}")
        values.append(read_data_value(ts, types[len(values)]))
    if len(values) != len(types):
        raise ts.error(f"too few results: {callee.name} returns {len(types)}, {len(values)} given")
    ts.advance()
    return values
