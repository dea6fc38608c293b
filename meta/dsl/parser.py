"""The one parser of the semantics DSL (recursive descent over :mod:`.lexer` tokens).

Grammar (statements are separated by newlines or ``;``)::

    stmt    := NAME '=' expr | 'trap' expr [':' NAME] | 'store' '(' expr ',' expr ')'
    expr    := lor ['?' expr ':' expr]                 # right associative
    lor     := land ('||' land)*        land := bor ('&&' bor)*
    bor     := bxor ('|' bxor)*         bxor := band ('^' band)*
    band    := eq ('&' eq)*             eq   := shift (('==' | '!=') shift)*
    shift   := add ('<<' add)*          add  := mul (('+' | '-') mul)*
    mul     := unary ('*' unary)*
    unary   := ('-' | '~' | '!') unary | postfix
    postfix := primary ('[' expr [':' expr] ']')*
    primary := INT | NAME | NAME '(' args ')' | '(' expr ')'
    args    := [expr (',' expr)*]  |  NAME ':' expr ',' expr    # vec / all / any

Example::

    >>> sem = parse_semantics("trap y == 0 : int_divz; a = udiv(x, y)", "ir.yaml", 40)
    >>> [type(s).__name__ for s in sem.stmts]
    ['Trap', 'Assign']
    >>> parse_semantics("a = x +", "ir.yaml", 40)
    Traceback (most recent call last):
    heron.errors.SpecError: ir.yaml:40: error: semantics: expected an expression, found end of line (column 8) in 'a = x +'
"""

from __future__ import annotations

from heron.meta.dsl import ast
from heron.meta.dsl.lexer import Source, Token, tokenize

__all__ = ["parse_semantics", "parse_expression", "COMPREHENSIONS", "KEYWORDS"]

COMPREHENSIONS = frozenset({"vec", "all", "any"})
KEYWORDS = frozenset({"trap", "store"})

# Binary operators by precedence level, lowest first.
_LEVELS: tuple[tuple[str, ...], ...] = (
    ("||",),
    ("&&",),
    ("|",),
    ("^",),
    ("&",),
    ("==", "!="),
    ("<<",),
    ("+", "-"),
    ("*",),
)


def _describe(tok: Token) -> str:
    if tok.kind == "end":
        return "end of semantics"
    if tok.kind == "newline":
        return "end of line"
    if tok.kind == "int":
        return f"number {tok.text}"
    if tok.kind == "name":
        return f"name '{tok.text}'"
    return f"'{tok.text}'"


class _Parser:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.tokens = tokenize(source.text, source.file, source.line)
        self.pos = 0

    # -- token helpers -------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != "end":
            self.pos += 1
        return tok

    def error(self, message: str, tok: Token | None = None):
        tok = tok or self.tok
        return self.source.error(message, tok.line, tok.col)

    def expect(self, kind: str, what: str) -> Token:
        if self.tok.kind != kind:
            raise self.error(f"expected {what}, found {_describe(self.tok)}")
        return self.advance()

    def at(self, kind: str, text: str | None = None) -> bool:
        return self.tok.kind == kind and (text is None or self.tok.text == text)

    # -- statements ----------------------------------------------------------
    def semantics(self) -> tuple[ast.Stmt, ...]:
        stmts: list[ast.Stmt] = []
        while True:
            while self.tok.kind in ("newline", ";"):
                self.advance()
            if self.tok.kind == "end":
                break
            stmts.append(self.statement())
            if self.tok.kind not in ("newline", ";", "end"):
                raise self.error(f"expected ';' or a new line after the statement, found {_describe(self.tok)}")
        if not stmts:
            raise self.source.error("empty semantics")
        return tuple(stmts)

    def statement(self) -> ast.Stmt:
        tok = self.tok
        if tok.kind != "name":
            raise self.error(f"expected a statement ('name = expr', 'trap cond' or 'store(addr, value)'), found {_describe(tok)}")
        if tok.text == "trap":
            self.advance()
            cond = self.expr()
            code = None
            if self.at(":"):
                self.advance()
                code = self.expect("name", "a trap code after ':'").text
            return ast.Trap(cond, code, line=tok.line, col=tok.col)
        if tok.text == "store":
            self.advance()
            self.expect("(", "'(' after 'store'")
            addr = self.expr()
            self.expect(",", "',' between the address and the value of 'store'")
            value = self.expr()
            self.expect(")", "')' to close 'store('")
            return ast.Store(addr, value, line=tok.line, col=tok.col)
        self.advance()
        if not self.at("="):
            if self.at("=="):
                raise self.error("expected '=' (assignment), found '=='")
            raise self.error(f"expected '=' after '{tok.text}', found {_describe(self.tok)}")
        self.advance()
        return ast.Assign(tok.text, self.expr(), line=tok.line, col=tok.col)

    # -- expressions ---------------------------------------------------------
    def expr(self) -> ast.Expr:
        cond = self.binary(0)
        if not self.at("?"):
            return cond
        q = self.advance()
        then = self.expr()
        self.expect(":", "':' of the conditional 'c ? a : b'")
        else_ = self.expr()
        return ast.Cond(cond, then, else_, line=q.line, col=q.col)

    def binary(self, level: int) -> ast.Expr:
        if level == len(_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.tok.kind in _LEVELS[level]:
            op = self.advance()
            right = self.binary(level + 1)
            left = ast.Binary(op.kind, left, right, line=op.line, col=op.col)
        return left

    def unary(self) -> ast.Expr:
        if self.tok.kind in ("-", "~", "!"):
            op = self.advance()
            return ast.Unary(op.kind, self.unary(), line=op.line, col=op.col)
        return self.postfix()

    def postfix(self) -> ast.Expr:
        value = self.primary()
        while self.at("["):
            bracket = self.advance()
            hi = self.expr()
            if self.at(":"):
                self.advance()
                lo = self.expr()
                self.expect("]", "']' to close the bit slice")
                value = ast.Slice(value, hi, lo, line=bracket.line, col=bracket.col)
            else:
                self.expect("]", "']' or ':' in the bit index")
                value = ast.Index(value, hi, line=bracket.line, col=bracket.col)
        return value

    def primary(self) -> ast.Expr:
        tok = self.tok
        if tok.kind == "int":
            self.advance()
            return ast.Num(tok.value, line=tok.line, col=tok.col)
        if tok.kind == "(":
            self.advance()
            inner = self.expr()
            self.expect(")", "')'")
            return inner
        if tok.kind == "name":
            if tok.text in KEYWORDS:
                raise self.error(f"'{tok.text}' is a statement, not an expression")
            self.advance()
            if not self.at("("):
                return ast.Name(tok.text, line=tok.line, col=tok.col)
            self.advance()
            if tok.text in COMPREHENSIONS:
                return self.comprehension(tok)
            args: list[ast.Expr] = []
            if not self.at(")"):
                args.append(self.expr())
                while self.at(","):
                    self.advance()
                    args.append(self.expr())
            self.expect(")", f"',' or ')' in the arguments of '{tok.text}'")
            return ast.Call(tok.text, tuple(args), line=tok.line, col=tok.col)
        raise self.error(f"expected an expression, found {_describe(tok)}")

    def comprehension(self, func: Token) -> ast.Comprehension:
        var = self.expect("name", f"a loop variable: '{func.text}(i: count, expr)'")
        self.expect(":", f"':' after the loop variable of '{func.text}'")
        count = self.expr()
        self.expect(",", f"',' after the lane count of '{func.text}'")
        body = self.expr()
        self.expect(")", f"')' to close '{func.text}('")
        return ast.Comprehension(func.text, var.text, count, body, line=func.line, col=func.col)


def parse_semantics(text: str, file: str = "<semantics>", line: int = 1) -> ast.Semantics:
    """Parse a semantics string that starts on ``line`` of ``file``; SpecError if malformed."""
    if not isinstance(text, str):
        raise Source("", file, line).error(f"expected a string, found {type(text).__name__}")
    p = _Parser(Source(text, file, line))
    return ast.Semantics(p.semantics(), p.source)


def parse_expression(text: str, file: str = "<semantics>", line: int = 1) -> tuple[ast.Expr, Source]:
    """Parse a single expression (an enum value's semantics) and its source."""
    if not isinstance(text, str):
        raise Source("", file, line).error(f"expected a string, found {type(text).__name__}")
    p = _Parser(Source(text, file, line))
    while p.tok.kind == "newline":
        p.advance()
    expr = p.expr()
    while p.tok.kind == "newline":
        p.advance()
    if p.tok.kind != "end":
        raise p.error(f"expected the end of the expression, found {_describe(p.tok)}")
    return expr, p.source
