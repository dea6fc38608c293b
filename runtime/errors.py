"""The one error hierarchy of Heron.

Every error a user can cause derives from :class:`HeronError`; the CLI catches
``HeronError`` and prints ``str(err)`` (one clear message, no traceback).

This module is a leaf: it imports nothing from Heron, so ``heron.meta`` may use
it without depending on the runtime.

Example::

    >>> err = ParseError("expected ',' after operand", "f.clif", 3, 17,
    ...                  source_line="    v2 = iadd v0 v1")
    >>> print(err)
    f.clif:3:17: error: expected ',' after operand
        v2 = iadd v0 v1
                    ^
"""

from __future__ import annotations

__all__ = [
    "HeronError",
    "Location",
    "ParseError",
    "VerifierError",
    "SpecError",
    "VerificationFailure",
    "CompileError",
    "Trap",
    "InterpreterError",
    "BuilderError",
]


class HeronError(Exception):
    """Base class of every error a user of Heron can cause."""


class Location:
    """A place in a source file: file name, 1-based line and column (0 = unknown)."""

    __slots__ = ("file", "line", "col")

    def __init__(self, file: str = "<input>", line: int = 0, col: int = 0) -> None:
        self.file = file
        self.line = line
        self.col = col

    def __str__(self) -> str:
        if self.line and self.col:
            return f"{self.file}:{self.line}:{self.col}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file

    def __repr__(self) -> str:
        return f"Location({self.file!r}, {self.line}, {self.col})"


class ParseError(HeronError):
    """Malformed text (CLIF, run commands): ``file:line:col`` plus a caret line."""

    def __init__(
        self,
        message: str,
        file: str = "<input>",
        line: int = 0,
        col: int = 0,
        source_line: str | None = None,
    ) -> None:
        self.message = message
        self.location = Location(file, line, col)
        self.source_line = source_line
        super().__init__(self._render())

    def _render(self) -> str:
        text = f"{self.location}: error: {self.message}"
        if self.source_line is not None:
            caret = " " * max(self.location.col - 1, 0) + "^"
            text += f"\n{self.source_line}\n{caret}"
        return text


class VerifierError(HeronError):
    """IR that breaks an invariant; carries every error found, each with its location.

    ``errors`` is a list of ``(location, message)`` pairs where location is a
    string such as ``"inst5 (v3 = iadd v1, v2)"`` or ``"block2"``.
    """

    def __init__(self, errors: list[tuple[str, str]], function_name: str = "") -> None:
        self.errors = errors
        self.function_name = function_name
        head = f"verifier errors in {function_name}" if function_name else "verifier errors"
        lines = [f"{head} ({len(errors)}):"]
        lines += [f"  {loc}: {msg}" for loc, msg in errors]
        super().__init__("\n".join(lines))


class SpecError(HeronError):
    """A malformed or inconsistent YAML spec: ``file:line: what was expected``."""

    def __init__(self, message: str, file: str = "<spec>", line: int = 0) -> None:
        self.message = message
        self.location = Location(file, line)
        super().__init__(f"{self.location}: error: {message}")


class VerificationFailure(HeronError):
    """A lowering rule that Z3 refuted (or could not prove) for a width."""

    def __init__(self, rule: str, width: str, detail: str) -> None:
        self.rule = rule
        self.width = width
        self.detail = detail
        super().__init__(f"rule {rule} at {width}: {detail}")


class CompileError(HeronError):
    """The backend cannot lower an instruction: names the opcode, type and target."""

    def __init__(self, message: str, opcode: str = "", type_name: str = "", target: str = "") -> None:
        self.opcode = opcode
        self.type_name = type_name
        self.target = target
        super().__init__(message)


class BuilderError(HeronError):
    """Misuse of the FunctionBuilder API (wrong operand types, unsealed blocks, ...)."""


class InterpreterError(HeronError):
    """The interpreter met something it cannot execute (not a trap of the program)."""


class Trap(HeronError):
    """A trap raised by running code (interpreted or compiled).

    ``code`` is the CLIF trap code (``int_divz``, ``int_ovf``, ``bad_toint``,
    ``heap_oob``, ``stk_ovf``, ``unreachable``, ``user1``...).
    """

    def __init__(self, code: str, function: str = "", detail: str = "") -> None:
        self.code = code
        self.function = function
        self.detail = detail
        where = f" in {function}" if function else ""
        extra = f": {detail}" if detail else ""
        super().__init__(f"trap {code}{where}{extra}")
