"""Opcode numbers and enumerations of the IR (re-exported from the generated table).

Example::

    >>> from heron.ir import opcodes as op
    >>> op.OPCODES[op.ICONST].name, op.INTCC[op.INTCC_INVERSE[0]]
    ('iconst', 'ne')
"""

from heron.generated.ir_opcodes import *  # noqa: F401,F403
from heron.generated.ir_opcodes import FORMATS, OPCODES  # noqa: F401
