"""The semantics DSL: one parser, two back ends (Python source and Z3 terms).

Stages, one module each::

    text --lexer/parser--> ast.Semantics --check.instantiate(env)--> typed.Program
         --pyback--> Python source (interpreter evaluators, constant folding)
         --heron.meta.smt--> Z3 terms (verification)

``irsem`` derives instantiation environments from ir.yaml's opcode signatures.
The language is documented in isa_specs/README.md ("The semantics DSL").

Example::

    >>> from heron.meta.dsl import parse_semantics, instantiate, BV
    >>> prog = instantiate(parse_semantics("a = x + y"), {"x": BV(8), "y": BV(8)}, {"a": BV(8)})
    >>> [s.name for s in prog.stmts]
    ['a']
"""

from heron.meta.dsl.check import BV, EnumImm, FlagsImm, MemAddr, TrapCodeImm, check_expression, instantiate
from heron.meta.dsl.parser import parse_expression, parse_semantics
from heron.meta.dsl.typed import Program

__all__ = [
    "parse_semantics",
    "parse_expression",
    "instantiate",
    "check_expression",
    "BV",
    "MemAddr",
    "EnumImm",
    "TrapCodeImm",
    "FlagsImm",
    "Program",
]
