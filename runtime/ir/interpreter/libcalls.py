"""Cranelift's libcalls (``%CeilF32``, ``%FmaF64``...) as the interpreter runs them.

A call to an external function the module does not define is looked up here
by name.  Values are bit patterns, as everywhere in the interpreter.

Example::

    >>> from heron.ir import softfloat as sf
    >>> LIBCALLS["CeilF32"]([sf.from_python_float(32, 0.5)]) == [sf.from_python_float(32, 1.0)]
    True
"""

from __future__ import annotations

from collections.abc import Callable

from heron.ir import softfloat as sf

__all__ = ["LIBCALLS"]


def _unary(fn: Callable[[int, int], int], w: int) -> Callable[[list[int]], list[int]]:
    return lambda args: [fn(w, args[0])]


LIBCALLS: dict[str, Callable[[list[int]], list[int]]] = {
    "CeilF32": _unary(sf.fceil, 32),
    "CeilF64": _unary(sf.fceil, 64),
    "FloorF32": _unary(sf.ffloor, 32),
    "FloorF64": _unary(sf.ffloor, 64),
    "TruncF32": _unary(sf.ftrunc, 32),
    "TruncF64": _unary(sf.ftrunc, 64),
    "NearestF32": _unary(sf.fnearest, 32),
    "NearestF64": _unary(sf.fnearest, 64),
    "FmaF32": lambda a: [sf.ffma(32, a[0], a[1], a[2])],
    "FmaF64": lambda a: [sf.ffma(64, a[0], a[1], a[2])],
}
