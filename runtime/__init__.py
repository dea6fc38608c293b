"""Heron: a retargetable code generator in Python, in the mold of Cranelift.

The package is light to import: ``import heron`` loads only the error
hierarchy.  Everything else is imported on first use, so ``heron.meta`` (the
meta-compiler) can run even when ``heron.generated`` is stale or broken.

Example::

    >>> import heron
    >>> from heron.ir.parser import parse_functions
    >>> [fn] = parse_functions("function %f(i32) -> i32 {\\nblock0(v0: i32):\\n  return v0\\n}\\n")
    >>> fn.name
    '%f'
"""

from heron.errors import (
    BuilderError,
    CompileError,
    HeronError,
    InterpreterError,
    ParseError,
    SpecError,
    Trap,
    VerificationFailure,
    VerifierError,
)

__all__ = [
    "HeronError",
    "ParseError",
    "VerifierError",
    "SpecError",
    "VerificationFailure",
    "CompileError",
    "BuilderError",
    "InterpreterError",
    "Trap",
]

__version__ = "0.1.0"
