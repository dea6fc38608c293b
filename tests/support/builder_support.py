"""Helpers of the FunctionBuilder tests: a fresh function with its builder, and an
entry block holding the function's parameters.

Example::

    >>> from heron.ir.types import I32
    >>> fn, fb = new((I32,), (I32,))
    >>> b = entry(fb)
    >>> fb.ins.return_([fb.block_params(b)[0]])   # doctest: +SKIP
"""

from __future__ import annotations

from heron.ir.builder import FunctionBuilder
from heron.ir.entities import AbiParam, Signature
from heron.ir.function import Function

__all__ = ["new", "entry"]


def new(params: tuple = (), returns: tuple = ()) -> tuple[Function, FunctionBuilder]:
    fn = Function("%t", Signature([AbiParam(t) for t in params], [AbiParam(t) for t in returns]))
    return fn, FunctionBuilder(fn)


def entry(fb: FunctionBuilder) -> int:
    b = fb.create_block()
    fb.append_block_params_for_function_params(b)
    fb.switch_to_block(b)
    fb.seal_block(b)
    return b
