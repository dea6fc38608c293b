"""Tokens of the semantics DSL.

A semantics is a YAML string; the lexer turns it into tokens that remember their
line (1-based, within the string) and column.  Newlines are tokens (they separate
statements, like ``;``), except inside parentheses and brackets, where an
expression may continue on the next line.  ``#`` starts a comment.

Example::

    >>> [t.kind for t in tokenize("a = x + 0x1_0", "f.yaml", 7)]
    ['name', '=', 'name', '+', 'int', 'newline', 'end']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from heron.errors import SpecError

__all__ = ["Token", "tokenize", "Source"]


@dataclass(frozen=True)
class Source:
    """Where a semantics string came from: its text, file and the line it starts on."""

    text: str
    file: str = "<semantics>"
    line: int = 1

    def error(self, message: str, line: int = 1, col: int = 0) -> SpecError:
        """A SpecError at ``line`` (1-based within the text) quoting that line."""
        lines = self.text.split("\n")
        quoted = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        where = f" (column {col})" if col else ""
        snippet = f" in '{quoted}'" if quoted else ""
        return SpecError(f"semantics: {message}{where}{snippet}", self.file, self.line + line - 1)


@dataclass(frozen=True)
class Token:
    kind: str  # 'int', 'name', 'newline', 'end' or the punctuation itself ('+', '==', ...)
    text: str
    line: int
    col: int
    value: int = 0  # for 'int'


_PUNCT = ("||", "&&", "==", "!=", "<<", "?", ":", "|", "^", "&", "+", "-", "*", "~", "!", "[", "]", "(", ")", ",", "=", ";")
# Operators people reach for that the DSL spells as named functions.
_NOT_OPERATORS = {
    ">>": "there is no '>>': write lshr(x, n) or ashr(x, n)",
    "<=": "there is no '<=': write ule(x, y) or sle(x, y)",
    ">=": "there is no '>=': write uge(x, y) or sge(x, y)",
    "<": "there is no '<': write ult(x, y) or slt(x, y)",
    ">": "there is no '>': write ugt(x, y) or sgt(x, y)",
    "/": "there is no '/': write udiv(x, y) or sdiv(x, y)",
    "%": "there is no '%': write urem(x, y) or srem(x, y)",
}
_INT = re.compile(r"0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9][0-9_]*")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def tokenize(text: str, file: str = "<semantics>", line: int = 1) -> list[Token]:
    """Split ``text`` into tokens; raise SpecError (file:line) on a character it cannot use."""
    src = Source(text, file, line)
    out: list[Token] = []
    depth = 0
    for lineno, row in enumerate(text.split("\n"), start=1):
        i = 0
        while i < len(row):
            ch = row[i]
            col = i + 1
            if ch in " \t\r":
                i += 1
                continue
            if ch == "#":
                break
            m = _INT.match(row, i)
            if m:
                end = m.end()
                if end < len(row) and (row[end].isalnum() or row[end] == "_"):
                    raise src.error(f"malformed number '{row[i:end + 1]}'", lineno, col)
                digits = m.group().replace("_", "")
                try:
                    value = int(digits, 0) if not digits.isdigit() else int(digits, 10)
                except ValueError:
                    raise src.error(f"malformed number '{m.group()}'", lineno, col) from None
                out.append(Token("int", m.group(), lineno, col, value))
                i = end
                continue
            m = _NAME.match(row, i)
            if m:
                out.append(Token("name", m.group(), lineno, col))
                i = m.end()
                continue
            if ch == "_":
                raise src.error("names may not start with '_' (reserved for generated code)", lineno, col)
            for bad, hint in _NOT_OPERATORS.items():
                if row.startswith(bad, i) and not row.startswith("<<", i):
                    raise src.error(hint, lineno, col)
            for p in _PUNCT:
                if row.startswith(p, i):
                    out.append(Token(p, p, lineno, col))
                    if p in "([":
                        depth += 1
                    elif p in ")]":
                        depth -= 1
                    i += len(p)
                    break
            else:
                raise src.error(f"unexpected character {ch!r}", lineno, col)
        if depth <= 0:
            out.append(Token("newline", "\n", lineno, len(row) + 1))
    last = text.count("\n") + 1
    out.append(Token("end", "", last, len(text.split("\n")[-1]) + 1))
    return out
