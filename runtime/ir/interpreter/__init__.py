"""heron.ir.interpreter: run IR functions bit-exactly (the reference for compiled code).

Example::

    >>> from heron.ir.interpreter import Interpreter          # doctest: +SKIP
    >>> Interpreter(functions).call("%add", [1, 2])            # doctest: +SKIP
    [3]
"""

from heron.ir.interpreter.machine import Interpreter

__all__ = ["Interpreter"]
